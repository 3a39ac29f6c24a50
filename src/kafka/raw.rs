//! One Kafka request spoken directly, for the few that librdkafka does not offer
//! (DescribeQuorum, DescribeTopicPartitions): tansu-sans-io encodes and decodes Kafka's own
//! message schema; this sends the frame over a plain TCP connection and reads the answer.
//! Plaintext listeners only: over TLS or SASL the callers do not ask, and say so.

use std::time::Duration;

use tansu_sans_io::{Body, Frame, Header};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::{Error, Result};

/// The largest answer read (a cluster's whole partition list fits well within it).
const MAX_ANSWER: usize = 16 << 20;

/// Ask every address (`host:port`, comma separated) at once and take the first answer within
/// `wait`: a node that is down refuses at once, and one that hangs (a broker waiting on a
/// controller that was just killed) does not hold the others. `name` is the request's name,
/// for messages.
pub async fn ask_any(servers: &str, wait: Duration, name: &str, api_key: i16, version: i16, body: impl Fn() -> Body) -> Result<Body> {
    let asks: Vec<_> = servers
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|address| Box::pin(ask(address, api_key, version, body(), name)))
        .collect();
    if asks.is_empty() {
        return Err(Error::kafka("no address to ask"));
    }
    match tokio::time::timeout(wait, futures::future::select_ok(asks)).await {
        Ok(Ok((answer, _))) => Ok(answer),
        Ok(Err(last)) => Err(last),
        Err(_) => Err(Error::kafka(format!("no node answered {name} within {:.1} s", wait.as_secs_f64()))),
    }
}

async fn ask(address: &str, api_key: i16, api_version: i16, body: Body, name: &str) -> Result<Body> {
    let failed = |what: &str, err: &dyn std::fmt::Display| Error::kafka(format!("{name} to {address}: {what}: {err}"));
    let header = Header::Request { api_key, api_version, correlation_id: 1, client_id: Some("kafka-workshop".into()) };
    let request = Frame::request(header, body).map_err(|e| failed("encoding", &e))?;
    let mut stream = TcpStream::connect(address).await.map_err(|e| failed("connecting", &e))?;
    stream.write_all(&request).await.map_err(|e| failed("sending", &e))?;
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).await.map_err(|e| failed("reading", &e))?;
    let length = usize::try_from(i32::from_be_bytes(size)).map_err(|e| failed("reading", &e))?;
    if length > MAX_ANSWER {
        return Err(failed("reading", &format!("an answer of {length} bytes")));
    }
    let mut answer = vec![0u8; 4 + length];
    answer[..4].copy_from_slice(&size);
    stream.read_exact(&mut answer[4..]).await.map_err(|e| failed("reading", &e))?;
    let frame = Frame::response_from_bytes(&answer[..], api_key, api_version).map_err(|e| failed("decoding", &e))?;
    Ok(frame.body)
}
