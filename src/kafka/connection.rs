//! One connection to one cluster: the configuration every client starts from, a metadata
//! client, an admin client and the producers made on first use.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::admin::AdminClient;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::FutureProducer;

use super::errors::{client_error, stopped, tidy_transport_reason, Explainer};
use super::meter::Meter;
use super::{BrokerInfo, ClusterInfo, Context, PartitionInfo, ProducerSettings, TopicInfo, Watermarks, CLUSTER_TIMEOUT};
use crate::error::{Error, Result, Thing};
use crate::report::Events;

/// How long a look at the cluster waits for one broker before it shows what the others said.
pub const LOOK_TIMEOUT: Duration = Duration::from_millis(1500);

/// What a look at the partitions found: the watermarks of those whose leader answered, and
/// the leaders that did not.
#[derive(Debug, Default)]
pub struct Seen {
    pub marks: HashMap<(String, i32), Watermarks>,
    /// Leaders that did not answer in time.
    pub silent: BTreeSet<i32>,
    /// Leaders not asked, because the caller knows they are down.
    pub down: BTreeSet<i32>,
}

/// A producer as made for some settings, with what its context records.
pub(crate) type Made = (FutureProducer<Context>, Option<Meter>, Option<super::context::Refusals>);

pub struct Connection {
    pub(super) explainer: Explainer,
    /// Topic and group names seen in the latest answers, for tab completion (no extra requests).
    seen_names: Mutex<BTreeSet<String>>,
    /// One group-bound (never subscribed) consumer per group, for OffsetFetch and OffsetCommit.
    pub(super) group_clients: Mutex<HashMap<String, Arc<BaseConsumer<Context>>>>,
    config: ClientConfig,
    verbose: Option<Events>,
    pub(super) admin: AdminClient<Context>,
    pub(super) meta: Arc<BaseConsumer<Context>>,
    /// Each with its meter when its batches are counted.
    producers: Mutex<HashMap<ProducerSettings, Made>>,
    pub(super) readers: super::read::Readers,
}

impl Connection {
    /// Prepare clients for `servers` with extra librdkafka `properties` (`-X`), which win over
    /// the tool's own defaults. Nothing is sent until the first command. With `verbose`,
    /// librdkafka's log goes there as events.
    pub fn new(servers: &str, properties: &[(String, String)], verbose: Option<Events>) -> Result<Self> {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", servers);
        config.set("client.id", "kafka-workshop");
        // A learner's mistyped topic must not spring into existence.
        config.set("allow.auto.create.topics", "false");
        // librdkafka backs off up to 10 s between reconnects by default; a broker that comes
        // back (after `broker stop` / `broker start`, say) should be found within a second.
        config.set("reconnect.backoff.max.ms", "1000");
        for (key, value) in properties {
            config.set(key, value);
        }
        // Warnings are needed even when quiet: they carry why a connection failed.
        config.set_log_level(if verbose.is_some() { RDKafkaLogLevel::Debug } else { RDKafkaLogLevel::Warning });
        let secrets = crate::security::secret_values(properties.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let context = Context::new(verbose.clone(), secrets);
        let ca_file = properties.iter().rev().find(|(k, _)| k == "ssl.ca.location").map(|(_, v)| v.clone());
        let admin = config
            .create_with_context::<_, AdminClient<Context>>(context.clone())
            .map_err(|e| client_error("admin client", &e))?;
        let meta = config
            .create_with_context::<_, BaseConsumer<Context>>(context.clone())
            .map_err(|e| client_error("metadata client", &e))?;
        Ok(Connection {
            explainer: Explainer { servers: servers.to_string(), ca_file, context },
            config,
            verbose,
            admin,
            meta: Arc::new(meta),
            producers: Mutex::new(HashMap::new()),
            group_clients: Mutex::new(HashMap::new()),
            seen_names: Mutex::new(BTreeSet::new()),
            readers: super::read::Readers::default(),
        })
    }

    pub fn servers(&self) -> &str {
        &self.explainer.servers
    }

    /// The KRaft quorum (DescribeQuorum), asked of the bootstrap servers; None over TLS or
    /// SASL, where this tool does not speak the protocol itself.
    pub async fn quorum(&self) -> Option<Result<super::quorum::Quorum>> {
        match self.plaintext() {
            true => Some(super::quorum::describe(self.servers(), LOOK_TIMEOUT).await),
            false => None,
        }
    }

    /// Each partition's eligible leader replicas (DescribeTopicPartitions); None over TLS or
    /// SASL, as for the quorum.
    pub async fn eligible(&self, topics: &[String]) -> Option<Result<HashMap<(String, i32), super::eligible::Eligible>>> {
        match self.plaintext() && !topics.is_empty() {
            true => Some(super::eligible::describe(self.servers(), LOOK_TIMEOUT, topics).await),
            false => None,
        }
    }

    /// One of a topic's settings as in force (set on it, else the broker's): over plaintext
    /// asked of every node at once, so a node that is down does not hold it; else through the
    /// admin client.
    pub async fn topic_setting(&self, topic: &str, key: &str) -> Result<Option<String>> {
        if self.plaintext() {
            return super::setting::topic_setting(self.servers(), LOOK_TIMEOUT, topic, key).await;
        }
        let configs = self.topic_configs(topic).await?;
        Ok(configs.into_iter().find(|c| c.name == key).and_then(|c| c.value))
    }

    /// Whether the connection is plaintext, where this tool may speak a request itself.
    pub(super) fn plaintext(&self) -> bool {
        self.config.get("security.protocol").is_none_or(|p| p.eq_ignore_ascii_case("plaintext"))
    }

    /// The configuration every client of this connection starts from (for the actors).
    pub(crate) fn client_config(&self) -> ClientConfig {
        self.config.clone()
    }

    pub(crate) fn context(&self) -> Context {
        self.explainer.context.clone()
    }

    /// Where --verbose logs go, for the actors' own clients.
    pub(crate) fn verbose(&self) -> Option<Events> {
        self.verbose.clone()
    }

    pub(crate) fn explain(&self, what: &str, err: &KafkaError) -> Error {
        self.explainer.error(what, err)
    }

    /// Run blocking librdkafka work on a blocking thread.
    pub(super) async fn blocking<T: Send + 'static>(
        &self,
        what: &str,
        work: impl FnOnce() -> std::result::Result<T, KafkaError> + Send + 'static,
    ) -> Result<T> {
        tokio::task::spawn_blocking(work).await.map_err(|e| stopped(what, e))?.map_err(|e| self.explain(what, &e))
    }

