//! The real binary fed a script through a pipe or `--script`: plain output, the first failing
//! line named on stderr, and the exit code.

use std::time::Duration;

use crate::harness::{run, run_with, temp_dir, BackgroundBroker};

#[test]
fn bad_input_gets_a_one_line_error_naming_the_line_and_a_non_zero_exit() {
    let cases: [(&str, &str); 6] = [
        ("topcs", "error: line 2: unknown command 'topcs'"),
        ("create-topic", "error: line 2: create-topic: "),
        ("create-topic t --partitions many", "error: line 2: create-topic: invalid value 'many'"),
        ("read no-such-topic", "error: line 2: topic 'no-such-topic' does not exist"),
        ("produce t 'unterminated", "error: line 2: unterminated quote"),
        ("create-topic 'has space'", "error: line 2: 'has space' is not a valid topic name"),
    ];
    for (bad, expected) in cases {
        let out = run(&format!("help\n{bad}\ntopics\n"));
        assert_eq!(out.code, 2, "{bad}: exit code {}\n{}", out.code, out.stderr);
        let first = out.stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with(expected), "{bad}: got {first:?}");
        assert!(out.stderr.lines().count() <= 2, "{bad}: more than an error and a hint:\n{}", out.stderr);
        assert!(!out.stderr.contains("panicked") && !out.stderr.contains("RUST_BACKTRACE"), "{}", out.stderr);
        // The run stopped at the failing line: `topics` never ran.
        assert!(!out.stdout.contains("no topics yet"), "{bad}: kept going after the error");
    }
}

#[test]
fn an_unreachable_cluster_is_reported_within_ten_seconds_naming_the_address() {
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let address = format!("127.0.0.1:{port}");
    let out = run_with(&["--bootstrap-servers", &address], "topics\n", Duration::from_secs(60));
    assert_eq!(out.code, 1);
    let first = out.stderr.lines().next().unwrap_or_default();
    assert_eq!(first, format!("error: line 1: cannot reach the cluster at {address}: connection refused"));
    assert!(out.elapsed < Duration::from_secs(10), "took {:?}", out.elapsed);
}

#[test]
fn a_host_that_does_not_resolve_is_named_within_ten_seconds() {
    let out = run_with(&["--bootstrap-servers", "no-such-host.invalid:9092"], "topics\n", Duration::from_secs(60));
    assert_eq!(out.code, 1);
    let first = out.stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: line 1: cannot reach the cluster at no-such-host.invalid:9092: failed to resolve"), "{first}");
    assert!(out.elapsed < Duration::from_secs(10), "took {:?}", out.elapsed);
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

#[test]
fn a_separate_broker_process_serves_a_client_with_bootstrap_servers() {
    let broker = BackgroundBroker::start(&[]);
    let out = run_with(
        &["--bootstrap-servers", &broker.bootstrap],
        "cluster\ncreate-topic remote --partitions 2\nproduce remote hi --partition 1\nread remote --partition 1\n",
        Duration::from_secs(60),
    );
    out.assert_ok();
    assert!(out.stdout.contains(&format!("an external cluster via {}", broker.bootstrap)), "{}", out.stdout);
    let read = out.table(&["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"]);
    assert_eq!(read.len(), 1, "{read:?}");
    let row = &read[0];
    assert_eq!((row[0].as_str(), row[1].as_str(), row[3].as_str(), row[4].as_str(), row[5].as_str()), ("1", "0", "(null)", "hi", ""));
    // The broker stamps the message: an RFC 3339 time in milliseconds, in UTC.
    assert!(humantime::parse_rfc3339(&row[2]).is_ok() && row[2].ends_with('Z'), "timestamp {:?}", row[2]);
}

#[test]
fn script_file_runs_like_piped_input() {
    let dir = temp_dir("script");
    let path = dir.path().join("demo.kw");
    std::fs::write(&path, "# a comment\n\ncreate-topic scripted\nproduce scripted x\nread scripted\nno-such-command\ntopics\n").unwrap();
    let out = run_with(&["--script", path.to_str().unwrap()], "", Duration::from_secs(60));
    assert_eq!(out.code, 2);
    assert!(out.stderr.starts_with("error: line 6: unknown command 'no-such-command'"), "{}", out.stderr);
    assert_eq!(out.table(&["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"])[0][4], "x");
}

#[test]
fn each_kind_of_failure_ends_a_script_with_its_documented_exit_code() {
    // 2: input the user can fix; 1: the cluster's side (here a check that is not met); 0: fine.
    let cases = [
        ("create-topic t\nexpect topic t partitions 3 --within 300ms\n", 1, "error: line 2: expected 3 partitions in topic t, found 1"),
        ("poll nobody\n", 2, "error: line 1: no consumer named 'nobody'"),
        ("create-topic t\nproduce t x --transactional-id tx\n", 1, "error: line 2: transactions need Apache Kafka"),
        ("topics\n", 0, ""),
    ];
    for (script, code, said) in cases {
        let out = run(script);
        assert_eq!(out.code, code, "{script}\nstdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
        assert!(out.stderr.starts_with(said), "{script}: {}", out.stderr);
    }
}

/// `--json`: one JSON object a command on stdout, tables as rows keyed by column, events as
/// their own objects, and the error that stops the script as JSON on stderr.
#[test]
fn json_output_is_one_object_a_command_and_errors_go_to_stderr() {
    let run = crate::harness::run_with(
        &["--json"],
        "create-topic orders --partitions 2\n\
         produce orders x --key k --count 3\n\
         topics\n\
         start-consumer c --group g --topic orders --from earliest --follow\n\
         expect consumer c received 3 --within 20s\n\
         describe-topic nope\n\
         topics\n",
        std::time::Duration::from_secs(120),
    );
    assert_eq!(run.code, 2, "a missing topic is the user's to fix:\n{}", run.stderr);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not one JSON object a line ({e}): {line}")))
        .collect();
    let outcomes: Vec<&serde_json::Value> = lines.iter().filter(|l| l.get("ok").is_some()).collect();
    assert_eq!(outcomes.len(), 5, "one object for each command that ran:\n{}", run.stdout);
    assert_eq!(outcomes[0]["done"][0], "created topic 'orders' with 2 partition(s), replication factor 1");
    let topics = &outcomes[2]["tables"][0];
    assert_eq!(topics["columns"], serde_json::json!(["NAME", "PARTITIONS", "REPLICATION", "MESSAGES"]));
    assert_eq!(topics["rows"][0], serde_json::json!({"NAME": "orders", "PARTITIONS": "2", "REPLICATION": "1", "MESSAGES": "3"}));
    assert!(lines.iter().any(|l| l["event"]["kind"] == "assigned" && l["event"]["actor"] == "c"), "{}", run.stdout);
    let error: serde_json::Value = serde_json::from_str(run.stderr.trim()).unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {}", run.stderr));
    assert_eq!((error["line"].as_u64(), error["exit_code"].as_i64()), (Some(6), Some(2)));
    assert!(error["error"].as_str().unwrap().contains("nope"), "{error}");
}
