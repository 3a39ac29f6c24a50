//! Kafka's default partitioner for keyed messages: the Java client's `Utils.murmur2`, made positive
//! with `& 0x7fffffff`, modulo the partition count. librdkafka's `murmur2_random` partitioner does
//! the same for keyed messages, which is why the tool's producers are configured with it.

/// The 32-bit murmur2 hash exactly as `org.apache.kafka.common.utils.Utils.murmur2` computes it.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;

    let length = data.len();
    let mut h: u32 = SEED ^ (length as u32);

    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }

    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }

    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// `Utils.toPositive`: clears the sign bit (it is not `abs`).
pub fn to_positive(hash: i32) -> i32 {
    hash & 0x7fff_ffff
}

/// Every step of the default partitioner's choice for one key, so the REPL can show its working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionChoice {
    pub hash: i32,
    pub positive: i32,
    pub partitions: i32,
    pub partition: i32,
}

pub fn partition_for(key: &[u8], partitions: i32) -> PartitionChoice {
    let hash = murmur2(key);
    let positive = to_positive(hash);
    PartitionChoice { hash, positive, partitions, partition: positive % partitions }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectors from Kafka's own `UtilsTest.testMurmur2`.
    #[test]
    fn matches_kafka_utils_test_vectors() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            (b"abc", 479_470_107),
        ];
        for (key, expected) in cases {
            assert_eq!(murmur2(key), expected, "murmur2({:?})", String::from_utf8_lossy(key));
        }
    }

    #[test]
    fn positive_clears_only_the_sign_bit() {
        assert_eq!(to_positive(-1), i32::MAX);
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(42), 42);
    }

    #[test]
    fn partition_is_positive_hash_modulo_count() {
        let choice = partition_for(b"foobar", 3);
        assert_eq!(choice.hash, -790_332_482);
        assert_eq!(choice.positive, (-790_332_482i32) & 0x7fff_ffff);
        assert_eq!(choice.partition, choice.positive % 3);
    }
}