    /// The cluster's metadata: brokers, controller and every topic.
    pub async fn cluster_info(&self) -> Result<ClusterInfo> {
        let meta = Arc::clone(&self.meta);
        let explainer = self.explainer.clone();
        explainer.context.clear();
        let info = tokio::task::spawn_blocking(move || fetch_cluster_info(&meta, &explainer))
            .await
            .map_err(|e| stopped("the metadata lookup", e))??;
        self.remember(info.topics.iter().map(|t| t.name.clone()));
        Ok(info)
    }

    pub(super) fn remember(&self, names: impl Iterator<Item = String>) {
        if let Ok(mut seen) = self.seen_names.lock() {
            seen.extend(names);
        }
    }

    /// Topic and group names this connection has seen, for completion.
    pub fn seen_names(&self) -> Vec<String> {
        self.seen_names.lock().map(|s| s.iter().cloned().collect()).unwrap_or_default()
    }

    /// Watermarks of every given partition.
    pub async fn watermarks(&self, partitions: Vec<(String, i32)>) -> Result<HashMap<(String, i32), Watermarks>> {
        let meta = Arc::clone(&self.meta);
        self.blocking("looking up offsets", move || {
            let mut found = HashMap::new();
            for (topic, partition) in partitions {
                let (low, high) = meta.fetch_watermarks(&topic, partition, CLUSTER_TIMEOUT)?;
                found.insert((topic, partition), Watermarks { low, high });
            }
            Ok(found)
        })
        .await
    }

