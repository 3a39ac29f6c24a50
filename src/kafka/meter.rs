//! How a producer's messages went out in batches, from librdkafka's own statistics
//! (`statistics.interval.ms`): per topic, how many batches, how many messages they held, their
//! bytes as sent (after compression) and the keys' and values' bytes before it. librdkafka
//! counts these as it builds each Produce request, so they say what went over the wire, not
//! what was asked for. Any cluster gives the same figures: the broker is not asked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::statistics::Statistics;
use tokio::sync::watch;

/// How often a measured producer reports its statistics.
pub(super) const STATISTICS_INTERVAL: Duration = Duration::from_millis(200);

/// One topic's batches, so far or over one `produce`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchFigures {
    pub batches: u64,
    pub messages: u64,
    /// The batches as sent: record framing included, after compression.
    pub batch_bytes: u64,
    /// The messages' keys and values alone, before compression.
    pub payload_bytes: u64,
}

impl BatchFigures {
    fn since(self, before: BatchFigures) -> BatchFigures {
        BatchFigures {
            batches: self.batches.saturating_sub(before.batches),
            messages: self.messages.saturating_sub(before.messages),
            batch_bytes: self.batch_bytes.saturating_sub(before.batch_bytes),
            payload_bytes: self.payload_bytes.saturating_sub(before.payload_bytes),
        }
    }

    /// Messages per batch, on average.
    #[allow(clippy::cast_precision_loss)]
    pub fn per_batch(&self) -> f64 {
        self.messages as f64 / self.batches.max(1) as f64
    }

    /// The batches' size as a percentage of the keys and values they carry.
    #[allow(clippy::cast_precision_loss)]
    pub fn percent_of_payload(&self) -> f64 {
        100.0 * self.batch_bytes as f64 / self.payload_bytes.max(1) as f64
    }
}

/// The running totals of one producer, filled in by librdkafka's statistics callback.
#[derive(Clone)]
pub(crate) struct Meter {
    totals: Arc<Mutex<HashMap<String, BatchFigures>>>,
    reports: Arc<watch::Sender<u64>>,
}

impl Meter {
    pub(super) fn new() -> Self {
        Meter { totals: Arc::default(), reports: Arc::new(watch::channel(0).0) }
    }

    /// Add one statistics report. The batch windows start afresh with every report, so their
    /// counts add up; the partitions' byte counters are totals already.
    pub(super) fn fold(&self, statistics: &Statistics) {
        if let Ok(mut totals) = self.totals.lock() {
            for (name, topic) in &statistics.topics {
                let total = totals.entry(name.clone()).or_default();
                total.batches += u64::try_from(topic.batchcnt.cnt).unwrap_or(0);
                total.messages += u64::try_from(topic.batchcnt.sum).unwrap_or(0);
                total.batch_bytes += u64::try_from(topic.batchsize.sum).unwrap_or(0);
                total.payload_bytes = topic.partitions.iter().filter(|(id, _)| **id >= 0).map(|(_, p)| p.txbytes).sum();
            }
        }
        self.reports.send_modify(|n| *n += 1);
    }

    pub(super) fn topic(&self, topic: &str) -> BatchFigures {
        self.totals.lock().ok().and_then(|totals| totals.get(topic).copied()).unwrap_or_default()
    }

    /// The figures since `before`, once the batches of `messages` more messages have been
    /// reported; None if librdkafka has not reported them within `wait`.
    pub(super) async fn settled(&self, topic: &str, before: BatchFigures, messages: u64, wait: Duration) -> Option<BatchFigures> {
        let mut reports = self.reports.subscribe();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let now = self.topic(topic).since(before);
            if now.messages >= messages {
                return Some(now);
            }
            if tokio::time::timeout_at(deadline, reports.changed()).await.is_err() {
                return None;
            }
        }
    }
}
