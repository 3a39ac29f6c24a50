//! THE command grammar. Every line a user types, a script holds, a lesson step runs or a replay
//! types goes through `parse` and becomes one `Command`. `///` comments on commands and flags are
//! the REPL's `help`.

mod args;

use std::time::{Duration, SystemTime};

use clap::{CommandFactory, Parser, Subcommand};

pub use args::*;

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
    /// Show the cluster (also typed `brokers`): its brokers, up or down, their roles and leaderships, the controller quorum, and how this session is secured
    #[command(alias = "brokers")]
    Cluster,
    /// Show broker settings a lesson depends on (how often retention and the cleaner run…), or the ones named
    BrokerConfig(BrokerConfigArgs),
    /// Switch to another cluster (or back to `embedded`); what runs here is stopped first
    Connect(ConnectCommandArgs),
    /// Stop, kill or start a broker this session started, to see what happens when it goes away
    Broker(BrokerCommandArgs),
    /// List topics with their partitions and message counts
    Topics(TopicsArgs),
    /// Create a topic
    CreateTopic(CreateTopicArgs),
    /// Show a topic's partitions, offsets and configs
    DescribeTopic(TopicArg),
    /// Add partitions to a topic, or change its configs (Apache Kafka; tansu changes configs only)
    AlterTopic(AlterTopicArgs),
    /// Delete a topic and every message in it
    DeleteTopic(TopicArg),
    /// Send messages to a topic and show where each one landed
    Produce(ProduceArgs),
    /// Read messages without a consumer group, like `kcat -C`
    Read(ReadArgs),
    /// Show which partition Kafka's default partitioner picks for a key
    PartitionFor(PartitionForArgs),
    /// Show, replace or remove the JSON Schema the embedded broker checks a topic's values against
    Schema(SchemaArgs),
    /// Start a named consumer in a group; it runs while you type
    StartConsumer(StartConsumerArgs),
    /// Hand the next N messages to a consumer, as a table
    Poll(PollArgs),
    /// Commit a consumer's offsets now and show them
    Commit(NameArg),
    /// Move a consumer to the end of its partitions, skipping the backlog
    SeekToEnd(SeekEdgeArgs),
    /// Move a consumer back to the oldest message still kept
    SeekToBeginning(SeekEdgeArgs),
    /// Move a consumer to an offset in one partition, or to a time
    Seek(SeekArgs),
    /// Stop a consumer gracefully: commit (unless --manual-commit), leave the group, let the others take over at once
    StopConsumer(NameArg),
    /// Crash a consumer: no commit, no goodbye; the group notices after the session timeout
    KillConsumer(KillConsumerArgs),
    /// Start a stopped or killed consumer again with the same settings
    RestartConsumer(NameArg),
    /// Make a consumer stop polling for a while, as a stuck handler would; its heartbeats go on
    StallConsumer(StallConsumerArgs),
    /// List the consumers started here with their assignments, positions and lag
    Consumers,
    /// Start a named producer that sends a message every so often
    StartProducer(StartProducerArgs),
    /// Stop a producer started with start-producer
    StopProducer(NameArg),
    /// List the producers started here
    Producers,
    /// Open a till in the fish-and-chip shop: it sends a customer's order every 1–1.5 s
    StartTill(StartTillArgs),
    /// Close tills by number, or every till with `stop-till all`
    StopTill(StopTillArgs),
    /// Start a food preparer: a consumer in a group that makes up each order and serves it
    StartPreparer(StartPreparerArgs),
    /// Start a cook: cooks what an order needs (3–3.2 s), marks it ready and sends it back
    StartCook(StartCookArgs),
    /// Start an analyst: a consumer that stores every order as a row in a SQLite database
    StartAnalyst(StartAnalystArgs),
    /// Run SQL on an analyst's database and show the rows
    Query(QueryArgs),
    /// Show the shop: each participant's recent work side by side, refreshing until a key is pressed
    Shop,
    /// Draw topics and groups: each partition as a log, with commits, positions, lag and owners
    Show(ShowArgs),
    /// The same picture, redrawn as things happen until a key is pressed
    Watch(ShowArgs),
    /// Serve the picture as a live web page, for a projector or a second screen
    Web(WebArgs),
    /// List the cluster's consumer groups
    Groups,
    /// Show a group's offsets, lag and members, like kafka-consumer-groups --describe
    DescribeGroup(GroupArg),
    /// Show a topic's offsets and every group's committed offset on it
    Offsets(TopicArg),
    /// Plan, or with --execute make, a change to a group's committed offsets
    ResetOffsets(ResetOffsetsArgs),
    /// Delete a consumer group and its committed offsets
    DeleteGroup(GroupArg),
    /// Wait until a condition about the cluster holds, or fail saying what was found
    Expect(ExpectArgs),
    /// Pause a replayed script (never use it to wait for state: use expect)
    Sleep(SleepArgs),
    /// List the lessons with your progress
    Lessons,
    /// Open a lesson by number or name, where you left it
    Lesson(LessonArgs),
    /// Run the lesson's commands, or move on once its checks pass (Enter does the same)
    Next,
    /// Go back one step in the lesson
    Back,
    /// A hint for the lesson's current task
    Hint,
    /// Show the commands that solve the lesson's current task
    Solution,
    /// Check the lesson's current task against the cluster now
    Check,
    /// Skip the lesson's current task
    Skip,
    /// Start the current lesson again from its first step
    RestartLesson,
    /// Say which lesson and step you are on
    Where,
    /// Record the commands you type from now on into a lesson file that replays
    Record(RecordArgs),
    /// Work as a named learner on a shared cluster: your topics and groups get your prefix
    Learner(LearnerArgs),
    /// A workshop's learners: lesson, step and who is stuck (`class clean` deletes their topics and groups)
    Class(ClassArgs),
    /// Tell every learner in the workshop something; it appears above their prompt
    Announce(AnnounceArgs),
    /// List the commands, or show one command's flags
    Help(HelpArgs),
    /// Leave kafka-workshop
    #[command(alias = "exit")]
    Quit,
}

