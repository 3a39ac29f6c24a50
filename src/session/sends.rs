//! What this session's own produces did, as the session saw them: the settings each was sent
//! with and the broker's answer. Some ideas leave no trace in the log: whether a message waited
//! for every in-sync replica, whether the producer chose its partition, a record the broker
//! refused. A lesson checks those here, against what really went out and what the broker said,
//! never against the text the learner typed.

use std::collections::BTreeMap;

use super::{Session, Verdict};
use crate::command::Acks;
use crate::error::Result;
use crate::expect::SendWay;
use crate::kafka::{BatchFigures, Compression, DeliveryReport};

/// At most this many sends are kept: a session that produces for hours keeps its latest.
const KEPT: usize = 10_000;

/// One produce's messages to one partition.
#[derive(Debug, Clone)]
struct Sent {
    topic: String,
    partition: i32,
    /// The offsets the broker gave them (-1 with acks=0: it never answered).
    first: i64,
    last: i64,
    acks: Acks,
    idempotent: bool,
    chosen: bool,
    keyed: bool,
}

/// How one produce was asked for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Asked {
    pub acks: Acks,
    /// An idempotent or transactional producer: the broker gave it a producer id.
    pub idempotent: bool,
    pub chosen: bool,
    pub keyed: bool,
}

#[derive(Debug, Default)]
pub(super) struct Sends {
    sent: Vec<Sent>,
    /// Refusals per topic: the broker's error for each message it did not take.
    refused: BTreeMap<String, Vec<String>>,
    /// Per topic, how each measured produce went out in batches, its compression and its
    /// `--rate` (None: handed over all at once).
    batched: BTreeMap<String, Vec<(BatchFigures, Compression, Option<u32>)>>,
}

impl Sends {
    pub(super) fn record(&mut self, topic: &str, asked: Asked, report: &DeliveryReport) {
        for (partition, tally) in &report.partitions {
            self.sent.push(Sent {
                topic: topic.to_string(),
                partition: *partition,
                first: tally.first,
                last: tally.last,
                acks: asked.acks,
                idempotent: asked.idempotent,
                chosen: asked.chosen,
                keyed: asked.keyed,
            });
        }
        if self.sent.len() > KEPT {
            let extra = self.sent.len() - KEPT;
            self.sent.drain(..extra);
        }
        let refused = self.refused.entry(topic.to_string()).or_default();
        refused.extend(report.failures.iter().map(|(_, _, reason)| reason.clone()));
        if refused.len() > KEPT {
            let extra = refused.len() - KEPT;
            refused.drain(..extra);
        }
    }

    /// How the message at this offset was sent, if this session sent it.
    fn at(&self, topic: &str, partition: i32, offset: i64) -> Option<&Sent> {
        self.sent.iter().rev().find(|s| s.topic == topic && s.partition == partition && s.first >= 0 && s.first <= offset && offset <= s.last)
    }

    /// How many messages to this partition came from an idempotent producer.
    pub(super) fn idempotent_in(&self, topic: &str, partition: i32) -> i64 {
        self.sent.iter().filter(|s| s.topic == topic && s.partition == partition && s.idempotent && s.first >= 0).map(|s| s.last - s.first + 1).sum()
    }
}

impl Session {
    pub(super) fn record_sends(&self, topic: &str, asked: Asked, report: &DeliveryReport) {
        if let Ok(mut sends) = self.sends.lock() {
            sends.record(topic, asked, report);
        }
    }

    pub(super) fn record_batches(&self, topic: &str, figures: BatchFigures, codec: Compression, rate: Option<u32>) {
        if let Ok(mut sends) = self.sends.lock() {
            let batched = sends.batched.entry(topic.to_string()).or_default();
            batched.push((figures, codec, rate));
            if batched.len() > KEPT {
                batched.remove(0);
            }
        }
    }

