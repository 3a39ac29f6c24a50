//! The cluster going away mid-session: `broker stop` and `broker start` on the embedded broker.

use std::time::Duration;

use kafka_workshop::session::ConnectOptions;
use kafka_workshop::view::View;

use crate::harness::{run_with, says, table, temp_dir, Workshop};

const LESSON: &str = "---\ntitle: The broker goes away\n---\n\n# The broker goes away\n\nSetup.\n\n\
```kafka\n\
create-topic kept --partitions 2\n\
start-consumer c --group g --topic kept --from earliest\n\
expect consumer c assigned kept[0,1] --within 30s\n\
produce kept 'order {n}' --count 50 --acks all\n\
broker stop\n\
```\n\nWhile it is down.\n\n\
```kafka may-fail\n\
topics\n\
```\n\nBack.\n\n\
```kafka\n\
broker start\n\
read kept --max 1000\n\
poll c 50 --wait 30s\n\
```\n";

#[test]
fn with_sqlite_storage_the_broker_comes_back_and_no_acknowledged_message_is_lost() {
    let dir = temp_dir("faults");
    let lesson = dir.path().join("faults.md");
    std::fs::write(&lesson, LESSON).unwrap();
    let data = dir.path().join("data");
    let out = run_with(
        &["replay", lesson.to_str().unwrap(), "--no-pause", "--speed", "max", "--data", data.to_str().unwrap()],
        "",
        Duration::from_secs(180),
    );
    out.assert_ok();
    assert!(out.stdout.contains("warning: the broker is down"), "{}", out.stdout);
    let down = out.stdout.lines().find(|l| l.contains("this cluster cannot do that")).expect("topics failed while down");
    assert!(down.contains("cannot reach the cluster at 127.0.0.1:"), "{down}");
    assert!(out.stdout.contains("c lost the cluster"), "the consumer did not report it\n{}", out.stdout);
    assert!(out.stdout.contains("ok: the broker is back on 127.0.0.1:"), "{}", out.stdout);
    // Every acknowledged message is there, read back and consumed by the same consumer.
    let read = out.table(&["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"]);
    let mut values: Vec<String> = read.iter().map(|r| r[4].clone()).collect();
    values.sort();
    let mut wanted: Vec<String> = (1..=50).map(|n| format!("order {n}")).collect();
    wanted.sort();
    assert_eq!(values, wanted);
    let polled = out.table(&["TOPIC", "PARTITION", "OFFSET", "KEY", "VALUE"]);
    assert_eq!(polled.len(), 50, "the consumer recovered without a restart of the REPL");
}

#[test]
fn broker_start_right_after_stop_reopens_sqlite_storage() {
    // `broker stop` returns only once the storage is released, so a start straight after it
    // finds the database free (it used to fail: "database is locked").
    let data = temp_dir("stop-start");
    let mut shop = Workshop::with(ConnectOptions { data: Some(data.path().to_path_buf()), ..ConnectOptions::default() });
    shop.script("create-topic kept\nproduce kept 'order {n}' --count 20 --acks all");
    for round in 0..3 {
        shop.ok("broker stop");
        let back = shop.ok("broker start");
        assert!(says(&back, "the broker is back on 127.0.0.1:"), "round {round}: {back:?}");
    }
    let read = shop.ok("read kept");
    assert_eq!(table(&read, &["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"]).rows.len(), 20);
}

#[test]
fn broker_stop_and_start_refuse_what_makes_no_sense() {
    let mut shop = Workshop::start();
    let err = shop.fails("broker start");
    assert_eq!((err.to_string().as_str(), err.exit_code()), ("the broker is already running", 2));
    let stopped = shop.ok("broker stop");
    assert!(says(&stopped, "what it held is gone"), "memory storage says so: {stopped:?}");
    let err = shop.fails("broker stop");
    assert_eq!(err.to_string(), "the broker is already stopped; `broker start` brings it back");
}

/// With the broker gone, a running consumer says once that it lost the cluster, instead of an
/// error at every poll, and `consumers` still shows what each consumer knows.
#[test]
fn a_consumer_says_once_that_it_lost_the_cluster() {
    let mut shop = Workshop::start();
    shop.script(
        "create-topic gone
         start-consumer reader --group readers --topic gone
         expect consumer reader assigned gone[0] --within 10s
         broker stop",
    );
    let mut seen = Vec::new();
    crate::harness::wait_until("reader says it lost the cluster", Duration::from_secs(20), || {
        seen.extend(shop.events().iter().map(|e| View::plain().event(e)));
        seen.iter().any(|line| line.contains("lost the cluster"))
    });
    let listed = shop.ok("consumers");
    assert!(says(&listed, "committed offsets and lag are unknown"), "{listed:?}");
    assert_eq!(table(&listed, &["NAME", "GROUP", "STATE", "ASSIGNED", "POSITION", "COMMITTED", "LAG"]).rows.len(), 1);
    seen.extend(shop.events().iter().map(|e| View::plain().event(e)));
    let lost = seen.iter().filter(|line| line.contains("lost the cluster")).count();
    let errors = seen.iter().filter(|line| line.contains("consumption error")).count();
    assert_eq!((lost, errors), (1, 0), "{seen:#?}");
}