/// A topic or group name inside a command.
pub enum Name<'a> {
    Topic(&'a mut String),
    Group(&'a mut String),
}

impl Command {
    /// Every topic and group name the command holds. Every command is listed (no catch-all),
    /// so a new one must say which of its words are names: a learner's prefix goes on exactly
    /// these, and the picture remembers them.
    pub fn names_mut(&mut self) -> Vec<Name<'_>> {
        use Name::{Group, Topic};
        match self {
            Command::CreateTopic(a) => vec![Topic(&mut a.topic)],
            Command::AlterTopic(a) => vec![Topic(&mut a.topic)],
            Command::DescribeTopic(a) | Command::DeleteTopic(a) | Command::Offsets(a) => vec![Topic(&mut a.topic)],
            Command::Produce(a) => vec![Topic(&mut a.topic)],
            Command::Read(a) => vec![Topic(&mut a.topic)],
            Command::PartitionFor(a) => a.topic.iter_mut().map(Topic).collect(),
            Command::Schema(a) => vec![Topic(&mut a.topic)],
            Command::StartConsumer(a) => std::iter::once(Group(&mut a.group)).chain(a.topics.iter_mut().map(Topic)).collect(),
            Command::StartProducer(a) => vec![Topic(&mut a.topic)],
            Command::StartTill(a) => vec![Topic(&mut a.topic)],
            Command::StartPreparer(a) => {
                let mut names = vec![Group(&mut a.group), Topic(&mut a.topic)];
                names.extend(a.cook_topic.iter_mut().map(Topic));
                names
            }
            Command::StartCook(a) => vec![Group(&mut a.group), Topic(&mut a.topic), Topic(&mut a.orders_topic)],
            Command::StartAnalyst(a) => vec![Group(&mut a.group), Topic(&mut a.topic)],
            Command::DescribeGroup(a) | Command::DeleteGroup(a) => vec![Group(&mut a.group)],
            Command::ResetOffsets(a) => vec![Group(&mut a.group), Topic(&mut a.topic)],
            Command::Show(a) | Command::Watch(a) => a.names_mut(),
            // Conditions name their topics and groups; they are read when checked.
            Command::Expect(_) => vec![],
            // Consumers, producers, tills and analysts go by the learner's own names.
            Command::Poll(_)
            | Command::Commit(_)
            | Command::SeekToEnd(_)
            | Command::SeekToBeginning(_)
            | Command::Seek(_)
            | Command::StopConsumer(_)
            | Command::KillConsumer(_)
            | Command::RestartConsumer(_)
            | Command::StallConsumer(_)
            | Command::StopProducer(_)
            | Command::StopTill(_)
            | Command::Query(_) => vec![],
            // No topic or group names.
            Command::Cluster
            | Command::BrokerConfig(_)
            | Command::Connect(_)
            | Command::Broker(_)
            | Command::Topics(_)
            | Command::Consumers
            | Command::Producers
            | Command::Shop
            | Command::Web(_)
            | Command::Groups
            | Command::Sleep(_)
            | Command::Lessons
            | Command::Lesson(_)
            | Command::Next
            | Command::Back
            | Command::Hint
            | Command::Solution
            | Command::Check
            | Command::Skip
            | Command::RestartLesson
            | Command::Where
            | Command::Record(_)
            | Command::Learner(_)
            | Command::Class(_)
            | Command::Announce(_)
            | Command::Help(_)
            | Command::Quit => vec![],
        }
    }

    /// Commands about the tool itself (help, lessons, recording) rather than about Kafka: they
    /// are never recorded.
    pub fn is_about_the_tool(&self) -> bool {
        matches!(
            self,
            Command::Lessons
                | Command::Lesson(_)
                | Command::Next
                | Command::Back
                | Command::Hint
                | Command::Solution
                | Command::Check
                | Command::Skip
                | Command::RestartLesson
                | Command::Where
                | Command::Record(_)
                | Command::Learner(_)
                | Command::Class(_)
                | Command::Announce(_)
                | Command::Help(_)
                | Command::Quit
        )
    }
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

/// How `help` groups the commands, in the order a course meets them. Every command is in
/// exactly one group (a unit test checks it).
pub const HELP_GROUPS: &[(&str, &[&str])] = &[
    ("topics", &["topics", "create-topic", "describe-topic", "alter-topic", "delete-topic", "partition-for", "schema"]),
    ("producing and reading", &["produce", "read", "start-producer", "stop-producer", "producers"]),
    (
        "consumers and groups",
        &[
            "start-consumer", "poll", "commit", "seek-to-end", "seek-to-beginning", "seek", "stop-consumer",
            "kill-consumer", "restart-consumer", "stall-consumer", "consumers", "groups", "describe-group", "offsets",
            "reset-offsets", "delete-group",
        ],
    ),
    (
        "lessons",
        &["lessons", "lesson", "next", "back", "hint", "solution", "check", "skip", "restart-lesson", "where", "learner", "record"],
    ),
    ("the fish-and-chip shop", &["start-till", "stop-till", "start-preparer", "start-cook", "start-analyst", "query", "shop"]),
    ("the picture", &["show", "watch", "web"]),
    ("the workshop room", &["class", "announce"]),
    ("the cluster and the tool", &["cluster", "broker-config", "connect", "broker", "expect", "sleep", "help", "quit"]),
];

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
    // clap turns "{n}" in help into a line break, so the help text writes the placeholder as "{n!}".
    Some(sub.render_long_help().to_string().replace("{n!}", "{n}"))
}

