//! Topics deleted under running clients: the session goes on, nothing crashes, and nothing is
//! acknowledged that cannot be read back. Each sequence runs through the real binary, so a
//! crash shows as its exit code (a segmentation fault is 139 at a shell, -1 here).

use std::time::Duration;

use crate::harness::{run, table, unique, BackgroundBroker, Workshop};

/// Delete a topic that was drawn, create it again with another partition count, draw it again.
const RECREATE_AND_DRAW: &str = "create-topic t\n\
produce t x --count 3\n\
show\n\
delete-topic t\n\
create-topic t --partitions 2\n\
produce t y --key a\n\
show\n";

/// The last line of a script: it answers only if the process is still alive and reading.
const STILL_HERE: &str = "topics\n";

fn assert_survived(out: &crate::harness::Run, what: &str) {
    assert_eq!(out.code, 0, "{what}: the process ended with {}\nstdout:\n{}\nstderr:\n{}", out.code, out.stdout, out.stderr);
    assert!(out.stdout.contains("| NAME"), "{what}: `topics` did not answer at the end\n{}", out.stdout);
}

#[test]
fn a_topic_deleted_and_created_again_can_be_drawn() {
    let out = run(&format!("{RECREATE_AND_DRAW}{STILL_HERE}"));
    assert_survived(&out, "delete, re-create, show");
    assert!(out.stdout.contains("topic t · 2 partition(s)"), "{}", out.stdout);
}

#[test]
fn deleting_and_creating_a_topic_fifty_times_over_never_crashes() {
    let mut script = String::new();
    for _ in 0..50 {
        script.push_str(RECREATE_AND_DRAW);
        script.push_str("delete-topic t\n");
    }
    script.push_str("create-topic alive\n");
    script.push_str(STILL_HERE);
    let out = crate::harness::run_with(&[], &script, Duration::from_secs(300));
    assert_survived(&out, "fifty rounds");
    assert_eq!(out.stdout.matches("ok: created topic 't' with 2 partition(s)").count(), 50, "{}", out.stdout);
}

#[test]
fn a_consumer_whose_topic_is_deleted_says_so_once_and_the_session_goes_on() {
    let out = run("create-topic t\n\
start-consumer c --group g --topic t\n\
expect consumer c assigned t[0] --within 20s\n\
delete-topic t\n\
expect consumer c assigned none --within 20s\n\
consumers\n\
create-topic t\n\
expect consumer c assigned t[0] --within 30s\n\
produce t back\n\
poll c 1 --wait 10s\n\
topics\n");
    assert_survived(&out, "delete under a consumer");
    let said: Vec<&str> = out.stdout.lines().filter(|l| l.contains("t was deleted")).collect();
    assert_eq!(said.len(), 1, "said once, not at every poll:\n{}", out.stdout);
    assert!(said[0].contains("c lost its topic: t was deleted; it waits for it to come back"), "{}", said[0]);
    let waiting = out.table(&["NAME", "GROUP", "STATE", "ASSIGNED", "POSITION", "COMMITTED", "LAG"]);
    assert_eq!(waiting[0][2], "waiting for t", "{waiting:?}");
    // Like Kafka's own clients, the consumer kept its subscription and reads the new topic.
    let polled = out.table(&["TOPIC", "PARTITION", "OFFSET", "KEY", "VALUE"]);
    assert_eq!(polled.len(), 1, "{}", out.stdout);
    assert_eq!(polled[0][4], "back");
}

#[test]
fn a_producer_to_a_deleted_topic_gets_errors_not_acknowledgements() {
    let mut shop = Workshop::start();
    let topic = unique("gone");
    shop.ok(&format!("create-topic {topic}"));
    shop.ok(&format!("start-producer p --topic {topic} --every 50ms"));
    let errors = |shop: &mut Workshop| {
        let listed = shop.ok("producers");
        let row = table(&listed, &["NAME", "TOPIC", "RATE", "SENT", "LAST PARTITION/OFFSET", "ERRORS", "STATE"]).rows[0].clone();
        (row[3].parse::<u64>().unwrap(), row[5].parse::<u64>().unwrap())
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while errors(&mut shop).0 < 3 {
        assert!(std::time::Instant::now() < deadline, "the producer never sent");
        std::thread::sleep(Duration::from_millis(50));
    }
    shop.ok(&format!("delete-topic {topic}"));
    // Wait until the producer has been refused (bounded, on its error count).
    while errors(&mut shop).1 == 0 {
        assert!(std::time::Instant::now() < deadline, "the producer was never refused");
        std::thread::sleep(Duration::from_millis(100));
    }
    shop.ok("stop-producer p");
    let (sent, _) = errors(&mut shop);
    // Every send that was acknowledged is readable in the topic it was sent to: the topic is gone,
    // so at most the messages acknowledged before the delete were counted as sent, and a topic
    // created again under the same name starts empty.
    shop.ok(&format!("create-topic {topic}"));
    let described = shop.ok(&format!("describe-topic {topic}"));
    let rows = &table(&described, &["PARTITION", "LEADER", "REPLICAS", "ISR", "START-OFFSET", "END-OFFSET", "MESSAGES"]).rows;
    assert_eq!(rows[0][5], "0", "the new topic holds messages sent to the old one: {rows:?}");
    assert!(sent >= 3, "sent {sent}");
}

#[test]
fn class_clean_under_running_learners_crashes_nobody() {
    let broker = BackgroundBroker::start(&[]);
    let mut learner = broker.client(Some("ann"));
    learner.ok("create-topic t");
    learner.ok("start-consumer c --group g --topic t");
    learner.ok("expect consumer c assigned t[0] --within 20s");
    let mut instructor = broker.client(None);
    let cleaned = instructor.ok("class clean --execute");
    let rows = &table(&cleaned, &["LEARNER", "KIND", "NAME", "RESULT"]).rows;
    assert!(rows.iter().any(|r| r[2] == "ann.t" && r[3] == "deleted"), "{rows:?}");
    // The group whose consumer still runs is kept and said so, not a failure.
    assert!(rows.iter().any(|r| r[2] == "ann.g" && r[3].starts_with("kept: 1 member(s) still running")), "{rows:?}");
    // The learner's session answers, re-creates the topic and draws it.
    learner.ok("create-topic t");
    learner.ok("produce t again");
    let picture = kafka_workshop::view::View::plain().render(&learner.ok("show t"));
    assert!(picture.contains("topic t · 1 partition(s)"), "{picture}");
    learner.ok("consumers");
}
