//! The produce pipeline: every message of a `produce` handed to librdkafka as fast as its queue
//! takes them, each delivery awaited and tallied, with progress for a person watching. Also the
//! same in one transaction.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use futures::FutureExt;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::future_producer::{DeliveryFuture, OwnedDeliveryResult};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;

use super::errors::stopped;
use super::meter::BatchFigures;
use super::{describe_kafka_error, Connection, Context, ProducerSettings, CLUSTER_TIMEOUT};
use crate::error::{Error, Result};
use crate::format::Template;
use crate::report::Progress;

/// What to send.
pub struct ProduceRequest<'a> {
    pub topic: &'a str,
    pub values: &'a Template,
    pub keys: &'a Template,
    pub partition: Option<i32>,
    pub headers: &'a [(String, String)],
    pub count: u64,
    /// Keep one row per message (small batches); otherwise only per-partition totals.
    pub keep_rows: bool,
    /// Messages per second to hand to the producer, evenly spaced; None: as fast as it takes them.
    pub rate: Option<u32>,
}

/// Where one message landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub n: u64,
    pub key: Option<String>,
    pub partition: i32,
    /// -1 when the producer cannot know (acks=0: the broker never answers).
    pub offset: i64,
    pub timestamp: String,
}

/// Per partition: how many messages, and the first and last offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionTally {
    pub messages: u64,
    pub first: i64,
    pub last: i64,
}

/// What a `produce` achieved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// One row per message, in order, when asked for.
    pub rows: Vec<Delivery>,
    pub partitions: BTreeMap<i32, PartitionTally>,
    /// (message number, key, why), in order.
    pub failures: Vec<(u64, Option<String>, String)>,
    /// The Kafka names of the errors behind the failures (NOT_ENOUGH_REPLICAS, MSG_TIMED_OUT),
    /// with what the broker answered to the tries before a message timed out.
    pub errors: std::collections::BTreeSet<String>,
    /// What the broker answered to the batches the producer retried, each once, with how many
    /// times (librdkafka retries a retriable error until `message.timeout.ms`).
    pub retried: Vec<(String, usize)>,
    pub delivered: u64,
    pub elapsed: Duration,
    /// How the messages went out in batches, for a measured producer whose statistics came in time.
    pub batches: Option<BatchFigures>,
}

/// How a transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionEnd {
    Committed,
    /// Some messages failed, so none of them count.
    Aborted,
}

type DeliveryResult = std::result::Result<OwnedDeliveryResult, futures::channel::oneshot::Canceled>;

impl DeliveryReport {
    fn record(&mut self, n: u64, key: Option<String>, result: DeliveryResult, keep_rows: bool) {
        match result {
            Ok(Ok(delivery)) => {
                self.delivered += 1;
                let tally = self.partitions.entry(delivery.partition).or_insert(PartitionTally {
                    messages: 0,
                    first: delivery.offset,
                    last: delivery.offset,
                });
                tally.messages += 1;
                tally.first = tally.first.min(delivery.offset);
                tally.last = tally.last.max(delivery.offset);
                if keep_rows {
                    let timestamp = crate::format::timestamp(delivery.timestamp.to_millis());
                    self.rows.push(Delivery { n, key, partition: delivery.partition, offset: delivery.offset, timestamp });
                }
            }
            Ok(Err((err, _message))) => {
                self.errors.extend(super::errors::error_name(&err));
                self.failures.push((n, key, describe_kafka_error(&err)));
            }
            Err(_) => self.failures.push((n, key, "the producer went away before the broker answered".into())),
        }
    }

    fn finish(&mut self, elapsed: Duration) {
        self.rows.sort_by_key(|row| row.n);
        self.failures.sort_by_key(|failure| failure.0);
        self.elapsed = elapsed;
    }
}

impl Connection {
    /// Send every message of `request` with these producer settings.
    pub async fn produce(
        &self,
        settings: ProducerSettings,
        request: &ProduceRequest<'_>,
        progress: Option<Box<dyn Progress>>,
    ) -> Result<DeliveryReport> {
        let (producer, meter, refusals) = self.metered_producer(settings)?;
        // Connect and learn the topic's leaders before the clock starts, so the rate shown is
        // the sending, not a new producer's first connection.
        let warm = producer.clone();
        let topic = request.topic.to_string();
        let _ = tokio::task::spawn_blocking(move || warm.client().fetch_metadata(Some(&topic), CLUSTER_TIMEOUT)).await;
        let before = meter.as_ref().map(|meter| meter.topic(request.topic));
        let mark = refusals.as_ref().map_or(0, super::context::Refusals::mark);
        let mut report = deliver(&producer, request, progress).await;
        if let Some(refusals) = refusals {
            for heard in refusals.since(mark) {
                match report.retried.iter_mut().find(|(text, _)| *text == heard) {
                    Some((_, times)) => *times += 1,
                    None => report.retried.push((heard, 1)),
                }
            }
            // A message that timed out was refused for the reasons its tries heard.
            if !report.failures.is_empty() {
                report.errors.extend(report.retried.iter().filter_map(|(text, _)| super::errors::name_of(text)));
            }
        }
        if let (Some(meter), Some(before)) = (meter, before) {
            // The batches are counted when built, before their deliveries; the next report or two has them.
            let wait = Duration::from_secs(3);
            report.batches = meter.settled(request.topic, before, report.delivered, wait).await;
        }
        Ok(report)
    }

