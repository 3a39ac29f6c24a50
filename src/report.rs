//! The front end's side of long-running work, as traits the lower layers call: progress bars,
//! and questions only a person at a terminal can answer. The view implements them for a
//! terminal; `Quiet` is for scripts and tests.

/// Progress of a long command, drawn by the front end (or not at all in scripts).
pub trait Progress: Send {
    fn advance(&self, by: u64);
    fn finish(&self);
}

/// The front end's side of long-running work.
pub trait Reporter: Send + Sync {
    fn progress(&self, total: u64, label: &str) -> Box<dyn Progress>;

    /// Ask for a secret without echoing it; None where nobody can answer.
    fn secret(&self, _prompt: &str) -> Option<String> {
        None
    }

    /// Ask a yes/no question, Enter meaning yes; false where nobody can answer.
    fn confirm(&self, _question: &str) -> bool {
        false
    }
}

/// Shows nothing and answers nothing: scripts and tests.
pub struct Quiet;

impl Progress for Quiet {
    fn advance(&self, _by: u64) {}
    fn finish(&self) {}
}

impl Reporter for Quiet {
    fn progress(&self, _total: u64, _label: &str) -> Box<dyn Progress> {
        Box::new(Quiet)
    }
}

/// Where live actors send their events; the front end prints them above the prompt.
#[derive(Clone)]
pub struct Events(std::sync::mpsc::Sender<crate::outcome::Event>);

impl Events {
    pub fn new(sender: std::sync::mpsc::Sender<crate::outcome::Event>) -> Self {
        Events(sender)
    }

    pub fn send(&self, event: crate::outcome::Event) {
        // A front end that stopped listening is not the actor's problem.
        let _ = self.0.send(event);
    }

    pub fn say(&self, actor: &str, text: impl Into<String>) {
        self.send(crate::outcome::Event::Said { actor: actor.to_string(), text: text.into(), warning: false });
    }

    pub fn warn(&self, actor: &str, text: impl Into<String>) {
        self.send(crate::outcome::Event::Said { actor: actor.to_string(), text: text.into(), warning: true });
    }

    /// A --verbose log line; the caller has masked any secret in it.
    pub fn log(&self, source: &str, text: impl Into<String>) {
        self.send(crate::outcome::Event::Log { source: source.to_string(), text: text.into() });
    }
}
