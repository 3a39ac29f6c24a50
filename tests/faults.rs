//! The cluster going away mid-session: `broker stop` and `broker start` on the embedded broker.

mod common;

use std::time::Duration;

use common::{run_with, temp_dir};

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
    let lesson = dir.join("faults.md");
    std::fs::write(&lesson, LESSON).unwrap();
    let data = dir.join("data");
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
fn broker_stop_and_start_refuse_what_makes_no_sense() {
    let out = run_with(&[], "broker start\n", Duration::from_secs(30));
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr.trim(), "error: line 1: the broker is already running");
    let out = run_with(&[], "broker stop\nbroker stop\n", Duration::from_secs(30));
    assert_eq!(out.code, 2);
    assert!(out.stdout.contains("what it held is gone"), "memory storage says so: {}", out.stdout);
    assert!(out.stderr.contains("the broker is already stopped; `broker start` brings it back"), "{}", out.stderr);
}

#[test]
fn a_server_that_is_not_kafka_is_reported_within_ten_seconds() {
    // An HTTP server: it answers every connection with an HTTP error and hangs up.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            use std::io::{Read, Write};
            let mut buffer = [0u8; 1024];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    let out = run_with(&["--bootstrap-servers", &address], "topics\n", Duration::from_secs(60));
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let first = out.stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with(&format!("error: line 1: cannot reach the cluster at {address}: ")), "{first}");
    assert!(out.elapsed < Duration::from_secs(10), "took {:?}", out.elapsed);
}