    /// Send every message of `request` in one transaction, committed at the end (aborted if a
    /// message failed, or if `abort_at_end`). `failed(step, detail)` explains a transaction that could not go on.
    pub async fn produce_in_transaction(
        &self,
        id: &str,
        request: &ProduceRequest<'_>,
        progress: Option<Box<dyn Progress>>,
        abort_at_end: bool,
        failed: impl Fn(&str, String) -> Error,
    ) -> Result<(DeliveryReport, TransactionEnd)> {
        let producer = self.transactional_producer(id)?;
        let setup = producer.clone();
        tokio::task::spawn_blocking(move || setup.init_transactions(CLUSTER_TIMEOUT))
            .await
            .map_err(|e| stopped("the transaction setup", e))?
            .map_err(|e| failed("start", e.to_string()))?;
        producer.begin_transaction().map_err(|e| failed("begin", e.to_string()))?;
        let report = deliver(&producer, request, progress).await;
        let abort = abort_at_end || !report.failures.is_empty();
        let finish = producer.clone();
        let ended = tokio::task::spawn_blocking(move || {
            if abort {
                finish.abort_transaction(CLUSTER_TIMEOUT)
            } else {
                finish.commit_transaction(CLUSTER_TIMEOUT)
            }
        })
        .await
        .map_err(|e| stopped("the transaction", e))?;
        match ended {
            Ok(()) => Ok((report, if abort { TransactionEnd::Aborted } else { TransactionEnd::Committed })),
            Err(err) => {
                let abort = producer.clone();
                let _ = tokio::task::spawn_blocking(move || abort.abort_transaction(CLUSTER_TIMEOUT)).await;
                Err(failed("commit", err.to_string()))
            }
        }
    }
}

/// Hand every message to the producer, awaiting deliveries as the queue fills, and tally them.
async fn deliver(producer: &FutureProducer<Context>, request: &ProduceRequest<'_>, progress: Option<Box<dyn Progress>>) -> DeliveryReport {
    let mut headers = OwnedHeaders::new_with_capacity(request.headers.len());
    for (key, value) in request.headers {
        headers = headers.insert(Header { key, value: Some(value) });
    }
    let started = Instant::now();
    let mut report = DeliveryReport::default();
    let mut pending: VecDeque<(u64, Option<String>, DeliveryFuture)> = VecDeque::new();
    let tally = |report: &mut DeliveryReport, n, key, result| {
        report.record(n, key, result, request.keep_rows);
        if let Some(progress) = &progress {
            progress.advance(1);
        }
    };
    for n in 1..=request.count {
        if let Some(rate) = request.rate {
            // Message n is due n/rate seconds after the start; the timer's granularity is a millisecond.
            let due = started + Duration::from_secs_f64((n - 1) as f64 / f64::from(rate.max(1)));
            if due > Instant::now() + Duration::from_millis(1) {
                tokio::time::sleep_until(due.into()).await;
            }
        }
        let value = request.values.render(n);
        let key = request.keys.render(n);
        let mut record = FutureRecord::<str, str>::to(request.topic);
        // An empty header list still costs a C allocation and copy per message.
        if !request.headers.is_empty() {
            record = record.headers(headers.clone());
        }
        if let Some(value) = value.as_deref() {
            record = record.payload(value);
        }
        if let Some(key) = key.as_deref() {
            record = record.key(key);
        }
        if let Some(partition) = request.partition {
            record = record.partition(partition);
        }
        if n % 1024 == 0 {
            // Let Ctrl-C in, and count what has already been delivered so the bar moves.
            tokio::task::yield_now().await;
            while let Some(result) = pending.front_mut().and_then(|(_, _, delivery)| delivery.now_or_never()) {
                if let Some((n, key, _)) = pending.pop_front() {
                    tally(&mut report, n, key, result);
                }
            }
        }
        let kept_key = key.as_deref().filter(|_| request.keep_rows).map(str::to_string);
        loop {
            match producer.send_result(record) {
                Ok(delivery) => {
                    pending.push_back((n, kept_key, delivery));
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                    // The local queue is full: wait for the oldest delivery, then try again.
                    record = returned;
                    match pending.pop_front() {
                        Some((n, key, delivery)) => tally(&mut report, n, key, delivery.await),
                        None => tokio::time::sleep(Duration::from_millis(1)).await,
                    }
                }
                Err((err, _)) => {
                    report.errors.extend(super::errors::error_name(&err));
                    report.failures.push((n, key.as_deref().map(str::to_string), describe_kafka_error(&err)));
                    if let Some(progress) = &progress {
                        progress.advance(1);
                    }
                    break;
                }
            }
        }
    }
    while let Some((n, key, delivery)) = pending.pop_front() {
        tally(&mut report, n, key, delivery.await);
    }
    if let Some(progress) = &progress {
        progress.finish();
    }
    report.finish(started.elapsed());
    report
}
