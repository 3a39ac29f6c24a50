//! The conditions `expect` waits for. The same conditions are lesson checks, so a check typed
//! at the prompt and a check in a lesson are one thing. Parsing lives here; checking them
//! against the cluster is `Session::check`.

use crate::error::{Error, Result};
use crate::outcome::Partitions;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    TopicPartitions { topic: String, count: usize },
    GroupMembers { group: String, count: usize },
    GroupState { group: String, state: String },
    ConsumerAssigned { consumer: String, partitions: Partitions },
    /// How many partitions it holds, whichever they are (the broker's assignor picks them).
    ConsumerHolds { consumer: String, count: usize },
    ConsumerReceived { consumer: String, count: u64 },
    /// Where the consumer reads next in one partition (after a poll or a seek).
    ConsumerPosition { consumer: String, topic: String, partition: i32, offset: i64 },
    /// The group generation of the consumer's latest assignment.
    ConsumerGeneration { consumer: String, generation: i32 },
    /// How many times `restart-consumer` has brought it back.
    ConsumerRestarts { consumer: String, count: u32 },
    /// Its latest restart moved nothing: it came back into the generation it left, holding the
    /// partitions it had (a static member back within its session timeout). However many tries
    /// before it went wrong, only the latest counts.
    ConsumerRejoinedUnchanged { consumer: String },
    PartitionEndOffset { topic: String, partition: i32, offset: i64 },
    /// How many messages a reader really finds in the partition (after retention or compaction).
    PartitionHolds { topic: String, partition: i32, count: u64 },
    /// At least this many of the partition's messages an idempotent producer wrote (their batches carry a
    /// producer id), read from the embedded broker's storage.
    PartitionIdempotent { topic: String, partition: i32, count: i64 },
    /// The message at one offset has this key, or carries this header (`k=v`), or is a tombstone.
    MessageHas { topic: String, partition: i32, offset: i64, field: MessageField },
    /// The message once written at this offset is no longer there: compaction or retention
    /// removed it (`gone`), or the one named (`expired`, `compacted`).
    MessageGone { topic: String, partition: i32, offset: i64, how: Removal },
    /// This session sent the message at this offset this way (the produce's own settings and
    /// the broker's answer, as the session recorded them): what the log cannot show.
    MessageSent { topic: String, partition: i32, offset: i64, way: SendWay },
    /// The partition holds at least `count` messages with this key that this session sent by
    /// their key (not with `--partition`).
    PartitionKeyed { topic: String, partition: i32, key: String, count: u64 },
    /// At least this many of this session's sends to the topic were refused by the broker.
    TopicRefused { topic: String, count: u64 },
    /// This session's latest produce to the topic, of at least `messages` messages handed over
    /// with `--rate`, went out in batches of at least this many messages on average, as
    /// librdkafka counted them.
    TopicBatched { topic: String, per_batch: u64, messages: u64 },
    /// The same, in batches that took at most this percentage of the bytes of their keys and values.
    TopicCompressed { topic: String, percent: u64, messages: u64 },
    /// Every partition of the topic has this many replicas.
    TopicReplication { topic: String, factor: usize },
    /// The partition's leader is this broker (as the Metadata answer names it).
    PartitionLeader { topic: String, partition: i32, broker: i32 },
    /// The partition's in-sync replicas are exactly these brokers, in any order.
    PartitionIsr { topic: String, partition: i32, brokers: Vec<i32> },
    /// Fewer of the partition's replicas are in sync than it has.
    PartitionUnderReplicated { topic: String, partition: i32 },
    /// Fewer of the partition's replicas are in sync than the topic's `min.insync.replicas`.
    PartitionUnderMinIsr { topic: String, partition: i32 },
    /// The topic's `min.insync.replicas`, set on it or inherited from the broker.
    TopicMinInsync { topic: String, count: i32 },
    /// This session's latest produce to the topic was sent with these acks and every message
    /// of it was acknowledged.
    ProduceAcknowledged { topic: String, acks: AcksWord },
    /// This session's latest produce to the topic with these acks was refused, for this reason
    /// (a Kafka error name such as NOT_ENOUGH_REPLICAS).
    ProduceRefused { topic: String, acks: AcksWord, reason: String },
    /// The broker is out of the cluster: the Metadata answer no longer lists it (the controller
    /// fenced it, or it stopped cleanly).
    BrokerDown { broker: i32 },
    /// The KRaft quorum's active controller is this node (DescribeQuorum, not Metadata).
    Controller { node: i32 },
    /// A broker this session stopped or killed led the partition just before, and now it is
    /// out of the ISR and another replica leads.
    PartitionFailedOver { topic: String, partition: i32 },
    /// The latest broker this session stopped or killed was the active controller, and
    /// another node now is, in a later epoch.
    ControllerFailedOver,
    /// Something about one of the session's consumers beyond what it holds.
    ConsumerIs { consumer: String, fact: ConsumerFact },
    /// How one of the shop's workers was started.
    WorkerIs { worker: String, fact: WorkerFact },
    TopicConfig { topic: String, key: String, value: String },
    /// How many times `broker start` brought the embedded broker back in this session.
    BrokerRestarts { count: u32 },
    /// The schema the embedded broker checks the topic's values against has this field.
    TopicSchemaField { topic: String, field: String },
    Committed { group: String, topic: String, partition: i32, offset: i64 },
    GroupLag { group: String, topic: String, lag: i64 },
    /// The shop: a preparer has served at least this many orders.
    PreparerServed { preparer: String, count: u64 },
    /// The shop: a cook has sent at least this many orders back ready.
    CookCooked { cook: String, count: u64 },
    /// Every order the tills sent to the topic is on the cluster and was served exactly once,
    /// and the preparers' group has committed past it.
    OrdersServedOnce { topic: String },
    /// Every plaice order sent to the topic went to the cook and came back ready, and was served.
    OrdersPlaiceCooked { topic: String },
    /// The hot cabinet's stock is what the cooks put in less what the served orders took out.
    CabinetBalances,
    /// An analyst's database holds exactly the order messages on its topic since it started.
    AnalystStoredEveryOrder { analyst: String },
}