    /// `topic T batched N`: a produce to T whose messages came over time (`--rate`, as a till's
    /// do) went out in batches of N or more messages on average. Messages handed over all at
    /// once fill batches whatever `linger.ms` is, so they prove nothing about it.
    pub(super) fn check_batched(&self, topic: &str, per_batch: u64) -> Result<Verdict> {
        let sends = self.sends.lock().map_err(|_| crate::error::Error::input("the session's record of sends is damaged"))?;
        let measured = sends.batched.get(topic).map_or(&[][..], Vec::as_slice);
        if let Some(unpaced) = all_at_once(topic, measured) {
            return Ok(unpaced);
        }
        let best = measured.iter().filter(|(_, _, rate)| rate.is_some()).map(|(figures, _, _)| *figures).max_by(|a, b| a.per_batch().total_cmp(&b.per_batch()));
        #[allow(clippy::cast_precision_loss)]
        let wanted = per_batch as f64;
        Ok(match best {
            Some(best) if best.per_batch() >= wanted => Verdict::Holds(format!(
                "your produce of {} messages to {topic} went out in {} batch(es) of {:.1} messages on average",
                best.messages,
                best.batches,
                best.per_batch()
            )),
            Some(best) => Verdict::NotYet(format!(
                "expected a produce to {topic} in batches of {per_batch} or more messages on average; your best so far averaged {:.1} ({} messages in {} batches){}",
                best.per_batch(),
                best.messages,
                best.batches,
                latest_at_once(measured)
            )),
            None => Verdict::NotYet(format!("expected a produce of more than {} messages to {topic}: only those have their batches counted", super::produce::PRODUCE_TABLE_LIMIT)),
        })
    }

    /// `topic T compressed N`: a produce to T whose messages came over time went out in batches
    /// that took at most N% of the bytes of their keys and values.
    pub(super) fn check_compressed(&self, topic: &str, percent: u64) -> Result<Verdict> {
        let sends = self.sends.lock().map_err(|_| crate::error::Error::input("the session's record of sends is damaged"))?;
        let measured = sends.batched.get(topic).map_or(&[][..], Vec::as_slice);
        if let Some(unpaced) = all_at_once(topic, measured) {
            return Ok(unpaced);
        }
        let best = measured.iter().filter(|(_, _, rate)| rate.is_some()).map(|(figures, codec, _)| (figures, codec)).min_by(|a, b| a.0.percent_of_payload().total_cmp(&b.0.percent_of_payload()));
        #[allow(clippy::cast_precision_loss)]
        let wanted = percent as f64;
        Ok(match best {
            Some((best, codec)) if best.percent_of_payload() <= wanted => Verdict::Holds(format!(
                "your batches to {topic} took {:.0}% of the bytes of their keys and values (compression {}, {:.1} messages a batch)",
                best.percent_of_payload(),
                codec.as_config(),
                best.per_batch()
            )),
            Some((best, codec)) => Verdict::NotYet(format!(
                "expected batches to {topic} that take {percent}% or less of their keys' and values' bytes; your smallest took {:.0}% (compression {}, {:.1} messages a batch){}",
                best.percent_of_payload(),
                codec.as_config(),
                best.per_batch(),
                latest_at_once(measured)
            )),
            None => Verdict::NotYet(format!("expected a produce of more than {} messages to {topic}: only those have their batches counted", super::produce::PRODUCE_TABLE_LIMIT)),
        })
    }

    /// `message T[P] N sent WAY`.
    pub(super) fn check_sent(&self, topic: &str, partition: i32, offset: i64, way: SendWay) -> Result<Verdict> {
        let sends = self.sends.lock().map_err(|_| crate::error::Error::input("the session's record of sends is damaged"))?;
        let at = format!("{topic}[{partition}] offset {offset}");
        let wanted = format!("the message at {at} to have been sent {}", way.describe());
        let Some(sent) = sends.at(topic, partition, offset) else {
            return Ok(Verdict::NotYet(format!(
                "expected {wanted}, but this session sent nothing that landed there{}",
                if sends.sent.iter().any(|s| s.topic == topic && s.first < 0) {
                    " (a produce with acks=0 never learns where its messages landed)"
                } else {
                    ""
                }
            )));
        };
        let (holds, how) = match way {
            SendWay::AcksAll => (sent.acks == Acks::All, format!("it was sent with acks={}", acks_word(sent.acks))),
            SendWay::AcksOne => (sent.acks == Acks::One, format!("it was sent with acks={}", acks_word(sent.acks))),
            SendWay::Idempotent => (sent.idempotent, "its producer was not idempotent (no --idempotent)".to_string()),
            SendWay::ToPartition => (sent.chosen, "the producer did not choose its partition (no --partition)".to_string()),
            SendWay::Keyed => (sent.keyed && !sent.chosen, if sent.chosen { "its partition was chosen with --partition, not by its key".into() } else { "it had no key".to_string() }),
        };
        Ok(Verdict::when(holds, format!("the message at {at} was sent {}", way.describe()), || format!("expected {wanted}, but {how}")))
    }

