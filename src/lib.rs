//! kafka-workshop: an interactive teaching REPL and step-through workshop for Apache Kafka.
//!
//! `run` is the whole program; `main.rs` only calls it. The layers, top to bottom; each module
//! imports only from layers below it (a test in this file checks):
//!
//! 1. front ends (`front`: the REPL, scripts, replays, `lessons check`) and the `view`, which
//!    alone prints and reads the terminal;
//! 2. the `session`: executes commands and returns `outcome` data and events;
//! 3. the Kafka layer (`kafka`, `actors`), the only code that touches librdkafka, the embedded
//!    `broker` and the local Apache Kafka nodes behind one `cluster` handle, and the `lesson`
//!    files and `progress`;
//! 4. the grammar (`command`, `tokenize`, `expect`, `cli`);
//! 5. small shared modules: `error`, `outcome`, `report`, `room`, `format`, `paths`, `security`,
//!    `shop`, `murmur2`.

pub mod actors;
#[cfg(feature = "embedded-broker")]
pub mod broker;
pub mod cli;
pub mod cluster;
pub mod command;
pub mod error;
pub mod expect;
pub mod format;
pub mod front;
pub mod kafka;
pub mod lesson;
pub mod murmur2;
pub mod outcome;
pub mod paths;
pub mod progress;
pub mod report;
pub mod room;
pub mod security;
pub mod session;
pub mod shop;
pub mod tokenize;
pub mod view;

use clap::Parser;

use crate::cli::{Cli, LessonsCommand, Mode};
use crate::error::Error;
use crate::view::View;

/// Parse the process arguments, run, and return the exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let json = std::env::args_os().any(|arg| arg == "--json");
            return View { json, ..View::plain() }.bad_arguments(&err);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => return View::plain().fail(&Error::io("cannot start the async runtime", err), None),
    };
    match cli.mode {
        Some(Mode::Broker(ref args)) => run_broker(&runtime, args),
        Some(Mode::Replay(ref args)) => front::replay::replay(&runtime, args, &cli),
        Some(Mode::Lessons(LessonsCommand::Check { ref dir, replay, ref connect })) => {
            let dir = dir.clone().or(cli.lessons.clone());
            match front::check::run(dir.clone()) {
                0 if replay => front::check::replay_all(&runtime, dir, connect, &cli),
                code => code,
            }
        }
        Some(Mode::Class(ref mode)) => front::one_line(&runtime, &cli, &mode.connect, &mode.class.line()),
        Some(Mode::Announce(ref mode)) => front::one_line(&runtime, &cli, &mode.connect, &mode.announce.line()),
        None => front::repl::run(&runtime, &cli),
    }
}

#[cfg(feature = "embedded-broker")]
fn run_broker(runtime: &tokio::runtime::Runtime, args: &cli::BrokerArgs) -> i32 {
    use crate::broker::BrokerStorage;
    use crate::cluster::{ClusterSpec, LocalCluster};
    let storage = match &args.data {
        Some(dir) => BrokerStorage::Sqlite { dir: dir.clone(), maintenance: None },
        None => BrokerStorage::Memory,
    };
    let view = View::plain();
    if let Some(home) = &args.apache_kafka {
        return run_apache_kafka(runtime, home, args.brokers.map_or(1, usize::from));
    }
    let spec = ClusterSpec::Embedded { listen: args.listen, advertise: args.advertise.clone(), storage: storage.clone(), sasl: args.sasl };
    runtime.block_on(async {
        let mut cluster = match LocalCluster::start(&spec, &report::Quiet).await {
            Ok(cluster) => cluster,
            Err(err) => return view.fail(&err, None),
        };
        let listening = cluster.nodes().first().map(|n| n.address.clone()).unwrap_or_default();
        view.show(&outcome::Outcome::Text(format!(
            "kafka-workshop broker listening on {listening} (advertised as {}), {} storage{}; Ctrl-C stops it",
            cluster.bootstrap(),
            storage.describe(),
            if args.sasl { ", SASL required" } else { "" }
        )));
        view.show(&join_lines(&cluster.bootstrap(), args));
        let _ = tokio::signal::ctrl_c().await;
        cluster.shutdown().await;
        0
    })
}

/// `kafka-workshop broker --apache-kafka DIR [--brokers N]`: local Apache Kafka nodes in the
/// foreground until Ctrl-C, with the teaching settings they run with.
#[cfg(feature = "embedded-broker")]
fn run_apache_kafka(runtime: &tokio::runtime::Runtime, home: &std::path::Path, nodes: usize) -> i32 {
    use crate::cluster::{ApacheSpec, ClusterSpec, LocalCluster};
    let view = View::plain();
    let spec = ApacheSpec::new(home, nodes);
    runtime.block_on(async {
        let started = std::time::Instant::now();
        let cluster = match LocalCluster::start(&ClusterSpec::Apache(spec), &report::Quiet).await {
            Ok(cluster) => cluster,
            Err(err) => return view.fail(&err, None),
        };
        view.show(&outcome::Outcome::Text(format!(
            "{} listening on {} (ready in {:.1} s); Ctrl-C stops it",
            cluster.describe(),
            cluster.bootstrap(),
            started.elapsed().as_secs_f64()
        )));
        view.show(&outcome::Outcome::Note(teaching_settings_note(nodes)));
        let _ = tokio::signal::ctrl_c().await;
        cluster.shutdown().await;
        0
    })
}

/// The teaching settings a local Apache Kafka runs with, said once: none is a production value.
pub fn teaching_settings_note(nodes: usize) -> String {
    let settings: Vec<String> =
        crate::cluster::ApacheSpec::teaching_settings(nodes).iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("teaching settings, so failures show in seconds (not production values): {}", settings.join(", "))
}

/// What a workshop's instructor shares: the line each learner types to join, and how to watch
/// them. A broker that tells clients to come to 0.0.0.0 cannot be joined from elsewhere.
#[cfg(feature = "embedded-broker")]
fn join_lines(advertised: &str, args: &cli::BrokerArgs) -> outcome::Outcome {
    use outcome::Outcome;
    let sasl = if args.sasl { " --security-protocol sasl_plaintext --sasl-mechanism PLAIN --sasl-username YOUR-NAME" } else { "" };
    let mut parts = vec![Outcome::Text(format!(
        "learners join the workshop with:\n    kafka-workshop -b {advertised}{sasl} --learner YOUR-NAME\n\
         the instructor watches them with:\n    kafka-workshop class -b {advertised}{sasl} --watch"
    ))];
    let unreachable = advertised.parse::<std::net::SocketAddr>().is_ok_and(|a| a.ip().is_unspecified() || a.ip().is_loopback());
    if unreachable {
        parts.push(Outcome::Warning(format!(
            "{advertised} is reachable from this machine only: add --advertise HOST:{} with this machine's name or address on the room's network",
            args.listen.port()
        )));
    }
    Outcome::Many(parts)
}

#[cfg(not(feature = "embedded-broker"))]
fn run_broker(_runtime: &tokio::runtime::Runtime, _args: &cli::BrokerArgs) -> i32 {
    let err = Error::unsupported("this build has no embedded broker", "it was built with --no-default-features");
    View::plain().fail(&err, None)
}
