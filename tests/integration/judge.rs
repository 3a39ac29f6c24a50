//! Apache Kafka's own tools and Java client as the judge, on both brokers: what kafka-workshop
//! shows must be what `kafka-consumer-groups`, `kafka-topics`, the Java producer's partitioner
//! and the console consumer say, from the same jars the tests run Kafka with.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Child, Stdio};
use std::time::Duration;

use kafka_workshop::cluster::apache::{run_tool, tool_command};

use crate::harness::{table, unique, wait_until, BackgroundBroker, Workshop};
use crate::kafka::{jars, shared};

const GROUPS: &str = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
const TOPICS: &str = "org.apache.kafka.tools.TopicCommand";
const CONSOLE_CONSUMER: &str = "org.apache.kafka.tools.consumer.ConsoleConsumer";
const CONSOLE_PRODUCER: &str = "org.apache.kafka.tools.ConsoleProducer";

/// The two brokers, each with a bootstrap address a Java tool can reach.
enum Broker {
    Embedded(BackgroundBroker),
    Apache,
}

impl Broker {
    fn both() -> [Broker; 2] {
        [Broker::Embedded(BackgroundBroker::start(&[])), Broker::Apache]
    }

    fn name(&self) -> &'static str {
        match self {
            Broker::Embedded(_) => "the embedded broker",
            Broker::Apache => "Apache Kafka",
        }
    }

    fn bootstrap(&self) -> String {
        match self {
            Broker::Embedded(broker) => broker.bootstrap.clone(),
            Broker::Apache => shared().bootstrap.clone(),
        }
    }

    fn client(&self) -> Workshop {
        match self {
            Broker::Embedded(broker) => broker.client(None),
            Broker::Apache => shared().client(None),
        }
    }
}

/// Run one of Kafka's tools to the end and return what it printed.
fn tool(main: &str, args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    run_tool(&jars(), main, &args).unwrap_or_else(|e| panic!("{main} {args:?}: {e}"))
}

/// Kafka's console producer writes `lines` to `topic`, read with these `--reader-property`s.
fn console_produce(broker: &Broker, topic: &str, reader: &[&str], lines: &str) {
    let mut command = tool_command(&jars(), CONSOLE_PRODUCER).unwrap();
    command.args(["--bootstrap-server", &broker.bootstrap(), "--topic", topic]);
    for property in reader {
        command.args(["--reader-property", property]);
    }
    let mut producer = command.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    producer.stdin.take().unwrap().write_all(lines.as_bytes()).unwrap();
    let done = producer.wait_with_output().unwrap();
    assert!(done.status.success(), "on {}: {}", broker.name(), String::from_utf8_lossy(&done.stderr));
}

/// A Java process that is killed when the test ends, however it ends.
struct Java(Child);

impl Drop for Java {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The rows of a whitespace-aligned table Kafka's tools print, as maps from its header.
fn columns(printed: &str, first: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = printed.lines().skip_while(|l| !l.split_whitespace().next().is_some_and(|w| w == first));
    let Some(header) = lines.next() else { return Vec::new() };
    let names: Vec<&str> = header.split_whitespace().collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| names.iter().map(|n| n.to_string()).zip(l.split_whitespace().map(str::to_string)).collect())
        .collect()
}

