//! A `Session` is one user's connection to one cluster and everything they have started on it.
//! `run_line` is the single execution path: tokenize → parse → execute → `Outcome`. The REPL,
//! piped scripts, `--script`, lessons and replays all call it; none of them render inside it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use rdkafka::admin::{NewTopic, TopicReplication};
use rdkafka::config::ClientConfig;
use futures::FutureExt;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Message, OwnedHeaders, Timestamp};
use rdkafka::producer::future_producer::DeliveryFuture;
use rdkafka::producer::FutureRecord;
use rdkafka::{Offset, TopicPartitionList};

use crate::actors::consumer::{ConsumerHandle, SeekTo};
use crate::actors::producer::ProducerHandle;
use crate::actors::Events;
use crate::command::{
    self, Acks, Command, CreateTopicArgs, Parsed, PartitionForArgs, ProduceArgs, ReadArgs, ReadFrom, TopicsArgs,
};
use crate::error::{Error, Result};
use crate::lesson::Library;
use crate::namespace::Namespace;
use crate::kafka::{Connection, Context, ProducerSettings, TopicInfo, Watermarks, CLUSTER_TIMEOUT};
use crate::murmur2;
use crate::outcome::{Event, Outcome, Record, Table};

mod checks;
mod clusters;
mod groups;
mod live;
mod shop;
mod tutor;

/// Above this many messages `produce` shows a progress bar and a per-partition summary instead
/// of one row per message.
pub const PRODUCE_TABLE_LIMIT: u64 = 20;

/// How the session reaches its cluster.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// An existing cluster; when absent the embedded broker starts.
    pub bootstrap_servers: Option<String>,
    /// librdkafka properties passed through (`-X key=value`).
    pub properties: Vec<(String, String)>,
    /// TLS and SASL flags.
    pub security: crate::security::SecurityArgs,
    /// The SASL password, when SASL is on.
    pub password: Option<crate::security::Secret>,
    /// Keep the embedded broker's data in SQLite under this folder.
    pub data: Option<PathBuf>,
    pub verbose: bool,
    /// An instructor's lessons folder instead of the built-in lessons.
    pub lessons: Option<PathBuf>,
    /// A workshop learner's name: their topics and groups become `NAME.topic` on the cluster.
    pub learner: Option<String>,
}

/// What the session is connected to, for the banner and `cluster`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Embedded { bootstrap: String, storage: String },
    External { bootstrap: String },
}

/// Progress of a long command, drawn by the front end (or not at all in scripts).
pub trait Progress: Send {
    fn advance(&self, by: u64);
    fn finish(&self);
}

/// The front end's side of long-running work.
pub trait Reporter: Send + Sync {
    fn progress(&self, total: u64, label: &str) -> Box<dyn Progress>;

    /// Ask for a secret without echoing it; None where nobody can answer.
    fn secret(&self, _prompt: &str) -> Option<String> {
        None
    }

    /// Ask a yes/no question, Enter meaning yes; false where nobody can answer.
    fn confirm(&self, _question: &str) -> bool {
        false
    }
}

/// The SASL password: `$KAFKA_SASL_PASSWORD`, else asked for without echo where someone can answer.
pub fn sasl_password(reporter: &dyn Reporter) -> Option<crate::security::Secret> {
    std::env::var(crate::security::PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty())
        .or_else(|| reporter.secret("SASL password (not echoed): "))
        .map(crate::security::Secret::new)
}

/// Shows nothing: scripts and tests.
pub struct Quiet;

impl Progress for Quiet {
    fn advance(&self, _by: u64) {}
    fn finish(&self) {}
}

impl Reporter for Quiet {
    fn progress(&self, _total: u64, _label: &str) -> Box<dyn Progress> {
        Box::new(Quiet)
    }
}

pub struct Session {
    connection: Connection,
    target: Target,
    #[cfg(feature = "embedded-broker")]
    embedded: Option<crate::broker::EmbeddedBroker>,
    /// Where the embedded broker was, while `broker stop` has it down.
    #[cfg(feature = "embedded-broker")]
    stopped_broker: Option<(std::net::SocketAddr, crate::broker::BrokerStorage)>,
    reporter: Arc<dyn Reporter>,
    verbose: bool,
    /// The TLS and SASL flags in effect, and the `-X` settings, for `cluster`.
    security: crate::security::SecurityArgs,
    settings: Vec<(String, String)>,
    consumers: BTreeMap<String, ConsumerHandle>,
    producers: BTreeMap<String, ProducerHandle>,
    shop: crate::actors::shop::Shop,
    tills: BTreeMap<u32, crate::actors::shop::TillHandle>,
    /// The shop job of each consumer that is a preparer, cook or analyst.
    jobs: BTreeMap<String, crate::actors::shop::Job>,
    analysts: BTreeMap<String, shop::AnalystRun>,
    events: Events,
    event_receiver: Option<Receiver<Event>>,
    library: Library,
    namespace: Option<Namespace>,
    tutor: Option<tutor::Tutor>,
    recording: Option<Recording>,
}

/// `record FILE`: the commands typed since, to be written as a lesson that replays.
struct Recording {
    path: PathBuf,
    lines: Vec<String>,
}

impl Session {
    /// Start the embedded broker (unless `bootstrap_servers` names a cluster) and prepare clients.
    pub async fn connect(options: &ConnectOptions, reporter: Arc<dyn Reporter>) -> Result<Session> {
        match &options.bootstrap_servers {
            Some(servers) => {
                let servers = servers.trim();
                if servers.is_empty() {
                    return Err(Error::input("--bootstrap-servers is empty; give HOST:PORT[,HOST:PORT…]"));
                }
                if options.data.is_some() {
                    return Err(Error::input("--data is for the embedded broker; it cannot be used with --bootstrap-servers"));
                }
                let properties = clusters::client_properties(&options.security, options.password.as_ref(), &options.properties)?;
                let connection = Connection::new(servers, &properties, options.verbose)?;
                let target = Target::External { bootstrap: servers.to_string() };
                Session::assemble(connection, target, reporter, options)
            }
            None if !options.security.is_empty() => Err(Error::input(
                "--certs and the --sasl-… flags are for a real cluster: give its address with --bootstrap-servers HOST:PORT",
            )),
            None => Self::start_embedded(options, reporter).await,
        }
    }

