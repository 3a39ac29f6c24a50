//! A consumer as a live actor: its own thread, its own librdkafka consumer in a group, and a
//! request channel. It keeps polling (so its membership and rebalances stay alive while the
//! learner types) and buffers what it fetches; messages count as *received* only when handed
//! to the learner (`poll`, or at once with `--follow`). Only handed-over messages have their
//! offsets stored for commit: the at-least-once pattern, so after a crash everything fetched
//! but not handed over, or handed over but not committed, goes to the partition's next owner.

use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod context;
mod state;

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::kafka::{Assignor, Connection, GroupProtocol, Isolation, Offsets, StartFrom};
use crate::outcome::{Event, Partitions, Record};
use crate::report::Events;
use context::ActorContext;
pub use state::{ConsumerState, Status};

/// How many fetched-but-not-handed-over messages a consumer holds before it pauses fetching.
const BUFFER_HIGH: usize = 1000;
const BUFFER_LOW: usize = 100;

/// How soon a consumer hears that a topic it subscribes to was deleted or created.
const TOPIC_NEWS: Duration = Duration::from_secs(2);

/// librdkafka's own max.poll.interval.ms, and `start-consumer`'s default.
pub const DEFAULT_MAX_POLL_INTERVAL: Duration = Duration::from_secs(300);

/// Everything needed to start (and restart) a consumer.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerSpec {
    pub name: String,
    pub group: String,
    pub topics: Vec<String>,
    pub from: StartFrom,
    pub manual_commit: bool,
    pub session_timeout: Duration,
    pub assignor: Assignor,
    /// max.poll.interval.ms: go this long without polling and librdkafka leaves the group.
    pub max_poll_interval: Duration,
    /// group.instance.id: a static member keeps its place across a restart.
    pub instance_id: Option<String>,
    pub follow: bool,
    pub isolation: Isolation,
    /// With `Consumer` (KIP-848) the broker assigns and times the session: `session_timeout`
    /// and `assignor` are not sent.
    pub protocol: GroupProtocol,
}

/// Where a seek goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeekTo {
    Beginning,
    End,
    Offset(i64),
}

enum Request {
    Poll { count: usize, wait: Duration, reply: oneshot::Sender<Vec<Record>> },
    Commit { reply: oneshot::Sender<Result<Offsets>> },
    Seek { partition: Option<i32>, to: SeekTo, reply: oneshot::Sender<Result<Offsets>> },
    Stall { duration: Duration, reply: oneshot::Sender<()> },
    Stop { reply: oneshot::Sender<()> },
    Kill { reply: oneshot::Sender<()> },
}

/// The session's handle on a consumer actor.
#[derive(Clone)]
pub struct ConsumerHandle {
    pub spec: ConsumerSpec,
    /// How many times `restart-consumer` brought this consumer back.
    pub restarts: u32,
    /// Before its latest restart: the generation and partitions it had when it stopped.
    pub before_restart: Option<(Option<i32>, Partitions)>,
    /// How it had ended before its latest restart: stopped or killed.
    pub came_back_from: Option<Status>,
    state: Arc<Mutex<ConsumerState>>,
    requests: std::sync::mpsc::Sender<Request>,
}

