//! A session and the runtime it runs on, driven one line at a time from plain (blocking) code.
//! The tests drive sessions this way, and so can any other program that embeds kafka-workshop.

use std::sync::mpsc::Receiver;
use std::sync::Arc;

use tokio::runtime::Runtime;

use crate::error::{Error, Result};
use crate::outcome::{Event, Outcome};
use crate::report::Reporter;
use crate::session::{ConnectOptions, Session};

pub struct Driver {
    runtime: Runtime,
    session: Option<Session>,
    events: Option<Receiver<Event>>,
}

impl Driver {
    /// Connect a session (starting the embedded broker unless `options` names a cluster) on a
    /// runtime of its own.
    pub fn connect(options: &ConnectOptions, reporter: Arc<dyn Reporter>) -> Result<Driver> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::io("cannot start the async runtime", e))?;
        let mut session = runtime.block_on(Session::connect(options, reporter))?;
        let events = session.take_events();
        Ok(Driver { runtime, session: Some(session), events })
    }

    /// Run one line as a user would type it. `web` serves the page, as at the prompt.
    pub fn run(&mut self, line: &str) -> Result<Outcome> {
        let Some(session) = self.session.as_mut() else { return Err(Error::input("the session has ended")) };
        let outcome = self.runtime.block_on(session.run_line(line))?;
        Ok(match outcome {
            Outcome::Serve(listen) => super::serve_web(&self.runtime, session, listen),
            Outcome::Many(parts) if parts.iter().any(|p| matches!(p, Outcome::Serve(_))) => Outcome::Many(
                parts
                    .into_iter()
                    .map(|p| match p {
                        Outcome::Serve(listen) => super::serve_web(&self.runtime, session, listen),
                        other => other,
                    })
                    .collect(),
            ),
            other => other,
        })
    }

    /// Everything the live actors reported since the last call.
    pub fn events(&mut self) -> Vec<Event> {
        self.events.as_ref().map(|e| e.try_iter().collect()).unwrap_or_default()
    }

    pub fn session(&mut self) -> Option<&mut Session> {
        self.session.as_mut()
    }

    /// Stop everything the session started, the embedded broker last.
    pub fn shutdown(&mut self) {
        if let Some(session) = self.session.take() {
            self.runtime.block_on(session.shutdown());
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.shutdown();
    }
}