    #[cfg(feature = "embedded-broker")]
    async fn start_embedded(options: &ConnectOptions, reporter: Arc<dyn Reporter>) -> Result<Session> {
        use crate::broker::{BrokerStorage, EmbeddedBroker};
        let storage = match &options.data {
            Some(dir) => BrokerStorage::Sqlite { dir: dir.clone(), maintenance: None },
            None => BrokerStorage::Memory,
        };
        let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let broker = EmbeddedBroker::start(listen, None, storage, false).await?;
        let connection = Connection::new(broker.bootstrap(), &options.properties, options.verbose)?;
        // Ready means it answers metadata, not merely that the port is open.
        connection.cluster_info().await?;
        let target =
            Target::Embedded { bootstrap: broker.bootstrap().to_string(), storage: broker.storage().describe() };
        let mut session = Session::assemble(connection, target, reporter, options)?;
        session.embedded = Some(broker);
        Ok(session)
    }

    fn assemble(connection: Connection, target: Target, reporter: Arc<dyn Reporter>, options: &ConnectOptions) -> Result<Session> {
        let (sender, receiver) = std::sync::mpsc::channel();
        let namespace = options.learner.as_deref().map(Namespace::new).transpose()?;
        Ok(Session {
            connection,
            target,
            #[cfg(feature = "embedded-broker")]
            embedded: None,
            #[cfg(feature = "embedded-broker")]
            stopped_broker: None,
            reporter,
            verbose: options.verbose,
            security: options.security.clone(),
            settings: options.properties.clone(),
            consumers: BTreeMap::new(),
            producers: BTreeMap::new(),
            shop: crate::actors::shop::Shop::new(Events::new(sender.clone())),
            tills: BTreeMap::new(),
            jobs: BTreeMap::new(),
            analysts: BTreeMap::new(),
            events: Events::new(sender),
            event_receiver: Some(receiver),
            library: Library::choose(options.lessons.clone()),
            namespace,
            tutor: None,
            recording: None,
        })
    }

