//! `expect`: wait until a condition about the real cluster holds. Lessons use the same checks.

use std::time::{Duration, Instant};

use super::Session;
use crate::error::{Error, Result};
use crate::expect::{parse_condition, Condition, MessageField, Removal};

mod consumer;
mod replicas;
use crate::outcome::Outcome;

/// How often `expect` looks again.
const RECHECK: Duration = Duration::from_millis(200);

/// One look at the cluster for one condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It holds; says what holds.
    Holds(String),
    /// It does not hold (yet); says what was found instead.
    NotYet(String),
}

impl Verdict {
    pub fn holds(&self) -> bool {
        matches!(self, Verdict::Holds(_))
    }

    pub fn text(&self) -> &str {
        match self {
            Verdict::Holds(text) | Verdict::NotYet(text) => text,
        }
    }

    pub(super) fn when(holds: bool, yes: String, no: impl FnOnce() -> String) -> Verdict {
        if holds {
            Verdict::Holds(yes)
        } else {
            Verdict::NotYet(no())
        }
    }

    fn map(self, f: impl Fn(&str) -> String) -> Verdict {
        match self {
            Verdict::Holds(text) => Verdict::Holds(f(&text)),
            Verdict::NotYet(text) => Verdict::NotYet(f(&text)),
        }
    }
}

impl Session {
    pub(super) async fn expect(&self, words: &[String], within: Duration) -> Result<Outcome> {
        let condition = parse_condition(words)?;
        let started = Instant::now();
        match self.wait_for(&condition, within).await? {
            // How long it took is worth knowing when it had to wait (a rebalance, say).
            Verdict::Holds(holds) if started.elapsed() >= Duration::from_millis(100) => {
                Ok(Outcome::Done(format!("{holds} (waited {:.2} s)", started.elapsed().as_secs_f64())))
            }
            Verdict::Holds(holds) => Ok(Outcome::Done(holds)),
            Verdict::NotYet(found) => Err(Error::unmet(found)),
        }
    }

    /// Look until the condition holds or `within` has passed; the last look's verdict. A cluster
    /// that cannot be asked fails only if it still cannot be asked at the end; a condition that
    /// names something that does not exist fails at once.
    pub(super) async fn wait_for(&self, condition: &Condition, within: Duration) -> Result<Verdict> {
        let deadline = Instant::now() + within;
        loop {
            let verdict = self.check(condition).await;
            match &verdict {
                Ok(Verdict::Holds(_)) => return verdict,
                // A name that does not exist will not appear by waiting.
                Err(err) if err.is_bad_input() => return verdict,
                Ok(_) | Err(_) if Instant::now() >= deadline => return verdict,
                _ => tokio::time::sleep(RECHECK).await,
            }
        }
    }

    /// One look at the cluster, in the learner's short names; `Err` when the cluster could not
    /// be asked or the condition names something that does not exist.
    pub async fn check(&self, condition: &Condition) -> Result<Verdict> {
        let Some(namespace) = &self.namespace else { return self.check_qualified(condition).await };
        let verdict = self.check_qualified(&namespace.qualify_condition(condition)).await.map_err(|e| namespace.shorten_error(e))?;
        Ok(verdict.map(|text| namespace.shorten(text)))
    }

    /// The group `condition` is about, in the learner's names, if it is in the middle of a
    /// rebalance. Consumer conditions are about the consumer's group.
    pub(super) async fn rebalancing_group(&self, condition: &Condition) -> Option<String> {
        let condition = match &self.namespace {
            Some(namespace) => namespace.qualify_condition(condition),
            None => condition.clone(),
        };
        let group = match &condition {
            Condition::GroupMembers { group, .. }
            | Condition::GroupState { group, .. }
            | Condition::Committed { group, .. }
            | Condition::GroupLag { group, .. } => group.clone(),
            Condition::ConsumerAssigned { consumer, .. }
            | Condition::ConsumerReceived { consumer, .. }
            | Condition::ConsumerPosition { consumer, .. }
            | Condition::ConsumerGeneration { consumer, .. }
            | Condition::ConsumerRejoinedUnchanged { consumer }
            | Condition::ConsumerHolds { consumer, .. } => self.consumers.get(consumer)?.spec.group.clone(),
            _ => return None,
        };
        // One of ours on its way in or between assignments, or the coordinator says so
        // (PreparingRebalance, CompletingRebalance).
        let ours = self.consumers.values().any(|c| c.spec.group == group && c.joining());
        let moving = ours || self.connection.group(&group).await.ok().flatten().is_some_and(|g| g.state.ends_with("Rebalance"));
        moving.then(|| match &self.namespace {
            Some(namespace) => namespace.shorten(&group),
            None => group,
        })
    }

