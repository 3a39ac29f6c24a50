//! A session and the runtime it runs on, driven one line at a time from plain (blocking) code.
//! The tests drive sessions this way, and so can any other program that embeds kafka-workshop.

use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Runtime;

use crate::error::{Error, Result};
use crate::outcome::{Event, Outcome};
use crate::report::Reporter;
use crate::session::{ConnectOptions, GoalWatch, Session};

pub struct Driver {
    runtime: Runtime,
    session: Option<Session>,
    events: Option<Receiver<Event>>,
    watch: Option<GoalWatch>,
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
        let watch = Some(GoalWatch::new(&session));
        Ok(Driver { runtime, session: Some(session), events, watch })
    }

    /// Run one line as a user would type it, then look at the lesson's goal once, as the REPL
    /// does: "goal reached" comes after the command's own output. `web` serves the page, as at
    /// the prompt.
    pub fn run(&mut self, line: &str) -> Result<Outcome> {
        let Some(session) = self.session.as_mut() else { return Err(Error::input("the session has ended")) };
        if let Some(watch) = self.watch.as_mut() {
            watch.input_arrived();
        }
        let outcome = self.runtime.block_on(session.run_line(line))?;
        let outcome = self.serve(outcome);
        let Some(session) = self.session.as_mut() else { return Ok(outcome) };
        Ok(match self.runtime.block_on(session.look_at_goal(Duration::ZERO)) {
            Some(said) => Outcome::Many(vec![outcome, said]),
            None => outcome,
        })
    }

    /// What the goal's watch announces next while nobody types, if anything within `limit`.
    pub fn announcement(&mut self, limit: Duration) -> Option<Outcome> {
        let (Some(session), Some(watch)) = (self.session.as_mut(), self.watch.as_mut()) else { return None };
        self.runtime.block_on(async { tokio::time::timeout(limit, watch.next(session)).await.ok() })
    }

    /// Carry out a request to serve the web page.
    fn serve(&mut self, outcome: Outcome) -> Outcome {
        let Some(session) = self.session.as_mut() else { return outcome };
        match outcome {
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
        }
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
