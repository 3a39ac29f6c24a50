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
    /// removed it.
    MessageGone { topic: String, partition: i32, offset: i64 },
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
}

pub const CONDITIONS: &str = "topic T partitions N | group G members N | group G state STATE | \
consumer C assigned T[0,2] | consumer C assigned none | consumer C received N | consumer C position T[P] N | \
consumer C holds N | consumer C rejoined-unchanged | \
consumer C generation N | consumer C restarts N | \
partition T[P] end-offset N | partition T[P] holds N | partition T[P] idempotent N (or more) | message T[P] N key K | message T[P] N header k=v | message T[P] N tombstone | message T[P] N gone | topic T config KEY VALUE | topic T schema-field F | broker restarts N | \
committed G T[P] N | group G lag T N | preparer P served N (or more) | cook C cooked N (or more) | \
orders T served-once | orders T plaice-cooked | cabinet balances | analyst A stored-every-order";

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
        ["message", spec, n, "gone"] => {
            let (topic, partition) = single_partition(spec)?;
            Condition::MessageGone { topic, partition, offset: number(n)? }
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

fn single_partition(spec: &str) -> Result<(String, i32)> {
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