/// What `message T[P] N` looks for in a stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageField {
    Key(String),
    /// `k=v`, as `read` shows headers.
    Header(String),
    /// A key with no value.
    Tombstone,
    /// A JSON object whose every named field is present and not null.
    Fields(Vec<String>),
}

/// How a message left the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Either way.
    Any,
    /// Retention: the log's start moved past it.
    Retention,
    /// Compaction: removed from inside the log.
    Compaction,
}

/// How the session sent a message, as `message T[P] N sent WAY` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendWay {
    /// `acks-all`: it waited for every in-sync replica.
    AcksAll,
    /// `acks-1`: it waited for the leader only.
    AcksOne,
    /// `idempotent`: from a producer with a broker-assigned producer id.
    Idempotent,
    /// `to-partition`: the producer named the partition (`--partition`).
    ToPartition,
    /// `keyed`: it had a key, and the key chose the partition.
    Keyed,
}

impl SendWay {
    pub const WORDS: &'static str = "acks-all, acks-1, idempotent, to-partition or keyed";

    fn parse(word: &str) -> Option<SendWay> {
        Some(match word {
            "acks-all" => SendWay::AcksAll,
            "acks-1" => SendWay::AcksOne,
            "idempotent" => SendWay::Idempotent,
            "to-partition" => SendWay::ToPartition,
            "keyed" => SendWay::Keyed,
            _ => return None,
        })
    }

    pub fn describe(self) -> &'static str {
        match self {
            SendWay::AcksAll => "with acks=all (every in-sync replica)",
            SendWay::AcksOne => "with acks=1 (the leader only)",
            SendWay::Idempotent => "by an idempotent producer",
            SendWay::ToPartition => "to a partition the producer chose (--partition)",
            SendWay::Keyed => "with a key that chose its partition",
        }
    }
}

/// What `consumer C …` can ask beyond assignment and positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerFact {
    /// `out-of-group`: still running, but its group no longer lists it (removed for not polling
    /// within its max poll interval).
    OutOfGroup,
    /// `seeked time|end|beginning|offset`: its latest seek was of this kind.
    Seeked(SeekKind),
    /// `manual-commit`: it commits only when told to.
    ManualCommit,
    /// `protocol classic|consumer`: the group protocol it speaks.
    Protocol(String),
    /// `came-back-from killed|stopped`: how it had ended before its latest restart.
    CameBackFrom(String),
    /// `status running|stopped|killed`: how it last ended, or that it runs (a crash and a clean
    /// stop leave the group in the same state once it has rebalanced).
    Status(String),
}