    async fn check_qualified(&self, condition: &Condition) -> Result<Verdict> {
        match condition {
            Condition::PreparerServed { .. }
            | Condition::CookCooked { .. }
            | Condition::OrdersServedOnce { .. }
            | Condition::OrdersPlaiceCooked { .. }
            | Condition::CabinetBalances
            | Condition::AnalystStoredEveryOrder { .. } => self.check_shop(condition).await,
            Condition::ConsumerAssigned { .. }
            | Condition::ConsumerReceived { .. }
            | Condition::ConsumerPosition { .. }
            | Condition::ConsumerGeneration { .. }
            | Condition::ConsumerRejoinedUnchanged { .. }
            | Condition::ConsumerHolds { .. }
            | Condition::ConsumerRestarts { .. } => self.check_consumer(condition),
            Condition::GroupMembers { .. }
            | Condition::GroupState { .. }
            | Condition::Committed { .. }
            | Condition::GroupLag { .. } => self.check_group(condition).await,
            Condition::TopicPartitions { .. }
            | Condition::PartitionEndOffset { .. }
            | Condition::PartitionHolds { .. }
            | Condition::MessageHas { .. }
            | Condition::MessageGone { .. }
            | Condition::TopicReplication { .. }
            | Condition::TopicConfig { .. } => self.check_topic(condition).await,
            Condition::MessageSent { topic, partition, offset, way } => self.check_sent(topic, *partition, *offset, *way),
            Condition::TopicRefused { topic, count } => self.check_refused(topic, *count),
            Condition::ProduceAcknowledged { topic, acks } => self.check_acknowledged(topic, *acks),
            Condition::ProduceRefused { topic, acks, reason } => self.check_produce_refused(topic, *acks, reason),
            Condition::PartitionLeader { .. }
            | Condition::PartitionIsr { .. }
            | Condition::PartitionUnderReplicated { .. }
            | Condition::PartitionUnderMinIsr { .. }
            | Condition::PartitionFailedOver { .. }
            | Condition::ControllerFailedOver
            | Condition::TopicMinInsync { .. }
            | Condition::BrokerDown { .. }
            | Condition::Controller { .. } => self.check_replicas(condition).await,
            Condition::TopicBatched { topic, per_batch, messages } => self.check_batched(topic, *per_batch, *messages),
            Condition::TopicCompressed { topic, percent, messages } => self.check_compressed(topic, *percent, *messages),
            Condition::PartitionKeyed { topic, partition, key, count } => self.check_keyed(topic, *partition, key, *count).await,
            Condition::ConsumerIs { consumer, fact } => self.check_consumer_is(consumer, fact).await,
            Condition::WorkerIs { .. } => self.check_shop(condition).await,
            Condition::TopicSchemaField { topic, field } => self.check_schema_field(topic, field),
            Condition::PartitionIdempotent { topic, partition, count } => self.check_idempotent(topic, *partition, *count).await,
            Condition::BrokerRestarts { count } => {
                let found = self.broker_restarts;
                Ok(Verdict::when(found == *count, format!("the broker was restarted {count} time(s)"), || {
                    format!("expected the broker to have been restarted {count} time(s) with `broker start`, found {found}")
                }))
            }
        }
    }

