//! kafka-workshop: an interactive teaching REPL and step-through workshop for Apache Kafka.
//!
//! `run` is the whole program; `main.rs` only calls it. The pieces, in the order a line meets them:
//! `tokenize` → `command` (the one grammar) → `session` (execution, returns `outcome` data) →
//! `view` (text, colour, tables). `kafka` holds the librdkafka clients and `broker` the embedded
//! tansu broker.

pub mod actors;
#[cfg(feature = "embedded-broker")]
pub mod broker;
pub mod cli;
pub mod command;
pub mod error;
pub mod expect;
pub mod kafka;
pub mod lesson;
pub mod murmur2;
pub mod namespace;
pub mod outcome;
pub mod progress;
pub mod repl;
pub mod replay;
pub mod security;
pub mod session;
pub mod shop;
pub mod tokenize;
pub mod view;

use std::io::IsTerminal;
use std::sync::Arc;

use clap::Parser;

use crate::cli::{Cli, Mode};
use crate::error::Error;
use crate::session::{ConnectOptions, Quiet, Reporter, Session};
use crate::view::{Bars, View};

/// Parse the process arguments, run, and return the exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() { 2 } else { 0 };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return 1;
        }
    };
    match cli.mode {
        Some(Mode::Broker(ref args)) => run_broker(&runtime, args),
        Some(Mode::Replay(ref args)) => replay::replay(&runtime, args, &cli),
        Some(Mode::Lessons(cli::LessonsCommand::Check { ref dir })) => replay::check_lessons(dir.clone().or(cli.lessons.clone())),
        None => run_session(&runtime, &cli),
    }
}

fn run_session(runtime: &tokio::runtime::Runtime, cli: &Cli) -> i32 {
    let interactive = cli.script.is_none() && std::io::stdin().is_terminal();
    let color = interactive && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let view = View { color, interactive };
    let reporter: Arc<dyn Reporter> = if interactive { Arc::new(Bars) } else { Arc::new(Quiet) };
    let options = match connect_options(cli, &cli.connect, reporter.as_ref(), interactive) {
        Ok(options) => options,
        Err(err) => {
            eprint!("{}", view.error(&err, None));
            return err.exit_code();
        }
    };
    let mut session = match runtime.block_on(Session::connect(&options, reporter)) {
        Ok(session) => session,
        Err(err) => {
            eprint!("{}", view.error(&err, None));
            return err.exit_code();
        }
    };
    if let Some(speed) = cli.shop_speed {
        session.set_shop_speedup(speed);
    }
    if interactive {
        print!("{}", view.banner(session.target()));
    }
    if let Some(lesson) = &cli.lesson {
        match runtime.block_on(session.run_line(&format!("lesson {lesson}"))) {
            Ok(outcome) => print!("{}", view.render(&outcome)),
            Err(err) => {
                eprint!("{}", view.error(&err, None));
                return err.exit_code();
            }
        }
    }
    let code = match (&cli.script, interactive) {
        (Some(path), _) => match std::fs::File::open(path) {
            Ok(file) => repl::script(runtime, &mut session, view, std::io::BufReader::new(file)),
            Err(err) => {
                let err = Error::input(format!("cannot open script {}: {err}", path.display()));
                eprint!("{}", view.error(&err, None));
                err.exit_code()
            }
        },
        (None, true) => repl::interactive(runtime, &mut session, view),
        (None, false) => repl::script(runtime, &mut session, view, std::io::stdin().lock()),
    };
    runtime.block_on(session.shutdown());
    code
}

/// The session's connection settings from the command line. A SASL password comes from the
/// environment or, at a terminal, a prompt that does not echo. A `certs/` folder beside the user
/// is offered when they connect to a cluster without saying how.
pub fn connect_options(cli: &Cli, connect: &cli::ConnectArgs, reporter: &dyn Reporter, interactive: bool) -> Result<ConnectOptions, Error> {
    let mut security = connect.security.clone();
    let says_how = !security.is_empty() || connect.properties.iter().any(|(k, _)| k.starts_with("security.") || k.starts_with("ssl."));
    let found = std::path::Path::new("certs").join(security::CA_FILE);
    if connect.bootstrap_servers.is_some() && !says_how && found.exists() {
        let question = format!("found {}: connect with mutual TLS using the certs folder? [Y/n] ", found.display());
        if interactive && reporter.confirm(&question) {
            security.certs = Some(std::path::PathBuf::from("certs"));
        } else if !interactive {
            eprintln!("note: found {}; add --certs certs to connect with it", found.display());
        }
    }
    let password = if security.needs_password() { session::sasl_password(reporter) } else { None };
    Ok(ConnectOptions {
        bootstrap_servers: connect.bootstrap_servers.clone(),
        properties: connect.properties.clone(),
        security,
        password,
        data: connect.data.clone(),
        verbose: cli.verbose,
        lessons: cli.lessons.clone(),
        learner: cli.learner.clone(),
    })
}

#[cfg(feature = "embedded-broker")]
fn run_broker(runtime: &tokio::runtime::Runtime, args: &cli::BrokerArgs) -> i32 {
    use crate::broker::{BrokerStorage, EmbeddedBroker};
    let storage = match &args.data {
        Some(dir) => BrokerStorage::Sqlite { dir: dir.clone(), maintenance: None },
        None => BrokerStorage::Memory,
    };
    runtime.block_on(async {
        let broker = match EmbeddedBroker::start(args.listen, args.advertise.clone(), storage, args.sasl).await {
            Ok(broker) => broker,
            Err(err) => {
                eprint!("{}", View::plain().error(&err, None));
                return err.exit_code();
            }
        };
        println!(
            "kafka-workshop broker listening on {} (advertised as {}), {} storage{}; Ctrl-C stops it",
            broker.local_addr(),
            broker.bootstrap(),
            broker.storage().describe(),
            if args.sasl { ", SASL required" } else { "" }
        );
        let _ = tokio::signal::ctrl_c().await;
        broker.stop().await;
        0
    })
}

#[cfg(not(feature = "embedded-broker"))]
fn run_broker(_runtime: &tokio::runtime::Runtime, _args: &cli::BrokerArgs) -> i32 {
    eprintln!("error: this build has no embedded broker (it was built with --no-default-features)");
    2
}
