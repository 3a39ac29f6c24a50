//! THE command grammar. Every line a user types, a script holds, a lesson step runs or a replay
//! types goes through `parse` and becomes one `Command`. `///` comments on commands and flags are
//! the REPL's `help`.

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::error::{Error, Result};
use crate::tokenize::tokenize;

#[derive(Debug, Parser)]
#[command(multicall = true, disable_help_subcommand = true)]
struct Line {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, PartialEq, Subcommand)]
pub enum Command {
    /// Show the cluster: its id, brokers and controller
    Cluster,
    /// List topics with their partitions and message counts
    Topics(TopicsArgs),
    /// Create a topic
    CreateTopic(CreateTopicArgs),
    /// Show a topic's partitions, offsets and configs
    DescribeTopic(TopicArg),
    /// Delete a topic and every message in it
    DeleteTopic(TopicArg),
    /// Send messages to a topic and show where each one landed
    Produce(ProduceArgs),
    /// Read messages without a consumer group, like `kcat -C`
    Read(ReadArgs),
    /// Show which partition Kafka's default partitioner picks for a key
    PartitionFor(PartitionForArgs),
    /// List the commands, or show one command's flags
    Help(HelpArgs),
    /// Leave kafka-workshop
    #[command(alias = "exit")]
    Quit,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct TopicsArgs {
    /// Also show internal topics such as __consumer_offsets
    #[arg(long)]
    pub all: bool,
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
    /// Send N messages; {n} in the value or key becomes 1, 2, … N
    #[arg(long, short = 'n', default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub count: u64,
    /// How many replicas must have the message before it counts as sent
    #[arg(long, value_enum, default_value_t = Acks::All)]
    pub acks: Acks,
    /// Turn on the idempotent producer: retries never write a message twice
    #[arg(long)]
    pub idempotent: bool,
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

impl Acks {
    /// The value of librdkafka's `acks` property.
    pub fn as_config(self) -> &'static str {
        match self {
            Acks::Zero => "0",
            Acks::One => "1",
            Acks::All => "all",
        }
    }
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
pub struct HelpArgs {
    /// A command to explain
    pub command: Option<String>,
}

/// What a line turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// Blank or a comment.
    Empty,
    Command(Command),
    /// `CMD --help`: the help text to show.
    Help(String),
}

/// Tokenize and parse one line with the grammar.
pub fn parse(line: &str) -> Result<Parsed> {
    let words = tokenize(line)?;
    if words.is_empty() {
        return Ok(Parsed::Empty);
    }
    match Line::try_parse_from(&words) {
        Ok(parsed) => Ok(Parsed::Command(parsed.command)),
        Err(err) => match err.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                Ok(Parsed::Help(err.render().to_string()))
            }
            clap::error::ErrorKind::InvalidSubcommand => {
                Err(unknown_command(&words[0]))
            }
            _ => Err(usage_error(&words[0], &err)),
        },
    }
}

/// Every command's name and one-line description, in the grammar's order.
pub fn command_list() -> Vec<(String, String)> {
    Line::command()
        .get_subcommands()
        .map(|c| (c.get_name().to_string(), c.get_about().map(|a| a.to_string()).unwrap_or_default()))
        .collect()
}

/// Every name a command can be typed as, aliases included (for completion and suggestions).
pub fn command_names() -> Vec<String> {
    let command = Line::command();
    let mut names: Vec<String> = Vec::new();
    for sub in command.get_subcommands() {
        names.push(sub.get_name().to_string());
        names.extend(sub.get_all_aliases().map(str::to_string));
    }
    names
}

/// The full help of one command, or None when there is no such command.
pub fn command_help(name: &str) -> Option<String> {
    let mut command = Line::command();
    let sub = command.find_subcommand_mut(name)?;
    Some(sub.render_long_help().to_string())
}

/// The closest command name to a mistyped one, if any is close enough to be a useful guess.
pub fn suggest(word: &str) -> Option<String> {
    command_names()
        .into_iter()
        .map(|name| (strsim::jaro_winkler(word, &name), name))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name)
}