/// The closest command name to a mistyped one, if any is close enough to be a useful guess.
pub fn suggest(word: &str) -> Option<String> {
    // No command is longer than this.
    if word.len() > 40 {
        return None;
    }
    let names = command_names();
    crate::format::closest(word, names.iter().map(String::as_str)).map(str::to_string)
}

fn unknown_command(word: &str) -> Error {
    let hint = match suggest(word) {
        Some(name) => format!("did you mean `{name}`? `help` lists every command"),
        None => "`help` lists every command".to_string(),
    };
    Error::Usage { message: format!("unknown command '{}'", crate::paths::clip(word)), hint: Some(hint) }
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
        // `seek screen -10m`: a time is not an offset.
        _ if command == "seek" && message.contains("unexpected argument '-") => {
            format!("to seek to a time, put it after --time: seek NAME --time -10m; {help}")
        }
        Some(tip) => format!("{tip}; {help}"),
        None => help,
    };
    Error::Usage { message: format!("{}: {}", crate::paths::clip(command), crate::format::clip_quotes(&message)), hint: Some(hint) }
}

/// `KEY=VALUE`, as used by --config, --header and -X.
pub fn parse_key_value(raw: &str) -> std::result::Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok((key.trim().to_string(), value.to_string())),
        _ => Err(format!("expected KEY=VALUE, got '{raw}'")),
    }
}

/// `6s`, `500ms`, `1m`, `1h 30m`.
pub fn parse_duration(raw: &str) -> std::result::Result<Duration, String> {
    humantime::parse_duration(raw).map_err(|e| format!("expected a duration such as 6s or 500ms, got '{raw}' ({e})"))
}

/// RFC 3339 (`2026-11-22T10:00:00Z`) or relative to now (`-5m`).
pub fn parse_time(raw: &str) -> std::result::Result<SystemTime, String> {
    if let Some(ago) = raw.strip_prefix('-') {
        let ago = humantime::parse_duration(ago).map_err(|e| format!("expected -DURATION such as -5m, got '{raw}' ({e})"))?;
        return SystemTime::now().checked_sub(ago).ok_or_else(|| format!("'{raw}' is before 1970"));
    }
    humantime::parse_rfc3339_weak(raw)
        .map_err(|e| format!("expected RFC 3339 (2026-11-22T10:00:00Z) or -5m, got '{raw}' ({e})"))
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

    #[test]
    fn help_groups_name_every_command_once() {
        let grouped: Vec<&str> = HELP_GROUPS.iter().flat_map(|(_, names)| names.iter().copied()).collect();
        let mut commands: Vec<String> = command_list().into_iter().map(|(name, _)| name).collect();
        commands.sort();
        let mut sorted: Vec<String> = grouped.iter().map(|name| name.to_string()).collect();
        sorted.sort();
        assert_eq!(sorted, commands);
    }

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
