//! Reading without a consumer group, like `kcat -C -o`: assign the planned partitions, read from
//! each start up to the end seen when the read began, and stop.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::types::RDKafkaErrorCode;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use super::errors::stopped;
use super::{Connection, Context};
use crate::error::Result;
use crate::outcome::Record;

/// One partition's range to read: offsets `start` up to (not including) `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadPlan {
    pub partition: i32,
    pub start: i64,
    pub end: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadResult {
    /// In partition and offset order.
    pub records: Vec<Record>,
    /// The read stopped at `max` with more to read.
    pub more: bool,
    /// The broker sent nothing for a while before the end of the data.
    pub timed_out: bool,
}

/// How long a read waits for the next message before it gives up.
const STALL: Duration = Duration::from_secs(5);

/// Group-less consumers kept between reads, each with the topic it last read: a reader asked
/// for the same topic again answers at once. One handed a topic it has not read waits about a
/// second before it fetches (librdkafka's broker thread learns of the new partition on its next
/// wake-up), which a new reader does not (measured by bench/picture.sh), so a reader is only
/// reused for its own topic.
#[derive(Default)]
pub(crate) struct Readers(std::sync::Mutex<Vec<(String, BaseConsumer<Context>)>>);

/// How many idle readers a connection keeps: the topics of a lesson's picture.
const IDLE_READERS: usize = 8;

impl Connection {
    /// Read each planned range of `topic`, at most `max` messages in all, as `read_committed`
    /// readers do (librdkafka's default).
    pub async fn read(&self, topic: &str, plan: Vec<ReadPlan>, max: u64) -> Result<ReadResult> {
        self.read_as(topic, plan, max, super::Isolation::ReadCommitted).await
    }

    /// The same, seeing `isolation`'s messages: `ReadUncommitted` sees those of open and aborted
    /// transactions too (a reader of its own, not kept).
    pub async fn read_as(&self, topic: &str, plan: Vec<ReadPlan>, max: u64, isolation: super::Isolation) -> Result<ReadResult> {
        let pooled = isolation == super::Isolation::ReadCommitted;
        let kept = |idle: &mut Vec<(String, BaseConsumer<Context>)>| {
            let at = idle.iter().position(|(read, _)| read == topic)?;
            Some(idle.remove(at).1)
        };
        let reader = match pooled.then(|| self.readers.0.lock().ok().and_then(|mut idle| kept(&mut idle))).flatten() {
            Some(reader) => reader,
            None => {
                let mut config = self.client_config();
                config.set("isolation.level", isolation.as_config());
                new_reader(config, self.context()).map_err(|e| self.explain("reading", &e))?
            }
        };
        let topic = topic.to_string();
        let (reader, result, topic) = tokio::task::spawn_blocking(move || {
            let result = read_plan(&reader, &topic, plan, max);
            // Stop fetching until the next read.
            let _ = reader.unassign();
            (reader, result, topic)
        })
        .await
        .map_err(|e| stopped("the read", e))?;
        if result.is_ok() && pooled {
            // The newest first out of the pool is the oldest: it goes, closed off the runtime.
            let gone = self.readers.0.lock().ok().and_then(|mut idle| {
                idle.push((topic, reader));
                (idle.len() > IDLE_READERS).then(|| idle.remove(0))
            });
            if let Some(gone) = gone {
                tokio::task::spawn_blocking(move || drop(gone));
            }
        }
        result.map_err(|e| self.explain("reading", &e))
    }
}

fn new_reader(mut config: ClientConfig, context: Context) -> std::result::Result<BaseConsumer<Context>, KafkaError> {
    config.set("enable.auto.commit", "false");
    config.set("enable.partition.eof", "true");
    config.set("fetch.wait.max.ms", "10");
    // librdkafka wants a group id even for assign(); nothing is ever joined or committed.
    config.set("group.id", "kafka-workshop-read");
    config.create_with_context(context)
}

fn read_plan(consumer: &BaseConsumer<Context>, topic: &str, plan: Vec<ReadPlan>, max: u64) -> std::result::Result<ReadResult, KafkaError> {
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
        if last_progress.elapsed() > STALL {
            timed_out = true;
            break;
        }
        match consumer.poll(Duration::from_millis(200)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                open.remove(&partition);
            }
            // A broker that is down (a node just killed) is not this read's failure: the
            // partitions' leaders are elsewhere, and a stall still ends the read.
            Some(Err(KafkaError::MessageConsumption(
                RDKafkaErrorCode::BrokerTransportFailure | RDKafkaErrorCode::AllBrokersDown | RDKafkaErrorCode::Resolve,
            ))) => {}
            Some(Err(err)) => return Err(err),
            Some(Ok(message)) => {
                last_progress = Instant::now();
                let partition = message.partition();
                let Some(&end) = open.get(&partition) else { continue };
                // A message fetched for an earlier read of this reader is not this read's.
                let start = plan.iter().find(|p| p.partition == partition).map_or(0, |p| p.start);
                if message.topic() != topic || message.offset() < start {
                    continue;
                }
                if message.offset() < end {
                    records.push(to_record(&message));
                }
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

/// A message as the tool shows it: text (lossy where it is not UTF-8), headers as `k=v,…`.
pub(crate) fn to_record<M: Message>(message: &M) -> Record {
    let headers = message
        .headers()
        .map(|h| {
            h.iter()
                .map(|header| {
                    let value = header.value.map(String::from_utf8_lossy).unwrap_or_default();
                    format!("{}={value}", header.key)
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    Record {
        topic: message.topic().to_string(),
        partition: message.partition(),
        offset: message.offset(),
        timestamp: crate::format::timestamp(message.timestamp().to_millis()),
        timestamp_ms: message.timestamp().to_millis(),
        key: message.key().map(|k| String::from_utf8_lossy(k).into_owned()),
        value: message.payload().map(|v| String::from_utf8_lossy(v).into_owned()),
        headers,
    }
}
