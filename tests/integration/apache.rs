//! kafka-workshop against Apache Kafka itself: the commands a learner types, on a real
//! one-node Kafka 4.x started by the tests (`kafka.rs`).

use crate::harness::{table, unique};
use crate::kafka::shared;

#[test]
fn topics_messages_and_a_group_on_apache_kafka() {
    let kafka = shared();
    let mut shop = kafka.client(None);
    let topic = unique("orders");
    let group = unique("preparers");
    shop.ok(&format!("create-topic {topic} --partitions 3"));
    shop.ok(&format!("produce {topic} 'order {{n}}' --count 30 --key till-{{n}}"));
    let described = shop.ok(&format!("describe-topic {topic}"));
    let rows = &table(&described, &["PARTITION", "LEADER", "REPLICAS", "ISR", "START-OFFSET", "END-OFFSET", "MESSAGES"]).rows;
    assert_eq!(rows.len(), 3);
    let total: i64 = rows.iter().map(|r| r[6].parse::<i64>().unwrap()).sum();
    assert_eq!(total, 30);
    shop.ok(&format!("start-consumer a --group {group} --topic {topic} --from earliest"));
    shop.ok(&format!("start-consumer b --group {group} --topic {topic} --from earliest"));
    shop.ok(&format!("expect group {group} members 2 --within 30s"));
    shop.ok("poll a 5 --wait 10s");
    shop.ok("commit a");
    let group_table = shop.ok(&format!("describe-group {group}"));
    assert!(!group_table.parts().is_empty());
}