impl ConsumerHandle {
    /// Start the actor on its own thread, with the connection's settings.
    pub fn start(spec: ConsumerSpec, connection: &Connection, events: Events) -> Result<Self> {
        let mut config = connection.client_config();
        config.set("group.id", &spec.group);
        config.set("client.id", &spec.name);
        config.set("enable.auto.commit", if spec.manual_commit { "false" } else { "true" });
        config.set("auto.commit.interval.ms", "1000");
        config.set("enable.auto.offset.store", "false");
        config.set("auto.offset.reset", spec.from.as_config());
        config.set("isolation.level", spec.isolation.as_config());
        match spec.protocol {
            GroupProtocol::Classic => {
                config.set("session.timeout.ms", spec.session_timeout.as_millis().to_string());
                // Half a second, so a graceful stop moves partitions within a second.
                config.set("heartbeat.interval.ms", "500");
                config.set("partition.assignment.strategy", spec.assignor.as_config());
            }
            // The broker sets the session timeout and heartbeat, and assigns (KIP-848).
            GroupProtocol::Consumer => {
                config.set("group.protocol", "consumer");
            }
        }
        config.set("max.poll.interval.ms", spec.max_poll_interval.as_millis().to_string());
        if let Some(instance) = &spec.instance_id {
            config.set("group.instance.id", instance);
        }
        config.set("fetch.wait.max.ms", "100");
        // A subscribed topic that is deleted is given up after this long (librdkafka waits 30 s
        // by default for news of it to reach every broker), and one that comes back, or is
        // created after the consumer started, is found within this long (5 min by default).
        config.set("topic.metadata.propagation.max.ms", TOPIC_NEWS.as_millis().to_string());
        config.set("topic.metadata.refresh.interval.ms", TOPIC_NEWS.as_millis().to_string());
        let verbose = connection.verbose();
        if verbose.is_some() {
            config.set_log_level(RDKafkaLogLevel::Debug);
        }
        let state = Arc::new(Mutex::new(ConsumerState::new()));
        // `config_map()` shows secrets as a placeholder, so the real values are read by key.
        let keys: Vec<&str> = config.config_map().into_keys().collect();
        let secrets = crate::security::secret_values(keys.iter().filter_map(|k| Some((*k, config.get(k)?))));
        let context = ActorContext {
            name: spec.name.clone(),
            state: Arc::clone(&state),
            events: events.clone(),
            verbose,
            secrets,
            from: spec.from,
            closing: std::sync::atomic::AtomicBool::new(false),
        };
        let consumer: BaseConsumer<ActorContext> = config
            .create_with_context(context)
            .map_err(|e| crate::kafka::client_error(&format!("consumer {}", spec.name), &e))?;
        let topics: Vec<&str> = spec.topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&topics)
            .map_err(|e| Error::input(format!("cannot subscribe {} to {}: {e}", spec.name, topics.join(","))))?;
        let (requests, inbox) = std::sync::mpsc::channel();
        let actor = Actor { consumer, inbox, state: Arc::clone(&state), events, spec: spec.clone() };
        std::thread::Builder::new()
            .name(format!("consumer-{}", spec.name))
            .spawn(move || actor.run())
            .map_err(|e| Error::io(format!("cannot start a thread for {}", spec.name), e))?;
        Ok(ConsumerHandle { spec, restarts: 0, before_restart: None, came_back_from: None, state, requests })
    }

    pub fn state(&self) -> ConsumerState {
        self.state.lock().map(|s| s.clone()).unwrap_or_else(|e| e.into_inner().clone())
    }

    pub fn status(&self) -> Status {
        self.state().status
    }

    /// On its way into its group, or between giving partitions up and being dealt new ones. A
    /// consumer none of whose topics exist is not joining: it waits outside the group.
    pub fn joining(&self) -> bool {
        let state = self.state();
        state.status == Status::Running && state.joining && state.waiting_for.len() < self.spec.topics.len()
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Request) -> Result<T> {
        let gone = || {
            Error::input_with_hint(
                format!("consumer '{}' is not running", self.spec.name),
                format!("start it again with: restart-consumer {}", self.spec.name),
            )
        };
        let (reply, answer) = oneshot::channel();
        self.requests.send(make(reply)).map_err(|_| gone())?;
        answer.await.map_err(|_| gone())
    }

    /// Hand over up to `count` messages, waiting at most `wait` for them.
    pub async fn poll(&self, count: usize, wait: Duration) -> Result<Vec<Record>> {
        self.ask(|reply| Request::Poll { count, wait, reply }).await
    }

    pub async fn commit(&self) -> Result<Offsets> {
        self.ask(|reply| Request::Commit { reply }).await?
    }

    pub async fn seek(&self, partition: Option<i32>, to: SeekTo) -> Result<Offsets> {
        self.ask(|reply| Request::Seek { partition, to, reply }).await?
    }

    /// Stop polling for `duration`; librdkafka's heartbeats go on meanwhile.
    pub async fn stall(&self, duration: Duration) -> Result<()> {
        self.ask(|reply| Request::Stall { duration, reply }).await
    }

    /// Commit (unless manual), leave the group, stop.
    pub async fn stop(&self) -> Result<()> {
        self.ask(|reply| Request::Stop { reply }).await
    }

    /// Vanish without committing or leaving the group, as a crashed process would.
    pub async fn kill(&self) -> Result<()> {
        self.ask(|reply| Request::Kill { reply }).await
    }
}

