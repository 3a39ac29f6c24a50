//! A `Session` is one user's connection to one cluster and everything they have started on it.
//! `run_line` is the single execution path: tokenize → parse → execute → `Outcome`. The REPL,
//! piped scripts, `--script`, lessons and replays all call it; none of them render inside it.
//!
//! The session speaks to the cluster only through the Kafka layer (`kafka`, `actors`), in that
//! layer's own types; it never prints, and reports live work as events.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::sync::Arc;

use crate::actors::consumer::{ConsumerHandle, SeekTo};
use crate::actors::producer::ProducerHandle;
use crate::command::{self, Command, Parsed};
use crate::error::{Error, Result};
use crate::kafka::Connection;
use crate::lesson::Library;
use crate::outcome::{Event, Outcome, Target};
use crate::report::{Events, Reporter};

mod batches;
mod checks;
mod clusters;
mod goal;
mod groups;
mod live;
mod namespace;
mod picture;
mod placeholders;
pub use crate::lesson::placeholders::describe as describe_lesson_line;
mod produce;
mod read;
mod record;
mod rehearsal;
mod room;
mod schemas;
mod seek;
mod sends;
mod shop;
mod topics;
mod tutor;

pub use checks::Verdict;
pub use clusters::sasl_password;
pub use namespace::Namespace;
pub use picture::Scene;
pub use goal::{GoalWatch, IDLE_BEFORE_NUDGE};
pub use tutor::Cue;

/// How the session reaches its cluster, and what it keeps where.
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
    /// Start local Apache Kafka nodes from this release (or folder of its jars) instead of the
    /// embedded broker.
    pub apache_kafka: Option<PathBuf>,
    /// How many local Apache Kafka nodes (default 3).
    pub brokers: Option<usize>,
    pub verbose: bool,
    /// An instructor's lessons folder instead of the built-in lessons.
    pub lessons: Option<PathBuf>,
    /// A workshop learner's name: their topics and groups become `NAME.topic` on the cluster.
    pub learner: Option<String>,
    /// Where progress and the analysts' databases live (`paths::data_dir()` for a person).
    pub home: Option<PathBuf>,
    /// A learner who keeps their progress to themselves: nothing goes to `workshop.progress`.
    pub private: bool,
}

pub struct Session {
    connection: Arc<Connection>,
    /// What the session shares with whoever draws it (the web page, `watch`).
    scene: Scene,
    /// Where the picture is served, once a front end serves it.
    web: Option<String>,
    target: Target,
    /// The cluster this session started (the embedded broker, or local Apache Kafka nodes),
    /// none for one it only connects to.
    local: Option<crate::cluster::LocalCluster>,
    /// What Kafka's kafka-transactions tool said of a partition's producers, by (topic,
    /// partition, end offset): asked again only when the partition grows.
    producer_states: std::sync::Mutex<std::collections::HashMap<(String, i32, i64), i64>>,
    /// How this session's own produces were sent and answered, for checks the log cannot answer.
    sends: std::sync::Mutex<sends::Sends>,
    /// How the latest produce to each topic went out in batches.
    batches: std::sync::Mutex<batches::BatchLog>,
    /// Each consumer's latest seek, by kind, once the broker's answer moved it.
    seeks: std::sync::Mutex<BTreeMap<String, crate::expect::SeekKind>>,
    /// How many times `broker start` brought a broker back.
    broker_restarts: u32,
    /// The brokers this session stopped or killed, in order.
    downed: Vec<clusters::Downed>,
    reporter: Arc<dyn Reporter>,
    verbose: bool,
    home: Option<PathBuf>,
    /// The TLS and SASL flags in effect, and the `-X` settings, for `cluster`.
    security: crate::security::SecurityArgs,
    /// Where the SASL password in use came from.
    password_from: Option<crate::security::SecretFrom>,
    settings: Vec<(String, String)>,
    consumers: BTreeMap<String, ConsumerHandle>,
    producers: BTreeMap<String, ProducerHandle>,
    shop: crate::actors::shop::Shop,
    tills: BTreeMap<u32, crate::actors::shop::TillHandle>,
    /// The shop job of each consumer that is a preparer, cook or analyst.
    jobs: BTreeMap<String, crate::actors::shop::Job>,
    analysts: BTreeMap<String, shop::AnalystRun>,
    /// The hot cabinet in Redis, once a participant uses one.
    redis_cabinet: Option<crate::actors::cabinet::RedisCabinet>,
    events: Events,
    event_receiver: Option<Receiver<Event>>,
    library: Library,
    namespace: Option<Namespace>,
    tutor: Option<tutor::Tutor>,
    recording: Option<record::Recording>,
    /// A learner's link to the workshop room (`--learner`).
    room: Option<room::Room>,
    private: bool,
}

