//! The arguments of each command. Their `///` comments are the REPL's help for each flag.

use std::time::{Duration, SystemTime};

use clap::{Args, ValueEnum};

use super::{parse_duration, parse_key_value, parse_read_from, parse_time};
mod shop;

pub use shop::*;

#[derive(Debug, Clone, PartialEq, Args)]
pub struct BrokerCommandArgs {
    /// stop: a clean shutdown (the embedded broker drops every connection at once); kill: a
    /// crash, with no goodbye; start: the broker comes back on the same address
    #[arg(value_enum)]
    pub action: BrokerAction,
    /// Which broker, by node id (a local Apache Kafka cluster's 1, 2, 3…; the embedded broker is 1)
    pub node: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BrokerAction {
    Stop,
    Kill,
    Start,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct ConnectCommandArgs {
    /// HOST:PORT[,HOST:PORT…] of the cluster, or `embedded` for the built-in broker
    pub bootstrap: String,
    #[command(flatten)]
    pub security: crate::security::SecurityArgs,
    /// Pass a librdkafka property through (repeatable); secret values are masked everywhere
    #[arg(short = 'X', value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub properties: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct TopicsArgs {
    /// Also show internal topics: __consumer_offsets, and a workshop's workshop.progress and workshop.announcements
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct BrokerConfigArgs {
    /// Setting names, such as log.retention.check.interval.ms (none: the ones the lessons rely on)
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct TopicArg {
    /// The topic's name
    pub topic: String,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct CreateTopicArgs {
    /// The new topic's name
    pub topic: String,
    /// How many partitions it has
    #[arg(long, short, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub partitions: i32,
    /// How many brokers keep a copy of each partition
    #[arg(long, short, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=100))]
    pub replication_factor: i32,
    /// A topic config such as retention.ms=60000 (repeatable)
    #[arg(long = "config", short = 'c', value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub configs: Vec<(String, String)>,
    /// A JSON Schema every value must match, inline or a .json file (embedded broker only)
    #[arg(long, value_name = "JSON|FILE")]
    pub schema: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct AlterTopicArgs {
    /// The topic's name
    pub topic: String,
    /// The partition count it should have: more than now (partitions are never removed)
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub partitions: Option<i32>,
    /// Set a topic config such as retention.ms=60000 (repeatable)
    #[arg(long = "config", short = 'c', value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub configs: Vec<(String, String)>,
    /// Remove a topic config, so the broker's default applies again (repeatable)
    #[arg(long = "delete-config", value_name = "KEY")]
    pub delete_configs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct SchemaArgs {
    /// The topic's name
    pub topic: String,
    /// A new JSON Schema for its values, inline or a .json file; nothing shows the current one
    #[arg(value_name = "JSON|FILE")]
    pub schema: Option<String>,
    /// Stop checking the topic's values
    #[arg(long, conflicts_with = "schema")]
    pub remove: bool,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct ProduceArgs {
    /// The topic to write to
    pub topic: String,
    /// The message's value. JSON is sent compact; with no value the message has a null value (a tombstone)
    pub value: Option<String>,
    /// The message's key; messages with the same key go to the same partition
    #[arg(long, short)]
    pub key: Option<String>,
    /// Send to this partition instead of letting the partitioner choose
    #[arg(long, short, value_parser = clap::value_parser!(i32).range(0..))]
    pub partition: Option<i32>,
    /// A header such as source=till-1 (repeatable)
    #[arg(long = "header", short = 'H', value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub headers: Vec<(String, String)>,
    /// Send N messages; {n!} in the value or key becomes 1, 2, … N
    #[arg(long, short = 'n', default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub count: u64,
    /// How many replicas must have the message before it counts as sent
    #[arg(long, value_enum, default_value_t = Acks::All)]
    pub acks: Acks,
    /// Turn on the idempotent producer: retries never write a message twice
    #[arg(long)]
    pub idempotent: bool,
    /// Send every message in one transaction with this transactional id, committed at the end (Apache Kafka)
    #[arg(long, value_name = "ID")]
    pub transactional_id: Option<String>,
    /// Abort the transaction instead of committing it: its messages stay in the log, and read_committed readers skip them
    #[arg(long, requires = "transactional_id")]
    pub abort: bool,
    /// Send the value exactly as typed, even if it starts like JSON but is not
    #[arg(long)]
    pub raw: bool,
    /// linger.ms: how long a batch waits for more messages before it goes (librdkafka's default is 5)
    #[arg(long, value_name = "MS", conflicts_with = "transactional_id", value_parser = clap::value_parser!(u32).range(0..=900_000))]
    pub linger_ms: Option<u32>,
    /// batch.size: the most bytes one batch may hold (librdkafka's default is 1000000)
    #[arg(long, value_name = "BYTES", conflicts_with = "transactional_id", value_parser = clap::value_parser!(u32).range(1..=2_147_483_647))]
    pub batch_size: Option<u32>,
    /// How the producer compresses each batch (librdkafka's and Java's default is none)
    #[arg(long, value_enum, conflicts_with = "transactional_id")]
    pub compression: Option<Compression>,
    /// Hand the producer this many messages a second, evenly spaced, instead of all at once
    #[arg(long, value_name = "PER-SECOND", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate: Option<u32>,
}

/// A producer's batch compression (`compression.codec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum Acks {
    /// Don't wait for the broker at all
    #[value(name = "0")]
    Zero,
    /// Wait for the partition's leader only
    #[value(name = "1")]
    One,
    /// Wait for every in-sync replica
    #[value(name = "all", alias = "-1")]
    All,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct ReadArgs {
    /// The topic to read
    pub topic: String,
    /// Read only this partition
    #[arg(long, short, value_parser = clap::value_parser!(i32).range(0..))]
    pub partition: Option<i32>,
    /// Where to start: beginning, end, an offset, or -N for the last N of each partition
    #[arg(long, short, default_value = "beginning", allow_hyphen_values = true, value_parser = parse_read_from)]
    pub from: ReadFrom,
    /// Stop after N messages
    #[arg(long, short, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max: u64,
    /// read-committed skips the messages of open and aborted transactions (librdkafka's default; Java's is read-uncommitted)
    #[arg(long, value_enum, default_value_t = Isolation::ReadCommitted)]
    pub isolation: Isolation,
}

/// Which transactional messages a reader sees (`isolation.level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Isolation {
    /// Only messages of committed transactions (and those sent without one)
    ReadCommitted,
    /// Everything in the log, aborted and open transactions too
    ReadUncommitted,
}

/// How a consumer takes part in its group (`group.protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupProtocol {
    /// JoinGroup and SyncGroup: the group's leader assigns, every member stops at a rebalance
    Classic,
    /// KIP-848 (Apache Kafka 4.0+): the broker assigns, and members move partitions one by one
    Consumer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    Beginning,
    End,
    Offset(i64),
    /// The last N messages of each partition.
    Tail(i64),
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct PartitionForArgs {
    /// The key to hash
    pub key: String,
    /// The number of partitions to choose among
    #[arg(long, short, required_unless_present = "topic", conflicts_with = "topic",
          value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub partitions: Option<i32>,
    /// Use this topic's partition count
    #[arg(long, short)]
    pub topic: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct NameArg {
    /// The consumer's or producer's name
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct GroupArg {
    /// The consumer group's name
    pub group: String,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct StartConsumerArgs {
    /// A name for this consumer, used by poll, commit, stop-consumer, kill-consumer …
    pub name: String,
    /// The consumer group to join
    #[arg(long, short)]
    pub group: String,
    /// A topic to subscribe to (repeatable)
    #[arg(long = "topic", short, required = true)]
    pub topics: Vec<String>,
    /// Where to start when the group has no committed offset
    #[arg(long, value_enum, default_value_t = StartFrom::Latest)]
    pub from: StartFrom,
    /// Commit only with the commit command (otherwise every second)
    #[arg(long)]
    pub manual_commit: bool,
    /// How long the group waits for a silent member before reassigning its partitions (default 6s; Kafka's minimum)
    #[arg(long, value_parser = parse_duration)]
    pub session_timeout: Option<Duration>,
    /// How the group shares out partitions (default range)
    #[arg(long, value_enum)]
    pub assignor: Option<Assignor>,
    /// classic, or consumer: KIP-848's protocol, where the broker assigns and sets the session timeout
    #[arg(long, value_enum, default_value_t = GroupProtocol::Classic)]
    pub group_protocol: GroupProtocol,
    /// read-committed skips the messages of open and aborted transactions (librdkafka's default; Java's is read-uncommitted)
    #[arg(long, value_enum, default_value_t = Isolation::ReadCommitted)]
    pub isolation: Isolation,
    /// How long it may go without polling before it leaves the group itself (max.poll.interval.ms)
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    pub max_poll_interval: Duration,
    /// Join as a static member (group.instance.id): a restart within the session timeout moves nothing
    #[arg(long)]
    pub instance_id: Option<String>,
    /// Print each message as it arrives instead of waiting for poll
    #[arg(long)]
    pub follow: bool,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct StallConsumerArgs {
    /// The consumer's name
    pub name: String,
    /// How long it stops polling, as a stuck message handler would (its heartbeats go on)
    #[arg(value_parser = parse_duration)]
    pub duration: Duration,
    /// Hold the prompt until the group has dealt its partitions to the others, with a countdown
    /// (without it, the takeover is reported above the prompt when it happens)
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct KillConsumerArgs {
    /// The consumer's name
    pub name: String,
    /// Hold the prompt until the group has dealt its partitions to the others, with a countdown
    /// (without it, the takeover is reported above the prompt when it happens)
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct PollArgs {
    /// The consumer's name
    pub name: String,
    /// How many messages to take
    #[arg(default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub count: u64,
    /// How long to wait for them
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub wait: Duration,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct SeekEdgeArgs {
    /// The consumer's name
    pub name: String,
    /// Only this partition (default: all it is assigned)
    #[arg(long, short, value_parser = clap::value_parser!(i32).range(0..))]
    pub partition: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct SeekArgs {
    /// The consumer's name
    pub name: String,
    /// The partition to move
    #[arg(value_parser = clap::value_parser!(i32).range(0..), required_unless_present = "time")]
    pub partition: Option<i32>,
    /// The offset to move to
    #[arg(value_parser = clap::value_parser!(i64).range(0..), required_unless_present = "time")]
    pub offset: Option<i64>,
    /// A time instead: RFC 3339 (2026-11-22T10:00:00Z) or relative (-5m)
    #[arg(long, allow_hyphen_values = true, conflicts_with_all = ["partition", "offset"], value_parser = parse_time)]
    pub time: Option<SystemTime>,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct StartProducerArgs {
    /// A name for this producer
    pub name: String,
    /// The topic to send to
    #[arg(long, short)]
    pub topic: String,
    /// How often to send, such as 1s or 500ms
    #[arg(long, value_parser = parse_duration)]
    pub every: Duration,
    /// The key; {n!} and {name} are filled in
    #[arg(long, short)]
    pub key: Option<String>,
    /// Always send to this partition
    #[arg(long, short, value_parser = clap::value_parser!(i32).range(0..))]
    pub partition: Option<i32>,
    /// The value; {n!} becomes a counter and {name} the producer's name
    #[arg(default_value = "{name} message {n}")]
    pub template: String,
}

#[derive(Debug, Clone, PartialEq, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).multiple(false)
    .args(["to_earliest", "to_latest", "to_offset", "shift_by", "to_time"])))]
pub struct ResetOffsetsArgs {
    /// The consumer group
    pub group: String,
    /// The topic whose offsets change
    #[arg(long, short)]
    pub topic: String,
    /// To the oldest message still kept
    #[arg(long)]
    pub to_earliest: bool,
    /// To the end: skip everything not yet read
    #[arg(long)]
    pub to_latest: bool,
    /// To this offset in every partition
    #[arg(long, value_parser = clap::value_parser!(i64).range(0..))]
    pub to_offset: Option<i64>,
    /// Move each committed offset by N (negative goes back)
    #[arg(long, allow_hyphen_values = true)]
    pub shift_by: Option<i64>,
    /// To the first message at or after TIME: RFC 3339 or relative (-5m)
    #[arg(long, allow_hyphen_values = true, value_parser = parse_time)]
    pub to_time: Option<SystemTime>,
    /// Make the change (without it, only the plan is shown)
    #[arg(long)]
    pub execute: bool,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct ExpectArgs {
    /// The condition, such as: group preparers members 2
    #[arg(required = true, num_args = 1..)]
    pub condition: Vec<String>,
    /// How long to wait for it
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub within: Duration,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct SleepArgs {
    /// How long, such as 2s or 500ms
    #[arg(value_parser = parse_duration)]
    pub duration: Duration,
}

/// Where a new consumer group starts when it has no committed offset (`auto.offset.reset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StartFrom {
    /// The oldest message still kept
    Earliest,
    /// Only messages produced from now on (Kafka's default)
    Latest,
}

/// How a group shares its partitions out (`partition.assignment.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Assignor {
    /// Consecutive ranges of each topic's partitions
    Range,
    /// Partitions dealt out one by one
    Roundrobin,
    /// Incremental: only the partitions that move are revoked
    CooperativeSticky,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct ShowArgs {
    /// Topics to draw, and groups as `group G`; nothing draws every topic and group you used
    #[arg(value_name = "TOPIC|group G")]
    pub what: Vec<String>,
}

impl ShowArgs {
    /// The topic names and group names asked for.
    pub fn selection(&self) -> crate::error::Result<(Vec<String>, Vec<String>)> {
        let (mut topics, mut groups) = (Vec::new(), Vec::new());
        let mut words = self.what.iter();
        while let Some(word) = words.next() {
            if word == "group" {
                let group = words.next().ok_or_else(|| crate::error::Error::usage("`group` needs a group's name: show group G"))?;
                groups.push(group.clone());
            } else {
                topics.push(word.clone());
            }
        }
        Ok((topics, groups))
    }

    pub(super) fn names_mut(&mut self) -> Vec<super::Name<'_>> {
        let mut names = Vec::new();
        let mut after_group = false;
        for word in &mut self.what {
            if word == "group" && !after_group {
                after_group = true;
            } else if after_group {
                after_group = false;
                names.push(super::Name::Group(word));
            } else {
                names.push(super::Name::Topic(word));
            }
        }
        names
    }
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct WebArgs {
    /// The address to serve on (default: 127.0.0.1 on a free port)
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_listen)]
    pub listen: Option<std::net::SocketAddr>,
}

/// `HOST:PORT` to listen on, such as 127.0.0.1:8080 or 0.0.0.0:8080.
pub fn parse_listen(raw: &str) -> std::result::Result<std::net::SocketAddr, String> {
    raw.parse().map_err(|_| format!("expected an address to listen on such as 127.0.0.1:8080, got '{raw}'"))
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct LessonArgs {
    /// The lesson's number or name
    pub lesson: String,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct LearnerArgs {
    /// Your name, such as alice
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct ClassArgs {
    /// `clean`: the learners' topics and groups, as a plan (deleted with --execute)
    #[arg(value_enum)]
    pub action: Option<ClassAction>,
    /// Keep the table fresh until a key is pressed
    #[arg(long, conflicts_with = "execute")]
    pub watch: bool,
    /// With `clean`: delete them, rather than show the plan
    #[arg(long)]
    pub execute: bool,
}

impl ClassArgs {
    /// The same command as a line of the grammar.
    pub fn line(&self) -> String {
        let mut line = String::from("class");
        if self.action == Some(ClassAction::Clean) {
            line.push_str(" clean");
        }
        if self.watch {
            line.push_str(" --watch");
        }
        if self.execute {
            line.push_str(" --execute");
        }
        line
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClassAction {
    Clean,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct AnnounceArgs {
    /// What to say, such as: break until 11:00
    #[arg(required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true, value_name = "TEXT")]
    pub text: Vec<String>,
}

impl AnnounceArgs {
    /// The same command as a line of the grammar, each word quoted as typed.
    pub fn line(&self) -> String {
        let words = shlex::try_join(self.text.iter().map(String::as_str)).unwrap_or_else(|_| self.text.join(" "));
        format!("announce {words}")
    }
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct RecordArgs {
    /// The Markdown file to write, or `stop` to finish and write it
    pub file: String,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct HelpArgs {
    /// A command to explain
    pub command: Option<String>,
}

