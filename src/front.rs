//! The front ends: how a person, a script or a speaker drives a session. Each turns its input
//! into lines for `Session::run_line` (or steps a lesson through the tutor), and shows what comes
//! back through the view. They are the only layer above the session.
//!
//! - `repl`: the interactive prompt at a terminal, and plain line-by-line reading for pipes and
//!   `--script`;
//! - `replay`: a lesson or script typed out at a human pace, or straight through for CI;
//! - `check`: `lessons check`.

pub mod check;
pub mod driver;
pub mod repl;
pub mod replay;

use tokio::runtime::Runtime;

use crate::cli::{Cli, ConnectArgs};
use crate::outcome::Outcome;
use crate::report::Reporter;
use crate::session::{ConnectOptions, Session};
use crate::view::View;

/// The session's settings from the command line. A SASL password comes from the environment
/// or, at a terminal, a prompt that does not echo. A `certs/` folder beside the user is offered
/// when they connect to a cluster without saying how; in a script it is pointed out instead.
pub fn connect_options(cli: &Cli, connect: &ConnectArgs, reporter: &dyn Reporter, view: View) -> ConnectOptions {
    let mut security = connect.security.clone();
    let says_how = !security.is_empty()
        || connect.properties.iter().any(|(k, _)| k.starts_with("security.") || k.starts_with("ssl."));
    let found = std::path::Path::new("certs").join(crate::security::CA_FILE);
    if connect.bootstrap_servers.is_some() && !says_how && found.exists() {
        let question = format!("found {}: connect with mutual TLS using the certs folder? [Y/n] ", found.display());
        if view.interactive && reporter.confirm(&question) {
            security.certs = Some(std::path::PathBuf::from("certs"));
        } else if !view.interactive {
            view.note_err(&format!("found {}; add --certs certs to connect with it", found.display()));
        }
    }
    let password = if security.needs_password() { crate::session::sasl_password(reporter) } else { None };
    ConnectOptions {
        bootstrap_servers: connect.bootstrap_servers.clone(),
        properties: connect.properties.clone(),
        security,
        password,
        data: connect.data.clone(),
        verbose: cli.verbose,
        lessons: cli.lessons.clone(),
        learner: cli.learner.clone(),
        home: crate::paths::data_dir(),
    }
}

/// Show an outcome. A live frame (the shop board) is kept fresh on the whole screen while a
/// person at a terminal watches, until a key is pressed; then, as everywhere else, the frame as
/// it is now is shown once. Returns what was shown.
pub fn present(runtime: &Runtime, session: &Session, view: View, outcome: Outcome) -> Outcome {
    let Outcome::Live(live) = &outcome else {
        view.show(&outcome);
        return outcome;
    };
    if !view.can_redraw() {
        view.show(&outcome);
        return outcome;
    }
    let source = live.source.clone();
    if let Err(err) = crate::view::terminal::live(view, || runtime.block_on(session.refresh(&source))) {
        view.fail(&crate::error::Error::io("cannot draw the live view", err), None);
    }
    let last = runtime.block_on(session.refresh(&source));
    view.show(&last);
    last
}