    /// The live actors' events, for the front end to print, with the learner's short names.
    /// Given out once.
    pub fn take_events(&mut self) -> Option<Receiver<Event>> {
        let receiver = self.event_receiver.take()?;
        let Some(namespace) = self.namespace.clone() else { return Some(receiver) };
        let (sender, shortened) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for event in receiver {
                if sender.send(namespace.shorten_event(event)).is_err() {
                    break;
                }
            }
        });
        Some(shortened)
    }

    /// Names worth completing after a command: topics, groups, consumers, producers, lessons.
    pub fn completion_words(&self) -> Vec<String> {
        let mut words: Vec<String> = self
            .connection
            .seen_names()
            .into_iter()
            .filter(|n| self.visible(n))
            .map(|n| self.namespace.as_ref().map_or_else(|| n.clone(), |ns| ns.shorten(&n)))
            .collect();
        words.extend(self.consumers.keys().cloned());
        words.extend(self.producers.keys().cloned());
        words.sort();
        words.dedup();
        words
    }

    /// Whether a cluster-wide topic or group name is this learner's to see.
    fn visible(&self, name: &str) -> bool {
        self.namespace.as_ref().is_none_or(|ns| ns.owns(name))
    }

    #[cfg(not(feature = "embedded-broker"))]
    async fn start_embedded(_options: &ConnectOptions, _reporter: Arc<dyn Reporter>) -> Result<Session> {
        Err(Error::input(
            "this build has no embedded broker; connect to a cluster with --bootstrap-servers HOST:PORT",
        ))
    }

    /// Run the shop's clock this many times faster than the talk's (replays at `--speed max`).
    pub fn set_shop_speedup(&mut self, speedup: f64) {
        self.shop.pace = crate::shop::Pace { speedup };
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// Stop everything the session started, the embedded broker last.
    pub async fn shutdown(mut self) {
        self.stop_all_actors().await;
        #[cfg(feature = "embedded-broker")]
        if let Some(broker) = self.embedded {
            broker.stop().await;
        }
    }

    /// The one execution path: a line of text in, data out.
    pub async fn run_line(&mut self, line: &str) -> Result<Outcome> {
        let command = match command::parse(line)? {
            Parsed::Empty => return Ok(Outcome::Nothing),
            Parsed::Help(text) => return Ok(Outcome::Text(text)),
            Parsed::Command(command) => command,
        };
        let learner_action = !command.is_about_the_tool();
        let rebalances = command.changes_group_membership();
        let mut command = command;
        if let Some(namespace) = &self.namespace {
            namespace.qualify_command(&mut command);
        }
        let outcome = match (self.execute(command).await, &self.namespace) {
            (Ok(outcome), Some(ns)) => ns.shorten_outcome(outcome),
            (Err(err), Some(ns)) => return Err(ns.shorten_error(err)),
            (result, None) => result?,
        };
        if !learner_action || outcome.failure().is_some() {
            return Ok(outcome);
        }
        if let Some(recording) = self.recording.as_mut() {
            recording.lines.push(crate::security::redact_line(line.trim()));
        }
        // On a lesson's pause, every command the learner types may be the one that does it.
        let mut parts = vec![outcome];
        parts.extend(self.after_command(rebalances).await);
        Ok(if parts.len() == 1 { parts.remove(0) } else { Outcome::Many(parts) })
    }

    fn set_learner(&mut self, name: &str) -> Result<Outcome> {
        let namespace = Namespace::new(name)?;
        let said = format!(
            "you are learner '{name}': your topics and groups are {name}.NAME on the cluster, shown with their short names"
        );
        self.namespace = Some(namespace);
        Ok(Outcome::Done(said))
    }

    fn record(&mut self, file: &str) -> Result<Outcome> {
        if file == "stop" {
            let recording = self.recording.take().ok_or_else(|| Error::input("not recording; start with: record FILE.md"))?;
            let count = recording.lines.len();
            std::fs::write(&recording.path, recorded_lesson(&recording.lines))
                .map_err(|e| Error::Io(format!("cannot write {}: {e}", recording.path.display())))?;
            return Ok(Outcome::Done(format!(
                "wrote {count} command(s) to {}; replay it with: kafka-workshop replay {}",
                recording.path.display(),
                recording.path.display()
            )));
        }
        if self.recording.is_some() {
            return Err(Error::input("already recording; finish with: record stop"));
        }
        let path = PathBuf::from(file);
        std::fs::write(&path, "").map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))?;
        self.recording = Some(Recording { path, lines: Vec::new() });
        Ok(Outcome::Done(format!("recording the commands you type into {file}; `record stop` writes it")))
    }

    pub async fn execute(&mut self, command: Command) -> Result<Outcome> {
        match command {
            Command::Cluster => self.cluster().await,
            Command::Connect(args) => self.connect_to(args).await,
            Command::Broker(args) => self.broker(args.action).await,
            Command::Topics(args) => self.topics(args).await,
            Command::CreateTopic(args) => self.create_topic(args).await,
            Command::DescribeTopic(args) => self.describe_topic(&args.topic).await,
            Command::DeleteTopic(args) => self.delete_topic(&args.topic).await,
            Command::Produce(args) => self.produce(args).await,
            Command::Read(args) => self.read(args).await,
            Command::PartitionFor(args) => self.partition_for(args).await,
            Command::StartConsumer(args) => self.start_consumer(args).await,
            Command::Poll(args) => self.poll(args).await,
            Command::Commit(args) => self.commit(&args.name).await,
            Command::SeekToEnd(args) => self.seek_edge(&args.name, args.partition, SeekTo::End).await,
            Command::SeekToBeginning(args) => self.seek_edge(&args.name, args.partition, SeekTo::Beginning).await,
            Command::Seek(args) => self.seek(args).await,
            Command::StopConsumer(args) => self.stop_consumer(&args.name).await,
            Command::KillConsumer(args) => self.kill_consumer(&args.name).await,
            Command::RestartConsumer(args) => self.restart_consumer(&args.name).await,
            Command::Consumers => self.consumers_table().await,
            Command::StartProducer(args) => self.start_producer(args).await,
            Command::StopProducer(args) => self.stop_producer(&args.name).await,
            Command::Producers => Ok(self.producers_table()),
            Command::StartTill(args) => self.start_till(args).await,
            Command::StopTill(args) => self.stop_till(&args.tills).await,
            Command::StartPreparer(args) => self.start_preparer(args).await,
            Command::StartCook(args) => self.start_cook(args).await,
            Command::StartAnalyst(args) => self.start_analyst(args).await,
            Command::Query(args) => self.query(args).await,
            Command::Shop => Ok(self.shop_board()),
            Command::Groups => self.groups().await,
            Command::DescribeGroup(args) => self.describe_group(&args.group).await,
            Command::Offsets(args) => self.offsets(&args.topic).await,
            Command::ResetOffsets(args) => self.reset_offsets(args).await,
            Command::DeleteGroup(args) => self.delete_group(&args.group).await,
            Command::Expect(args) => self.expect(&args.condition, args.within).await,
            Command::Sleep(args) => {
                tokio::time::sleep(args.duration).await;
                Ok(Outcome::Nothing)
            }
            Command::Lessons => self.lessons_table(),
            Command::Lesson(args) => self.open_lesson(&args.lesson),
            Command::Next => self.next_step().await,
            Command::Back => self.previous_step(),
            Command::Hint => self.hint(),
            Command::Solution => self.solution(),
            Command::Check => self.check_now().await,
            Command::Skip => self.skip(),
            Command::RestartLesson => self.restart_lesson(),
            Command::Where => self.where_am_i(),
            Command::Record(args) => self.record(&args.file),
            Command::Learner(args) => self.set_learner(&args.name),
            Command::Help(args) => help(args.command.as_deref()),
            Command::Quit => Ok(Outcome::Quit),
        }
    }

    async fn cluster(&self) -> Result<Outcome> {
        let info = self.connection.cluster_info().await?;
        let mut brokers = Table::new(["BROKER", "HOST:PORT", "ROLE"]);
        for broker in &info.brokers {
            let role = if info.controller == Some(broker.id) { "controller" } else { "" };
            brokers.push([broker.id.to_string(), format!("{}:{}", broker.host, broker.port), role.to_string()]);
        }
        let id = info.cluster_id.clone().unwrap_or_else(|| "(not reported)".into());
        let controller = info.controller.map_or_else(|| "(not reported)".to_string(), |c| c.to_string());
        let what = match &self.target {
            Target::Embedded { storage, .. } => format!("the embedded broker (tansu 0.6.0, {storage} storage)"),
            Target::External { bootstrap } => format!("an external cluster via {bootstrap}"),
        };
        let mut parts = vec![
            Outcome::Note(format!("cluster id {id} · controller {controller} · connected to {what}")),
            Outcome::Table(brokers.titled("brokers")),
        ];
        parts.extend(self.security_report());
        Ok(Outcome::Many(parts))
    }

    async fn topics(&self, args: TopicsArgs) -> Result<Outcome> {
        let info = self.connection.cluster_info().await?;
        let topics: Vec<&TopicInfo> = info
            .topics
            .iter()
            .filter(|t| (args.all || !t.name.starts_with("__")) && self.visible(&t.name))
            .collect();
        if topics.is_empty() {
            return Ok(Outcome::Note("no topics yet; create one with: create-topic NAME --partitions 3".into()));
        }
        let wanted = topics.iter().flat_map(|t| t.partitions.iter().map(|p| (t.name.clone(), p.id))).collect();
        let marks = self.connection.watermarks(wanted).await?;
        let mut table = Table::new(["NAME", "PARTITIONS", "REPLICATION", "MESSAGES"]);
        for topic in topics {
            let messages: i64 = topic
                .partitions
                .iter()
                .filter_map(|p| marks.get(&(topic.name.clone(), p.id)))
                .map(Watermarks::messages)
                .sum();
            let replication = topic.partitions.iter().map(|p| p.replicas.len()).max().unwrap_or(0);
            table.push([
                topic.name.clone(),
                topic.partitions.len().to_string(),
                replication.to_string(),
                messages.to_string(),
            ]);
        }
        Ok(Outcome::Table(table))
    }

    async fn create_topic(&self, args: CreateTopicArgs) -> Result<Outcome> {
        validate_topic_name(&args.topic)?;
        // Kafka refuses more replicas than brokers; tansu 0.6.0 accepts them and reports the one
        // broker three times over, which would teach something false. Refuse here instead.
        let brokers = self.connection.cluster_info().await?.brokers.len();
        if usize::try_from(args.replication_factor).unwrap_or(usize::MAX) > brokers {
            let what = match self.target {
                Target::Embedded { .. } => "the embedded broker is a single broker; to see replication, run kafka-workshop with --bootstrap-servers against a cluster of 3 Apache Kafka brokers".to_string(),
                Target::External { .. } => format!("this cluster has {brokers} broker(s)"),
            };
            return Err(Error::input(format!(
                "replication factor {} needs at least {} brokers: {what}",
                args.replication_factor, args.replication_factor
            )));
        }
        let mut new_topic =
            NewTopic::new(&args.topic, args.partitions, TopicReplication::Fixed(args.replication_factor));
        for (key, value) in &args.configs {
            new_topic = new_topic.set(key, value);
        }
        let results = self
            .connection
            .admin()
            .create_topics([&new_topic], &Connection::admin_options())
            .await
            .map_err(|e| self.connection.error("creating the topic", &e))?;
        for result in results {
            match result {
                Ok(_) => {}
                Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {
                    let existing = self.connection.topic(&args.topic).await.ok();
                    let detail = existing
                        .map(|t| format!(" with {} partition(s)", t.partitions.len()))
                        .unwrap_or_default();
                    return Ok(Outcome::Warning(format!(
                        "topic '{}' already exists{detail}; nothing changed",
                        args.topic
                    )));
                }
                Err((_, code)) => {
                    return Err(Error::kafka(format!("cannot create topic '{}': {code}", args.topic)));
                }
            }
        }
        self.wait_for_topic(&args.topic, true).await?;
        let configs = if args.configs.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = args.configs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!(", {}", list.join(", "))
        };
        Ok(Outcome::Done(format!(
            "created topic '{}' with {} partition(s), replication factor {}{configs}",
            args.topic, args.partitions, args.replication_factor
        )))
    }

    /// Metadata can lag an admin call by a moment; wait (bounded) until it agrees.
    async fn wait_for_topic(&self, topic: &str, present: bool) -> Result<()> {
        let deadline = Instant::now() + CLUSTER_TIMEOUT;
        loop {
            let info = self.connection.cluster_info().await?;
            if info.topic(topic).is_some() == present {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let state = if present { "appear" } else { "disappear" };
                return Err(Error::kafka(format!("the broker accepted the change but '{topic}' did not {state} in its metadata")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn describe_topic(&self, name: &str) -> Result<Outcome> {
        let topic = self.connection.topic(name).await?;
        let marks = self.connection.topic_watermarks(&topic).await?;
        let mut table = Table::new(["PARTITION", "LEADER", "REPLICAS", "ISR", "START-OFFSET", "END-OFFSET", "MESSAGES"]);
        for partition in &topic.partitions {
            let mark = marks.iter().find(|(p, _)| *p == partition.id).map(|(_, m)| *m);
            table.push([
                partition.id.to_string(),
                partition.leader.to_string(),
                join_ids(&partition.replicas),
                join_ids(&partition.isr),
                mark.map_or_else(|| "?".into(), |m| m.low.to_string()),
                mark.map_or_else(|| "?".into(), |m| m.high.to_string()),
                mark.map_or_else(|| "?".into(), |m| m.messages().to_string()),
            ]);
        }
        let mut parts = vec![Outcome::Table(table.titled(format!("topic {name}")))];
        parts.push(self.topic_configs(name).await);
        Ok(Outcome::Many(parts))
    }

    /// How many messages a reader finds in one partition right now.
    pub(crate) async fn messages_in(&self, topic: &str, partition: i32) -> Result<u64> {
        let info = self.connection.topic(topic).await?;
        check_partition(&info, Some(partition))?;
        let marks = self.connection.watermarks(vec![(topic.to_string(), partition)]).await?;
        let Some(mark) = marks.get(&(topic.to_string(), partition)).copied() else { return Ok(0) };
        if mark.high <= mark.low {
            return Ok(0);
        }
        let plan = vec![ReadPlan { partition, start: mark.low, end: mark.high }];
        let read = self.read_records(topic, plan, u64::try_from(mark.high - mark.low).unwrap_or(u64::MAX)).await?;
        Ok(read.records.len() as u64)
    }

    /// One config of a topic as the broker reports it.
    pub(crate) async fn topic_config(&self, topic: &str, key: &str) -> Result<Option<String>> {
        self.connection.topic(topic).await?;
        let entries = self.connection.topic_configs(topic).await?;
        Ok(entries.into_iter().find(|entry| entry.name == key).and_then(|entry| entry.value))
    }

    /// The topic's configs as the broker reports them: anything set on the topic, plus the two
    /// that every lesson talks about.
    async fn topic_configs(&self, name: &str) -> Outcome {
        let entries = match self.connection.topic_configs(name).await {
            Ok(entries) => entries,
            Err(err) => return Outcome::Note(format!("the broker did not report configs: {err}")),
        };
        let mut table = Table::new(["CONFIG", "VALUE"]);
        for entry in entries {
            let interesting = !entry.is_default || matches!(entry.name.as_str(), "cleanup.policy" | "retention.ms");
            if interesting {
                let value = if entry.is_sensitive { "(hidden)".to_string() } else { entry.value.unwrap_or_default() };
                table.push([entry.name, value]);
            }
        }
        if table.rows.is_empty() {
            Outcome::Note("configs: the broker reports none set on this topic (broker defaults apply)".into())
        } else {
            table.rows.sort();
            Outcome::Table(table.titled("configs"))
        }
    }

    async fn delete_topic(&self, name: &str) -> Result<Outcome> {
        self.connection.topic(name).await?;
        let results = self
            .connection
            .admin()
            .delete_topics(&[name], &Connection::admin_options())
            .await
            .map_err(|e| self.connection.error("deleting the topic", &e))?;
        for result in results {
            if let Err((_, code)) = result {
                return Err(Error::kafka(format!("cannot delete topic '{name}': {code}")));
            }
        }
        self.wait_for_topic(name, false).await?;
        Ok(Outcome::Done(format!("deleted topic '{name}'")))
    }

    async fn produce(&self, args: ProduceArgs) -> Result<Outcome> {
        if args.idempotent && args.acks != Acks::All {
            return Err(Error::input("--idempotent needs --acks all: the producer must know every write landed"));
        }
        let topic = self.connection.topic(&args.topic).await?;
        check_partition(&topic, args.partition)?;
        if let Some(id) = args.transactional_id.clone() {
            return self.produce_in_transaction(&id, &args).await;
        }
        let producer = self.connection.producer(ProducerSettings { acks: args.acks, idempotent: args.idempotent })?;
        // Connect and learn the topic's leaders before the clock starts, so the rate shown is
        // the sending, not a new producer's first connection.
        let warm = producer.clone();
        let topic_name = args.topic.clone();
        let _ = tokio::task::spawn_blocking(move || {
            use rdkafka::producer::Producer;
            warm.client().fetch_metadata(Some(&topic_name), CLUSTER_TIMEOUT)
        })
        .await;
        let (tally, elapsed) = self.deliver(&producer, &args).await?;
        Ok(tally.outcome(&args.topic, args.count <= PRODUCE_TABLE_LIMIT, elapsed))
    }

    /// Send every message of a `produce` and await each delivery, with a progress bar for many.
    async fn deliver(&self, producer: &rdkafka::producer::FutureProducer<Context>, args: &ProduceArgs) -> Result<(DeliveryTally, Duration)> {
        let values = if args.raw { Template::new_raw(args.value.as_deref()) } else { Template::new(args.value.as_deref())? };
        let keys = Template::new_raw(args.key.as_deref());
        let mut headers = OwnedHeaders::new_with_capacity(args.headers.len());
        for (key, value) in &args.headers {
            headers = headers.insert(Header { key, value: Some(value) });
        }

        let progress = (args.count > PRODUCE_TABLE_LIMIT).then(|| self.reporter.progress(args.count, "producing"));
        let keep_rows = args.count <= PRODUCE_TABLE_LIMIT;
        let started = Instant::now();
        let mut tally = DeliveryTally::default();
        let mut pending: std::collections::VecDeque<(u64, Option<String>, DeliveryFuture)> =
            std::collections::VecDeque::new();

        for n in 1..=args.count {
            let value = values.render(n)?;
            let key = keys.render(n)?;
            let mut record = FutureRecord::<str, str>::to(&args.topic);
            // An empty header list still costs a C allocation and copy per message.
            if !args.headers.is_empty() {
                record = record.headers(headers.clone());
            }
            if let Some(value) = value.as_deref() {
                record = record.payload(value);
            }
            if let Some(key) = key.as_deref() {
                record = record.key(key);
            }
            if let Some(partition) = args.partition {
                record = record.partition(partition);
            }
            if n % 1024 == 0 {
                // Let Ctrl-C in, and count what has already been delivered so the bar moves.
                tokio::task::yield_now().await;
                while let Some(result) = pending.front_mut().and_then(|(_, _, delivery)| delivery.now_or_never()) {
                    if let Some((n, key, _)) = pending.pop_front() {
                        tally.record(n, key, result, &progress);
                    }
                }
            }
            loop {
                match producer.send_result(record) {
                    Ok(delivery) => {
                        pending.push_back((n, key.as_deref().filter(|_| keep_rows).map(str::to_string), delivery));
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                        // The local queue is full: wait for the oldest delivery, then try again.
                        record = returned;
                        match pending.pop_front() {
                            Some((n, key, delivery)) => {
                                tally.record(n, key, delivery.await, &progress);
                            }
                            None => tokio::time::sleep(Duration::from_millis(1)).await,
                        }
                    }
                    Err((err, _)) => {
                        tally.fail(n, key.as_deref().map(str::to_string), crate::kafka::describe_kafka_error(&err), &progress);
                        break;
                    }
                }
            }
        }
        while let Some((n, key, delivery)) = pending.pop_front() {
            tally.record(n, key, delivery.await, &progress);
        }
        if let Some(progress) = &progress {
            progress.finish();
        }
        Ok((tally, started.elapsed()))
    }

    /// `produce --transactional-id`: every message in one transaction, committed at the end.
    async fn produce_in_transaction(&self, id: &str, args: &ProduceArgs) -> Result<Outcome> {
        use rdkafka::producer::Producer;
        if args.acks != Acks::All {
            return Err(Error::input("a transaction needs --acks all"));
        }
        let producer = self.connection.transactional_producer(id)?;
        let explain = |step: &str, err: KafkaError| self.transaction_error(step, &err);
        let setup = producer.clone();
        tokio::task::spawn_blocking(move || setup.init_transactions(CLUSTER_TIMEOUT))
            .await
            .map_err(|e| Error::kafka(format!("the transaction setup stopped: {e}")))?
            .map_err(|e| explain("start", e))?;
        producer.begin_transaction().map_err(|e| explain("begin", e))?;
        let (tally, elapsed) = self.deliver(&producer, args).await?;
        let outcome = tally.outcome(&args.topic, args.count <= PRODUCE_TABLE_LIMIT, elapsed);
        let finish = producer.clone();
        let failed = outcome.failure().is_some();
        let ended = tokio::task::spawn_blocking(move || {
            if failed {
                finish.abort_transaction(CLUSTER_TIMEOUT)
            } else {
                finish.commit_transaction(CLUSTER_TIMEOUT)
            }
        })
        .await
        .map_err(|e| Error::kafka(format!("the transaction stopped: {e}")))?;
        match (ended, failed) {
            (Ok(()), false) => Ok(Outcome::Many(vec![
                outcome,
                Outcome::Done(format!(
                    "committed transaction '{id}': consumers reading with isolation.level=read_committed now see these {} message(s)",
                    args.count
                )),
            ])),
            (Ok(()), true) => Ok(Outcome::Many(vec![outcome, Outcome::Warning(format!("aborted transaction '{id}': none of its messages count"))])),
            (Err(err), _) => {
                let abort = producer.clone();
                let _ = tokio::task::spawn_blocking(move || abort.abort_transaction(CLUSTER_TIMEOUT)).await;
                Err(explain("commit", err))
            }
        }
    }

    /// A transaction that could not go on, said plainly, with what to do on the embedded broker.
    fn transaction_error(&self, step: &str, err: &KafkaError) -> Error {
        let detail = err.to_string();
        match self.target {
            Target::Embedded { .. } => Error::Kafka(format!(
                "transactions need Apache Kafka: the embedded tansu 0.6.0 broker cannot commit a transaction \
                 (it has no EndTxn; the {step} step failed: {detail}). Run kafka-workshop with \
                 --bootstrap-servers HOST:PORT against an Apache Kafka cluster to try this"
            )),
            Target::External { .. } => Error::kafka(format!("the transaction could not {step}: {detail}")),
        }
    }

    async fn read(&self, args: ReadArgs) -> Result<Outcome> {
        let topic = self.connection.topic(&args.topic).await?;
        check_partition(&topic, args.partition)?;
        let marks = self.connection.topic_watermarks(&topic).await?;
        let mut plan = Vec::new();
        let mut notes = Vec::new();
        for (partition, mark) in marks {
            if args.partition.is_some_and(|p| p != partition) {
                continue;
            }
            let start = match args.from {
                ReadFrom::Beginning => mark.low,
                ReadFrom::End => mark.high,
                ReadFrom::Tail(n) => (mark.high - n).max(mark.low),
                ReadFrom::Offset(offset) if offset > mark.high => {
                    notes.push(format!("partition {partition} ends at offset {}; offset {offset} is past the end", mark.high));
                    mark.high
                }
                ReadFrom::Offset(offset) if offset < mark.low => {
                    notes.push(format!(
                        "partition {partition} starts at offset {} (older messages are gone); reading from there",
                        mark.low
                    ));
                    mark.low
                }
                ReadFrom::Offset(offset) => offset,
            };
            if start < mark.high {
                plan.push(ReadPlan { partition, start, end: mark.high });
            }
        }
        let past_the_end = notes.iter().filter(|n| n.ends_with("is past the end")).count();
        if plan.is_empty() && past_the_end > 0 && past_the_end == notes.len() {
            return Err(Error::input(notes.join("; ")));
        }
        if plan.is_empty() {
            let mut parts: Vec<Outcome> = notes.into_iter().map(Outcome::Note).collect();
            let which = args.partition.map_or_else(|| "any partition".to_string(), |p| format!("partition {p}"));
            parts.push(Outcome::Note(format!(
                "nothing to read: no messages in {which} of '{}' from {}",
                args.topic,
                describe_from(args.from)
            )));
            return Ok(Outcome::Many(parts));
        }
        let max = args.max;
        let read = self.read_records(&args.topic, plan, max).await?;

        let mut table = Table::new(["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"]);
        for record in &read.records {
            table.push([
                record.partition.to_string(),
                record.offset.to_string(),
                record.timestamp.clone(),
                show_optional(&record.key),
                show_optional(&record.value),
                record.headers.clone(),
            ]);
        }
        let mut parts: Vec<Outcome> = notes.into_iter().map(Outcome::Note).collect();
        parts.push(Outcome::Table(table));
        if read.more {
            parts.push(Outcome::Note(format!("showing the first {max}; more remain (use --max to see more)")));
        }
        if read.timed_out {
            parts.push(Outcome::Warning(
                "stopped waiting: the broker sent nothing for 5 s before the end of the data".into(),
            ));
        }
        Ok(Outcome::Many(parts))
    }

    /// Read each planned range of `topic` without a group, on a blocking thread.
    async fn read_records(&self, topic: &str, plan: Vec<ReadPlan>, max: u64) -> Result<ReadResult> {
        let config = self.connection.base_config();
        let context = self.connection.context();
        let topic = topic.to_string();
        tokio::task::spawn_blocking(move || read_plan(config, context, &topic, plan, max))
            .await
            .map_err(|e| Error::kafka(format!("the read stopped: {e}")))?
            .map_err(|e| self.connection.error("reading", &e))
    }

    async fn partition_for(&self, args: PartitionForArgs) -> Result<Outcome> {
        let (partitions, source) = match (&args.partitions, &args.topic) {
            (Some(n), _) => (*n, format!("{n} partitions")),
            (None, Some(topic)) => {
                let info = self.connection.topic(topic).await?;
                let count = i32::try_from(info.partitions.len()).unwrap_or(i32::MAX);
                (count, format!("topic '{topic}' has {count} partitions"))
            }
            (None, None) => return Err(Error::input("give --partitions N or --topic T")),
        };
        if partitions < 1 {
            return Err(Error::input("a topic has at least one partition"));
        }
        let choice = murmur2::partition_for(args.key.as_bytes(), partitions);
        let mut table = Table::new(["KEY", "MURMUR2", "POSITIVE", "PARTITIONS", "PARTITION"]);
        table.push([
            args.key.clone(),
            choice.hash.to_string(),
            choice.positive.to_string(),
            choice.partitions.to_string(),
            choice.partition.to_string(),
        ]);
        Ok(Outcome::Many(vec![
            Outcome::Table(table),
            Outcome::Note(format!(
                "murmur2(\"{}\") = {} → & 0x7fffffff = {} → {} % {} = {} ({source})",
                args.key, choice.hash, choice.positive, choice.positive, partitions, choice.partition
            )),
        ]))
    }
}

/// A recording as a lesson file: front matter, and the commands in one `kafka` block.
fn recorded_lesson(lines: &[String]) -> String {
    let when = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    format!(
        "---\ntitle: Recorded session\nminutes: 5\n---\n\n# Recorded session\n\nRecorded with kafka-workshop at {when}.\n\n```kafka\n{}\n```\n",
        lines.join("\n")
    )
}

fn help(command: Option<&str>) -> Result<Outcome> {
    match command {
        None => {
            let mut table = Table::new(["COMMAND", "WHAT IT DOES"]);
            for (name, about) in command::command_list() {
                table.push([name, about]);
            }
            Ok(Outcome::Many(vec![
                Outcome::Table(table),
                Outcome::Note("`help COMMAND` or `COMMAND --help` shows a command's flags".into()),
            ]))
        }
        Some(name) => command::command_help(name).map(Outcome::Text).ok_or_else(|| {
            let hint = command::suggest(name).map(|s| format!("did you mean `{s}`?"));
            Error::Usage { message: format!("no command named '{name}'"), hint }
        }),
    }
}

/// Kafka's rule: 1–249 characters from letters, digits, '.', '_' and '-', and not "." or "..".
pub fn validate_topic_name(name: &str) -> Result<()> {
    let legal = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if name.is_empty() || name.len() > 249 || !legal || name == "." || name == ".." {
        return Err(Error::input(format!(
            "'{name}' is not a valid topic name: use 1–249 letters, digits, '.', '_' or '-'"
        )));
    }
    Ok(())
}

fn check_partition(topic: &TopicInfo, partition: Option<i32>) -> Result<()> {
    if let Some(p) = partition {
        let count = topic.partitions.len();
        if usize::try_from(p).map_or(true, |p| p >= count) {
            return Err(Error::input(format!(
                "topic '{}' has {count} partition(s), numbered 0 to {}; there is no partition {p}",
                topic.name,
                count.saturating_sub(1)
            )));
        }
    }
    Ok(())
}

/// A key or value as a table shows it: `(null)` when there is none.
pub fn show_optional(text: &Option<String>) -> String {
    text.clone().unwrap_or_else(|| "(null)".into())
}

fn join_ids(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

fn describe_from(from: ReadFrom) -> String {
    match from {
        ReadFrom::Beginning => "the beginning".into(),
        ReadFrom::End => "the end (try --from beginning)".into(),
        ReadFrom::Offset(offset) => format!("offset {offset}"),
        ReadFrom::Tail(n) => format!("the last {n}"),
    }
}

/// A value or key with `{n}` in it. A value that parses as JSON is sent compact.
struct Template {
    text: Option<String>,
    numbered: bool,
    json: bool,
}

impl Template {
    fn new(text: Option<&str>) -> Result<Self> {
        // A value that starts like JSON is meant to be JSON: a typo must not go out as text.
        if let Some(text) = text.map(str::trim).filter(|t| t.starts_with('{') || t.starts_with('[')) {
            let sample = text.replace("{n}", "1");
            if let Err(err) = serde_json::from_str::<serde_json::Value>(&sample) {
                return Err(Error::input(format!(
                    "the value starts like JSON but is not JSON ({err}); fix it, or add --raw to send it as typed"
                )));
            }
        }
        let mut template = Self::new_raw(text);
        template.json = true;
        if let (Some(text), false) = (&template.text, template.numbered) {
            // Compact it once; no per-message work for a fixed value.
            template.text = Some(compact_json(text));
            template.json = false;
        }
        Ok(template)
    }

    fn new_raw(text: Option<&str>) -> Self {
        Template { numbered: text.is_some_and(|t| t.contains("{n}")), text: text.map(str::to_string), json: false }
    }

    /// The text for message `n`, borrowed when it is the same for every message.
    fn render(&self, n: u64) -> Result<Option<std::borrow::Cow<'_, str>>> {
        Ok(self.text.as_ref().map(|text| {
            if !self.numbered {
                return std::borrow::Cow::Borrowed(text.as_str());
            }
            let filled = text.replace("{n}", &n.to_string());
            std::borrow::Cow::Owned(if self.json { compact_json(&filled) } else { filled })
        }))
    }
}

/// JSON is re-serialised without spaces, keeping key order; anything else is sent as typed.
pub fn compact_json(text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => serde_json::to_string(&value).unwrap_or_else(|_| text.to_string()),
        Err(_) => text.to_string(),
    }
}

type DeliveryResult = std::result::Result<rdkafka::producer::future_producer::OwnedDeliveryResult, futures::channel::oneshot::Canceled>;

#[derive(Default)]
struct DeliveryTally {
    rows: Vec<(u64, Option<String>, i32, i64, String)>,
    partitions: BTreeMap<i32, (u64, i64, i64)>,
    failures: Vec<(u64, Option<String>, String)>,
    delivered: u64,
}

impl DeliveryTally {
    fn record(&mut self, n: u64, key: Option<String>, result: DeliveryResult, progress: &Option<Box<dyn Progress>>) {
        match result {
            Ok(Ok(delivery)) => {
                self.delivered += 1;
                let entry = self.partitions.entry(delivery.partition).or_insert((0, delivery.offset, delivery.offset));
                entry.0 += 1;
                entry.1 = entry.1.min(delivery.offset);
                entry.2 = entry.2.max(delivery.offset);
                self.rows.push((n, key, delivery.partition, delivery.offset, format_timestamp(delivery.timestamp)));
            }
            Ok(Err((err, _message))) => self.failures.push((n, key, crate::kafka::describe_kafka_error(&err))),
            Err(_) => self.failures.push((n, key, "the producer went away before the broker answered".into())),
        }
        if let Some(progress) = progress {
            progress.advance(1);
        }
    }

    fn fail(&mut self, n: u64, key: Option<String>, reason: String, progress: &Option<Box<dyn Progress>>) {
        self.failures.push((n, key, reason));
        if let Some(progress) = progress {
            progress.advance(1);
        }
    }

    fn outcome(mut self, topic: &str, keep_rows: bool, elapsed: Duration) -> Outcome {
        let mut parts = Vec::new();
        if keep_rows {
            if !self.rows.is_empty() {
                let mut table = Table::new(["PARTITION", "OFFSET", "KEY", "TIMESTAMP"]);
                self.rows.sort_by_key(|row| row.0);
                for (_, key, partition, offset, timestamp) in self.rows {
                    // With acks=0 the broker never answers, so the producer cannot know the offset.
                    let offset = if offset < 0 { "unknown".to_string() } else { offset.to_string() };
                    table.push([partition.to_string(), offset, key.unwrap_or_else(|| "(null)".into()), timestamp]);
                }
                parts.push(Outcome::Table(table));
            }
        } else {
            let seconds = elapsed.as_secs_f64().max(1e-6);
            #[allow(clippy::cast_precision_loss)]
            let rate = self.delivered as f64 / seconds;
            parts.push(Outcome::Done(format!(
                "sent {} message(s) to '{topic}' in {seconds:.2} s ({} msg/s)",
                self.delivered,
                group_digits(rate.round() as u64)
            )));
            let mut table = Table::new(["PARTITION", "MESSAGES", "FIRST-OFFSET", "LAST-OFFSET"]);
            for (partition, (count, first, last)) in &self.partitions {
                table.push([partition.to_string(), count.to_string(), first.to_string(), last.to_string()]);
            }
            parts.push(Outcome::Table(table));
        }
        if !self.failures.is_empty() {
            let mut table = Table::new(["MESSAGE", "KEY", "ERROR"]);
            self.failures.sort_by_key(|f| f.0);
            for (n, key, reason) in self.failures.iter().take(20) {
                table.push([format!("#{n}"), key.clone().unwrap_or_else(|| "(null)".into()), reason.clone()]);
            }
            parts.push(Outcome::Table(table.titled("not delivered")));
            let first = &self.failures[0].2;
            parts.push(Outcome::Failure(Error::kafka(format!(
                "{} message(s) were not delivered: {first}",
                self.failures.len()
            ))));
        }
        Outcome::Many(parts)
    }
}

fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn format_timestamp(timestamp: Timestamp) -> String {
    match timestamp.to_millis() {
        Some(ms) if ms >= 0 => {
            let time = UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs());
            humantime::format_rfc3339_millis(time).to_string()
        }
        _ => "-".into(),
    }
}

struct ReadPlan {
    partition: i32,
    start: i64,
    end: i64,
}

struct ReadResult {
    records: Vec<Record>,
    more: bool,
    timed_out: bool,
}

/// A group-less read of each planned partition from `start` up to the `end` seen when the read began.
fn read_plan(
    mut config: ClientConfig,
    context: Context,
    topic: &str,
    plan: Vec<ReadPlan>,
    max: u64,
) -> std::result::Result<ReadResult, KafkaError> {
    config.set("enable.auto.commit", "false");
    config.set("enable.partition.eof", "true");
    config.set("fetch.wait.max.ms", "100");
    // librdkafka wants a group id even for assign(); nothing is ever joined or committed.
    config.set("group.id", "kafka-workshop-read");
    let consumer: BaseConsumer<Context> = config.create_with_context(context)?;
    let mut assignment = TopicPartitionList::new();
    let mut open: BTreeMap<i32, i64> = BTreeMap::new();
    for step in &plan {
        assignment.add_partition_offset(topic, step.partition, Offset::Offset(step.start))?;
        open.insert(step.partition, step.end);
    }
    consumer.assign(&assignment)?;
    let remaining: u64 = plan.iter().map(|p| u64::try_from(p.end - p.start).unwrap_or(0)).sum();
    let mut records = Vec::new();
    let mut last_progress = Instant::now();
    let mut timed_out = false;
    while !open.is_empty() && (records.len() as u64) < max {
        if last_progress.elapsed() > Duration::from_secs(5) {
            timed_out = true;
            break;
        }
        match consumer.poll(Duration::from_millis(200)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                open.remove(&partition);
            }
            Some(Err(err)) => return Err(err),
            Some(Ok(message)) => {
                last_progress = Instant::now();
                let partition = message.partition();
                let Some(&end) = open.get(&partition) else { continue };
                if message.offset() >= end {
                    open.remove(&partition);
                    continue;
                }
                records.push(crate::actors::consumer::to_record(&message));
                if message.offset() + 1 >= end {
                    open.remove(&partition);
                }
            }
        }
    }
    records.sort_by_key(|r| (r.partition, r.offset));
    let more = (records.len() as u64) < remaining && !open.is_empty() && !timed_out;
    Ok(ReadResult { records, more, timed_out })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_compacted_in_order() {
        assert_eq!(compact_json(r#"{"order": 271, "till": 3, "a": [1, 2]}"#), r#"{"order":271,"till":3,"a":[1,2]}"#);
        assert_eq!(compact_json("hello world"), "hello world");
        assert_eq!(compact_json(r#"{"broken": "#), r#"{"broken": "#);
    }

    #[test]
    fn numbered_templates_fill_n_then_compact() {
        let template = Template::new(Some(r#"{"order": {n}}"#)).unwrap();
        assert_eq!(template.render(7).unwrap().as_deref(), Some(r#"{"order":7}"#));
        let key = Template::new_raw(Some("till-{n}"));
        assert_eq!(key.render(3).unwrap().as_deref(), Some("till-3"));
    }

    #[test]
    fn topic_names_follow_kafka_rules() {
        assert!(validate_topic_name("orders.v1_a-b").is_ok());
        assert!(validate_topic_name("has space").is_err());
        assert!(validate_topic_name("").is_err());
        assert!(validate_topic_name("..").is_err());
        assert!(validate_topic_name(&"x".repeat(250)).is_err());
    }

    #[test]
    fn digits_are_grouped() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(1234567), "1,234,567");
        assert_eq!(group_digits(999), "999");
    }
}
