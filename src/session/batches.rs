//! How this session's produces went out in batches, as librdkafka counted them (`produce`
//! prints it), and the checks on the latest one: `topic T batched N [M]` and
//! `topic T compressed N [M]`. Only a send handed over with `--rate` counts: messages handed
//! over all at once fill their batches whatever `linger.ms` is, so they prove nothing about it.

use std::collections::BTreeMap;

use super::produce::PRODUCE_TABLE_LIMIT;
use super::{Session, Verdict};
use crate::error::{Error, Result};
use crate::kafka::{BatchFigures, Batching, Compression};

/// librdkafka's `linger.ms` when neither the command nor `-X` sets it.
const DEFAULT_LINGER_MS: u32 = 5;

/// One produce to a topic, as far as batching goes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Batched {
    pub messages: u64,
    /// None when it was too small to be counted, or librdkafka did not report it in time.
    pub figures: Option<BatchFigures>,
    pub batching: Batching,
    /// `--rate`: None when every message was handed over at once.
    pub rate: Option<u32>,
}

/// The latest produces to each topic.
#[derive(Debug, Default)]
pub(super) struct BatchLog(BTreeMap<String, Batched>);

impl Session {
    pub(super) fn record_batched(&self, topic: &str, batched: Batched) {
        if let Ok(mut log) = self.batches.lock() {
            log.0.insert(topic.to_string(), batched);
        }
    }

    /// `topic T batched N [M]`.
    pub(super) fn check_batched(&self, topic: &str, per_batch: u64, messages: u64) -> Result<Verdict> {
        let latest = match self.latest_counted(topic, messages)? {
            Ok(latest) => latest,
            Err(not_yet) => return Ok(not_yet),
        };
        let (sent, figures) = latest;
        #[allow(clippy::cast_precision_loss)]
        let holds = figures.per_batch() >= per_batch as f64;
        let what = format!(
            "your latest send to {topic} ({}) went out in {} batch(es) of {:.1} messages on average",
            settings(&sent),
            figures.batches,
            figures.per_batch()
        );
        Ok(Verdict::when(holds, what.clone(), || {
            let why = match sent.batching.batch_size {
                // Batches about as big as batch.size were closed by it, not by linger.ms.
                Some(size) if figures.batch_bytes / figures.batches.max(1) * 2 >= u64::from(size) => {
                    format!("--batch-size {size} closed each batch as soon as it held {size} bytes, however long it could wait")
                }
                _ => match (sent.rate.unwrap_or(0), sent.batching.linger_ms.unwrap_or(DEFAULT_LINGER_MS)) {
                    (_, 0) => "with linger.ms 0 a batch goes as soon as it can, with only what piled up meanwhile".to_string(),
                    (rate, linger) => format!(
                        "at {rate} messages a second, a batch that waits {linger} ms gathers about {}: let it wait longer",
                        u64::from(rate) * u64::from(linger) / 1000
                    ),
                },
            };
            format!("expected {per_batch} or more messages a batch: {what}; {why}")
        }))
    }

    /// `topic T compressed N [M]`.
    pub(super) fn check_compressed(&self, topic: &str, percent: u64, messages: u64) -> Result<Verdict> {
        let (sent, figures) = match self.latest_counted(topic, messages)? {
            Ok(latest) => latest,
            Err(not_yet) => return Ok(not_yet),
        };
        #[allow(clippy::cast_precision_loss)]
        let holds = figures.percent_of_payload() <= percent as f64;
        let what = format!(
            "your latest send to {topic} ({}) took {:.0}% of the bytes of its keys and values, in batches of {:.1} messages on average",
            settings(&sent),
            figures.percent_of_payload(),
            figures.per_batch()
        );
        Ok(Verdict::when(holds, what.clone(), || {
            let why = match sent.batching.compression {
                None | Some(Compression::None) => "; it was not compressed",
                Some(_) if figures.per_batch() < 10.0 => "; batches this small leave compression little to find",
                Some(_) => "",
            };
            format!("expected {percent}% or less: {what}{why}")
        }))
    }

    /// The latest send to `topic`, with its batch figures, or why it cannot be judged.
    fn latest_counted(&self, topic: &str, messages: u64) -> Result<std::result::Result<(Batched, BatchFigures), Verdict>> {
        let log = self.batches.lock().map_err(|_| Error::input("the session's record of sends is damaged"))?;
        let not_yet = |why: String| Ok(Err(Verdict::NotYet(why)));
        let Some(sent) = log.0.get(topic).copied() else {
            return not_yet(format!("expected a send of more than {PRODUCE_TABLE_LIMIT} messages to {topic} with --rate; you have sent it none yet"));
        };
        if sent.messages <= PRODUCE_TABLE_LIMIT {
            return not_yet(format!(
                "your latest send to {topic} had {} message(s): only a send of more than {PRODUCE_TABLE_LIMIT} has its batches counted",
                sent.messages
            ));
        }
        if sent.messages < messages {
            return not_yet(format!("your latest send to {topic} had {} messages; the task asks for {messages}", sent.messages));
        }
        if sent.rate.is_none() {
            return not_yet(format!(
                "your latest send to {topic} handed every message over at once, so its batches filled on their own whatever \
                 linger.ms was; add --rate to send them over time, as a till does"
            ));
        }
        match sent.figures {
            Some(figures) => Ok(Ok((sent, figures))),
            None => not_yet(format!("librdkafka did not report how your latest send to {topic} was batched in time; send it again")),
        }
    }
}

/// The settings a send was made with, as a learner would compare them.
fn settings(sent: &Batched) -> String {
    let mut said = vec![format!("--rate {}", sent.rate.unwrap_or(0))];
    said.push(sent.batching.linger_ms.map_or_else(|| "linger.ms default".to_string(), |ms| format!("--linger-ms {ms}")));
    if let Some(size) = sent.batching.batch_size {
        said.push(format!("--batch-size {size}"));
    }
    said.push(format!("compression {}", sent.batching.compression.unwrap_or(Compression::None).as_config()));
    said.join(", ")
}
