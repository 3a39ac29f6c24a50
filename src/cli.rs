//! The process's own arguments (not the REPL's commands, which live in `command`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::command::parse_key_value;

/// An interactive teaching REPL and step-through workshop for Apache Kafka.
///
/// With no cluster flags it starts an embedded Kafka-protocol broker (tansu) on a free
/// 127.0.0.1 port and opens a prompt. Commands can also come from a pipe or --script.
#[derive(Debug, Parser)]
#[command(name = "kafka-workshop", version)]
pub struct Cli {
    #[command(subcommand)]
    pub mode: Option<Mode>,

    #[command(flatten)]
    pub connect: ConnectArgs,

    /// Run the commands in FILE, one per line, and stop at the first that fails
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,

    /// Open this lesson (number or name) as soon as the prompt appears
    #[arg(long, value_name = "N")]
    pub lesson: Option<String>,

    /// Use the lessons in DIR instead of the built-in ones
    #[arg(long, env = "KAFKA_WORKSHOP_LESSONS", value_name = "DIR", global = true)]
    pub lessons: Option<PathBuf>,

    /// Your name at a workshop on a shared cluster: your topics and groups become NAME.topic
    #[arg(long, env = "KAFKA_WORKSHOP_LEARNER", value_name = "NAME", global = true)]
    pub learner: Option<String>,

    /// With --learner: keep your progress to yourself (nothing goes to the workshop's
    /// workshop.progress topic, so the instructor's `class` does not list you)
    #[arg(long, env = "KAFKA_WORKSHOP_PRIVATE", global = true, value_parser = clap::builder::FalseyValueParser::new())]
    pub private: bool,

    /// Run the fish-and-chip shop's clock this many times faster (or slower, below 1) than the
    /// talk's: 1 is an order every 1–1.5 s per till. A replay at --speed max uses 10
    #[arg(long, env = "KAFKA_WORKSHOP_SHOP_SPEED", value_name = "FACTOR", global = true, value_parser = parse_shop_speed)]
    pub shop_speed: Option<f64>,

    /// Make the fish-and-chip shop's orders and timings the same on every run (for a talk, or a
    /// test)
    #[arg(long, env = "KAFKA_WORKSHOP_SHOP_SEED", value_name = "N", global = true)]
    pub shop_seed: Option<u64>,

    /// Serve the live picture of the cluster as a web page on HOST:PORT (default: 127.0.0.1 on a
    /// free port), for a projector or a second screen
    #[arg(long, value_name = "HOST:PORT", num_args = 0..=1, default_missing_value = "127.0.0.1:0",
          global = true, value_parser = crate::command::parse_listen)]
    pub web: Option<std::net::SocketAddr>,

    /// For scripts: each command's result as one JSON object a line on stdout, errors as JSON on
    /// stderr (like kcat -J). Reads commands from a pipe or --script, never a prompt
    #[arg(long, global = true)]
    pub json: bool,

    /// Show what librdkafka and the broker say (never secrets)
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

fn parse_shop_speed(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(speed) if (0.1..=100.0).contains(&speed) => Ok(speed),
        _ => Err(format!("expected a number from 0.1 to 100, got '{raw}'")),
    }
}

#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Connect to this cluster instead of starting the embedded broker
    #[arg(long, short = 'b', env = "KAFKA_BOOTSTRAP_SERVERS", value_name = "HOST:PORT[,…]")]
    pub bootstrap_servers: Option<String>,

    /// Pass a librdkafka property through, as kcat does (repeatable)
    #[arg(short = 'X', value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub properties: Vec<(String, String)>,

    /// Keep the embedded broker's data in SQLite under DIR, so topics survive a restart
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Start Apache Kafka itself on this machine instead of the embedded broker, from DIR (an
    /// unpacked release, or any folder of its jars; default $KAFKA_HOME). Needs Java 17+
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "")]
    pub apache_kafka: Option<PathBuf>,

    /// How many Apache Kafka nodes to start with --apache-kafka (default 3)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=5))]
    pub brokers: Option<u8>,

    #[command(flatten)]
    pub security: crate::security::SecurityArgs,
}

