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
}
