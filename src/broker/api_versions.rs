//! ApiVersions from a client newer than tansu, answered as Apache Kafka answers it.
//!
//! Kafka 4.4's Java client sends ApiVersions v5 (KIP-1242), which adds the cluster id and node
//! id it expects to reach. tansu 0.6.0 knows versions up to 4 and decodes v5 as v4: with no
//! cluster id yet (the first connection) the extra bytes pass unnoticed, but on every later
//! connection the id's bytes are read as tagged fields, decoding fails and tansu drops the
//! connection, so the Java consumer never reached its group coordinator. A Kafka broker asked
//! for a version it does not know answers, in version 0, UNSUPPORTED_VERSION with the range it
//! has, and the client asks again within it; this layer, in front of tansu's decoder, does the
//! same.

use bytes::{BufMut, Bytes, BytesMut};
use rama::{Context, Layer, Service};

/// ApiVersions' api key, and the newest version tansu 0.6.0 decodes.
const API_VERSIONS: i16 = 18;
const NEWEST: i16 = 4;
/// Kafka's UNSUPPORTED_VERSION error code.
const UNSUPPORTED_VERSION: i16 = 35;

#[derive(Clone, Copy, Debug, Default)]
pub struct ApiVersionsLayer;

impl<S> Layer<S> for ApiVersionsLayer {
    type Service = ApiVersionsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ApiVersionsService { inner }
    }
}

#[derive(Clone, Debug)]
pub struct ApiVersionsService<S> {
    inner: S,
}

impl<S, State> Service<State, Bytes> for ApiVersionsService<S>
where
    S: Service<State, Bytes, Response = Bytes>,
    State: Clone + Send + Sync + 'static,
{
    type Response = Bytes;
    type Error = S::Error;

    async fn serve(&self, ctx: Context<State>, req: Bytes) -> Result<Self::Response, Self::Error> {
        match too_new(&req) {
            Some(correlation_id) => Ok(unsupported(correlation_id)),
            None => self.inner.serve(ctx, req).await,
        }
    }
}

/// The correlation id of an ApiVersions request newer than tansu decodes. `frame` is the size
/// (4 bytes) then the request header: api key, api version, correlation id.
fn too_new(frame: &[u8]) -> Option<i32> {
    let header = frame.get(4..12)?;
    let api_key = i16::from_be_bytes([header[0], header[1]]);
    let api_version = i16::from_be_bytes([header[2], header[3]]);
    (api_key == API_VERSIONS && api_version > NEWEST).then(|| i32::from_be_bytes([header[4], header[5], header[6], header[7]]))
}

/// ApiVersionsResponse v0, size first: UNSUPPORTED_VERSION, and ApiVersions' own range.
fn unsupported(correlation_id: i32) -> Bytes {
    let mut body = BytesMut::new();
    body.put_i32(correlation_id);
    body.put_i16(UNSUPPORTED_VERSION);
    body.put_i32(1);
    body.put_i16(API_VERSIONS);
    body.put_i16(0);
    body.put_i16(NEWEST);
    let mut frame = BytesMut::with_capacity(body.len() + 4);
    frame.put_i32(i32::try_from(body.len()).unwrap_or(i32::MAX));
    frame.put(body);
    frame.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(api_key: i16, api_version: i16, correlation_id: i32) -> Vec<u8> {
        let mut frame = vec![0, 0, 0, 20];
        frame.extend(api_key.to_be_bytes());
        frame.extend(api_version.to_be_bytes());
        frame.extend(correlation_id.to_be_bytes());
        frame.extend([0; 12]);
        frame
    }

    #[test]
    fn only_api_versions_newer_than_tansu_is_answered_here() {
        assert_eq!(too_new(&request(18, 5, 7)), Some(7));
        assert_eq!(too_new(&request(18, 4, 7)), None);
        assert_eq!(too_new(&request(3, 12, 7)), None);
        assert_eq!(too_new(&[0, 0, 0, 2, 0, 18]), None);
    }

    #[test]
    fn the_answer_is_a_version_0_unsupported_version_with_the_range_tansu_has() {
        let answer = unsupported(9);
        assert_eq!(&answer[..], &[0, 0, 0, 16, 0, 0, 0, 9, 0, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0, 4]);
    }
}
