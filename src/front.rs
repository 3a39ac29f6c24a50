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
pub mod web;

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
    let connect = &connect.over(&cli.connect);
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
    let password =
        if security.needs_password() { crate::session::sasl_password(reporter, &connect.properties) } else { None };
    ConnectOptions {
        bootstrap_servers: connect.bootstrap_servers.clone(),
        properties: connect.properties.clone(),
        security,
        password,
        data: connect.data.clone(),
        apache_kafka: connect.apache_kafka.clone(),
        brokers: connect.brokers.map(usize::from),
        verbose: cli.verbose,
        lessons: cli.lessons.clone(),
        learner: cli.learner.clone(),
        home: crate::paths::data_dir(),
        private: cli.private,
    }
}

/// One command straight from the shell, for an instructor who has no prompt open
/// (`kafka-workshop class …`, `kafka-workshop announce …`): the same line, through the same
/// path, as at the prompt. Returns the exit code.
pub fn one_line(runtime: &Runtime, cli: &Cli, connect: &ConnectArgs, line: &str) -> i32 {
    use std::io::IsTerminal;
    let interactive = !cli.json && std::io::stdin().is_terminal();
    let view = View { json: cli.json, ..View::for_stdout(interactive) };
    if connect.bootstrap_servers.is_none() {
        let err = crate::error::Error::input_with_hint(
            "this is for the workshop's cluster; say where it is",
            "add -b HOST:PORT (the address learners join with)",
        );
        return view.fail(&err, None);
    }
    let reporter: std::sync::Arc<dyn Reporter> =
        if interactive { std::sync::Arc::new(crate::view::Bars) } else { std::sync::Arc::new(crate::report::Quiet) };
    let options = connect_options(cli, connect, reporter.as_ref(), view);
    let mut session = match runtime.block_on(Session::connect(&options, reporter)) {
        Ok(session) => session,
        Err(err) => return view.fail(&err, None),
    };
    let code = match runtime.block_on(session.run_line(line)) {
        Ok(outcome) => {
            let shown = present(runtime, &mut session, view, outcome, &mut String::new());
            shown.failure().map_or(0, |err| view.fail(err, None))
        }
        Err(err) => view.fail(&err, None),
    };
    runtime.block_on(session.shutdown());
    code
}

/// Show an outcome. A live frame (the shop board, `watch`) is kept fresh on the whole screen
/// while a person at a terminal watches, until a key is pressed; then, as everywhere else, the
/// frame as it is now is shown once. A request to serve the web page is carried out here.
/// Returns what was shown; what was typed while a live view was up goes to `typed`.
pub fn present(runtime: &Runtime, session: &mut Session, view: View, outcome: Outcome, typed: &mut String) -> Outcome {
    match outcome {
        Outcome::Many(parts) => {
            Outcome::Many(parts.into_iter().map(|part| present(runtime, session, view, part, typed)).collect())
        }
        Outcome::Serve(listen) => {
            let said = serve_web(runtime, session, listen);
            view.show(&said);
            said
        }
        Outcome::Live(live) if view.can_redraw() => {
            let changes = session.scene().subscribe();
            let frame = || runtime.block_on(session.refresh(&live.source));
            match crate::view::terminal::live(view, frame, changes) {
                Ok(keys) => typed.push_str(&keys),
                Err(err) => {
                    view.fail(&crate::error::Error::io("cannot draw the live view", err), None);
                }
            }
            let last = runtime.block_on(session.refresh(&live.source));
            view.show(&last);
            last
        }
        other => {
            view.show(&other);
            other
        }
    }
}

/// Serve the picture as a web page, and say where (and warn when it is reachable from
/// elsewhere).
pub fn serve_web(runtime: &Runtime, session: &mut Session, listen: Option<std::net::SocketAddr>) -> Outcome {
    match runtime.block_on(web::serve(session.scene(), listen)) {
        Ok(web) => {
            session.serving(web.url.clone());
            let mut said = vec![Outcome::Done(format!(
                "serving the live picture at {} (read-only; open it on a projector or a second screen)",
                web.url
            ))];
            if session.may_teach() {
                said.push(Outcome::Note(format!("a workshop's learners, live: {}class", web.url)));
            }
            said.extend(web.warning.map(Outcome::Warning));
            Outcome::Many(said)
        }
        Err(err) => Outcome::Failure(err),
    }
}