    async fn check_topic(&self, condition: &Condition) -> Result<Verdict> {
        Ok(match condition {
            Condition::TopicPartitions { topic, count } => {
                let info = self.connection.cluster_info().await?;
                match info.topic(topic) {
                    Some(t) if t.partitions.len() == *count => Verdict::Holds(format!("topic {topic} has {count} partitions")),
                    Some(t) => Verdict::NotYet(format!("expected {count} partitions in topic {topic}, found {}", t.partitions.len())),
                    None => Verdict::NotYet(format!("expected {count} partitions in topic {topic}, but it does not exist")),
                }
            }
            Condition::PartitionEndOffset { topic, partition, offset } => {
                // A topic or partition that is not there is said so, not as librdkafka's
                // "Unknown partition".
                let info = self.connection.topic(topic).await?;
                super::topics::check_partition(&info, Some(*partition))?;
                let marks = self.connection.watermarks(vec![(topic.clone(), *partition)]).await?;
                match marks.get(&(topic.clone(), *partition)).map(|m| m.high) {
                    Some(high) if high == *offset => Verdict::Holds(format!("partition {topic}[{partition}] ends at offset {offset}")),
                    Some(high) => Verdict::NotYet(format!(
                        "expected partition {topic}[{partition}] to end at offset {offset}, found {high}"
                    )),
                    None => Verdict::NotYet(format!("partition {topic}[{partition}] does not exist")),
                }
            }
            Condition::MessageHas { topic, partition, offset, field } => {
                let found = self.message_at(topic, *partition, *offset).await?;
                let at = format!("{topic}[{partition}] offset {offset}");
                match (found, field) {
                    (None, _) => Verdict::NotYet(format!("there is no message at {at} yet")),
                    (Some(record), MessageField::Key(key)) => {
                        let has = record.key.as_deref().unwrap_or("(null)");
                        Verdict::when(has == key, format!("the message at {at} has the key {key}"), || {
                            format!("expected the message at {at} to have the key {key}, found {has}")
                        })
                    }
                    (Some(record), MessageField::Tombstone) => Verdict::when(
                        record.value.is_none(),
                        format!("the message at {at} is a tombstone: key {}, no value", record.key.as_deref().unwrap_or("(null)")),
                        || format!("expected the message at {at} to be a tombstone (no value), found the value {}", record.value.as_deref().unwrap_or_default()),
                    ),
                    (Some(record), MessageField::Fields(fields)) => {
                        let value: Option<serde_json::Value> = record.value.as_deref().and_then(|v| serde_json::from_str(v).ok());
                        match value {
                            Some(serde_json::Value::Object(object)) => {
                                let missing: Vec<&str> = fields
                                    .iter()
                                    .filter(|f| object.get(f.as_str()).is_none_or(serde_json::Value::is_null))
                                    .map(String::as_str)
                                    .collect();
                                Verdict::when(missing.is_empty(), format!("the message at {at} has every field: {}", fields.join(", ")), || {
                                    format!("expected the message at {at} to fill in {}, but it has no {}", fields.join(", "), missing.join(", "))
                                })
                            }
                            _ => Verdict::NotYet(format!(
                                "expected the message at {at} to be a JSON object with {}, found {}",
                                fields.join(", "),
                                record.value.as_deref().map_or_else(|| "no value".to_string(), |v| crate::paths::clip(v).to_string())
                            )),
                        }
                    }
                    (Some(record), MessageField::Header(header)) => {
                        let has = if record.headers.is_empty() { "no headers" } else { record.headers.as_str() };
                        Verdict::when(record.headers.split(',').any(|h| h == header), format!("the message at {at} carries the header {header}"), || {
                            format!("expected the message at {at} to carry the header {header}, found {has}")
                        })
                    }
                }
            }
            Condition::MessageGone { topic, partition, offset, how } => {
                let at = format!("{topic}[{partition}] offset {offset}");
                let verdict = self.gone(topic, *partition, *offset).await?;
                // The log's start moving past a message is retention's doing, except on a
                // compact-only topic: there a broker may report the first message kept as the
                // start (tansu does; Apache Kafka keeps the first segment's base offset).
                // Removed from inside the log is compaction's doing, except on a delete-only
                // topic: the embedded broker deletes expired records without moving the start.
                let start_moved = verdict.text().contains("the log now starts at");
                let policy = match (&verdict, how) {
                    (Verdict::Holds(_), Removal::Retention | Removal::Compaction) => self.topic_config(topic, "cleanup.policy").await?,
                    _ => None,
                };
                let policy = policy.unwrap_or_else(|| "delete".into());
                let by_retention = if start_moved { policy.contains("delete") } else { !policy.contains("compact") };
                match (how, &verdict) {
                    (Removal::Retention, Verdict::Holds(text)) if !by_retention => Verdict::NotYet(format!(
                        "expected retention to delete the message at {at} (the log's start moving past it), but {text}: that was compaction"
                    )),
                    (Removal::Compaction, Verdict::Holds(text)) if by_retention => Verdict::NotYet(format!(
                        "expected compaction to remove the message at {at} from inside the log, but {text}: that was retention"
                    )),
                    (Removal::Retention, Verdict::NotYet(text)) if text.contains("still there") => Verdict::NotYet(format!(
                        "{text}: retention deletes a segment only at the broker's next retention check, once its newest message is older \
                         than the topic's retention.ms (`broker-config` shows how often this broker checks)"
                    )),
                    _ => verdict,
                }
            }
            Condition::PartitionHolds { topic, partition, count } => {
                let found = self.messages_in(topic, *partition).await?;
                Verdict::when(found == *count, format!("partition {topic}[{partition}] holds {count} message(s)"), || {
                    format!("expected partition {topic}[{partition}] to hold {count} messages, found {found}")
                })
            }
            Condition::TopicConfig { topic, key, value } => match self.topic_config(topic, key).await? {
                Some(found) if found == *value => Verdict::Holds(format!("topic {topic} has {key}={value}")),
                Some(found) => Verdict::NotYet(format!("expected topic {topic} to have {key}={value}, found {found}")),
                None => Verdict::NotYet(format!("expected topic {topic} to have {key}={value}, but the broker reports no {key}")),
            },
            Condition::TopicReplication { topic, factor } => {
                let info = self.connection.topic(topic).await?;
                let found: Vec<usize> = info.partitions.iter().map(|p| p.replicas.len()).collect();
                Verdict::when(!found.is_empty() && found.iter().all(|n| n == factor), format!("every partition of {topic} has {factor} replicas"), || {
                    let listed: Vec<String> = found.iter().map(ToString::to_string).collect();
                    format!("expected every partition of {topic} to have {factor} replicas, found {}", listed.join(", "))
                })
            }
            _ => return Err(Error::input("not a topic condition")),
        })
    }