    /// Watermarks of the partitions of `topics` for a look at the cluster (`describe-topic`,
    /// `topics`, `show`): the leaders are asked side by side, each on its own thread, and one
    /// that leaves a request unanswered for `LOOK_TIMEOUT` (down, or just killed, and not yet
    /// replaced) is asked nothing more and named, so a look never waits on a dead node. A
    /// partition with no leader is left out. A leader in `down` (a node the caller knows it
    /// stopped or killed) is not asked at all, and named as silent.
    pub async fn watermarks_seen(&self, topics: &[&TopicInfo], down: &BTreeSet<i32>) -> Seen {
        let mut by_leader: BTreeMap<i32, Vec<(String, i32)>> = BTreeMap::new();
        let mut seen = Seen::default();
        for topic in topics {
            for partition in &topic.partitions {
                if down.contains(&partition.leader) {
                    seen.down.insert(partition.leader);
                } else if partition.leader >= 0 {
                    by_leader.entry(partition.leader).or_default().push((topic.name.clone(), partition.id));
                }
            }
        }
        let asks = by_leader.into_iter().map(|(leader, pairs)| {
            let meta = Arc::clone(&self.meta);
            tokio::task::spawn_blocking(move || {
                let mut found = Vec::new();
                for (topic, partition) in pairs {
                    let asked = Instant::now();
                    match meta.fetch_watermarks(&topic, partition, LOOK_TIMEOUT) {
                        Ok((low, high)) => found.push(((topic, partition), Watermarks { low, high })),
                        // No answer in time: this leader is not answering; its other partitions would wait too.
                        Err(_) if asked.elapsed() >= LOOK_TIMEOUT => return (leader, found, true),
                        Err(_) => {}
                    }
                }
                (leader, found, false)
            })
        });
        for answer in futures::future::join_all(asks).await.into_iter().flatten() {
            let (leader, found, silent) = answer;
            seen.marks.extend(found);
            if silent {
                seen.silent.insert(leader);
            }
        }
        seen
    }

    /// Watermarks of every partition of `topic`, in partition order.
    pub async fn topic_watermarks(&self, topic: &TopicInfo) -> Result<Vec<(i32, Watermarks)>> {
        let found = self.watermarks(topic.pairs()).await?;
        let mut list: Vec<(i32, Watermarks)> = found.into_iter().map(|((_, partition), marks)| (partition, marks)).collect();
        list.sort_by_key(|(partition, _)| *partition);
        Ok(list)
    }

    /// The topic's metadata, or `NotFound`.
    pub async fn topic(&self, name: &str) -> Result<TopicInfo> {
        let info = self.cluster_info().await?;
        info.topic(name).cloned().ok_or_else(|| {
            // A near miss among the topics of the same learner (the part before a '.').
            let owner = |topic: &str| topic.split_once('.').map(|(learner, _)| learner.to_string());
            let near = crate::format::closest(name, info.topics.iter().filter(|t| owner(&t.name) == owner(name)).map(|t| t.name.as_str()));
            match near {
                Some(near) => Error::not_found(Thing::Topic, name)
                    .with_hint(format!("did you mean '{near}'? (create-topic {name} would make a new topic)")),
                None => Error::not_found(Thing::Topic, name),
            }
        })
    }

    /// A producer for these settings, made on first use and kept for the session.
    pub(crate) fn producer(&self, settings: ProducerSettings) -> Result<FutureProducer<Context>> {
        Ok(self.metered_producer(settings)?.0)
    }

    /// A producer for these settings and, when `settings.measured`, the meter of its batches.
    pub(crate) fn metered_producer(&self, settings: ProducerSettings) -> Result<Made> {
        let mut producers = self.producers.lock().map_err(|_| Error::kafka("the producer cache is poisoned"))?;
        if let Some(made) = producers.get(&settings) {
            return Ok(made.clone());
        }
        // A clone, never a copy through `config_map()`: rust-rdkafka shows secrets there as a
        // placeholder, and a producer made from it sent "[sanitized for safety]" as its SASL
        // password (tansu's PLAIN accepts any password, so only Apache Kafka showed it).
        let mut config = self.config.clone();
        // The tool's producer defaults, under the user's own settings (`-X`), which win:
        // Java's default partitioner for keyed messages, so `partition-for` tells the truth.
        for (key, value) in [
            ("partitioner", "murmur2_random".to_string()),
            ("linger.ms", "5".to_string()),
            ("message.timeout.ms", CLUSTER_TIMEOUT.as_millis().to_string()),
            ("queue.buffering.max.messages", "1000000".to_string()),
            ("enable.idempotence", settings.idempotent.to_string()),
        ] {
            if config.get(key).is_none() {
                config.set(key, value);
            }
        }
        // Except over what the command asked for.
        config.set("acks", settings.acks.as_config());
        let batching = settings.batching;
        if let Some(linger) = batching.linger_ms {
            config.set("linger.ms", linger.to_string());
        }
        if let Some(size) = batching.batch_size {
            config.set("batch.size", size.to_string());
        }
        if let Some(codec) = batching.compression {
            config.set("compression.codec", codec.as_config());
        }
        let mut context = self.context();
        if settings.measured {
            config.set("statistics.interval.ms", super::meter::STATISTICS_INTERVAL.as_millis().to_string());
            context = context.measured();
        } else if config.get("debug").is_none() {
            // A small produce keeps what the broker answered to each retry, so a message that
            // times out can say why (NOT_ENOUGH_REPLICAS); a big one would log too much.
            config.set("debug", "msg");
            // rust-rdkafka sets the client's log level after librdkafka raised it for `debug`.
            config.set_log_level(rdkafka::config::RDKafkaLogLevel::Debug);
            context = context.hearing_refusals();
        }
        let (meter, refusals) = (context.meter().cloned(), context.refusals().cloned());
        let producer = config
            .create_with_context::<_, FutureProducer<Context>>(context)
            .map_err(|e| client_error("producer", &e))?;
        let made = (producer, meter, refusals);
        producers.insert(settings, made.clone());
        Ok(made)
    }