impl Session {
    /// Start the embedded broker (unless `bootstrap_servers` names a cluster) and prepare clients.
    pub async fn connect(options: &ConnectOptions, reporter: Arc<dyn Reporter>) -> Result<Session> {
        let (sender, receiver) = std::sync::mpsc::channel();
        let events = Events::new(sender);
        let log = options.verbose.then(|| events.clone());
        let (connection, target, local) = match &options.bootstrap_servers {
            Some(servers) => {
                let servers = servers.trim();
                if servers.is_empty() {
                    return Err(Error::input("--bootstrap-servers is empty; give HOST:PORT[,HOST:PORT…]"));
                }
                if options.data.is_some() {
                    return Err(Error::input(
                        "--data is for the embedded broker; it cannot be used with --bootstrap-servers",
                    ));
                }
                if options.apache_kafka.is_some() {
                    return Err(Error::input(
                        "--apache-kafka starts a cluster here; it cannot be used with --bootstrap-servers, which names one elsewhere",
                    ));
                }
                let properties =
                    clusters::client_properties(&options.security, options.password.as_ref(), &options.properties)?;
                let connection = Connection::new(servers, &properties, log)?;
                (connection, Target::External { bootstrap: servers.to_string() }, None)
            }
            None if !options.security.is_empty() => {
                return Err(Error::input(
                    "--certs and the --sasl-… flags are for a real cluster: give its address with --bootstrap-servers HOST:PORT",
                ))
            }
            None => clusters::start_local(options, reporter.as_ref(), log).await?,
        };
        let namespace = options.learner.as_deref().map(Namespace::new).transpose()?;
        let connection = Arc::new(connection);
        let scene = Scene::new(Arc::clone(&connection), events.clone());
        scene.update(|stage| stage.namespace = namespace.clone());
        let mut session = Session {
            connection,
            scene,
            web: None,
            target,
            local,
            producer_states: std::sync::Mutex::default(),
            sends: std::sync::Mutex::default(),
            batches: std::sync::Mutex::default(),
            seeks: std::sync::Mutex::default(),
            broker_restarts: 0,
            downed: Vec::new(),
            reporter,
            verbose: options.verbose,
            home: options.home.clone(),
            security: options.security.clone(),
            password_from: options.password.as_ref().map(crate::security::Secret::from),
            settings: options.properties.clone(),
            consumers: BTreeMap::new(),
            producers: BTreeMap::new(),
            shop: crate::actors::shop::Shop::new(events.clone()),
            tills: BTreeMap::new(),
            jobs: BTreeMap::new(),
            analysts: BTreeMap::new(),
            redis_cabinet: None,
            events,
            event_receiver: Some(receiver),
            library: Library::choose(options.lessons.clone()),
            namespace,
            tutor: None,
            recording: None,
            room: None,
            private: options.private,
        };
        session.join_room();
        Ok(session)
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

    /// Names worth completing after a command: topics, groups, consumers, producers.
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

    /// Run the shop's clock this many times faster than the talk's (replays at `--speed max`).
    pub fn set_shop_speedup(&mut self, speedup: f64) {
        self.shop.pace = crate::shop::Pace { speedup };
    }

    /// Make the shop's orders and timings the same on every run.
    pub fn set_shop_seed(&mut self, seed: u64) {
        self.shop.seed = Some(seed);
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// What the session shares with whoever draws it.
    pub fn scene(&self) -> Scene {
        self.scene.clone()
    }

    /// A front end serves the picture at `url`.
    pub fn serving(&mut self, url: String) {
        self.web = Some(url);
    }

    /// Share the session's current state with its observers, and tell them it changed; a
    /// learner's progress goes to the workshop room too.
    fn publish(&mut self) {
        self.report_to_room();
        let lesson = self.lesson_view();
        let nodes = self.local.as_mut().map(crate::cluster::LocalCluster::nodes).unwrap_or_default();
        self.scene.update(|stage| {
            stage.nodes = nodes;
            stage.connection = Arc::clone(&self.connection);
            stage.consumers = self.consumers.clone();
            stage.namespace = self.namespace.clone();
            stage.lesson = lesson;
        });
        self.scene.changed();
    }

    /// Remember the topics and groups a command that succeeded used (or forgot, for a delete).
    fn remember_names(&self, command: &mut Command) {
        let deleting = matches!(command, Command::DeleteTopic(_) | Command::DeleteGroup(_));
        let names: Vec<command::Name<'_>> = command.names_mut();
        self.scene.update(|stage| {
            for name in names {
                match (name, deleting) {
                    (command::Name::Topic(topic), false) => stage.topics.insert(topic.clone()),
                    (command::Name::Group(group), false) => stage.groups.insert(group.clone()),
                    (command::Name::Topic(topic), true) => stage.topics.remove(topic.as_str()),
                    (command::Name::Group(group), true) => stage.groups.remove(group.as_str()),
                };
            }
        });
    }

    /// Stop everything the session started, the embedded broker last.
    pub async fn shutdown(mut self) {
        self.stop_all_actors().await;
        self.leave_room(std::time::Duration::from_secs(3));
        if let Some(cluster) = self.local.take() {
            cluster.shutdown().await;
        }
        // What is left holds librdkafka clients with nothing more to send. Each one joins a
        // polling thread that wakes every 100 ms as it is dropped, so they are let go on a thread
        // of their own rather than waited for.
        let _ = std::thread::Builder::new().name("session-drop".into()).spawn(move || drop(self));
    }

    /// The one execution path: a line of text in, data out.
    pub async fn run_line(&mut self, line: &str) -> Result<Outcome> {
        let mut command = match command::parse(line)? {
            Parsed::Empty => return Ok(Outcome::Nothing),
            Parsed::Help(text) => return Ok(Outcome::Text(text)),
            Parsed::Command(command) => command,
        };
        let learner_action = !command.is_about_the_tool();
        // The names as they were before the command: `learner` changes them.
        let namespace = self.namespace.clone();
        if let Some(namespace) = &namespace {
            namespace.qualify_command(&mut command);
        }
        let mut named = command.clone();
        self.room_activity();
        let result = self.execute(command).await;
        if result.as_ref().is_ok_and(|o| o.failure().is_none()) {
            self.remember_names(&mut named);
        }
        self.publish();
        let outcome = match &namespace {
            Some(ns) => result.map(|o| ns.shorten_outcome(o)).map_err(|e| ns.shorten_error(e))?,
            None => result?,
        };
        if !learner_action || outcome.failure().is_some() {
            return Ok(outcome);
        }
        if let Some(recording) = self.recording.as_mut() {
            recording.lines.push(crate::security::redact_line(line.trim()));
        }
        Ok(outcome)
    }

    /// Every command, in the grammar's order, to the code that does it.
    pub async fn execute(&mut self, command: Command) -> Result<Outcome> {
        match command {
            Command::Cluster => self.cluster().await,
            Command::BrokerConfig(args) => self.broker_config(&args.keys).await,
            Command::Connect(args) => self.connect_to(args).await,
            Command::Broker(args) => self.broker(args.action, args.node).await,
            Command::Topics(args) => self.topics(args).await,
            Command::CreateTopic(args) => self.create_topic(args).await,
            Command::DescribeTopic(args) => self.describe_topic(&args.topic).await,
            Command::AlterTopic(args) => self.alter_topic(args).await,
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
            Command::KillConsumer(args) => self.kill_consumer(&args.name, args.wait).await,
            Command::RestartConsumer(args) => self.restart_consumer(&args.name).await,
            Command::Schema(args) => self.schema(args).await,
            Command::StallConsumer(args) => self.stall_consumer(&args.name, args.duration, args.wait).await,
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
            Command::Shop => Ok(self.shop_live()),
            Command::Show(args) => self.show(&args, false).await,
            Command::Watch(args) => self.show(&args, true).await,
            Command::Web(args) => Ok(self.web(args.listen)),
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
            Command::Lesson(args) => self.open_lesson_here(&args.lesson).await,
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
            Command::Class(args) => match (args.action, args.watch, args.execute) {
                (Some(command::ClassAction::Clean), false, execute) => self.class_clean(execute).await,
                (Some(command::ClassAction::Clean), true, _) => Err(Error::usage("`class clean` shows a plan once; --watch is for `class`")),
                (None, _, true) => Err(Error::usage("--execute goes with `class clean`")),
                (None, watch, false) => self.class(watch).await,
            },
            Command::Announce(args) => self.announce(&args.text.join(" ")).await,
            Command::Help(args) => record::help(args.command.as_deref()),
            Command::Quit => Ok(Outcome::Quit),
        }
    }
}

/// The grammar's words in the Kafka layer's own terms.
mod words {
    use crate::command;
    use crate::kafka;

    impl From<command::Acks> for kafka::Acks {
        fn from(acks: command::Acks) -> Self {
            match acks {
                command::Acks::Zero => kafka::Acks::Zero,
                command::Acks::One => kafka::Acks::One,
                command::Acks::All => kafka::Acks::All,
            }
        }
    }

    impl From<command::Compression> for kafka::Compression {
        fn from(codec: command::Compression) -> Self {
            match codec {
                command::Compression::None => kafka::Compression::None,
                command::Compression::Gzip => kafka::Compression::Gzip,
                command::Compression::Snappy => kafka::Compression::Snappy,
                command::Compression::Lz4 => kafka::Compression::Lz4,
                command::Compression::Zstd => kafka::Compression::Zstd,
            }
        }
    }

    impl From<command::StartFrom> for kafka::StartFrom {
        fn from(from: command::StartFrom) -> Self {
            match from {
                command::StartFrom::Earliest => kafka::StartFrom::Earliest,
                command::StartFrom::Latest => kafka::StartFrom::Latest,
            }
        }
    }

    impl From<command::Isolation> for kafka::Isolation {
        fn from(isolation: command::Isolation) -> Self {
            match isolation {
                command::Isolation::ReadCommitted => kafka::Isolation::ReadCommitted,
                command::Isolation::ReadUncommitted => kafka::Isolation::ReadUncommitted,
            }
        }
    }

    impl From<command::GroupProtocol> for kafka::GroupProtocol {
        fn from(protocol: command::GroupProtocol) -> Self {
            match protocol {
                command::GroupProtocol::Classic => kafka::GroupProtocol::Classic,
                command::GroupProtocol::Consumer => kafka::GroupProtocol::Consumer,
            }
        }
    }

    impl From<command::Assignor> for kafka::Assignor {
        fn from(assignor: command::Assignor) -> Self {
            match assignor {
                command::Assignor::Range => kafka::Assignor::Range,
                command::Assignor::Roundrobin => kafka::Assignor::Roundrobin,
                command::Assignor::CooperativeSticky => kafka::Assignor::CooperativeSticky,
            }
        }
    }
}
