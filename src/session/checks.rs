//! `expect`: wait until a condition about the real cluster holds. Lessons use the same checks.

use std::time::{Duration, Instant};

use super::Session;
use crate::error::{Error, Result};
use crate::expect::{parse_condition, Condition};
use crate::outcome::{format_partitions, Outcome};

/// How often `expect` looks again.
const RECHECK: Duration = Duration::from_millis(200);

impl Session {
    pub(super) async fn expect(&self, words: &[String], within: Duration) -> Result<Outcome> {
        let condition = parse_condition(words)?;
        let deadline = Instant::now() + within;
        loop {
            let last = self.check(&condition).await;
            match last {
                Ok(Ok(holds)) => return Ok(Outcome::Done(holds)),
                Ok(Err(found)) if Instant::now() >= deadline => return Err(Error::Unmet(found)),
                Err(err) if Instant::now() >= deadline => return Err(err),
                _ => tokio::time::sleep(RECHECK).await,
            }
        }
    }

    /// One look at the cluster: `Ok(Ok(what holds))`, `Ok(Err(what was found instead))`, or
    /// `Err` when the cluster could not be asked.
    pub async fn check(&self, condition: &Condition) -> Result<std::result::Result<String, String>> {
        let qualified;
        let condition = match &self.namespace {
            Some(namespace) => {
                qualified = namespace.qualify_condition(condition);
                &qualified
            }
            None => condition,
        };
        let answer = self.check_qualified(condition).await?;
        Ok(match &self.namespace {
            Some(ns) => answer.map(|t| ns.shorten(&t)).map_err(|t| ns.shorten(&t)),
            None => answer,
        })
    }

    async fn check_qualified(&self, condition: &Condition) -> Result<std::result::Result<String, String>> {
        Ok(match condition {
            Condition::PreparerServed { .. }
            | Condition::CookCooked { .. }
            | Condition::OrdersServedOnce { .. }
            | Condition::OrdersPlaiceCooked { .. }
            | Condition::CabinetBalances
            | Condition::AnalystStoredEveryOrder { .. } => return self.check_shop(condition).await,
            Condition::TopicPartitions { topic, count } => {
                let info = self.connection.cluster_info().await?;
                match info.topic(topic) {
                    Some(t) if t.partitions.len() == *count => Ok(format!("topic {topic} has {count} partitions")),
                    Some(t) => Err(format!("expected {count} partitions in topic {topic}, found {}", t.partitions.len())),
                    None => Err(format!("expected {count} partitions in topic {topic}, but it does not exist")),
                }
            }
            Condition::GroupMembers { group, count } => {
                let found = self.connection.group(group).await?.map_or(0, |g| g.members.len());
                if found == *count {
                    Ok(format!("group {group} has {count} member(s)"))
                } else {
                    Err(format!("expected {count} members in group {group}, found {found}"))
                }
            }
            Condition::GroupState { group, state } => {
                let found = self.connection.group(group).await?.map_or_else(|| "Dead".to_string(), |g| g.state);
                if found.eq_ignore_ascii_case(state) {
                    Ok(format!("group {group} is {found}"))
                } else {
                    Err(format!("expected group {group} to be {state}, found {found}"))
                }
            }
            Condition::ConsumerAssigned { consumer, partitions } => {
                let handle = self.consumers.get(consumer).ok_or_else(|| Error::input(format!("no consumer named '{consumer}'")))?;
                let found = handle.state().assignment;
                if found == *partitions {
                    Ok(format!("consumer {consumer} is assigned {}", format_partitions(partitions)))
                } else {
                    Err(format!(
                        "expected consumer {consumer} to be assigned {}, found {}",
                        format_partitions(partitions),
                        format_partitions(&found)
                    ))
                }
            }
            Condition::ConsumerReceived { consumer, count } => {
                let handle = self.consumers.get(consumer).ok_or_else(|| Error::input(format!("no consumer named '{consumer}'")))?;
                let found = handle.state().received;
                if found == *count {
                    Ok(format!("consumer {consumer} has received {count} message(s)"))
                } else {
                    Err(format!("expected consumer {consumer} to have received {count} messages, found {found}"))
                }
            }
            Condition::PartitionEndOffset { topic, partition, offset } => {
                let marks = self.connection.watermarks(vec![(topic.clone(), *partition)]).await?;
                let found = marks.get(&(topic.clone(), *partition)).map(|m| m.high);
                match found {
                    Some(high) if high == *offset => Ok(format!("partition {topic}[{partition}] ends at offset {offset}")),
                    Some(high) => Err(format!("expected partition {topic}[{partition}] to end at offset {offset}, found {high}")),
                    None => Err(format!("partition {topic}[{partition}] does not exist")),
                }
            }
            Condition::PartitionHolds { topic, partition, count } => {
                let found = self.messages_in(topic, *partition).await?;
                if found == *count {
                    Ok(format!("partition {topic}[{partition}] holds {count} message(s)"))
                } else {
                    Err(format!("expected partition {topic}[{partition}] to hold {count} messages, found {found}"))
                }
            }
            Condition::TopicConfig { topic, key, value } => match self.topic_config(topic, key).await? {
                Some(found) if found == *value => Ok(format!("topic {topic} has {key}={value}")),
                Some(found) => Err(format!("expected topic {topic} to have {key}={value}, found {found}")),
                None => Err(format!("expected topic {topic} to have {key}={value}, but the broker reports no {key}")),
            },
            Condition::Committed { group, topic, partition, offset } => {
                let committed = self.connection.committed(group, vec![(topic.clone(), *partition)]).await?;
                match committed.get(&(topic.clone(), *partition)) {
                    Some(found) if found == offset => Ok(format!("group {group} has committed {topic}[{partition}] at {offset}")),
                    Some(found) => Err(format!("expected group {group}'s committed offset on {topic}[{partition}] to be {offset}, found {found}")),
                    None => Err(format!("expected group {group}'s committed offset on {topic}[{partition}] to be {offset}, found none")),
                }
            }
            Condition::GroupLag { group, topic, lag } => {
                let info = self.connection.topic(topic).await?;
                let pairs: Vec<(String, i32)> = info.partitions.iter().map(|p| (topic.clone(), p.id)).collect();
                let committed = self.connection.committed(group, pairs.clone()).await?;
                if committed.is_empty() {
                    return Ok(Err(format!("expected group {group}'s lag on {topic} to be {lag}, but it has no committed offsets there")));
                }
                let marks = self.connection.watermarks(pairs).await?;
                let found: i64 = committed
                    .iter()
                    .filter_map(|(pair, done)| marks.get(pair).map(|m| (m.high - done).max(0)))
                    .sum();
                if found == *lag {
                    Ok(format!("group {group}'s lag on {topic} is {lag}"))
                } else {
                    Err(format!("expected group {group}'s lag on {topic} to be {lag}, found {found}"))
                }
            }
        })
    }
}