/// A consumption error that says a subscribed topic is not on the cluster.
fn unknown_topic(err: &KafkaError) -> bool {
    matches!(err.rdkafka_error_code(), Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic))
}

/// A consumption error that only says the broker cannot be reached.
fn lost_connection(err: &KafkaError) -> bool {
    matches!(
        err.rdkafka_error_code(),
        Some(RDKafkaErrorCode::BrokerTransportFailure | RDKafkaErrorCode::AllBrokersDown)
    )
}

struct Waiting {
    remaining: usize,
    deadline: Instant,
    handed: Vec<Record>,
    reply: oneshot::Sender<Vec<Record>>,
}

struct Actor {
    consumer: BaseConsumer<ActorContext>,
    inbox: Receiver<Request>,
    state: Arc<Mutex<ConsumerState>>,
    events: Events,
    spec: ConsumerSpec,
}

impl Actor {
    fn run(self) {
        let mut waiting: Option<Waiting> = None;
        let mut paused = false;
        let mut last_error: Option<String> = None;
        loop {
            loop {
                match self.inbox.try_recv() {
                    Ok(Request::Poll { count, wait, reply }) => {
                        if let Some(old) = waiting.take() {
                            let _ = old.reply.send(old.handed);
                        }
                        waiting = Some(Waiting { remaining: count, deadline: Instant::now() + wait, handed: Vec::new(), reply });
                    }
                    Ok(Request::Commit { reply }) => {
                        let _ = reply.send(self.commit());
                    }
                    Ok(Request::Seek { partition, to, reply }) => {
                        let _ = reply.send(self.seek(partition, to));
                    }
                    Ok(Request::Stall { duration, reply }) => {
                        if let Ok(mut state) = self.state.lock() {
                            state.stalled_until = Some(Instant::now() + duration);
                        }
                        let _ = reply.send(());
                    }
                    Ok(Request::Stop { reply }) => {
                        // The command that asked says how it stopped; only an unasked stop says so here.
                        self.stop(false);
                        let _ = reply.send(());
                        return;
                    }
                    Ok(Request::Kill { reply }) => {
                        self.kill();
                        let _ = reply.send(());
                        return;
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        self.stop(true);
                        return;
                    }
                }
            }

            // A stalled consumer calls nothing: no poll, no hand-over. Only librdkafka's own
            // threads run, so it goes on heartbeating until max.poll.interval.ms runs out.
            if self.stalled() {
                if let Some(wait) = waiting.take_if(|w| Instant::now() >= w.deadline) {
                    let _ = wait.reply.send(wait.handed);
                }
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }

            match self.consumer.poll(Duration::from_millis(10)) {
                Some(Ok(message)) => {
                    last_error = None;
                    let record = crate::kafka::read::to_record(&message);
                    if let Ok(mut state) = self.state.lock() {
                        let owned = state.assignment.get(&record.topic).is_some_and(|ids| ids.contains(&record.partition));
                        if owned {
                            state.buffer.push_back(record);
                        }
                    }
                }
                Some(Err(KafkaError::PartitionEOF(_))) | None => {}
                // The cluster going away is said once, as "lost the cluster", by the context;
                // anything else is said once until it changes, not at every poll.
                Some(Err(err)) if lost_connection(&err) => {}
                Some(Err(err)) if err.rdkafka_error_code() == Some(RDKafkaErrorCode::PollExceeded) => {
                    self.events.warn(
                        &self.spec.name,
                        "was out of the group: it went longer than its max poll interval without polling; it joins again",
                    );
                }
                Some(Err(err)) if unknown_topic(&err) => {
                    let said = self.missing_topics();
                    if !said.is_empty() && last_error.as_deref() != Some(said.as_str()) {
                        self.events.warn(&self.spec.name, said.clone());
                        last_error = Some(said);
                    }
                }
                Some(Err(err)) => {
                    let said = match err.rdkafka_error_code() {
                        Some(RDKafkaErrorCode::InconsistentGroupProtocol) => format!(
                            "cannot join group '{}': its members use another assignor; start it with the group's --assignor",
                            self.spec.group
                        ),
                        _ => err.to_string(),
                    };
                    if last_error.as_deref() != Some(said.as_str()) {
                        self.events.warn(&self.spec.name, said.clone());
                        last_error = Some(said);
                    }
                }
            }

            if self.spec.follow {
                for record in self.hand_over(usize::MAX) {
                    self.events.send(Event::Message { actor: self.spec.name.clone(), record });
                }
            }
            if let Some(mut wait) = waiting.take() {
                let records = self.hand_over(wait.remaining);
                wait.remaining -= records.len();
                wait.handed.extend(records);
                if wait.remaining == 0 || Instant::now() >= wait.deadline {
                    let _ = wait.reply.send(wait.handed);
                } else {
                    waiting = Some(wait);
                }
            }

            let buffered = self.state.lock().map(|s| s.buffer.len()).unwrap_or(0);
            if !paused && buffered >= BUFFER_HIGH {
                if let Ok(assignment) = self.consumer.assignment() {
                    paused = self.consumer.pause(&assignment).is_ok();
                }
            } else if paused && buffered <= BUFFER_LOW {
                if let Ok(assignment) = self.consumer.assignment() {
                    paused = self.consumer.resume(&assignment).is_err();
                }
            }
        }
    }

