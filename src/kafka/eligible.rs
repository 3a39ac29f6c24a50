//! Each partition's eligible leader replicas (ELR, KIP-966), from DescribeTopicPartitions
//! (Kafka 3.8+). The Metadata answer that librdkafka reads has the leader, the replicas and the
//! ISR but not the ELR: the replicas that left the ISR while it was below `min.insync.replicas`
//! yet still hold every acknowledged message, so that they may be elected leader cleanly.
//! Kafka reports it when the cluster has `eligible.leader.replicas.version=1` (the default
//! for clusters created on Kafka 4.1 or later).

use std::collections::HashMap;
use std::time::Duration;

use tansu_sans_io::describe_topic_partitions_request::TopicRequest;
use tansu_sans_io::{ApiKey as _, DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse};

use crate::error::{Error, Result};

const VERSION: i16 = 0;

/// One partition's eligible leader replicas and, when none is left in the ISR, the last ones known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Eligible {
    pub elr: Vec<i32>,
    pub last_known: Vec<i32>,
}

/// The ELR of each partition of `topics`, by (topic, partition).
pub async fn describe(servers: &str, wait: Duration, topics: &[String]) -> Result<HashMap<(String, i32), Eligible>> {
    let body = || {
        let asked = topics.iter().map(|t| TopicRequest::default().name(t.clone())).collect::<Vec<_>>();
        DescribeTopicPartitionsRequest::default().topics(Some(asked)).response_partition_limit(2000).cursor(None).into()
    };
    let answer =
        super::raw::ask_any(servers, wait, "DescribeTopicPartitions", DescribeTopicPartitionsRequest::KEY, VERSION, body).await?;
    let response = DescribeTopicPartitionsResponse::try_from(answer)
        .map_err(|e| Error::kafka(format!("DescribeTopicPartitions: decoding: {e}")))?;
    let mut found = HashMap::new();
    for topic in response.topics.unwrap_or_default() {
        let Some(name) = topic.name.filter(|_| topic.error_code == 0) else { continue };
        for partition in topic.partitions.unwrap_or_default() {
            let eligible = Eligible {
                elr: partition.eligible_leader_replicas.unwrap_or_default(),
                last_known: partition.last_known_elr.unwrap_or_default(),
            };
            found.insert((name.clone(), partition.partition_index), eligible);
        }
    }
    Ok(found)
}
