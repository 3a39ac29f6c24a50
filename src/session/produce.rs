//! `produce`: checks what the learner asked for, hands the messages to the Kafka layer's
//! produce pipeline, and shows where each one landed.

use std::collections::BTreeMap;

use super::batches::Batched;
use super::sends::Asked;
use super::topics::check_partition;
use super::Session;
use crate::command::{Acks, ProduceArgs};
use crate::error::{Error, Result};
use crate::format::{group_digits, Template};
use crate::kafka::produce::TransactionEnd;
use crate::kafka::{BatchFigures, Batching, Compression, DeliveryReport, ProduceRequest, ProducerSettings};
use crate::outcome::{Outcome, Table};
use crate::report::{Events, Progress};

/// Above this many messages `produce` shows a progress bar and a per-partition summary instead
/// of one row per message.
pub const PRODUCE_TABLE_LIMIT: u64 = 20;

impl Session {
    pub(super) async fn produce(&self, args: ProduceArgs) -> Result<Outcome> {
        if args.idempotent && args.acks != Acks::All {
            return Err(Error::input("--idempotent needs --acks all: the producer must know every write landed"));
        }
        if args.transactional_id.is_some() && args.acks != Acks::All {
            return Err(Error::input("a transaction needs --acks all"));
        }
        if args.transactional_id.is_some() && self.target.is_embedded() {
            return Err(self.transaction_error("begin", "tansu has no EndTxn".into()));
        }
        let topic = self.connection.topic(&args.topic).await?;
        check_partition(&topic, args.partition)?;
        let values = if args.raw { Template::raw(args.value.as_deref()) } else { Template::value(args.value.as_deref())? };
        let keys = Template::raw(args.key.as_deref());
        let keep_rows = args.count <= PRODUCE_TABLE_LIMIT;
        let request = ProduceRequest {
            topic: &args.topic,
            values: &values,
            keys: &keys,
            partition: args.partition,
            headers: &args.headers,
            count: args.count,
            keep_rows,
            rate: args.rate,
        };
        let progress = (!keep_rows).then(|| changes(self.reporter.progress(args.count, "producing"), self.events.clone()));
        let Some(id) = &args.transactional_id else {
            let batching = Batching { linger_ms: args.linger_ms, batch_size: args.batch_size, compression: args.compression.map(Into::into) };
            // Only a produce big enough for a summary waits for librdkafka's count of its batches.
            let settings = ProducerSettings { acks: args.acks.into(), idempotent: args.idempotent, batching, measured: !keep_rows };
            let report = self.connection.produce(settings, &request, progress).await?;
            let asked = Asked { acks: args.acks, idempotent: args.idempotent, chosen: args.partition.is_some(), keyed: args.key.is_some() };
            self.record_sends(&args.topic, asked, &report);
            let codec = args.compression.map_or(Compression::None, Into::into);
            self.record_batched(&args.topic, Batched { messages: args.count, figures: report.batches, batching, rate: args.rate });
            // INVALID_RECORD, as librdkafka words it: the broker's schema registry refused it.
            let refused = report.failures.iter().filter(|(_, _, reason)| reason.contains("failed to validate record"));
            let reasons = self.schema_reasons(&args.topic, refused.map(|(n, _, _)| (*n, values.render(*n).map(String::from))));
            return Ok(delivery_outcome(report, &args.topic, keep_rows, &reasons, codec));
        };
        let failed = |step: &str, detail: String| self.transaction_error(step, detail);
        let (report, end) = self.connection.produce_in_transaction(id, &request, progress, args.abort, failed).await?;
        let asked = Asked { acks: args.acks, idempotent: true, chosen: args.partition.is_some(), keyed: args.key.is_some() };
        self.record_sends(&args.topic, asked, &report);
        let said = match end {
            TransactionEnd::Committed => Outcome::Done(format!(
                "committed transaction '{id}': consumers reading with isolation.level=read_committed now see these {} message(s)",
                args.count
            )),
            TransactionEnd::Aborted if args.abort => Outcome::Done(format!(
                "aborted transaction '{id}': its {} message(s) stay in the log, with an abort marker after them; \
                 read_committed readers skip them, read_uncommitted readers see them",
                args.count
            )),
            TransactionEnd::Aborted => Outcome::Warning(format!("aborted transaction '{id}': a message failed, so none of them count")),
        };
        Ok(Outcome::Many(vec![delivery_outcome(report, &args.topic, keep_rows, &BTreeMap::new(), Compression::None), said]))
    }

    /// A transaction that could not go on, said plainly, with what to do on the embedded broker.
    fn transaction_error(&self, step: &str, detail: String) -> Error {
        match self.target.is_embedded() {
            true => Error::unsupported(
                format!(
                    "transactions need Apache Kafka: the embedded tansu 0.6.0 broker cannot commit a transaction \
                     (it has no EndTxn; the {step} step failed: {detail})"
                ),
                "start kafka-workshop with --apache-kafka DIR, or connect to Apache Kafka with --bootstrap-servers, to try this",
            ),
            false => Error::kafka(format!("the transaction could not {step}: {detail}")),
        }
    }
}