/// A kind of seek, for `consumer C seeked KIND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeekKind {
    Time,
    End,
    Beginning,
    Offset,
}

impl SeekKind {
    pub fn word(self) -> &'static str {
        match self {
            SeekKind::Time => "time",
            SeekKind::End => "end",
            SeekKind::Beginning => "beginning",
            SeekKind::Offset => "offset",
        }
    }
}

/// What `worker W …` asks of a preparer or cook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerFact {
    /// `cabinet`: it works from a hot cabinet.
    Cabinet,
    /// `sends-to T`: a preparer's cook topic, or a cook's orders topic.
    SendsTo(String),
}

pub const CONDITIONS: &str = "topic T partitions N | group G members N | group G state STATE | \
consumer C assigned T[0,2] | consumer C assigned none | consumer C received N | consumer C position T[P] N | \
consumer C holds N | consumer C rejoined-unchanged | \
consumer C generation N | consumer C restarts N | \
consumer C out-of-group | consumer C seeked time|end|beginning|offset | consumer C manual-commit | consumer C protocol classic|consumer | consumer C status running|stopped|killed | consumer C came-back-from killed|stopped | \
partition T[P] end-offset N | partition T[P] holds N | partition T[P] keyed K [N] | partition T[P] idempotent N (or more) | message T[P] N key K | message T[P] N header k=v | message T[P] N tombstone | \
message T[P] N fields F1,F2 | message T[P] N gone|expired|compacted | message T[P] N sent acks-all|acks-1|idempotent|to-partition|keyed | \
partition T[P] leader N | partition T[P] isr 1,3 | partition T[P] under-replicated | partition T[P] under-min-isr | \
partition T[P] failed-over | broker N down | controller N | controller failed-over | topic T min-insync N | \
produce T acks=all|1|0 acknowledged | produce T acks=all|1|0 refused ERROR | \
topic T refused N (or more) | topic T batched N [M] (messages a batch, in a send of M) | topic T compressed N [M] (percent) | topic T replication N | topic T config KEY VALUE | topic T schema-field F | broker restarts N | \
committed G T[P] N | group G lag T N | preparer P served N (or more) | cook C cooked N (or more) | \
orders T served-once | orders T plaice-cooked | cabinet balances | analyst A stored-every-order | worker W cabinet | worker W sends-to T";