    /// Whether the message once at `offset` has left the log, and how.
    async fn gone(&self, topic: &str, partition: i32, offset: i64) -> Result<Verdict> {
        let at = format!("{topic}[{partition}] offset {offset}");
        let info = self.connection.topic(topic).await?;
        super::topics::check_partition(&info, Some(partition))?;
        let marks = self.connection.watermarks(vec![(topic.to_string(), partition)]).await?;
        Ok(match marks.values().next().copied() {
            Some(mark) if offset >= mark.high => Verdict::NotYet(format!("nothing has been written at {at} yet")),
            Some(mark) if offset < mark.low => {
                Verdict::Holds(format!("the message at {at} is gone: the log now starts at offset {}", mark.low))
            }
            _ => match self.message_at(topic, partition, offset).await? {
                None => Verdict::Holds(format!("the message at {at} is gone: the broker removed it from inside the log")),
                Some(record) => Verdict::NotYet(format!(
                    "the message at {at} (key {}) is still there: the broker has not removed it yet",
                    record.key.as_deref().unwrap_or("(null)")
                )),
            },
        })
    }

    /// `partition T[P] idempotent N`: the producer id each stored batch carries, which no
    /// client API shows, read from the embedded broker's storage.
    async fn check_idempotent(&self, topic: &str, partition: i32, count: i64) -> Result<Verdict> {
        #[cfg(feature = "embedded-broker")]
        if let Some(broker) = self.embedded_broker() {
            let writers = broker.writers(topic, partition).await?;
            let found: i64 = writers.iter().filter(|w| w.producer_id >= 0).map(|w| w.records).sum();
            let stored: i64 = writers.iter().map(|w| w.records).sum();
            return Ok(Verdict::when(
                found >= count,
                format!("{found} message(s) in {topic}[{partition}] carry an idempotent producer's id and sequence numbers"),
                || {
                    format!(
                        "expected {count} message(s) in {topic}[{partition}] from an idempotent producer, found {found} \
                         of {stored} (the others carry producer id -1: no numbering, so a retry would be stored twice)"
                    )
                },
            ));
        }
        if self.target.is_embedded() {
            let _ = (topic, partition, count);
            return Err(self.without_embedded("which producer wrote each batch is read from the embedded broker's storage", ""));
        }
        // On Apache Kafka, the broker's producer state says it: DescribeProducers, which
        // librdkafka does not have, through Kafka's own kafka-transactions tool where its jars
        // are at hand. Without them (a learner on a managed cluster has no Java), the session's
        // own record: the messages the broker acknowledged to an idempotent producer, which
        // librdkafka sends only once the broker has given it a producer id (InitProducerId).
        let found = match self.idempotent_messages(topic, partition).await {
            Ok(found) => found,
            Err(err) if err.is_unsupported() => {
                let found = self.sends.lock().map(|s| s.idempotent_in(topic, partition)).unwrap_or(0);
                return Ok(Verdict::when(
                    found >= count,
                    format!("{found} message(s) you sent to {topic}[{partition}] were acknowledged to an idempotent producer, under the producer id the broker gave it"),
                    || {
                        format!(
                            "expected {count} message(s) in {topic}[{partition}] from an idempotent producer, found {found} \
                             among your sends (the others had no producer id: a retry would be stored twice)"
                        )
                    },
                ));
            }
            Err(err) => return Err(err),
        };
        Ok(Verdict::when(
            found >= count,
            format!("{found} message(s) in {topic}[{partition}] came from idempotent producers, numbered by the broker's producer state"),
            || {
                format!(
                    "expected {count} message(s) in {topic}[{partition}] from an idempotent producer, found {found} \
                     (kafka-transactions describe-producers lists no numbered producer for the others: a retry would be stored twice)"
                )
            },
        ))
    }