    /// `partition T[P] keyed K [N]`: the partition holds messages keyed K (its latest 2,000 are
    /// read), and this session sent at least N of them by their key.
    pub(super) async fn check_keyed(&self, topic: &str, partition: i32, key: &str, count: u64) -> Result<Verdict> {
        let info = self.connection.topic(topic).await?;
        super::topics::check_partition(&info, Some(partition))?;
        let marks = self.connection.watermarks(vec![(topic.to_string(), partition)]).await?;
        let Some(mark) = marks.values().next().copied() else { return Ok(Verdict::NotYet(format!("partition {topic}[{partition}] does not exist"))) };
        let start = mark.low.max(mark.high - 2000);
        let plan = vec![crate::kafka::ReadPlan { partition, start, end: mark.high }];
        let read = if start < mark.high { self.connection.read(topic, plan, 2000).await?.records } else { Vec::new() };
        let offsets: Vec<i64> = read.iter().filter(|r| r.key.as_deref() == Some(key)).map(|r| r.offset).collect();
        let sends = self.sends.lock().map_err(|_| crate::error::Error::input("the session's record of sends is damaged"))?;
        let mut by_key = 0u64;
        let mut chosen = Vec::new();
        for offset in &offsets {
            match sends.at(topic, partition, *offset) {
                Some(sent) if sent.keyed && !sent.chosen => by_key += 1,
                Some(sent) if sent.chosen => chosen.push(offset.to_string()),
                _ => {}
            }
        }
        let place = format!("{topic}[{partition}]");
        Ok(if by_key >= count {
            Verdict::Holds(format!("{place} holds {by_key} message(s) keyed {key} that their key sent there"))
        } else if offsets.is_empty() {
            Verdict::NotYet(format!(
                "expected {count} message(s) keyed {key} in {place}, found none there (`partition-for {key} --topic {topic}` says where that key goes)"
            ))
        } else if !chosen.is_empty() {
            Verdict::NotYet(format!(
                "expected {count} message(s) in {place} sent there by their key {key}, found {by_key}: the one(s) at offset {} were put there with --partition, not by the key",
                chosen.join(", ")
            ))
        } else {
            Verdict::NotYet(format!(
                "expected {count} message(s) in {place} sent there by their key {key}, found {by_key} of the {} keyed {key} there",
                offsets.len()
            ))
        })
    }

    /// `topic T refused N`: the broker refused at least N of this session's sends to T.
    pub(super) fn check_refused(&self, topic: &str, count: u64) -> Result<Verdict> {
        let sends = self.sends.lock().map_err(|_| crate::error::Error::input("the session's record of sends is damaged"))?;
        let refused = sends.refused.get(topic).map_or(&[][..], Vec::as_slice);
        let found = refused.len() as u64;
        Ok(Verdict::when(
            found >= count,
            format!("the broker refused {found} of your sends to {topic} (last: {})", refused.last().map_or("", String::as_str)),
            || format!("expected the broker to have refused {count} or more of your sends to {topic}, found {found}"),
        ))
    }
}

/// A batching check counts only produces whose messages came over time (`--rate`, as a till's
/// do): handed over all at once, messages fill batches whatever `linger.ms` is.
/// Said after a failed batching check whose latest produce was handed over at once.
fn latest_at_once(measured: &[(BatchFigures, Compression, Option<u32>)]) -> &'static str {
    match measured.last() {
        Some((_, _, None)) => " (your latest produce handed its messages over at once, so it does not count: add --rate)",
        _ => "",
    }
}

fn all_at_once(topic: &str, measured: &[(BatchFigures, Compression, Option<u32>)]) -> Option<Verdict> {
    (!measured.is_empty() && measured.iter().all(|(_, _, rate)| rate.is_none())).then(|| {
        Verdict::NotYet(format!(
            "expected a produce to {topic} with --rate: yours handed every message over at once, so the batches filled on their own \
             whatever linger.ms was; send them over time, as a till does"
        ))
    })
}

fn acks_word(acks: Acks) -> &'static str {
    match acks {
        Acks::Zero => "0",
        Acks::One => "1",
        Acks::All => "all",
    }
}
