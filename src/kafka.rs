//! The Kafka layer. Everything that talks to the cluster goes through a `Connection`: one
//! librdkafka configuration, one admin client, one metadata client, a small cache of producers,
//! the produce pipeline and the group-less read engine. It hands out its own small types, never
//! librdkafka's, and knows nothing about the embedded broker: the same code serves tansu,
//! Apache Kafka, Redpanda or a managed service. Only this layer and the actors import rdkafka.

pub mod admin;
pub mod alter;
mod connection;
mod context;
pub mod eligible;
mod errors;
mod meter;
pub mod produce;
pub mod quorum;
mod raw;
mod setting;
pub mod read;
pub mod room;

use std::time::Duration;

pub use connection::{Connection, Seen, LOOK_TIMEOUT};
pub use meter::BatchFigures;
pub use produce::{Delivery, DeliveryReport, ProduceRequest};
pub use read::{ReadPlan, ReadResult};

pub(crate) use context::Context;
pub(crate) use errors::{client_error, describe_kafka_error};
pub use errors::name_of as error_name_of;

/// How long a command waits for the cluster before it says it cannot reach it.
pub const CLUSTER_TIMEOUT: Duration = Duration::from_secs(8);

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

impl TopicInfo {
    /// Every (topic, partition) pair of this topic.
    pub fn pairs(&self) -> Vec<(String, i32)> {
        self.partitions.iter().map(|p| (self.name.clone(), p.id)).collect()
    }
}

/// A snapshot of the cluster's metadata, owned so it can cross threads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// The partitions the group's leader gave it, when the cluster reports them (Apache Kafka
    /// does; the embedded broker does too, through kafka-workshop's coordinator).
    pub assignment: Option<crate::outcome::Partitions>,
}

/// One topic config as DescribeConfigs reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicConfig {
    pub name: String,
    pub value: Option<String>,
    pub is_default: bool,
    /// Set on the topic itself (`--config`, an alter), not inherited from the broker.
    pub set_on_topic: bool,
    pub is_sensitive: bool,
}

/// A topic to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTopic {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i32,
    pub configs: Vec<(String, String)>,
}

/// How many replicas must have a message before the producer counts it as sent (`acks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Acks {
    Zero,
    One,
    All,
}

impl Acks {
    pub fn as_config(self) -> &'static str {
        match self {
            Acks::Zero => "0",
            Acks::One => "1",
            Acks::All => "all",
        }
    }
}

/// How a producer compresses its batches (`compression.codec`, `compression.type` in Java).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl Compression {
    pub fn as_config(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

/// How a producer gathers messages into batches. `None` leaves librdkafka's (or `-X`) setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Batching {
    /// `linger.ms`: how long a batch waits for more messages before it goes.
    pub linger_ms: Option<u32>,
    /// `batch.size`: the most bytes one batch may hold.
    pub batch_size: Option<u32>,
    pub compression: Option<Compression>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProducerSettings {
    pub acks: Acks,
    pub idempotent: bool,
    pub batching: Batching,
    /// Count the batches it sends (librdkafka's statistics), for `produce` to report.
    pub measured: bool,
}

impl ProducerSettings {
    /// What the tool's own producers (live producers, tills, cooks) use.
    pub const RELIABLE: ProducerSettings =
        ProducerSettings { acks: Acks::All, idempotent: false, batching: Batching { linger_ms: None, batch_size: None, compression: None }, measured: false };
}

/// Where a new consumer group starts when it has no committed offset (`auto.offset.reset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFrom {
    Earliest,
    Latest,
}

impl StartFrom {
    pub fn as_config(self) -> &'static str {
        match self {
            StartFrom::Earliest => "earliest",
            StartFrom::Latest => "latest",
        }
    }
}

/// Which transactional messages a reader sees (`isolation.level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    ReadCommitted,
    ReadUncommitted,
}

impl Isolation {
    pub fn as_config(self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "read_committed",
            Isolation::ReadUncommitted => "read_uncommitted",
        }
    }
}

/// How a consumer takes part in its group (`group.protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupProtocol {
    Classic,
    /// KIP-848: the broker assigns; session timeout and heartbeat are the broker's settings.
    Consumer,
}

/// How a group shares its partitions out (`partition.assignment.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignor {
    Range,
    Roundrobin,
    CooperativeSticky,
}

impl Assignor {
    pub fn as_config(self) -> &'static str {
        match self {
            Assignor::Range => "range",
            Assignor::Roundrobin => "roundrobin",
            Assignor::CooperativeSticky => "cooperative-sticky",
        }
    }
}

/// (topic, partition, offset) triples, as seeks and commits report them.
pub type Offsets = Vec<(String, i32, i64)>;
