//! The broker settings kafka-workshop writes for local nodes: Kafka's defaults with only what
//! fewer than three nodes need, or the teaching settings that make failures show in seconds.

use super::ApacheSpec;

impl ApacheSpec {
    /// What a cluster of fewer than three nodes needs under Kafka's defaults, which replicate
    /// the internal topics three times (Kafka's own config/server.properties sets the same).
    pub fn minimal_settings(nodes: usize) -> Vec<(String, String)> {
        let replicas = nodes.clamp(1, 3).to_string();
        let min_isr = if nodes >= 3 { "2" } else { "1" };
        [
            ("offsets.topic.replication.factor", replicas.as_str()),
            ("transaction.state.log.replication.factor", replicas.as_str()),
            ("transaction.state.log.min.isr", min_isr),
            ("share.coordinator.state.topic.replication.factor", replicas.as_str()),
            ("share.coordinator.state.topic.min.isr", min_isr),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Settings that make failures show in seconds, for a cluster a learner breaks on purpose.
    /// None is a production value.
    /// The teaching settings a learner notices, with Kafka's defaults, in one line.
    pub fn teaching_summary() -> String {
        let settings = ApacheSpec::teaching_settings(3);
        let value = |key: &str| settings.iter().find(|(k, _)| k == key).map_or("?", |(_, v)| v.as_str()).to_string();
        let seconds = |key: &str| value(key).parse::<u64>().map_or_else(|_| value(key), |ms| format!("{} s", ms / 1000));
        format!(
            "teaching settings, not production values: a killed broker is fenced after {} (Kafka's default 9 s), \
             a follower that stops fetching leaves the ISR after {} (30 s); the README's \"Teaching settings\" lists them all",
            seconds("broker.session.timeout.ms"),
            seconds("replica.lag.time.max.ms"),
        )
    }

    pub fn teaching_settings(nodes: usize) -> Vec<(String, String)> {
        let replicas = nodes.clamp(1, 3);
        let min_isr = if nodes >= 3 { 2 } else { 1 };
        [
            // A group's first member is dealt its partitions at once (Kafka waits 3 s).
            ("group.initial.rebalance.delay.ms", "0".to_string()),
            // A mistyped topic is an error, not a new topic.
            ("auto.create.topics.enable", "false".to_string()),
            ("default.replication.factor", replicas.to_string()),
            ("offsets.topic.replication.factor", replicas.to_string()),
            // Kafka makes 50; a laptop's first group waits for every one of them.
            ("offsets.topic.num.partitions", "10".to_string()),
            ("transaction.state.log.replication.factor", replicas.to_string()),
            ("transaction.state.log.min.isr", min_isr.to_string()),
            ("transaction.state.log.num.partitions", "10".to_string()),
            ("share.coordinator.state.topic.replication.factor", replicas.to_string()),
            ("share.coordinator.state.topic.min.isr", min_isr.to_string()),
            // KIP-848 groups: the broker's session timeout and heartbeat (45 s and 5 s, with
            // minimums of 45 s and 5 s, by default).
            ("group.consumer.min.session.timeout.ms", "6000".to_string()),
            ("group.consumer.session.timeout.ms", "10000".to_string()),
            ("group.consumer.min.heartbeat.interval.ms", "500".to_string()),
            ("group.consumer.heartbeat.interval.ms", "1000".to_string()),
            // A killed broker is fenced after 3 s without a heartbeat (9 s by default).
            ("broker.heartbeat.interval.ms", "500".to_string()),
            ("broker.session.timeout.ms", "3000".to_string()),
            // A follower that stops fetching leaves the ISR after 5 s (30 s by default).
            ("replica.lag.time.max.ms", "5000".to_string()),
            // The cleaner and retention look every second (15 s and 5 min by default), so
            // compaction and deletion happen while a lesson watches.
            ("log.cleaner.backoff.ms", "1000".to_string()),
            ("log.retention.check.interval.ms", "1000".to_string()),
            ("log.segment.delete.delay.ms", "1000".to_string()),
            ("file.delete.delay.ms", "1000".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}