pub fn parse_condition(words: &[String]) -> Result<Condition> {
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let condition = match words.as_slice() {
        ["topic", topic, "partitions", n] => Condition::TopicPartitions { topic: topic.to_string(), count: number(n)? },
        ["broker", "restarts", n] => Condition::BrokerRestarts { count: number(n)? },
        ["topic", topic, "schema-field", field] => {
            Condition::TopicSchemaField { topic: topic.to_string(), field: field.to_string() }
        }
        ["topic", topic, "config", key, value] => {
            Condition::TopicConfig { topic: topic.to_string(), key: key.to_string(), value: value.to_string() }
        }
        ["group", group, "members", n] => Condition::GroupMembers { group: group.to_string(), count: number(n)? },
        ["group", group, "state", state] => Condition::GroupState { group: group.to_string(), state: state.to_string() },
        ["group", group, "lag", topic, n] => {
            Condition::GroupLag { group: group.to_string(), topic: topic.to_string(), lag: number(n)? }
        }
        ["consumer", consumer, "assigned", "none"] => {
            Condition::ConsumerAssigned { consumer: consumer.to_string(), partitions: Partitions::new() }
        }
        ["consumer", consumer, "assigned", rest @ ..] if !rest.is_empty() => {
            let mut partitions = Partitions::new();
            for spec in rest {
                let (topic, ids) = parse_partitions(spec)?;
                partitions.entry(topic).or_default().extend(ids);
            }
            Condition::ConsumerAssigned { consumer: consumer.to_string(), partitions }
        }
        ["consumer", consumer, "holds", n] => Condition::ConsumerHolds { consumer: consumer.to_string(), count: number(n)? },
        ["consumer", consumer, "received", n] => {
            Condition::ConsumerReceived { consumer: consumer.to_string(), count: number(n)? }
        }
        ["consumer", consumer, "position", spec, n] => {
            let (topic, partition) = single_partition(spec)?;
            Condition::ConsumerPosition { consumer: consumer.to_string(), topic, partition, offset: number(n)? }
        }
        ["consumer", consumer, "generation", n] => {
            Condition::ConsumerGeneration { consumer: consumer.to_string(), generation: number(n)? }
        }
        ["consumer", consumer, "restarts", n] => Condition::ConsumerRestarts { consumer: consumer.to_string(), count: number(n)? },
        ["consumer", consumer, "rejoined-unchanged"] => Condition::ConsumerRejoinedUnchanged { consumer: consumer.to_string() },
        ["partition", spec, "end-offset", n] => {
            let (topic, partition) = single_partition(spec)?;
            Condition::PartitionEndOffset { topic, partition, offset: number(n)? }
        }
        ["message", spec, n, "key", key] => {
            let (topic, partition) = single_partition(spec)?;
            Condition::MessageHas { topic, partition, offset: number(n)?, field: MessageField::Key(key.to_string()) }
        }
        ["message", spec, n, "header", header] if header.contains('=') => {
            let (topic, partition) = single_partition(spec)?;
            Condition::MessageHas { topic, partition, offset: number(n)?, field: MessageField::Header(header.to_string()) }
        }
        ["message", spec, n, "tombstone"] => {
            let (topic, partition) = single_partition(spec)?;
            Condition::MessageHas { topic, partition, offset: number(n)?, field: MessageField::Tombstone }
        }
        ["message", spec, n, word @ ("gone" | "expired" | "compacted")] => {
            let (topic, partition) = single_partition(spec)?;
            let how = match *word {
                "expired" => Removal::Retention,
                "compacted" => Removal::Compaction,
                _ => Removal::Any,
            };
            Condition::MessageGone { topic, partition, offset: number(n)?, how }
        }
        ["message", spec, n, "fields", list] => {
            let (topic, partition) = single_partition(spec)?;
            let fields: Vec<String> = list.split(',').map(str::trim).filter(|f| !f.is_empty()).map(str::to_string).collect();
            if fields.is_empty() {
                return Err(Error::usage("`fields` takes field names separated by commas, such as order,till"));
            }
            Condition::MessageHas { topic, partition, offset: number(n)?, field: MessageField::Fields(fields) }
        }
        ["message", spec, n, "sent", way] => {
            let (topic, partition) = single_partition(spec)?;
            let way = SendWay::parse(way)
                .ok_or_else(|| Error::usage(format!("`sent` is followed by {}, not '{way}'", SendWay::WORDS)))?;
            Condition::MessageSent { topic, partition, offset: number(n)?, way }
        }
        ["partition", spec, "keyed", key] => {
            let (topic, partition) = single_partition(spec)?;
            Condition::PartitionKeyed { topic, partition, key: key.to_string(), count: 1 }
        }
        ["partition", spec, "keyed", key, n] => {
            let (topic, partition) = single_partition(spec)?;
            Condition::PartitionKeyed { topic, partition, key: key.to_string(), count: number(n)? }
        }
        ["topic", topic, "refused", n] => Condition::TopicRefused { topic: topic.to_string(), count: number(n)? },
        ["topic", topic, "batched", n] => Condition::TopicBatched { topic: topic.to_string(), per_batch: number(n)?, messages: 0 },
        ["topic", topic, "batched", n, m] => Condition::TopicBatched { topic: topic.to_string(), per_batch: number(n)?, messages: number(m)? },
        ["topic", topic, "compressed", n] => Condition::TopicCompressed { topic: topic.to_string(), percent: number(n)?, messages: 0 },
        ["topic", topic, "compressed", n, m] => Condition::TopicCompressed { topic: topic.to_string(), percent: number(n)?, messages: number(m)? },
        ["topic", topic, "replication", n] => Condition::TopicReplication { topic: topic.to_string(), factor: number(n)? },
        ["partition", spec, "leader", n] => {
            let (topic, partition) = single_partition(spec)?;
            Condition::PartitionLeader { topic, partition, broker: number(n)? }
        }
        ["partition", spec, "isr", list] => {
            let (topic, partition) = single_partition(spec)?;
            let brokers = list.split(',').map(number).collect::<Result<Vec<i32>>>()?;
            Condition::PartitionIsr { topic, partition, brokers }
        }
        ["partition", spec, "under-replicated"] => {
            let (topic, partition) = single_partition(spec)?;
            Condition::PartitionUnderReplicated { topic, partition }
        }
        ["partition", spec, "under-min-isr"] => {
            let (topic, partition) = single_partition(spec)?;
            Condition::PartitionUnderMinIsr { topic, partition }
        }
        ["topic", topic, "min-insync", n] => Condition::TopicMinInsync { topic: topic.to_string(), count: number(n)? },
        ["produce", topic, acks, "acknowledged"] => Condition::ProduceAcknowledged { topic: topic.to_string(), acks: acks_word(acks)? },
        ["produce", topic, acks, "refused", reason] => {
            Condition::ProduceRefused { topic: topic.to_string(), acks: acks_word(acks)?, reason: reason.to_ascii_uppercase() }
        }
        ["broker", n, "down"] => Condition::BrokerDown { broker: number(n)? },
        ["partition", spec, "failed-over"] => {
            let (topic, partition) = single_partition(spec)?;
            Condition::PartitionFailedOver { topic, partition }
        }
        ["controller", "failed-over"] => Condition::ControllerFailedOver,
        ["controller", n] => Condition::Controller { node: number(n)? },
        ["consumer", consumer, "out-of-group"] => Condition::ConsumerIs { consumer: consumer.to_string(), fact: ConsumerFact::OutOfGroup },
        ["consumer", consumer, "manual-commit"] => {
            Condition::ConsumerIs { consumer: consumer.to_string(), fact: ConsumerFact::ManualCommit }
        }
        ["consumer", consumer, "seeked", kind] => {
            let kind = match *kind {
                "time" => SeekKind::Time,
                "end" => SeekKind::End,
                "beginning" => SeekKind::Beginning,
                "offset" => SeekKind::Offset,
                other => return Err(Error::usage(format!("`seeked` is followed by time, end, beginning or offset, not '{other}'"))),
            };
            Condition::ConsumerIs { consumer: consumer.to_string(), fact: ConsumerFact::Seeked(kind) }
        }
        ["consumer", consumer, "protocol", protocol @ ("classic" | "consumer")] => {
            Condition::ConsumerIs { consumer: consumer.to_string(), fact: ConsumerFact::Protocol(protocol.to_string()) }
        }
        ["consumer", consumer, "status", status @ ("running" | "stopped" | "killed")] => {
            Condition::ConsumerIs { consumer: consumer.to_string(), fact: ConsumerFact::Status(status.to_string()) }
        }
        ["consumer", consumer, "came-back-from", ended @ ("stopped" | "killed")] => {
            Condition::ConsumerIs { consumer: consumer.to_string(), fact: ConsumerFact::CameBackFrom(ended.to_string()) }
        }
        ["worker", worker, "cabinet"] => Condition::WorkerIs { worker: worker.to_string(), fact: WorkerFact::Cabinet },
        ["worker", worker, "sends-to", topic] => {
            Condition::WorkerIs { worker: worker.to_string(), fact: WorkerFact::SendsTo(topic.to_string()) }
        }
        ["partition", spec, "idempotent", n] => {
            let (topic, partition) = single_partition(spec)?;
            Condition::PartitionIdempotent { topic, partition, count: number(n)? }
        }
        ["partition", spec, "holds", n] => {
            let (topic, partition) = single_partition(spec)?;
            Condition::PartitionHolds { topic, partition, count: number(n)? }
        }
        ["committed", group, spec, n] => {
            let (topic, partition) = single_partition(spec)?;
            Condition::Committed { group: group.to_string(), topic, partition, offset: number(n)? }
        }
        ["preparer", preparer, "served", n] => Condition::PreparerServed { preparer: preparer.to_string(), count: number(n)? },
        ["cook", cook, "cooked", n] => Condition::CookCooked { cook: cook.to_string(), count: number(n)? },
        ["orders", topic, "served-once"] => Condition::OrdersServedOnce { topic: topic.to_string() },
        ["orders", topic, "plaice-cooked"] => Condition::OrdersPlaiceCooked { topic: topic.to_string() },
        ["cabinet", "balances"] => Condition::CabinetBalances,
        ["analyst", analyst, "stored-every-order"] => Condition::AnalystStoredEveryOrder { analyst: analyst.to_string() },
        _ => {
            return Err(Error::Usage {
                message: format!("unknown condition '{}'", words.join(" ")),
                hint: Some(format!("conditions: {CONDITIONS}")),
            })
        }
    };
    Ok(condition)
}

