//! Live actors: consumers and producers that run while the prompt stays responsive. Each one
//! reports what it does as `Event`s over a channel; the front end prints them above the prompt.

pub mod consumer;
pub mod producer;
pub mod shop;

use std::sync::mpsc::Sender;

use crate::outcome::Event;

/// Where actors send their events.
#[derive(Clone)]
pub struct Events(Sender<Event>);

impl Events {
    pub fn new(sender: Sender<Event>) -> Self {
        Events(sender)
    }

    pub fn send(&self, event: Event) {
        // A front end that stopped listening is not the actor's problem.
        let _ = self.0.send(event);
    }

    pub fn say(&self, actor: &str, text: impl Into<String>) {
        self.send(Event::Said { actor: actor.to_string(), text: text.into(), warning: false });
    }

    pub fn warn(&self, actor: &str, text: impl Into<String>) {
        self.send(Event::Said { actor: actor.to_string(), text: text.into(), warning: true });
    }
}