    /// How many messages of one partition the broker numbered for idempotent producers: the sum
    /// of each producer's last sequence number + 1, from `kafka-transactions describe-producers`.
    /// Asked again only when the partition's end moves (the tool is a Java process).
    async fn idempotent_messages(&self, topic: &str, partition: i32) -> Result<i64> {
        let home = self
            .local
            .as_ref()
            .and_then(crate::cluster::LocalCluster::apache_home)
            .or_else(|| std::env::var_os("KAFKA_HOME").filter(|h| !h.is_empty()).map(std::path::PathBuf::from))
            .ok_or_else(|| {
                Error::unsupported(
                    "which producer wrote each message is the broker's producer state, which librdkafka cannot ask for",
                    format!(
                        "set KAFKA_HOME to an unpacked Apache Kafka ({}) and kafka-workshop asks with its kafka-transactions tool, \
                         or run: kafka-transactions.sh --bootstrap-server {} describe-producers --topic {topic} --partition {partition}",
                        crate::cluster::apache::DOWNLOAD,
                        self.target.bootstrap()
                    ),
                )
            })?;
        if !self.security.is_empty() || self.settings.iter().any(|(k, _)| k.starts_with("security.") || k.starts_with("sasl.")) {
            return Err(Error::unsupported(
                "kafka-workshop asks Kafka's kafka-transactions tool only on a plaintext cluster",
                format!("run it yourself with your client settings: kafka-transactions.sh --command-config FILE describe-producers --topic {topic} --partition {partition}"),
            ));
        }
        let end = self.connection.watermarks(vec![(topic.to_string(), partition)]).await?.values().next().map_or(0, |m| m.high);
        let key = (topic.to_string(), partition, end);
        if let Some(found) = self.producer_states.lock().ok().and_then(|known| known.get(&key).copied()) {
            return Ok(found);
        }
        let args: Vec<String> = vec![
            "--bootstrap-server".into(),
            self.target.bootstrap().to_string(),
            "describe-producers".into(),
            "--topic".into(),
            topic.to_string(),
            "--partition".into(),
            partition.to_string(),
        ];
        let printed = tokio::task::spawn_blocking(move || {
            crate::cluster::apache::run_tool(&home, "org.apache.kafka.tools.TransactionsCommand", &args)
        })
        .await
        .map_err(|e| Error::kafka(format!("Kafka's kafka-transactions tool did not finish: {e}")))??;
        let found = numbered_messages(&printed);
        if let Ok(mut known) = self.producer_states.lock() {
            known.insert(key, found);
        }
        Ok(found)
    }