fn number<T: std::str::FromStr>(raw: &str) -> Result<T> {
    raw.parse().map_err(|_| Error::usage(format!("expected a whole number, got '{raw}'")))
}

/// `orders[0,2]` → ("orders", [0, 2]).
/// The acks a produce condition names, as a produce's `--acks` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcksWord {
    Zero,
    One,
    All,
}

/// `acks=all`, `acks=1` or `acks=0`.
fn acks_word(word: &str) -> Result<AcksWord> {
    match word {
        "acks=all" | "acks=-1" => Ok(AcksWord::All),
        "acks=1" => Ok(AcksWord::One),
        "acks=0" => Ok(AcksWord::Zero),
        _ => Err(Error::usage(format!("a produce condition names its acks as acks=all, acks=1 or acks=0, not '{word}'"))),
    }
}

pub fn parse_partitions(spec: &str) -> Result<(String, Vec<i32>)> {
    let bad = || Error::usage(format!("expected TOPIC[P,…] such as orders[0,2], got '{spec}'"));
    let (topic, rest) = spec.split_once('[').ok_or_else(bad)?;
    let list = rest.strip_suffix(']').ok_or_else(bad)?;
    if topic.is_empty() {
        return Err(bad());
    }
    let ids = list
        .split(',')
        .map(|id| id.trim().parse::<i32>().ok().filter(|id| *id >= 0).ok_or_else(bad))
        .collect::<Result<Vec<i32>>>()?;
    Ok((topic.to_string(), ids))
}