    /// What to say about the subscribed topics the cluster does not have: deleted (this consumer
    /// read them before) or not created yet. The consumer keeps its subscription, as Kafka's
    /// clients do, and takes the topic's partitions again when it exists.
    fn missing_topics(&self) -> String {
        let had = self.state.lock().map(|state| state.topics_read.clone()).unwrap_or_default();
        let missing: Vec<String> = self
            .spec
            .topics
            .iter()
            .filter(|topic| {
                !self
                    .consumer
                    .fetch_metadata(Some(topic), Duration::from_secs(2))
                    .is_ok_and(|meta| meta.topics().iter().any(|t| t.name() == *topic && t.error().is_none()))
            })
            .cloned()
            .collect();
        if let Ok(mut state) = self.state.lock() {
            state.waiting_for = missing.clone();
        }
        if missing.is_empty() {
            return String::new();
        }
        let deleted: Vec<&str> = missing.iter().filter(|t| had.contains(*t)).map(String::as_str).collect();
        let absent: Vec<&str> = missing.iter().filter(|t| !had.contains(*t)).map(String::as_str).collect();
        let mut said = Vec::new();
        if !deleted.is_empty() {
            said.push(format!("lost its topic: {} was deleted; it waits for it to come back", deleted.join(", ")));
        }
        if !absent.is_empty() {
            said.push(format!("waits for topic {}: it does not exist yet", absent.join(", ")));
        }
        self.events.changed();
        said.join("; ")
    }

    /// Whether a stall is on; when one ends, say so once.
    fn stalled(&self) -> bool {
        let Ok(mut state) = self.state.lock() else { return false };
        match state.stalled_until {
            Some(until) if Instant::now() < until => true,
            Some(_) => {
                state.stalled_until = None;
                self.events.say(&self.spec.name, "polls again after its stall");
                false
            }
            None => false,
        }
    }

    /// Take up to `count` buffered messages, storing each one's offset for the next commit.
    fn hand_over(&self, count: usize) -> Vec<Record> {
        let Ok(mut state) = self.state.lock() else { return Vec::new() };
        let mut handed = Vec::new();
        while handed.len() < count {
            let Some(record) = state.buffer.pop_front() else { break };
            // Stores offset + 1: the next message to read is what gets committed.
            if self.consumer.store_offset(&record.topic, record.partition, record.offset).is_err() {
                continue;
            }
            state.received += 1;
            state.positions.insert((record.topic.clone(), record.partition), record.offset + 1);
            handed.push(record);
        }
        if !handed.is_empty() {
            self.events.changed();
        }
        handed
    }