#[test]
fn describe_group_shows_what_kafka_consumer_groups_describe_shows() {
    for broker in Broker::both() {
        let mut shop = broker.client();
        let (topic, group) = (unique("judged"), unique("judges"));
        shop.ok(&format!("create-topic {topic} --partitions 3"));
        shop.ok(&format!("produce {topic} 'order {{n}}' --count 30 --key till-{{n}}"));
        shop.ok(&format!("start-consumer a --group {group} --topic {topic} --from earliest --manual-commit"));
        shop.ok(&format!("expect consumer a assigned {topic}[0,1,2] --within 30s"));
        shop.ok("poll a 12 --wait 10s");
        shop.ok("commit a");
        let ours = shop.ok(&format!("describe-group {group}"));
        let ours = table(&ours, &["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"]);
        let theirs = tool(GROUPS, &["--bootstrap-server", &broker.bootstrap(), "--describe", "--group", &group]);
        let theirs = columns(&theirs, "GROUP");
        let header: Vec<&str> = theirs.first().map(|row| row.keys().map(String::as_str).collect()).unwrap_or_default();
        let mut wanted: Vec<&str> = ours.columns.iter().map(String::as_str).collect();
        wanted.sort();
        assert_eq!(header, wanted, "on {}: the same columns", broker.name());
        assert_eq!(theirs.len(), ours.rows.len(), "on {}: one row per partition\n{theirs:?}\n{:?}", broker.name(), ours.rows);
        for row in &ours.rows {
            let judged = theirs.iter().find(|r| r["PARTITION"] == row[2]).unwrap_or_else(|| panic!("partition {} missing", row[2]));
            for (i, name) in ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID"].iter().enumerate() {
                assert_eq!(judged[*name], row[i], "on {}: {name} of partition {}", broker.name(), row[2]);
            }
        }
        let committed: i64 = ours.rows.iter().filter_map(|r| r[3].parse::<i64>().ok()).sum();
        assert_eq!(committed, 12, "on {}: the commit covers what was polled", broker.name());
    }
}

#[test]
fn describe_topic_shows_what_kafka_topics_describe_shows() {
    for broker in Broker::both() {
        let mut shop = broker.client();
        let topic = unique("described");
        shop.ok(&format!("create-topic {topic} --partitions 4 --config retention.ms=600000"));
        let ours = shop.ok(&format!("describe-topic {topic}"));
        let partitions = table(&ours, &["PARTITION", "LEADER", "REPLICAS", "ISR", "START-OFFSET", "END-OFFSET", "MESSAGES"]);
        let theirs = tool(TOPICS, &["--bootstrap-server", &broker.bootstrap(), "--describe", "--topic", &topic]);
        // Kafka prints `Partition: 0\tLeader: 1\tReplicas: 1\tIsr: 1…` for each partition.
        let judged: Vec<BTreeMap<String, String>> = theirs
            .lines()
            .filter(|l| l.contains("Partition: "))
            .map(|l| {
                l.split('\t')
                    .filter_map(|field| field.trim().split_once(": "))
                    .map(|(k, v)| (k.to_string(), v.trim().to_string()))
                    .collect()
            })
            .collect();
        assert_eq!(judged.len(), 4, "on {}: {theirs}", broker.name());
        for row in &partitions.rows {
            let theirs = judged.iter().find(|r| r["Partition"] == row[0]).unwrap();
            assert_eq!(theirs["Leader"], row[1], "on {}: leader of {}", broker.name(), row[0]);
            assert_eq!(theirs["Replicas"], row[2], "on {}: replicas of {}", broker.name(), row[0]);
            assert_eq!(theirs["Isr"], row[3], "on {}: ISR of {}", broker.name(), row[0]);
        }
        assert!(theirs.contains("retention.ms=600000"), "on {}: {theirs}", broker.name());
        let configs = table(&ours, &["CONFIG", "VALUE"]);
        assert!(configs.rows.contains(&vec!["retention.ms".to_string(), "600000".to_string()]), "on {}: {:?}", broker.name(), configs.rows);
    }
}

/// Where the Java producer's default partitioner puts each key is where `partition-for` says.
#[test]
fn partition_for_agrees_with_the_java_producer() {
    for broker in Broker::both() {
        let mut shop = broker.client();
        let topic = unique("placed");
        shop.ok(&format!("create-topic {topic} --partitions 6"));
        let keys: Vec<String> = (1..=24).map(|n| format!("till-{n}")).collect();
        let lines: String = keys.iter().map(|k| format!("{k}:order from {k}\n")).collect();
        console_produce(&broker, &topic, &["parse.key=true", "key.separator=:"], &lines);
        let read = shop.ok(&format!("read {topic} --max 24"));
        let read = table(&read, &["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"]);
        assert_eq!(read.rows.len(), 24, "on {}: every message the Java producer sent", broker.name());
        for row in &read.rows {
            let predicted = shop.ok(&format!("partition-for {} --topic {topic}", row[3]));
            let predicted = table(&predicted, &["KEY", "MURMUR2", "POSITIVE", "PARTITIONS", "PARTITION"]);
            assert_eq!(predicted.rows[0][4], row[0], "on {}: key {}", broker.name(), row[3]);
        }
    }
}