/// How the messages went out, as librdkafka counted its batches.
fn batches_line(figures: BatchFigures, codec: Compression) -> String {
    format!(
        "they went out in {} batch(es) of {:.1} messages on average; the batches took {} bytes for {} bytes of keys and values ({:.0}%, compression {})",
        group_digits(figures.batches),
        figures.per_batch(),
        group_digits(figures.batch_bytes),
        group_digits(figures.payload_bytes),
        figures.percent_of_payload(),
        codec.as_config()
    )
}

/// A progress bar that also tells the session's observers (the web page, `watch`) that the
/// topic is growing, at most twenty times a second.
fn changes(bar: Box<dyn Progress>, events: Events) -> Box<dyn Progress> {
    struct Changes {
        bar: Box<dyn Progress>,
        events: Events,
        advanced: std::sync::atomic::AtomicU64,
        told: std::sync::Mutex<std::time::Instant>,
    }
    impl Progress for Changes {
        fn advance(&self, by: u64) {
            self.bar.advance(by);
            // Looking at the clock for every message would cost the produce rate.
            let before = self.advanced.fetch_add(by, std::sync::atomic::Ordering::Relaxed);
            if before / 256 == (before + by) / 256 {
                return;
            }
            if let Ok(mut told) = self.told.lock() {
                if told.elapsed() >= std::time::Duration::from_millis(50) {
                    *told = std::time::Instant::now();
                    self.events.changed();
                }
            }
        }
        fn finish(&self) {
            self.bar.finish();
            self.events.changed();
        }
    }
    Box::new(Changes { bar, events, advanced: std::sync::atomic::AtomicU64::new(0), told: std::sync::Mutex::new(std::time::Instant::now()) })
}

/// Where the messages went: one row each for a few, a summary per partition for many, and
/// every failure, with why the topic's schema refused it where that is known.
fn delivery_outcome(report: DeliveryReport, topic: &str, keep_rows: bool, why: &BTreeMap<u64, String>, codec: Compression) -> Outcome {
    let mut parts = Vec::new();
    if keep_rows {
        if !report.rows.is_empty() {
            let mut table = Table::new(["PARTITION", "OFFSET", "KEY", "TIMESTAMP"]).verbatim(&["KEY"]);
            for row in &report.rows {
                // With acks=0 the broker never answers, so the producer cannot know the offset.
                let offset = if row.offset < 0 { "unknown".to_string() } else { row.offset.to_string() };
                table.push([row.partition.to_string(), offset, crate::format::optional(&row.key), row.timestamp.clone()]);
            }
            parts.push(Outcome::Table(table));
        }
    } else {
        let seconds = report.elapsed.as_secs_f64().max(1e-6);
        #[allow(clippy::cast_precision_loss)]
        let rate = report.delivered as f64 / seconds;
        parts.push(Outcome::Done(format!(
            "sent {} message(s) to '{topic}' in {seconds:.2} s ({} msg/s)",
            report.delivered,
            group_digits(rate.round() as u64)
        )));
        if let Some(figures) = report.batches {
            parts.push(Outcome::Note(batches_line(figures, codec)));
        }
        let mut table = Table::new(["PARTITION", "MESSAGES", "FIRST-OFFSET", "LAST-OFFSET"]);
        for (partition, tally) in &report.partitions {
            table.push([partition.to_string(), tally.messages.to_string(), tally.first.to_string(), tally.last.to_string()]);
        }
        parts.push(Outcome::Table(table));
    }
    if let Some((_, _, first)) = report.failures.first() {
        let mut table = Table::new(["MESSAGE", "KEY", "ERROR"]).verbatim(&["KEY"]);
        if !why.is_empty() {
            table = Table::new(["MESSAGE", "KEY", "ERROR", "WHY (CHECKED AGAINST THE TOPIC'S SCHEMA)"]).verbatim(&["KEY"]);
        }
        for (n, key, reason) in report.failures.iter().take(20) {
            let mut row = vec![format!("#{n}"), crate::format::optional(key), reason.clone()];
            if !why.is_empty() {
                row.push(why.get(n).cloned().unwrap_or_else(|| "-".into()));
            }
            table.push(row);
        }
        parts.push(Outcome::Table(table.titled("not delivered")));
        for (said, times) in &report.retried {
            let name = crate::kafka::error_name_of(said).map(|n| format!("{n} ")).unwrap_or_default();
            parts.push(Outcome::Note(format!(
                "the broker refused {times} tr{} with {name}({said}); the producer retries that until message.timeout.ms runs out",
                if *times == 1 { "y" } else { "ies" }
            )));
        }
        parts.push(Outcome::Failure(Error::kafka(format!("{} message(s) were not delivered: {first}", report.failures.len()))));
    }
    Outcome::Many(parts)
}
