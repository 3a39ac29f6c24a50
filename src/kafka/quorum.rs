//! The KRaft controller quorum, as DescribeQuorum reports it: the active controller, its epoch
//! and each voter's progress. In KRaft the Metadata answer names any broker as "controller"
//! (KIP-631), so only the quorum says which controller is active. librdkafka has no
//! DescribeQuorum, so this speaks the one request itself (`raw`) to a broker, which forwards it
//! to the active controller.

use std::time::Duration;

use tansu_sans_io::describe_quorum_request::{PartitionData, TopicData};
use tansu_sans_io::{ApiKey as _, DescribeQuorumRequest, DescribeQuorumResponse};

use crate::error::{Error, Result};

/// The version asked for: 1 adds each voter's last fetch and catch-up times (Kafka 3.3+).
const VERSION: i16 = 1;

/// What the quorum reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quorum {
    /// The active controller, or -1 while there is none.
    pub leader: i32,
    pub epoch: i32,
    pub high_watermark: i64,
    /// Each voter's id and how far its copy of the metadata log reaches (-1 unknown).
    pub voters: Vec<(i32, i64)>,
}

/// Ask the nodes (`host:port`, comma separated); the first answer within `wait` counts.
pub async fn describe(servers: &str, wait: Duration) -> Result<Quorum> {
    let body = || {
        let partition = PartitionData::default().partition_index(0);
        let topic = TopicData::default().topic_name("__cluster_metadata".into()).partitions(Some([partition].into()));
        DescribeQuorumRequest::default().topics(Some([topic].into())).into()
    };
    let answer = super::raw::ask_any(servers, wait, "DescribeQuorum", DescribeQuorumRequest::KEY, VERSION, body).await?;
    let failed = |what: &str| Error::kafka(format!("DescribeQuorum: {what}"));
    let response = DescribeQuorumResponse::try_from(answer).map_err(|e| failed(&format!("decoding: {e}")))?;
    if response.error_code != 0 {
        return Err(failed(&format!("the broker refused it: error code {}", response.error_code)));
    }
    let partition = response
        .topics
        .unwrap_or_default()
        .into_iter()
        .flat_map(|t| t.partitions.unwrap_or_default())
        .next()
        .ok_or_else(|| failed("no partition in the answer"))?;
    if partition.error_code != 0 {
        return Err(failed(&format!("the quorum refused it: error code {}", partition.error_code)));
    }
    Ok(Quorum {
        leader: partition.leader_id,
        epoch: partition.leader_epoch,
        high_watermark: partition.high_watermark,
        voters: partition.current_voters.unwrap_or_default().into_iter().map(|v| (v.replica_id, v.log_end_offset)).collect(),
    })
}
