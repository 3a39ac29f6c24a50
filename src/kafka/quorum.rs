//! The KRaft controller quorum, as DescribeQuorum reports it: the active controller, its epoch
//! and each voter's progress. In KRaft the Metadata answer names any broker as "controller"
//! (KIP-631), so only the quorum says which controller is active. librdkafka has no
//! DescribeQuorum, so this speaks the one request itself, with tansu-sans-io's encoding of
//! Kafka's own message schema, to a broker (which forwards it to the active controller).
//! Plaintext listeners only: over TLS or SASL the quorum is not read, and the caller says so.

use std::time::Duration;

use tansu_sans_io::describe_quorum_request::{PartitionData, TopicData};
use tansu_sans_io::{ApiKey as _, DescribeQuorumRequest, DescribeQuorumResponse, Frame, Header};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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

/// Ask each address in turn (`host:port`, comma separated) until one answers within `wait`.
pub async fn describe(servers: &str, wait: Duration) -> Result<Quorum> {
    let mut last = Error::kafka("no address to ask");
    for address in servers.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        match tokio::time::timeout(wait, ask(address)).await {
            Ok(Ok(quorum)) => return Ok(quorum),
            Ok(Err(err)) => last = err,
            Err(_) => last = Error::kafka(format!("{address} did not answer DescribeQuorum within {:.1} s", wait.as_secs_f64())),
        }
    }
    Err(last)
}

async fn ask(address: &str) -> Result<Quorum> {
    let failed = |what: &str, err: &dyn std::fmt::Display| Error::kafka(format!("DescribeQuorum to {address}: {what}: {err}"));
    let header = Header::Request {
        api_key: DescribeQuorumRequest::KEY,
        api_version: VERSION,
        correlation_id: 1,
        client_id: Some("kafka-workshop".into()),
    };
    let partition = PartitionData::default().partition_index(0);
    let topic = TopicData::default().topic_name("__cluster_metadata".into()).partitions(Some([partition].into()));
    let body = DescribeQuorumRequest::default().topics(Some([topic].into())).into();
    let request = Frame::request(header, body).map_err(|e| failed("encoding", &e))?;
    let mut stream = TcpStream::connect(address).await.map_err(|e| failed("connecting", &e))?;
    stream.write_all(&request).await.map_err(|e| failed("sending", &e))?;
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).await.map_err(|e| failed("reading", &e))?;
    let length = usize::try_from(i32::from_be_bytes(size)).map_err(|e| failed("reading", &e))?;
    if length > 1 << 20 {
        return Err(failed("reading", &format!("an answer of {length} bytes")));
    }
    let mut answer = vec![0u8; 4 + length];
    answer[..4].copy_from_slice(&size);
    stream.read_exact(&mut answer[4..]).await.map_err(|e| failed("reading", &e))?;
    let frame = Frame::response_from_bytes(&answer[..], DescribeQuorumRequest::KEY, VERSION).map_err(|e| failed("decoding", &e))?;
    let response = DescribeQuorumResponse::try_from(frame.body).map_err(|e| failed("decoding", &e))?;
    if response.error_code != 0 {
        return Err(failed("the broker refused it", &format!("error code {}", response.error_code)));
    }
    let partition = response
        .topics
        .unwrap_or_default()
        .into_iter()
        .flat_map(|t| t.partitions.unwrap_or_default())
        .next()
        .ok_or_else(|| failed("decoding", &"no partition in the answer"))?;
    if partition.error_code != 0 {
        return Err(failed("the quorum refused it", &format!("error code {}", partition.error_code)));
    }
    Ok(Quorum {
        leader: partition.leader_id,
        epoch: partition.leader_epoch,
        high_watermark: partition.high_watermark,
        voters: partition.current_voters.unwrap_or_default().into_iter().map(|v| (v.replica_id, v.log_end_offset)).collect(),
    })
}
