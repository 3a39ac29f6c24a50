//! Learners on one shared cluster: each learner's topics and groups are kept apart by a prefix,
//! which the learner never sees, and which never touches a message's contents.

use std::time::Duration;

use kafka_workshop::outcome::Event;

use crate::harness::{run_with, table, BackgroundBroker, Workshop};

const READ: [&str; 6] = ["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"];
const TOPICS: [&str; 4] = ["NAME", "PARTITIONS", "REPLICATION", "MESSAGES"];

#[test]
fn two_learners_on_one_broker_never_see_each_other() {
    let broker = BackgroundBroker::start(&[]);
    let lesson = concat!(env!("CARGO_MANIFEST_DIR"), "/lessons/01-events-and-the-log.md");
    let learners: Vec<_> = ["alice", "bob"]
        .into_iter()
        .map(|learner| {
            let bootstrap = broker.bootstrap.clone();
            std::thread::spawn(move || {
                let args = ["replay", lesson, "--no-pause", "--check", "--speed", "max", "--learner", learner, "--bootstrap-servers", &bootstrap];
                run_with(&args, "", Duration::from_secs(120))
            })
        })
        .collect();
    for handle in learners {
        let out = handle.join().unwrap();
        // If the learners shared `orders`, one of them would find seven messages, not five.
        out.assert_ok();
        assert!(!out.stdout.contains("alice.") && !out.stdout.contains("bob."), "short names only:\n{}", out.stdout);
    }
    let mut alice = broker.client(Some("alice"));
    let names = alice.ok("topics");
    assert_eq!(table(&names, &TOPICS).column("NAME"), ["orders", "payments"]);
    alice.ok("produce orders extra");
    let mut everyone = broker.client(None);
    let all = everyone.ok("topics");
    let all = table(&all, &TOPICS);
    let counts: Vec<(&str, &str)> = all.rows.iter().map(|r| (r[0].as_str(), r[3].as_str())).collect();
    assert_eq!(counts, [("alice.orders", "6"), ("alice.payments", "1"), ("bob.orders", "5"), ("bob.payments", "1")]);
}

#[test]
fn a_learner_prefix_is_never_stripped_from_message_contents() {
    let broker = BackgroundBroker::start(&[]);
    let mut alice = broker.client(Some("alice"));
    alice.script(
        "create-topic orders
         produce orders alice.smith --key alice.k --header from=alice.till
         start-consumer c --group g --topic orders --from earliest --follow
         expect consumer c received 1 --within 30s",
    );
    let read = alice.ok("read orders");
    let read = table(&read, &READ);
    assert_eq!(
        (read.cell(0, "KEY"), read.cell(0, "VALUE"), read.cell(0, "HEADERS")),
        (Some("alice.k"), Some("alice.smith"), Some("from=alice.till"))
    );
    let events = alice.events();
    let followed = events.iter().find_map(|e| match e {
        Event::Message { record, .. } => Some(record),
        _ => None,
    });
    let record = followed.unwrap_or_else(|| panic!("no message event: {events:?}"));
    // The topic is shown short; the contents exactly as stored.
    assert_eq!(record.topic, "orders");
    assert_eq!((record.key.as_deref(), record.value.as_deref()), (Some("alice.k"), Some("alice.smith")));
    // On the cluster the names are prefixed and the contents are the same.
    let mut everyone = broker.client(None);
    let raw = everyone.ok("read alice.orders");
    assert_eq!(table(&raw, &READ).cell(0, "VALUE"), Some("alice.smith"));
    let groups = everyone.ok("groups");
    assert!(table(&groups, &["GROUP", "STATE", "PROTOCOL", "MEMBERS"]).column("GROUP").contains(&"alice.g"));
}

#[test]
fn a_key_that_looks_like_a_topic_name_is_not_prefixed() {
    // `qualify_command` matches every command with no catch-all, so a new command that forgets
    // to say which of its words are names fails to compile. Here: only names are prefixed.
    let mut alice = Workshop::with(kafka_workshop::session::ConnectOptions {
        learner: Some("alice".into()),
        ..Default::default()
    });
    alice.ok("create-topic t");
    alice.ok("produce t x --key t");
    let listed = alice.ok("topics");
    assert_eq!(table(&listed, &TOPICS).column("NAME"), ["t"]);
    let read = alice.ok("read t");
    assert_eq!(table(&read, &READ).cell(0, "KEY"), Some("t"));
}