    /// "; your consumer preparer-2 joined group 'preparer', not 'preparers'" when one of this
    /// session's running consumers is in a group whose name is a near miss of `group`.
    fn near_group(&self, group: &str) -> String {
        let running = self.consumers.values().filter(|c| c.status() == crate::actors::consumer::Status::Running);
        let strays: Vec<String> = running
            .filter(|c| c.spec.group != group && strsim::levenshtein(&c.spec.group, group) <= 2)
            .map(|c| format!("your consumer {} joined group '{}', not '{group}'", c.spec.name, c.spec.group))
            .collect();
        if strays.is_empty() {
            String::new()
        } else {
            format!(" ({})", strays.join("; "))
        }
    }

    async fn check_group(&self, condition: &Condition) -> Result<Verdict> {
        Ok(match condition {
            Condition::GroupMembers { group, count } => {
                let found = self.connection.group(group).await?.map_or(0, |g| g.members.len());
                Verdict::when(found == *count, format!("group {group} has {count} member(s)"), || {
                    format!("expected {count} members in group {group}, found {found}{}", self.near_group(group))
                })
            }
            Condition::GroupState { group, state } => {
                let found = self.connection.group(group).await?.map_or_else(|| "Dead".to_string(), |g| g.state);
                Verdict::when(found.eq_ignore_ascii_case(state), format!("group {group} is {found}"), || {
                    format!("expected group {group} to be {state}, found {found}")
                })
            }
            Condition::Committed { group, topic, partition, offset } => {
                let committed = self.connection.committed(group, vec![(topic.clone(), *partition)]).await?;
                let expected = format!("expected group {group}'s committed offset on {topic}[{partition}] to be {offset}");
                match committed.get(&(topic.clone(), *partition)) {
                    Some(found) if found == offset => {
                        Verdict::Holds(format!("group {group} has committed {topic}[{partition}] at {offset}"))
                    }
                    Some(found) => Verdict::NotYet(format!("{expected}, found {found}")),
                    None => Verdict::NotYet(format!("{expected}, found none")),
                }
            }
            Condition::GroupLag { group, topic, lag } => {
                let pairs = self.connection.topic(topic).await?.pairs();
                let committed = self.connection.committed(group, pairs.clone()).await?;
                if committed.is_empty() {
                    return Ok(Verdict::NotYet(format!(
                        "expected group {group}'s lag on {topic} to be {lag}, but it has no committed offsets there"
                    )));
                }
                let marks = self.connection.watermarks(pairs).await?;
                let found: i64 =
                    committed.iter().filter_map(|(pair, done)| marks.get(pair).map(|m| (m.high - done).max(0))).sum();
                Verdict::when(found == *lag, format!("group {group}'s lag on {topic} is {lag}"), || {
                    format!("expected group {group}'s lag on {topic} to be {lag}, found {found}")
                })
            }
            _ => return Err(Error::input("not a group condition")),
        })
    }
}

/// `kafka-transactions describe-producers` prints a header and one tab-separated row per
/// producer; each row's LastSequence + 1 messages were numbered by that producer.
fn numbered_messages(printed: &str) -> i64 {
    let mut lines = printed.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else { return 0 };
    let Some(column) = header.split_whitespace().position(|c| c == "LastSequence") else { return 0 };
    lines.filter_map(|row| row.split_whitespace().nth(column)?.parse::<i64>().ok()).filter(|s| *s >= 0).map(|s| s + 1).sum()
}

#[cfg(test)]
mod tests {
    #[test]
    fn describe_producers_counts_each_producers_numbered_messages() {
        let printed = "ProducerId\tProducerEpoch\tLatestCoordinatorEpoch\tLastSequence\tLastTimestamp\tCurrentTransactionStartOffset\n\
                       1000\t0\t-1\t2\t1733000000000\tNone\n1001\t0\t-1\t0\t1733000000001\tNone\n";
        assert_eq!(super::numbered_messages(printed), 4);
        assert_eq!(super::numbered_messages(""), 0);
    }
}
