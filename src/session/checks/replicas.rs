//! The checks about replication: a partition's leader and in-sync replicas as the Metadata
//! answer reports them, a broker out of the cluster, and the KRaft quorum's active controller.

use super::super::Session;
use super::Verdict;
use crate::error::{Error, Result};
use crate::expect::Condition;
use crate::format::join_ids;

impl Session {
    /// `partition T[P] leader N | isr 1,3 | under-replicated`, `broker N down`, `controller N`.
    pub(super) async fn check_replicas(&self, condition: &Condition) -> Result<Verdict> {
        let partition_of = |topic: &str, partition: i32, info: &crate::kafka::TopicInfo| {
            info.partitions.iter().find(|p| p.id == partition).cloned().ok_or_else(|| {
                Error::input(format!("topic {topic} has no partition {partition} (it has {})", info.partitions.len()))
            })
        };
        Ok(match condition {
            Condition::PartitionLeader { topic, partition, broker } => {
                let info = self.connection.topic(topic).await?;
                let found = partition_of(topic, *partition, &info)?;
                let place = format!("{topic}[{partition}]");
                Verdict::when(found.leader == *broker, format!("broker {broker} leads {place}"), || match found.leader {
                    -1 => format!("expected broker {broker} to lead {place}, but it has no leader now"),
                    other => format!("expected broker {broker} to lead {place}, found broker {other}"),
                })
            }
            Condition::PartitionIsr { topic, partition, brokers } => {
                let info = self.connection.topic(topic).await?;
                let found = partition_of(topic, *partition, &info)?;
                let (mut isr, mut wanted) = (found.isr.clone(), brokers.clone());
                isr.sort_unstable();
                wanted.sort_unstable();
                let place = format!("{topic}[{partition}]");
                Verdict::when(isr == wanted, format!("the in-sync replicas of {place} are {}", join_ids(&wanted)), || {
                    format!("expected the in-sync replicas of {place} to be {}, found {}", join_ids(&wanted), join_ids(&found.isr))
                })
            }
            Condition::PartitionUnderReplicated { topic, partition } => {
                let info = self.connection.topic(topic).await?;
                let found = partition_of(topic, *partition, &info)?;
                let place = format!("{topic}[{partition}]");
                let (isr, replicas) = (join_ids(&found.isr), join_ids(&found.replicas));
                Verdict::when(
                    found.isr.len() < found.replicas.len(),
                    format!("{place} is under-replicated: in sync {isr} of replicas {replicas}"),
                    || format!("expected {place} to be under-replicated, but all its replicas ({replicas}) are in sync"),
                )
            }
            Condition::PartitionUnderMinIsr { topic, partition } => {
                let info = self.connection.topic(topic).await?;
                let found = partition_of(topic, *partition, &info)?;
                let min = self.min_insync(topic).await?;
                let place = format!("{topic}[{partition}]");
                let isr = join_ids(&found.isr);
                Verdict::when(
                    (found.isr.len() as i32) < min,
                    format!("{place} is under its min.insync.replicas ({min}): only {isr} in sync, so acks=all is refused"),
                    || format!("expected {place} to have fewer in sync than its min.insync.replicas ({min}), but {isr} are in sync"),
                )
            }
            Condition::TopicMinInsync { topic, count } => {
                let min = self.min_insync(topic).await?;
                Verdict::when(min == *count, format!("{topic}'s min.insync.replicas is {count}"), || {
                    format!("expected {topic}'s min.insync.replicas to be {count}, found {min} (`alter-topic {topic} --config min.insync.replicas={count}` sets it)")
                })
            }
            Condition::PartitionFailedOver { topic, partition } => {
                let info = self.connection.topic(topic).await?;
                let found = partition_of(topic, *partition, &info)?;
                let place = format!("{topic}[{partition}]");
                let pair = (topic.clone(), *partition);
                // The latest broker this session took down while it led the partition, and is
                // still down: a failover before a `broker start` belongs to an earlier try.
                let still_down: Vec<_> = self.downed.iter().filter(|d| !d.back).collect();
                let led = still_down.iter().rev().find(|d| d.leaders.get(&pair) == Some(&d.node));
                match (led, still_down.last()) {
                    (_, None) => Verdict::NotYet(format!("expected {place}'s leader to be down, but no broker this session stopped or killed is down now")),
                    (None, Some(last)) => Verdict::NotYet(format!(
                        "expected the broker that leads {place} to go down, but you took down broker {}, which {}",
                        last.node,
                        match last.leaders.get(&pair) {
                            Some(leader) => format!("did not lead it (broker {leader} did)"),
                            None => "was taken down before the topic existed".to_string(),
                        }
                    )),
                    (Some(down), _) if found.isr.contains(&down.node) || found.leader == down.node => Verdict::NotYet(format!(
                        "broker {} led {place} and is down; the controller has not yet moved the leadership (leader {}, ISR {})",
                        down.node,
                        found.leader,
                        join_ids(&found.isr)
                    )),
                    (Some(down), _) if found.leader < 0 => {
                        Verdict::NotYet(format!("{place} lost its leader, broker {}, and no in-sync replica is left to take over", down.node))
                    }
                    (Some(down), _) => Verdict::Holds(format!(
                        "{place} failed over: its leader, broker {}, went down, and broker {} leads it now with ISR {}",
                        down.node,
                        found.leader,
                        join_ids(&found.isr)
                    )),
                }
            }
            Condition::ControllerFailedOver => {
                // Only a node still down counts: a takeover before a `broker start` belongs to an earlier try.
                let Some(last) = self.downed.iter().rev().find(|d| !d.back).cloned() else {
                    return Ok(Verdict::NotYet("expected the active controller to be down, but no broker this session stopped or killed is down now".into()));
                };
                match (last.controller, self.connection.quorum().await) {
                    (None, _) | (_, None) => Verdict::NotYet("the quorum cannot be read here (it is read over plaintext only)".into()),
                    (_, Some(Err(err))) => Verdict::NotYet(format!("the quorum did not answer: {err}")),
                    (Some((was, _)), _) if was != last.node => Verdict::NotYet(format!(
                        "expected the broker you took down last to be the active controller, but you took down node {} while node {was} was (`cluster` shows the quorum)",
                        last.node
                    )),
                    (Some((was, epoch)), Some(Ok(now))) => Verdict::when(
                        now.leader >= 0 && now.leader != was && now.epoch > epoch,
                        format!("node {} took over as active controller from node {was} (epoch {epoch} → {})", now.leader, now.epoch),
                        || format!("node {was}, the active controller, is down; no other node has taken over yet (the quorum says leader {}, epoch {})", now.leader, now.epoch),
                    ),
                }
            }
            Condition::BrokerDown { broker } => {
                let info = self.connection.cluster_info().await?;
                let listed: Vec<i32> = info.brokers.iter().map(|b| b.id).collect();
                Verdict::when(!listed.contains(broker), format!("broker {broker} is out of the cluster"), || {
                    format!(
                        "expected broker {broker} to be out of the cluster, but the metadata still lists it (brokers {}); \
                         a killed broker leaves when its session times out",
                        join_ids(&listed)
                    )
                })
            }
            Condition::Controller { node } => match self.connection.quorum().await {
                None => Verdict::NotYet(format!(
                    "expected {node} to be the active controller, but the quorum is not read over TLS or SASL"
                )),
                Some(Err(err)) => Verdict::NotYet(format!("expected {node} to be the active controller, but the quorum did not answer: {err}")),
                Some(Ok(quorum)) => Verdict::when(
                    quorum.leader == *node,
                    format!("node {node} is the active controller (epoch {})", quorum.epoch),
                    || match quorum.leader {
                        -1 => format!("expected {node} to be the active controller, but the quorum is electing one"),
                        other => format!("expected {node} to be the active controller, found {other} (epoch {})", quorum.epoch),
                    },
                ),
            },
            _ => return Err(Error::input("not a replication condition")),
        })
    }

    /// The topic's `min.insync.replicas`: set on it, else the broker's (Kafka's default is 1).
    async fn min_insync(&self, topic: &str) -> Result<i32> {
        let value = self.connection.topic_setting(topic, "min.insync.replicas").await?;
        Ok(value.and_then(|v| v.parse().ok()).unwrap_or(1))
    }
}
