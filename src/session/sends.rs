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
use crate::kafka::DeliveryReport;

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

/// One produce command's outcome.
#[derive(Debug, Clone)]
struct Produced {
    topic: String,
    acks: Acks,
    messages: u64,
    delivered: u64,
    /// The Kafka names of the errors that refused its messages.
    errors: Vec<String>,
    /// The first refusal, as the learner saw it.
    reason: Option<String>,
}

#[derive(Debug, Default)]
pub(super) struct Sends {
    sent: Vec<Sent>,
    /// Each produce, oldest first.
    produced: Vec<Produced>,
    /// Refusals per topic: the broker's error for each message it did not take.
    refused: BTreeMap<String, Vec<String>>,
}

impl Sends {
    pub(super) fn record(&mut self, topic: &str, asked: Asked, report: &DeliveryReport) {
        self.produced.push(Produced {
            topic: topic.to_string(),
            acks: asked.acks,
            messages: report.delivered + report.failures.len() as u64,
            delivered: report.delivered,
            errors: report.errors.iter().cloned().collect(),
            reason: report.failures.first().map(|(_, _, reason)| reason.clone()),
        });
        if self.produced.len() > KEPT {
            self.produced.remove(0);
        }
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

impl Session {
    /// `produce T acks=X acknowledged`: the latest produce to T went with these acks, and the
    /// broker acknowledged all of it.
    pub(super) fn check_acknowledged(&self, topic: &str, acks: crate::expect::AcksWord) -> Result<Verdict> {
        let acks = acks_of(acks);
        let sends = self.sends.lock().map_err(|_| crate::error::Error::input("the session's record of sends is damaged"))?;
        let wanted = format!("your latest produce to {topic} to have been sent with acks={} and acknowledged", acks_word(acks));
        let Some(latest) = sends.produced.iter().rev().find(|p| p.topic == topic) else {
            return Ok(Verdict::NotYet(format!("expected {wanted}, but this session has not produced to {topic}")));
        };
        Ok(if latest.acks != acks {
            Verdict::NotYet(format!("expected {wanted}, but it was sent with acks={}", acks_word(latest.acks)))
        } else if acks == Acks::Zero {
            Verdict::when(latest.delivered == latest.messages, format!("your latest produce to {topic} went out with acks=0 (nobody acknowledges it)"), || {
                format!("expected {wanted}, but {} of its messages never left", latest.messages - latest.delivered)
            })
        } else {
            Verdict::when(
                latest.delivered == latest.messages && latest.messages > 0,
                format!("the broker acknowledged all {} message(s) of your latest produce to {topic} (acks={})", latest.messages, acks_word(acks)),
                || format!("expected {wanted}, but {} of its {} message(s) were refused: {}", latest.messages - latest.delivered, latest.messages, latest.reason.as_deref().unwrap_or("")),
            )
        })
    }

    /// `produce T acks=X refused REASON`: the latest produce to T with these acks was refused
    /// for this reason (a Kafka error name).
    pub(super) fn check_produce_refused(&self, topic: &str, acks: crate::expect::AcksWord, reason: &str) -> Result<Verdict> {
        let acks = acks_of(acks);
        let sends = self.sends.lock().map_err(|_| crate::error::Error::input("the session's record of sends is damaged"))?;
        let wanted = format!("your latest produce to {topic} with acks={} to have been refused with {reason}", acks_word(acks));
        let Some(latest) = sends.produced.iter().rev().find(|p| p.topic == topic && p.acks == acks) else {
            return Ok(Verdict::NotYet(format!("expected {wanted}, but this session has sent nothing to {topic} with acks={}", acks_word(acks))));
        };
        Ok(if latest.errors.iter().any(|e| e == reason) {
            Verdict::Holds(format!("the broker refused your latest produce to {topic} with acks={}: {reason}", acks_word(acks)))
        } else if latest.errors.is_empty() {
            Verdict::NotYet(format!("expected {wanted}, but the broker acknowledged all {} of its message(s)", latest.messages))
        } else {
            Verdict::NotYet(format!("expected {wanted}, but it failed with {}", latest.errors.join(", ")))
        })
    }
}

/// The `--acks` a condition names.
fn acks_of(word: crate::expect::AcksWord) -> Acks {
    match word {
        crate::expect::AcksWord::Zero => Acks::Zero,
        crate::expect::AcksWord::One => Acks::One,
        crate::expect::AcksWord::All => Acks::All,
    }
}

fn acks_word(acks: Acks) -> &'static str {
    match acks {
        Acks::Zero => "0",
        Acks::One => "1",
        Acks::All => "all",
    }
}