    /// A fresh transactional producer: a transactional id carries state, so none is reused.
    pub(crate) fn transactional_producer(&self, id: &str) -> Result<FutureProducer<Context>> {
        let mut config = self.config.clone();
        config.set("partitioner", "murmur2_random");
        config.set("transactional.id", id);
        config.set("transaction.timeout.ms", "60000");
        config.set("message.timeout.ms", CLUSTER_TIMEOUT.as_millis().to_string());
        config.create_with_context::<_, FutureProducer<Context>>(self.context()).map_err(|e| client_error("producer", &e))
    }
}

fn fetch_cluster_info(meta: &BaseConsumer<Context>, explainer: &Explainer) -> Result<ClusterInfo> {
    let started = Instant::now();
    let metadata = loop {
        match meta.fetch_metadata(None, Duration::from_millis(1000)) {
            Ok(metadata) => break metadata,
            Err(_) => {
                // Logs and errors reach the context only when the client's queue is served.
                let _ = meta.poll(Duration::ZERO);
                let waited = started.elapsed();
                let last = explainer.context.last_error();
                // A refused or unresolvable address will not get better: say so after a few tries.
                let hopeless = last.is_some() && waited >= Duration::from_secs(3);
                if waited >= CLUSTER_TIMEOUT || hopeless {
                    let reason = last.map(|r| tidy_transport_reason(&r)).unwrap_or_else(|| {
                        format!("no Kafka answer within {} s: is a Kafka broker listening there?", waited.as_secs())
                    });
                    return Err(Error::Unreachable { servers: explainer.servers.clone(), reason: explainer.explain(&reason) });
                }
            }
        }
    };
    let brokers = metadata.brokers().iter().map(|b| BrokerInfo { id: b.id(), host: b.host().to_string(), port: b.port() }).collect();
    let mut topics: Vec<TopicInfo> = metadata
        .topics()
        .iter()
        .filter(|t| t.error().is_none())
        .map(|t| {
            let mut partitions: Vec<PartitionInfo> = t
                .partitions()
                .iter()
                .map(|p| PartitionInfo { id: p.id(), leader: p.leader(), replicas: p.replicas().to_vec(), isr: p.isr().to_vec() })
                .collect();
            partitions.sort_by_key(|p| p.id);
            TopicInfo { name: t.name().to_string(), partitions }
        })
        .collect();
    topics.sort_by(|a, b| a.name.cmp(&b.name));
    let cluster_id = meta.client().fetch_cluster_id(Duration::from_millis(500));
    let controller = controller_id(meta);
    Ok(ClusterInfo { cluster_id, controller, brokers, topics })
}

/// rust-rdkafka does not wrap `rd_kafka_controllerid`; metadata already warmed the cache.
fn controller_id(meta: &BaseConsumer<Context>) -> Option<i32> {
    // SAFETY: the client pointer is valid for as long as `meta` lives; the call only reads
    // librdkafka's cached metadata.
    let id = unsafe { rdkafka_sys::rd_kafka_controllerid(meta.client().native_ptr(), 500) };
    (id >= 0).then_some(id)
}