    fn commit(&self) -> Result<Offsets> {
        match self.consumer.commit_consumer_state(CommitMode::Sync) {
            Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            Err(err) => return Err(self.failed("the commit failed", err)),
        }
        let committed =
            self.consumer.committed(Duration::from_secs(5)).map_err(|e| self.failed("cannot read back the committed offsets", e))?;
        Ok(committed
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some((e.topic().to_string(), e.partition(), o)),
                _ => None,
            })
            .collect())
    }

    /// The cluster's side of a failure, said plainly.
    fn failed(&self, what: &str, err: KafkaError) -> Error {
        Error::Kafka { message: format!("{what}: {}", crate::kafka::describe_kafka_error(&err)), source: Some(Arc::new(err)) }
    }

    fn seek(&self, partition: Option<i32>, to: SeekTo) -> Result<Offsets> {
        let assignment = self.consumer.assignment().map_err(|e| self.failed("cannot read the assignment", e))?;
        let mut targets = Vec::new();
        for element in assignment.elements() {
            if partition.is_some_and(|p| p != element.partition()) {
                continue;
            }
            let (topic, id) = (element.topic().to_string(), element.partition());
            let target = match to {
                SeekTo::Offset(offset) => offset,
                SeekTo::Beginning | SeekTo::End => {
                    let (low, high) = self
                        .consumer
                        .fetch_watermarks(&topic, id, Duration::from_secs(5))
                        .map_err(|e| self.failed(&format!("cannot look up the offsets of {topic}[{id}]"), e))?;
                    if to == SeekTo::Beginning { low } else { high }
                }
            };
            targets.push((topic, id, target));
        }
        if targets.is_empty() {
            return Err(Error::input(match partition {
                Some(p) => format!("{} is not assigned partition {p}", self.spec.name),
                None => format!("{} has no partitions assigned yet", self.spec.name),
            }));
        }
        let mut stored = TopicPartitionList::new();
        for (topic, id, target) in &targets {
            let mut attempt = 0;
            loop {
                match self.consumer.seek(topic, *id, Offset::Offset(*target), Duration::from_secs(5)) {
                    Ok(()) => break,
                    // A partition assigned a moment ago may not be fetching yet.
                    Err(_) if attempt < 20 => {
                        attempt += 1;
                        let _ = self.consumer.poll(Duration::from_millis(50));
                    }
                    Err(err) => return Err(self.failed(&format!("cannot seek {topic}[{id}]"), err)),
                }
            }
            let _ = stored.add_partition_offset(topic, *id, Offset::Offset(*target));
        }
        // As the Java client does, the position after a seek is what the next commit records.
        let _ = self.consumer.store_offsets(&stored);
        if let Ok(mut state) = self.state.lock() {
            for (topic, id, target) in &targets {
                state.buffer.retain(|r| !(r.topic == *topic && r.partition == *id));
                state.positions.insert((topic.clone(), *id), *target);
            }
        }
        Ok(targets)
    }

    fn stop(self, announce: bool) {
        if let Ok(mut state) = self.state.lock() {
            state.last_assignment = state.assignment.clone();
        }
        if !self.spec.manual_commit {
            let _ = self.consumer.commit_consumer_state(CommitMode::Sync);
        }
        let name = self.spec.name.clone();
        let static_member = self.spec.instance_id.is_some();
        let self_manual = self.spec.manual_commit;
        let events = self.events.clone();
        let state = Arc::clone(&self.state);
        // Dropping the consumer closes it: revoke callbacks run and it leaves the group.
        self.consumer.context().closing.store(true, std::sync::atomic::Ordering::SeqCst);
        drop(self);
        if let Ok(mut state) = state.lock() {
            state.status = Status::Stopped;
            state.assignment.clear();
            state.buffer.clear();
        }
        let said = match (self_manual, static_member) {
            (false, false) => "stopped: committed and left the group",
            (false, true) => "stopped: committed; a static member does not leave its group",
            (true, false) => "stopped: left the group without committing (manual commit: only `commit` records progress)",
            (true, true) => "stopped without committing (manual commit); a static member does not leave its group",
        };
        if announce {
            events.say(&name, said);
        }
    }

    fn kill(self) {
        if let Ok(mut state) = self.state.lock() {
            state.last_assignment = state.assignment.clone();
            state.status = Status::Killed;
            state.killed_at = Some(Instant::now());
            state.assignment.clear();
            state.buffer.clear();
        }
        // Only `kill-consumer` kills, and its answer says what a kill means.
        let pointer = self.consumer.client().native_ptr();
        // SAFETY: the consumer is never used again: it is forgotten right after, so Rust's drop
        // (which would close the consumer and leave the group) never runs on the freed handle.
        unsafe {
            rdkafka_sys::rd_kafka_destroy_flags(pointer, rdkafka_sys::RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
        }
        std::mem::forget(self.consumer);
    }
}
