//! The replication part of the picture: which brokers are up (and how long a node this
//! session started has been down), each partition's leader, replicas, ISR and ELR, and what is
//! wrong with them. Every look here is bounded by `LOOK_TIMEOUT`, so a node that is down never
//! holds the picture: what does not answer is left out, or kept from the last look.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use super::{Scene, Stage};
use crate::cluster::NodeView;
use crate::kafka::{ClusterInfo, TopicInfo, LOOK_TIMEOUT};
use crate::outcome::picture::{BrokerView, Flag, Replication, TopicView};

/// How long a topic's `min.insync.replicas` is trusted before it is read again.
const SETTING_FRESH: std::time::Duration = std::time::Duration::from_secs(10);

/// What the replication looks found beyond the Metadata answer.
#[derive(Default)]
pub(super) struct Extra {
    pub min_insync: HashMap<String, i32>,
    pub eligible: Option<HashMap<(String, i32), crate::kafka::eligible::Eligible>>,
}

impl Scene {
    /// Each topic's `min.insync.replicas` (kept for a few seconds) and each partition's ELR.
    pub(super) async fn replication_extra(&self, stage: &Stage, topics: &[&TopicInfo]) -> Extra {
        let names: Vec<String> = topics.iter().map(|t| t.name.clone()).collect();
        let stale: Vec<String> = names
            .iter()
            .filter(|t| !self.settings.lock().is_ok_and(|s| s.get(*t).is_some_and(|(at, _)| at.elapsed() < SETTING_FRESH)))
            .cloned()
            .collect();
        let reads = stale.iter().map(|topic| async move {
            let found = tokio::time::timeout(LOOK_TIMEOUT, stage.connection.topic_setting(topic, "min.insync.replicas")).await;
            let value = match found {
                Ok(Ok(Some(value))) => value.parse().ok(),
                _ => None,
            };
            (topic.clone(), value)
        });
        let (read, eligible) = futures::future::join(futures::future::join_all(reads), stage.connection.eligible(&names)).await;
        if let Ok(mut settings) = self.settings.lock() {
            // A failed read keeps what was known, and is tried again next time.
            for (topic, value) in read {
                if let Some(value) = value {
                    settings.insert(topic, (Instant::now(), value));
                }
            }
        }
        let min_insync =
            self.settings.lock().map(|s| names.iter().filter_map(|t| Some((t.clone(), s.get(t)?.1))).collect()).unwrap_or_default();
        Extra { min_insync, eligible: eligible.and_then(Result::ok).filter(|e| !e.is_empty()) }
    }
}

/// A partition's copies as the cluster reports them, with what is wrong.
pub(super) fn replication(topic: &str, partition: &crate::kafka::PartitionInfo, extra: &Extra) -> Replication {
    let mut flags = Vec::new();
    if partition.leader < 0 {
        flags.push(Flag::Offline);
    }
    if partition.isr.len() < partition.replicas.len() {
        flags.push(Flag::UnderReplicated);
    }
    if extra.min_insync.get(topic).is_some_and(|min| (partition.isr.len() as i32) < *min) {
        flags.push(Flag::UnderMinIsr);
    }
    let elr = extra.eligible.as_ref().map(|e| e.get(&(topic.to_string(), partition.id)).map(|e| e.elr.clone()).unwrap_or_default());
    Replication { leader: partition.leader, replicas: partition.replicas.clone(), isr: partition.isr.clone(), elr, flags }
}

/// Every broker worth drawing: the listed ones, this session's nodes, and any named as a replica.
pub(super) fn brokers(info: &ClusterInfo, nodes: &[NodeView], topics: &[TopicView]) -> Vec<BrokerView> {
    let listed: BTreeSet<i32> = info.brokers.iter().map(|b| b.id).collect();
    let mut ids = listed.clone();
    ids.extend(nodes.iter().map(|n| n.id));
    ids.extend(topics.iter().flat_map(|t| &t.partitions).flat_map(|p| p.replication.replicas.iter().copied()));
    ids.into_iter()
        .map(|id| {
            let node = nodes.iter().find(|n| n.id == id);
            // A node this session started is up while its process runs; any other, while listed.
            let up = node.map_or(listed.contains(&id), |n| n.up);
            let down_seconds = node.filter(|n| !n.up).and_then(|n| n.down_since).map(|since| since.elapsed().as_secs());
            let leads = topics.iter().flat_map(|t| &t.partitions).filter(|p| p.replication.leader == id).count();
            BrokerView { id, up, down_seconds, leads }
        })
        .collect()
}