pub fn single_partition(spec: &str) -> Result<(String, i32)> {
    match parse_partitions(spec)? {
        (topic, ids) if ids.len() == 1 => Ok((topic, ids[0])),
        _ => Err(Error::usage(format!("expected one partition such as orders[2], got '{spec}'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn every_documented_condition_parses() {
        for text in [
            "topic orders partitions 3",
            "group preparers members 2",
            "group preparers state Stable",
            "consumer preparer-1 assigned orders[0,1]",
            "consumer preparer-1 assigned none",
            "consumer c1 received 5",
            "partition orders[2] end-offset 7",
            "partition prices[0] holds 2",
            "topic prices config cleanup.policy compact",
            "group preparers lag orders 0",
            "committed preparers orders[0] 4",
            "preparer alice served 3",
            "cook cody cooked 1",
            "orders orders served-once",
            "orders orders plaice-cooked",
            "cabinet balances",
            "analyst ann stored-every-order",
            "message orders[0] 3 sent acks-all",
            "partition keyed[2] keyed till-2",
            "partition keyed[1] keyed till-1 23",
            "message orders[2] 0 sent to-partition",
            "message orders[0] 0 fields order,till",
            "message receipts[0] 0 expired",
            "message prices[0] 2 compacted",
            "topic tickets refused 1",
            "topic sales batched 20",
            "topic sales batched 20 2000",
            "topic sales compressed 40",
            "topic sales compressed 25 2000",
            "topic ledger replication 3",
            "partition ledger[0] leader 2",
            "partition ledger[0] isr 1,3",
            "partition ledger[1] under-replicated",
            "broker 2 down",
            "controller 3",
            "consumer slow out-of-group",
            "consumer screen seeked time",
            "consumer billing manual-commit",
            "consumer new-2 protocol consumer",
            "consumer preparer-1 status killed",
            "consumer waiter came-back-from killed",
            "worker cook cabinet",
            "worker cook sends-to orders",
        ] {
            parse_condition(&words(text)).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
    }

    #[test]
    fn assigned_partitions_are_a_set_per_topic() {
        let Condition::ConsumerAssigned { partitions, .. } =
            parse_condition(&words("consumer c assigned orders[2,0] cook[1]")).unwrap()
        else {
            panic!()
        };
        assert_eq!(crate::outcome::format_partitions(&partitions), "cook[1] orders[0,2]");
    }

    #[test]
    fn malformed_conditions_say_what_is_wrong() {
        assert!(parse_condition(&words("group g members two")).unwrap_err().to_string().contains("'two'"));
        assert!(parse_condition(&words("partition orders end-offset 1")).is_err());
        assert!(parse_condition(&words("committed g orders[0,1] 4")).is_err());
        let err = parse_condition(&words("weather sunny")).unwrap_err();
        assert_eq!(err.to_string(), "unknown condition 'weather sunny'");
        assert!(err.hint().unwrap().contains("group G members N"));
    }
}