/// Keys, headers and JSON written by kafka-workshop come out of the console consumer as they
/// went in, and what the console producer writes reads back here the same.
#[test]
fn the_console_consumer_and_producer_read_and_write_what_kafka_workshop_does() {
    for broker in Broker::both() {
        let mut shop = broker.client();
        let topic = unique("console");
        shop.ok(&format!("create-topic {topic}"));
        shop.ok(&format!(r#"produce {topic} '{{"order": 1, "fish": "cod"}}' --key till-1 --header kind=order"#));
        let printed = tool(
            CONSOLE_CONSUMER,
            &[
                "--bootstrap-server", &broker.bootstrap(), "--topic", &topic, "--from-beginning", "--max-messages", "1",
                "--timeout-ms", "30000", "--formatter-property", "print.key=true", "--formatter-property", "print.headers=true",
            ],
        );
        let line = printed.lines().find(|l| l.contains("till-1")).unwrap_or_else(|| panic!("on {}: {printed}", broker.name()));
        assert_eq!(line, "kind:order\ttill-1\t{\"order\":1,\"fish\":\"cod\"}", "on {}", broker.name());

        console_produce(&broker, &topic, &["parse.key=true", "parse.headers=true"], "kind:refund\ttill-2\t{\"order\":2,\"fish\":\"plaice\"}\n");
        let read = shop.ok(&format!("read {topic} --max 2"));
        let rows = &table(&read, &["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"]).rows;
        assert_eq!(rows.len(), 2, "on {}", broker.name());
        assert_eq!(rows[1][3], "till-2");
        assert!(rows[1][4].contains(r#""fish":"plaice""#) || rows[1][4].contains(r#""fish": "plaice""#), "on {}: {:?}", broker.name(), rows[1]);
        assert_eq!(rows[1][5], "kind=refund", "on {}", broker.name());
    }
}

/// Kafka's own Java consumer in a group run by the embedded broker's group coordinator (the
/// project's own): two console consumers share the partitions, and when one stops the other
/// is given them all.
#[test]
fn two_java_console_consumers_share_a_topic_on_the_embedded_broker_and_rebalance() {
    let broker = Broker::Embedded(BackgroundBroker::start(&[]));
    let mut shop = broker.client();
    let (topic, group) = (unique("java"), unique("java-preparers"));
    shop.ok(&format!("create-topic {topic} --partitions 4"));
    let start = || {
        Java(
            tool_command(&jars(), CONSOLE_CONSUMER)
                .unwrap()
                .args(["--bootstrap-server", &broker.bootstrap(), "--topic", &topic, "--group", &group])
                .args(["--command-property", "session.timeout.ms=6000", "--command-property", "heartbeat.interval.ms=1000"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    };
    let first = start();
    let second = start();
    let members = |shop: &mut Workshop| {
        let described = shop.run(&format!("describe-group {group}")).ok();
        described.map(|d| {
            let rows = &table(&d, &["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"]).rows;
            let owners: std::collections::BTreeSet<String> = rows.iter().map(|r| r[6].clone()).filter(|o| o != "-").collect();
            (rows.iter().filter(|r| r[6] != "-").count(), owners.len())
        })
    };
    wait_until("both Java consumers hold partitions", Duration::from_secs(60), || members(&mut shop) == Some((4, 2)));
    drop(second);
    wait_until("the remaining Java consumer holds all four", Duration::from_secs(60), || members(&mut shop) == Some((4, 1)));
    drop(first);
}
