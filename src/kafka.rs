//! Everything that talks to the cluster goes through a `Connection`: one librdkafka configuration,
//! one admin client, one metadata client and a small cache of producers. It knows nothing about
//! the embedded broker: the same code serves tansu, Apache Kafka, Redpanda or a managed service.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::{Offset, TopicPartitionList};
use rdkafka::error::KafkaError;
use rdkafka::producer::FutureProducer;

use crate::command::Acks;
use crate::error::{Error, Result};

/// How long a command waits for the cluster before it says it cannot reach it.
pub const CLUSTER_TIMEOUT: Duration = Duration::from_secs(8);

/// librdkafka calls this from its own threads. It keeps the last transport error so that a
/// timeout can say *why* ("connection refused") rather than only that it timed out.
#[derive(Clone, Default)]
pub struct Context {
    last_error: Arc<Mutex<Option<String>>>,
    verbose: bool,
    /// Values that must never be printed, even in --verbose logs.
    secrets: Arc<Vec<String>>,
}

impl Context {
    pub fn new(verbose: bool) -> Self {
        Context { last_error: Arc::default(), verbose, secrets: Arc::default() }
    }

    /// `text` with every secret value masked.
    pub fn redact(&self, text: &str) -> String {
        crate::security::mask(text, &self.secrets)
    }

    fn clear(&self) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = None;
        }
    }

    fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|last| last.clone())
    }
}

impl ClientContext for Context {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        let message = &self.redact(message);
        if self.verbose {
            eprintln!("librdkafka {level:?} {fac}: {message}");
        }
        // Connection failures (refused, unresolvable, not Kafka at all) arrive as FAIL logs.
        let serious = matches!(
            level,
            RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical | RDKafkaLogLevel::Error | RDKafkaLogLevel::Warning
        );
        if fac == "FAIL" && serious {
            if let Ok(mut last) = self.last_error.lock() {
                *last = Some(message.to_string());
            }
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if self.verbose {
            eprintln!("librdkafka error {error}: {reason}");
        }
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(reason.to_string());
        }
    }
}

impl ConsumerContext for Context {}

/// One broker as the metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerInfo {
    pub id: i32,
    pub host: String,
    pub port: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    pub id: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    pub name: String,
    pub partitions: Vec<PartitionInfo>,
}

/// A snapshot of the cluster's metadata, owned so it can cross threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterInfo {
    pub cluster_id: Option<String>,
    pub controller: Option<i32>,
    pub brokers: Vec<BrokerInfo>,
    pub topics: Vec<TopicInfo>,
}

impl ClusterInfo {
    pub fn topic(&self, name: &str) -> Option<&TopicInfo> {
        self.topics.iter().find(|t| t.name == name)
    }
}

/// Low and high watermark of one partition: the first offset still kept and the next one to be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watermarks {
    pub low: i64,
    pub high: i64,
}

