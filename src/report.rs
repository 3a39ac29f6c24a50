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

/// What observers of a session (the web page, `watch`) hear about: what an actor did, and that
/// something the session saw changed, with when it saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    Event(crate::outcome::Event),
    /// Something changed (a command ran, messages were produced, a group moved), seen at this
    /// many milliseconds since the epoch.
    Changed { at_ms: u64 },
}

impl Signal {
    /// A change seen now.
    pub fn changed() -> Signal {
        Signal::Changed { at_ms: now_ms() }
    }
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Where live actors send their events: the front end prints them above the prompt, and every
/// observer on the bus hears them too.
#[derive(Clone)]
pub struct Events {
    front: std::sync::mpsc::Sender<crate::outcome::Event>,
    bus: tokio::sync::broadcast::Sender<Signal>,
}

impl Events {
    pub fn new(front: std::sync::mpsc::Sender<crate::outcome::Event>) -> Self {
        // Observers that fall this far behind skip ahead; they redraw from the state anyway.
        let (bus, _) = tokio::sync::broadcast::channel(1024);
        Events { front, bus }
    }

    pub fn send(&self, event: crate::outcome::Event) {
        // Nobody listening is not the actor's problem.
        if !matches!(event, crate::outcome::Event::Log { .. }) {
            let _ = self.bus.send(Signal::Event(event.clone()));
        }
        let _ = self.front.send(event);
    }

    /// Tell observers that something changed just now.
    pub fn changed(&self) {
        let _ = self.bus.send(Signal::changed());
    }

    /// Hear every signal from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Signal> {
        self.bus.subscribe()
    }

    pub fn say(&self, actor: &str, text: impl Into<String>) {
        self.send(crate::outcome::Event::Said { actor: actor.to_string(), text: text.into(), warning: false });
    }

    pub fn warn(&self, actor: &str, text: impl Into<String>) {
        self.send(crate::outcome::Event::Said { actor: actor.to_string(), text: text.into(), warning: true });
    }

    /// A --verbose log line; the caller has masked any secret in it. Logs go to the front end only.
    pub fn log(&self, source: &str, text: impl Into<String>) {
        self.send(crate::outcome::Event::Log { source: source.to_string(), text: text.into() });
    }
}