impl ConnectArgs {
    /// These flags (given after a subcommand: `replay 3 -b HOST`) over `outer`'s (given before
    /// it: `-b HOST replay 3`), so either place reaches the same cluster; what is given after
    /// the subcommand wins, and `-X` settings from both apply.
    pub fn over(&self, outer: &ConnectArgs) -> ConnectArgs {
        if std::ptr::eq(self, outer) {
            return self.clone();
        }
        ConnectArgs {
            bootstrap_servers: self.bootstrap_servers.clone().or_else(|| outer.bootstrap_servers.clone()),
            properties: outer.properties.iter().chain(&self.properties).cloned().collect(),
            data: self.data.clone().or_else(|| outer.data.clone()),
            apache_kafka: self.apache_kafka.clone().or_else(|| outer.apache_kafka.clone()),
            brokers: self.brokers.or(outer.brokers),
            security: if self.security.is_empty() { outer.security.clone() } else { self.security.clone() },
        }
    }
}


#[derive(Debug, Subcommand)]
pub enum Mode {
    /// Run the embedded broker alone, in the foreground, until Ctrl-C
    Broker(BrokerArgs),
    /// Replay a lesson or a script: typed out at a human pace, or straight through for checks
    Replay(ReplayArgs),
    /// Work with lesson files
    #[command(subcommand)]
    Lessons(LessonsCommand),
    /// A workshop's learners on the cluster at -b: lesson, step, who is stuck; `class clean`
    /// deletes their topics and groups
    Class(ClassMode),
    /// Tell every learner of the workshop on the cluster at -b something, above their prompt
    Announce(AnnounceMode),
}

#[derive(Debug, Args)]
pub struct ClassMode {
    #[command(flatten)]
    pub class: crate::command::ClassArgs,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Args)]
pub struct AnnounceMode {
    #[command(flatten)]
    pub connect: ConnectArgs,

    #[command(flatten)]
    pub announce: crate::command::AnnounceArgs,
}

#[derive(Debug, Subcommand)]
pub enum LessonsCommand {
    /// Check every lesson file: parse errors with file:line, unknown commands, malformed checks
    Check {
        /// The folder to check (default: the built-in lessons, or --lessons)
        dir: Option<PathBuf>,
        /// Then replay every lesson and demo on a cluster (the embedded broker, or the cluster
        /// flags' one), checking each task's solution and proving each of its wrong ways fails
        #[arg(long)]
        replay: bool,
        #[command(flatten)]
        connect: ConnectArgs,
    },
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A lesson (.md), a script (one command a line), or a built-in lesson's number or name
    pub file: String,

    /// Typing speed: 1 is a person typing, 2 twice as fast, `max` no delay at all (and the
    /// fish-and-chip shop's clock twenty times faster, so demos check quickly)
    #[arg(long, default_value = "1")]
    pub speed: String,

    /// Run each pause's solution instead of waiting for Enter
    #[arg(long)]
    pub no_pause: bool,

    /// Evaluate every check and exit non-zero if one fails
    #[arg(long)]
    pub check: bool,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Args)]
pub struct BrokerArgs {
    /// Address to listen on; port 0 picks a free one
    #[arg(long, default_value = "127.0.0.1:9092", value_name = "HOST:PORT")]
    pub listen: SocketAddr,

    /// Address clients are told to connect to (default: the listen address)
    #[arg(long, value_name = "HOST:PORT")]
    pub advertise: Option<String>,

    /// Keep data in SQLite under DIR instead of memory
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Require SASL logins (tansu's authentication; its PLAIN accepts any password)
    #[arg(long)]
    pub sasl: bool,

    /// Run Apache Kafka itself from DIR instead (local nodes on free loopback ports; --listen,
    /// --advertise, --data and --sasl are for the embedded broker)
    #[arg(long, value_name = "DIR", conflicts_with_all = ["data", "sasl", "advertise"])]
    pub apache_kafka: Option<PathBuf>,

    /// How many Apache Kafka nodes, with --apache-kafka (default 1)
    #[arg(long, value_name = "N", requires = "apache_kafka", value_parser = clap::value_parser!(u8).range(1..=5))]
    pub brokers: Option<u8>,
}
