//! Two small clients for the workshop room, each on librdkafka's own threads so the session
//! never waits for them: a `Publisher` that sends keyed records in the background and reports
//! its first failure once, and a `Tail` that hands every record of a topic to a callback as it
//! arrives. They know nothing of what the records mean.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{DeliveryResult, Message};
use rdkafka::producer::{BaseRecord, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};

use super::errors::{client_error, describe_kafka_error};
use super::{Connection, Context};
use crate::error::Result;

/// How long a record may wait for the cluster before the publisher gives up on it.
const GIVE_UP_AFTER: Duration = Duration::from_secs(10);

/// Called once, with why, the first time a record cannot be sent.
type OnFailure = Arc<dyn Fn(String) + Send + Sync>;

#[derive(Clone)]
struct PublisherContext {
    inner: Context,
    failed: Arc<AtomicBool>,
    on_failure: OnFailure,
}

impl PublisherContext {
    fn fail(&self, why: String) {
        if !self.failed.swap(true, Ordering::SeqCst) {
            (self.on_failure)(why);
        }
    }
}

impl ClientContext for PublisherContext {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        self.inner.log(level, fac, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.inner.error(error, reason);
    }
}

impl ProducerContext for PublisherContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((err, _)) = result {
            self.fail(describe_kafka_error(err));
        }
    }
}

/// Sends records to one topic in the background. `send` returns at once; nothing it does can
/// slow or stop the caller.
pub struct Publisher {
    producer: ThreadedProducer<PublisherContext>,
    topic: String,
    context: PublisherContext,
}

impl Publisher {
    pub fn new(connection: &Connection, topic: &str, on_failure: impl Fn(String) + Send + Sync + 'static) -> Result<Self> {
        let mut config = connection.client_config();
        config.set("linger.ms", "5");
        config.set("message.timeout.ms", GIVE_UP_AFTER.as_millis().to_string());
        // A cluster that is away keeps a few records, not an unbounded queue.
        config.set("queue.buffering.max.messages", "1000");
        config.set("enable.idempotence", "false");
        let context = PublisherContext {
            inner: connection.context(),
            failed: Arc::default(),
            on_failure: Arc::new(on_failure),
        };
        let producer = config
            .create_with_context::<_, ThreadedProducer<PublisherContext>>(context.clone())
            .map_err(|e| client_error("producer", &e))?;
        Ok(Publisher { producer, topic: topic.to_string(), context })
    }

    pub fn send(&self, key: &str, value: &str) {
        if let Err((err, _)) = self.producer.send(BaseRecord::to(&self.topic).key(key).payload(value)) {
            self.context.fail(describe_kafka_error(&err));
        }
    }

    /// Give what is queued up to `within` to reach the cluster (when the session ends).
    pub fn flush(&self, within: Duration) {
        let _ = self.producer.flush(within);
    }
}

/// One record as a tail hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tailed {
    pub key: Option<String>,
    pub value: Option<String>,
    pub timestamp_ms: Option<i64>,
}

/// Reads every partition of a topic from its start, for as long as it is kept, on a thread of its
/// own; a topic that does not exist yet is waited for. Stops when dropped.
pub struct Tail {
    stop: Arc<AtomicBool>,
}

impl Tail {
    pub fn start(connection: &Connection, topic: &str, mut each: impl FnMut(Tailed) + Send + 'static) -> Result<Tail> {
        let mut config: ClientConfig = connection.client_config();
        config.set("enable.auto.commit", "false");
        config.set("fetch.wait.max.ms", "500");
        // librdkafka wants a group id even for assign(); nothing is ever joined or committed.
        config.set("group.id", "kafka-workshop-room");
        let consumer: BaseConsumer<Context> =
            config.create_with_context(connection.context()).map_err(|e| client_error("consumer", &e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let topic = topic.to_string();
        std::thread::Builder::new()
            .name("room-tail".into())
            .spawn(move || {
                let mut assigned = false;
                while !stopping.load(Ordering::SeqCst) {
                    if !assigned {
                        assigned = assign_from_start(&consumer, &topic);
                        if !assigned {
                            std::thread::sleep(Duration::from_millis(500));
                            continue;
                        }
                    }
                    if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
                        let text = |bytes: Option<&[u8]>| bytes.map(|b| String::from_utf8_lossy(b).into_owned());
                        each(Tailed {
                            key: text(message.key()),
                            value: text(message.payload()),
                            timestamp_ms: message.timestamp().to_millis(),
                        });
                    }
                }
            })
            .map_err(|e| crate::error::Error::io("cannot start the room's reader", e))?;
        Ok(Tail { stop })
    }
}

/// Assign every partition of `topic` from its start; false while the topic does not exist.
fn assign_from_start(consumer: &BaseConsumer<Context>, topic: &str) -> bool {
    let Ok(metadata) = consumer.fetch_metadata(Some(topic), Duration::from_secs(2)) else { return false };
    let Some(found) = metadata.topics().iter().find(|t| t.name() == topic && t.error().is_none()) else { return false };
    if found.partitions().is_empty() {
        return false;
    }
    let mut assignment = TopicPartitionList::new();
    for partition in found.partitions() {
        if assignment.add_partition_offset(topic, partition.id(), Offset::Beginning).is_err() {
            return false;
        }
    }
    consumer.assign(&assignment).is_ok()
}

impl Drop for Tail {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Connection {
    /// Send one record and wait for the cluster to store it (an instructor's announcement).
    pub async fn send_record(&self, topic: &str, key: Option<&str>, value: &str) -> Result<()> {
        use rdkafka::producer::FutureRecord;
        let producer = self.producer(super::ProducerSettings::RELIABLE)?;
        let mut record = FutureRecord::to(topic).payload(value);
        if let Some(key) = key {
            record = record.key(key);
        }
        producer
            .send(record, super::CLUSTER_TIMEOUT)
            .await
            .map(|_| ())
            .map_err(|(err, _)| crate::error::Error::kafka(format!("cannot send to {topic}: {}", describe_kafka_error(&err))))
    }
}