fn unknown_command(word: &str) -> Error {
    let hint = match suggest(word) {
        Some(name) => format!("did you mean `{name}`? `help` lists every command"),
        None => "`help` lists every command".to_string(),
    };
    Error::Usage { message: format!("unknown command '{word}'"), hint: Some(hint) }
}

/// clap's own message, cut to one line, with a pointer to the command's help.
fn usage_error(command: &str, err: &clap::Error) -> Error {
    let rendered = err.render().to_string();
    let mut lines = rendered.lines();
    let mut message = lines.next().unwrap_or("invalid command").trim().trim_start_matches("error: ").to_string();
    if message.ends_with(':') {
        // "the following required arguments were not provided:" lists them on the next lines.
        let listed: Vec<&str> = lines.by_ref().map(str::trim).take_while(|l| !l.is_empty()).collect();
        message = format!("{} {}", message, listed.join(", "));
    }
    let tip = rendered.lines().map(str::trim).find_map(|l| l.strip_prefix("tip: ")).map(str::to_string);
    let help = format!("`help {command}` shows its flags");
    let hint = match tip {
        Some(tip) => format!("{tip}; {help}"),
        None => help,
    };
    Error::Usage { message: format!("{command}: {message}"), hint: Some(hint) }
}

/// `KEY=VALUE`, as used by --config, --header and -X.
pub fn parse_key_value(raw: &str) -> std::result::Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok((key.trim().to_string(), value.to_string())),
        _ => Err(format!("expected KEY=VALUE, got '{raw}'")),
    }
}

fn parse_read_from(raw: &str) -> std::result::Result<ReadFrom, String> {
    match raw {
        "beginning" | "earliest" | "start" => Ok(ReadFrom::Beginning),
        "end" | "latest" => Ok(ReadFrom::End),
        _ => match raw.parse::<i64>() {
            Ok(n) if n < 0 => Ok(ReadFrom::Tail(-n)),
            Ok(n) => Ok(ReadFrom::Offset(n)),
            Err(_) => Err(format!("expected beginning, end, an offset or -N, got '{raw}'")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(line: &str) -> Command {
        match parse(line).unwrap() {
            Parsed::Command(c) => c,
            other => panic!("expected a command, got {other:?}"),
        }
    }

    #[test]
    fn produce_keeps_json_with_spaces() {
        let Command::Produce(args) = command(r#"produce orders '{"order": 1}' --key till-1"#) else {
            panic!("not produce")
        };
        assert_eq!(args.value.as_deref(), Some(r#"{"order": 1}"#));
        assert_eq!(args.key.as_deref(), Some("till-1"));
        assert_eq!(args.acks, Acks::All);
    }

    #[test]
    fn read_from_negative_offset_is_a_tail() {
        let Command::Read(args) = command("read orders --from -3") else { panic!("not read") };
        assert_eq!(args.from, ReadFrom::Tail(3));
    }

    #[test]
    fn unknown_command_suggests_the_closest() {
        let err = parse("topcs").unwrap_err();
        assert_eq!(err.to_string(), "unknown command 'topcs'");
        assert!(err.hint().unwrap().contains("`topics`"), "{:?}", err.hint());
    }

    #[test]
    fn bad_flag_value_is_one_line() {
        let err = parse("create-topic t --partitions many").unwrap_err();
        assert!(matches!(err, Error::Usage { .. }));
        assert!(!err.to_string().contains('\n'));
        assert!(err.to_string().starts_with("create-topic: "), "{err}");
    }

    #[test]
    fn missing_argument_names_it() {
        let err = parse("create-topic").unwrap_err();
        assert_eq!(err.to_string(), "create-topic: the following required arguments were not provided: <TOPIC>");
    }

    #[test]
    fn partition_for_needs_exactly_one_source() {
        assert!(parse("partition-for k").is_err());
        assert!(parse("partition-for k --partitions 3 --topic t").is_err());
        assert!(matches!(command("partition-for k --partitions 3"), Command::PartitionFor(_)));
    }

    #[test]
    fn flag_help_is_help_not_an_error() {
        assert!(matches!(parse("produce --help").unwrap(), Parsed::Help(_)));
    }

    #[test]
    fn every_command_documents_itself() {
        for (name, about) in command_list() {
            assert!(!about.is_empty(), "{name} has no description");
        }
    }
}