impl Watermarks {
    pub fn messages(&self) -> i64 {
        (self.high - self.low).max(0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProducerSettings {
    pub acks: Acks,
    pub idempotent: bool,
}

/// A consumer group as ListGroups/DescribeGroups report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSummary {
    pub name: String,
    pub state: String,
    pub protocol_type: String,
    pub protocol: String,
    pub members: Vec<MemberSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSummary {
    pub id: String,
    pub client_id: String,
    pub host: String,
}

pub struct Connection {
    servers: String,
    /// The CA file in use, to name when the broker's certificate does not verify.
    ca_file: Option<String>,
    /// Topic and group names seen in the latest answers, for tab completion (no extra requests).
    seen_names: Mutex<std::collections::BTreeSet<String>>,
    /// One group-bound (never subscribed) consumer per group, for OffsetFetch and OffsetCommit.
    group_clients: Mutex<HashMap<String, Arc<BaseConsumer<Context>>>>,
    config: ClientConfig,
    context: Context,
    admin: AdminClient<Context>,
    meta: Arc<BaseConsumer<Context>>,
    producers: Mutex<HashMap<ProducerSettings, FutureProducer<Context>>>,
}

impl Connection {
    /// Prepare clients for `servers` with extra librdkafka `properties` (`-X`), which win over
    /// the tool's own defaults. Nothing is sent until the first command.
    pub fn new(servers: &str, properties: &[(String, String)], verbose: bool) -> Result<Self> {
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
        config.set_log_level(if verbose { RDKafkaLogLevel::Debug } else { RDKafkaLogLevel::Warning });
        let mut context = Context::new(verbose);
        context.secrets = Arc::new(crate::security::secret_values(properties.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        let ca_file = properties.iter().rev().find(|(k, _)| k == "ssl.ca.location").map(|(_, v)| v.clone());
        let admin = config
            .create_with_context::<_, AdminClient<Context>>(context.clone())
            .map_err(|e| client_error("admin client", &e))?;
        let meta = config
            .create_with_context::<_, BaseConsumer<Context>>(context.clone())
            .map_err(|e| client_error("metadata client", &e))?;
        Ok(Connection {
            ca_file,
            servers: servers.to_string(),
            config,
            context,
            admin,
            meta: Arc::new(meta),
            producers: Mutex::new(HashMap::new()),
            group_clients: Mutex::new(HashMap::new()),
            seen_names: Mutex::new(std::collections::BTreeSet::new()),
        })
    }

    pub fn servers(&self) -> &str {
        &self.servers
    }

    /// The configuration every client of this connection starts from.
    pub fn base_config(&self) -> ClientConfig {
        self.config.clone()
    }

    pub fn context(&self) -> Context {
        self.context.clone()
    }

    pub fn admin(&self) -> &AdminClient<Context> {
        &self.admin
    }

    pub fn admin_options() -> AdminOptions {
        AdminOptions::new().operation_timeout(Some(CLUSTER_TIMEOUT)).request_timeout(Some(CLUSTER_TIMEOUT))
    }

    /// Turn a librdkafka error into one the user can act on, naming the cluster when it is a
    /// transport problem.
    pub fn error(&self, what: &str, err: &KafkaError) -> Error {
        use rdkafka::types::RDKafkaErrorCode as Code;
        let code = err.rdkafka_error_code();
        let transport = matches!(
            code,
            Some(Code::BrokerTransportFailure | Code::AllBrokersDown | Code::OperationTimedOut | Code::MessageTimedOut)
        ) || matches!(err, KafkaError::MetadataFetch(Code::OperationTimedOut));
        if transport {
            return self.unreachable(&err.to_string());
        }
        Error::kafka(format!("{what}: {}", describe_kafka_error(err)))
    }

    fn unreachable(&self, fallback: &str) -> Error {
        let reason = self.context.last_error().map(|r| tidy_transport_reason(&r)).unwrap_or_else(|| {
            if fallback.contains("timed out") || fallback.contains("TimedOut") {
                format!("no answer within {} s", CLUSTER_TIMEOUT.as_secs())
            } else {
                fallback.to_string()
            }
        });
        Error::Unreachable { servers: self.servers.clone(), reason: self.explain(&reason) }
    }

    /// A transport failure's reason, with secrets masked and a TLS trust failure tied to the CA file.
    fn explain(&self, reason: &str) -> String {
        let reason = self.context.redact(reason);
        let untrusted = ["certificate verify failed", "unable to get local issuer", "self-signed certificate", "self signed certificate"];
        match &self.ca_file {
            Some(ca) if untrusted.iter().any(|u| reason.contains(u)) => {
                format!("{reason} (the broker's certificate is not signed by the CA in {ca})")
            }
            _ => reason,
        }
    }

    /// The cluster's metadata: brokers, controller and every topic (or only `topic`).
    pub async fn cluster_info(&self) -> Result<ClusterInfo> {
        let meta = Arc::clone(&self.meta);
        let context = self.context.clone();
        context.clear();
        let servers = self.servers.clone();
        let joined = tokio::task::spawn_blocking(move || fetch_cluster_info(&meta, &context, &servers)).await;
        let info = joined.map_err(|e| Error::kafka(format!("metadata lookup stopped: {e}")))?.map_err(|err| match err {
            Error::Unreachable { servers, reason } => Error::Unreachable { servers, reason: self.explain(&reason) },
            other => other,
        })?;
        self.remember(info.topics.iter().map(|t| t.name.clone()));
        Ok(info)
    }

    fn remember(&self, names: impl Iterator<Item = String>) {
        if let Ok(mut seen) = self.seen_names.lock() {
            seen.extend(names);
        }
    }

    /// Topic and group names this connection has seen, for completion.
    pub fn seen_names(&self) -> Vec<String> {
        self.seen_names.lock().map(|s| s.iter().cloned().collect()).unwrap_or_default()
    }

    /// Watermarks of every given partition, looked up on a blocking thread.
    pub async fn watermarks(&self, partitions: Vec<(String, i32)>) -> Result<HashMap<(String, i32), Watermarks>> {
        let meta = Arc::clone(&self.meta);
        let joined = tokio::task::spawn_blocking(move || {
            let mut found = HashMap::new();
            for (topic, partition) in partitions {
                let (low, high) = meta.fetch_watermarks(&topic, partition, CLUSTER_TIMEOUT)?;
                found.insert((topic, partition), Watermarks { low, high });
            }
            Ok::<_, KafkaError>(found)
        })
        .await
        .map_err(|e| Error::kafka(format!("offset lookup stopped: {e}")))?;
        joined.map_err(|e| self.error("looking up offsets", &e))
    }

    /// Watermarks of every partition of `topic`.
    pub async fn topic_watermarks(&self, topic: &TopicInfo) -> Result<Vec<(i32, Watermarks)>> {
        let wanted = topic.partitions.iter().map(|p| (topic.name.clone(), p.id)).collect();
        let found = self.watermarks(wanted).await?;
        let mut list: Vec<(i32, Watermarks)> =
            found.into_iter().map(|((_, partition), marks)| (partition, marks)).collect();
        list.sort_by_key(|(partition, _)| *partition);
        Ok(list)
    }

    /// The topic's metadata, or `UnknownTopic`.
    pub async fn topic(&self, name: &str) -> Result<TopicInfo> {
        let info = self.cluster_info().await?;
        info.topic(name).cloned().ok_or_else(|| Error::UnknownTopic(name.to_string()))
    }

    /// A producer for these settings, made on first use and kept for the session.
    pub fn producer(&self, settings: ProducerSettings) -> Result<FutureProducer<Context>> {
        let mut producers = self.producers.lock().map_err(|_| Error::kafka("producer cache poisoned"))?;
        if let Some(producer) = producers.get(&settings) {
            return Ok(producer.clone());
        }
        let mut config = ClientConfig::new();
        // Java's default partitioner for keyed messages, so `partition-for` tells the truth.
        config.set("partitioner", "murmur2_random");
        config.set("linger.ms", "5");
        config.set("message.timeout.ms", CLUSTER_TIMEOUT.as_millis().to_string());
        config.set("queue.buffering.max.messages", "1000000");
        config.set("acks", settings.acks.as_config());
        config.set("enable.idempotence", if settings.idempotent { "true" } else { "false" });
        // The user's own settings (`-X`) come last so they win.
        for (key, value) in self.config.config_map() {
            config.set(key, value);
        }
        config.set("acks", settings.acks.as_config());
        let producer = config
            .create_with_context::<_, FutureProducer<Context>>(self.context.clone())
            .map_err(|e| client_error("producer", &e))?;
        producers.insert(settings, producer.clone());
        Ok(producer)
    }
}

impl Connection {
    /// Consumer groups, all of them or one.
    pub async fn groups(&self, group: Option<&str>) -> Result<Vec<GroupSummary>> {
        let meta = Arc::clone(&self.meta);
        let group = group.map(str::to_string);
        let joined = tokio::task::spawn_blocking(move || {
            let list = meta.fetch_group_list(group.as_deref(), CLUSTER_TIMEOUT)?;
            Ok::<_, KafkaError>(
                list.groups()
                    .iter()
                    .map(|g| GroupSummary {
                        name: g.name().to_string(),
                        state: g.state().to_string(),
                        protocol_type: g.protocol_type().to_string(),
                        protocol: g.protocol().to_string(),
                        members: g
                            .members()
                            .iter()
                            .map(|m| MemberSummary {
                                id: m.id().to_string(),
                                client_id: m.client_id().to_string(),
                                host: m.client_host().to_string(),
                            })
                            .collect(),
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .await
        .map_err(|e| Error::kafka(format!("group lookup stopped: {e}")))?;
        let groups = joined.map_err(|e| self.error("listing groups", &e))?;
        self.remember(groups.iter().map(|g| g.name.clone()));
        Ok(groups)
    }

    /// One group, or `None` when the cluster does not know it.
    pub async fn group(&self, name: &str) -> Result<Option<GroupSummary>> {
        let found = self.groups(Some(name)).await?;
        Ok(found.into_iter().find(|g| g.name == name && g.state != "Dead"))
    }

    fn group_client(&self, group: &str) -> Result<Arc<BaseConsumer<Context>>> {
        let mut clients = self.group_clients.lock().map_err(|_| Error::kafka("group client cache poisoned"))?;
        if let Some(client) = clients.get(group) {
            return Ok(Arc::clone(client));
        }
        let mut config = self.config.clone();
        config.set("group.id", group);
        config.set("enable.auto.commit", "false");
        let client = Arc::new(
            config
                .create_with_context::<_, BaseConsumer<Context>>(self.context.clone())
                .map_err(|e| client_error("group client", &e))?,
        );
        clients.insert(group.to_string(), Arc::clone(&client));
        Ok(client)
    }

    /// The group's committed offset for each given partition that has one.
    pub async fn committed(&self, group: &str, partitions: Vec<(String, i32)>) -> Result<HashMap<(String, i32), i64>> {
        if partitions.is_empty() {
            return Ok(HashMap::new());
        }
        let client = self.group_client(group)?;
        let joined = tokio::task::spawn_blocking(move || {
            let mut list = TopicPartitionList::new();
            for (topic, partition) in &partitions {
                list.add_partition(topic, *partition);
            }
            let answer = client.committed_offsets(list, CLUSTER_TIMEOUT)?;
            let mut found = HashMap::new();
            for element in answer.elements() {
                if let Offset::Offset(offset) = element.offset() {
                    found.insert((element.topic().to_string(), element.partition()), offset);
                }
            }
            Ok::<_, KafkaError>(found)
        })
        .await
        .map_err(|e| Error::kafka(format!("offset lookup stopped: {e}")))?;
        joined.map_err(|e| self.error(&format!("reading group {group}'s committed offsets"), &e))
    }

    /// Commit offsets for a group from outside it (the group must have no active members).
    pub async fn commit_for_group(&self, group: &str, offsets: Vec<(String, i32, i64)>) -> Result<()> {
        let client = self.group_client(group)?;
        let joined = tokio::task::spawn_blocking(move || {
            let mut list = TopicPartitionList::new();
            for (topic, partition, offset) in &offsets {
                list.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
            }
            client.commit(&list, CommitMode::Sync)
        })
        .await
        .map_err(|e| Error::kafka(format!("commit stopped: {e}")))?;
        joined.map_err(|e| self.error(&format!("committing offsets for group {group}"), &e))
    }

    /// For each partition, the first offset whose timestamp is at or after `millis`, as the
    /// broker answers it (None when it says there is none).
    pub async fn offsets_for_time(&self, topic: &str, partitions: Vec<i32>, millis: i64) -> Result<HashMap<i32, Option<i64>>> {
        let meta = Arc::clone(&self.meta);
        let topic = topic.to_string();
        let joined = tokio::task::spawn_blocking(move || {
            let mut list = TopicPartitionList::new();
            for partition in &partitions {
                list.add_partition_offset(&topic, *partition, Offset::Offset(millis))?;
            }
            let answer = meta.offsets_for_times(list, CLUSTER_TIMEOUT)?;
            Ok::<_, KafkaError>(
                answer
                    .elements()
                    .iter()
                    .map(|e| (e.partition(), if let Offset::Offset(o) = e.offset() { Some(o) } else { None }))
                    .collect(),
            )
        })
        .await
        .map_err(|e| Error::kafka(format!("offset lookup stopped: {e}")))?;
        joined.map_err(|e| self.error("looking up offsets by time", &e))
    }

    /// A topic's configs as the broker reports them (DescribeConfigs).
    pub async fn topic_configs(&self, topic: &str) -> Result<Vec<rdkafka::admin::ConfigEntry>> {
        let specifier = rdkafka::admin::ResourceSpecifier::Topic(topic);
        let results = self
            .admin
            .describe_configs([&specifier], &Self::admin_options())
            .await
            .map_err(|e| self.error("reading the topic's configs", &e))?;
        match results.into_iter().next() {
            Some(Ok(resource)) => Ok(resource.entries),
            Some(Err(code)) => Err(Error::kafka(format!("the broker did not report configs: {code}"))),
            None => Ok(Vec::new()),
        }
    }

    pub async fn delete_group(&self, group: &str) -> Result<()> {
        let results = self
            .admin
            .delete_groups(&[group], &Self::admin_options())
            .await
            .map_err(|e| self.error("deleting the group", &e))?;
        for result in results {
            if let Err((_, code)) = result {
                return Err(Error::kafka(format!("cannot delete group '{group}': {code}")));
            }
        }
        if let Ok(mut clients) = self.group_clients.lock() {
            clients.remove(group);
        }
        Ok(())
    }
}

impl Connection {
    /// A fresh transactional producer: a transactional id carries state, so none is reused.
    pub fn transactional_producer(&self, id: &str) -> Result<FutureProducer<Context>> {
        let mut config = self.config.clone();
        config.set("partitioner", "murmur2_random");
        config.set("transactional.id", id);
        config.set("transaction.timeout.ms", "60000");
        config.set("message.timeout.ms", CLUSTER_TIMEOUT.as_millis().to_string());
        config.create_with_context::<_, FutureProducer<Context>>(self.context.clone()).map_err(|e| client_error("producer", &e))
    }
}

fn fetch_cluster_info(meta: &BaseConsumer<Context>, context: &Context, servers: &str) -> Result<ClusterInfo> {
    let started = Instant::now();
    let metadata = loop {
        match meta.fetch_metadata(None, Duration::from_millis(1000)) {
            Ok(metadata) => break metadata,
            Err(_) => {
                // Logs and errors reach the context only when the client's queue is served.
                let _ = meta.poll(Duration::ZERO);
                let waited = started.elapsed();
                // A refused or unresolvable address will not get better: say so after a few tries.
                let hopeless = context.last_error().is_some() && waited >= Duration::from_secs(3);
                if waited >= CLUSTER_TIMEOUT || hopeless {
                    let reason = context
                        .last_error()
                        .map(|r| tidy_transport_reason(&r))
                        .unwrap_or_else(|| {
                            format!("no Kafka answer within {} s: is a Kafka broker listening there?", waited.as_secs())
                        });
                    return Err(Error::Unreachable { servers: servers.to_string(), reason });
                }
            }
        }
    };
    let brokers = metadata
        .brokers()
        .iter()
        .map(|b| BrokerInfo { id: b.id(), host: b.host().to_string(), port: b.port() })
        .collect();
    let mut topics: Vec<TopicInfo> = metadata
        .topics()
        .iter()
        .filter(|t| t.error().is_none())
        .map(|t| {
            let mut partitions: Vec<PartitionInfo> = t
                .partitions()
                .iter()
                .map(|p| PartitionInfo {
                    id: p.id(),
                    leader: p.leader(),
                    replicas: p.replicas().to_vec(),
                    isr: p.isr().to_vec(),
                })
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

fn client_error(what: &str, err: &KafkaError) -> Error {
    Error::input(format!("cannot configure the {what}: {}", describe_kafka_error(err)))
}

/// librdkafka's error text without its Rust debug wrapping.
pub fn describe_kafka_error(err: &KafkaError) -> String {
    match err.rdkafka_error_code() {
        Some(code) => {
            let text = err.to_string();
            // "Admin operation error: TopicAlreadyExists (Broker: Topic already exists)" → the part in brackets.
            match (text.rfind('('), text.rfind(')')) {
                (Some(open), Some(close)) if open < close => text[open + 1..close].to_string(),
                _ => format!("{code}"),
            }
        }
        None => err.to_string(),
    }
}

/// "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after 0ms in state CONNECT)"
/// → "connection refused".
fn tidy_transport_reason(reason: &str) -> String {
    let mut text = reason;
    if let Some(at) = text.find("failed: ") {
        text = &text[at + "failed: ".len()..];
    } else if let Some(at) = text.find(": ") {
        if text[..at].contains('/') {
            text = &text[at + 2..];
        }
    }
    if let Some(at) = text.find(" (after ") {
        text = &text[..at];
    }
    let mut tidy = text.trim().to_string();
    if let Some(first) = tidy.get(0..1) {
        if !tidy.starts_with("SSL") && !tidy.starts_with("SASL") {
            tidy = first.to_lowercase() + &tidy[1..];
        }
    }
    tidy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_reasons_are_tidied() {
        assert_eq!(
            tidy_transport_reason(
                "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after 0ms in state CONNECT)"
            ),
            "connection refused"
        );
        assert_eq!(
            tidy_transport_reason(
                "nope.invalid:9092/bootstrap: Failed to resolve 'nope.invalid:9092': Name or service not known (after 3ms in state CONNECT)"
            ),
            "failed to resolve 'nope.invalid:9092': Name or service not known"
        );
        assert_eq!(tidy_transport_reason("1/1 brokers are down"), "1/1 brokers are down");
    }
}
