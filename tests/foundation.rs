//! The foundation slice, end to end: the real binary, a script on stdin, its own embedded broker.

mod common;

use std::time::Duration;

use common::{run, run_with, unique, BackgroundBroker};

#[test]
fn create_describe_list_and_delete_a_topic() {
    let topic = unique("orders");
    let out = run(&format!(
        "create-topic {topic} --partitions 3\n\
         describe-topic {topic}\n\
         topics\n\
         delete-topic {topic}\n\
         topics\n"
    ));
    out.assert_ok();
    assert!(out.stdout.contains(&format!("ok: created topic '{topic}' with 3 partition(s)")), "{}", out.stdout);
    let partitions = out.table(&["PARTITION", "LEADER", "REPLICAS", "ISR", "START-OFFSET", "END-OFFSET", "MESSAGES"]);
    let ids: Vec<&str> = partitions.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["0", "1", "2"]);
    assert!(partitions.iter().all(|r| r[4] == "0" && r[5] == "0" && r[6] == "0"), "{partitions:?}");
    let listed = out.table(&["NAME", "PARTITIONS", "REPLICATION", "MESSAGES"]);
    assert!(listed.contains(&vec![topic.clone(), "3".into(), "1".into(), "0".into()]), "{listed:?}");
    assert!(out.stdout.contains(&format!("ok: deleted topic '{topic}'")));
    // After the delete, `topics` has nothing to list.
    assert!(out.stdout.trim_end().ends_with("no topics yet; create one with: create-topic NAME --partitions 3"), "{}", out.stdout);
}

#[test]
fn more_replicas_than_brokers_is_refused_rather_than_faked() {
    let out = run("create-topic ledger --replication-factor 3\ntopics\n");
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.starts_with("error: line 1: replication factor 3 needs at least 3 brokers: the embedded broker is a single broker"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("ledger"), "the topic must not exist");
}

#[test]
fn creating_an_existing_topic_is_a_warning_not_a_failure() {
    let topic = unique("dup");
    let out = run(&format!("create-topic {topic} --partitions 2\ncreate-topic {topic}\ntopics\n"));
    out.assert_ok();
    assert!(out.stdout.contains(&format!("warning: topic '{topic}' already exists with 2 partition(s); nothing changed")), "{}", out.stdout);
    assert_eq!(out.table(&["NAME", "PARTITIONS", "REPLICATION", "MESSAGES"])[0][1], "2");
}

#[test]
fn keyed_messages_land_in_the_partition_partition_for_predicts() {
    let topic = unique("keyed");
    let keys = ["till-1", "till-2", "till-3", "cod", "plaice", "chips", "21", "foobar"];
    let mut script = format!("create-topic {topic} --partitions 3\n");
    for key in keys {
        script.push_str(&format!("partition-for {key} --topic {topic}\n"));
        script.push_str(&format!("produce {topic} value-of-{key} --key {key}\n"));
    }
    script.push_str(&format!("read {topic}\n"));
    let out = run(&script);
    out.assert_ok();
    let predictions = out.tables_with(&["KEY", "MURMUR2", "POSITIVE", "PARTITIONS", "PARTITION"]);
    assert_eq!(predictions.len(), keys.len());
    let read = out.table(&["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"]);
    assert_eq!(read.len(), keys.len(), "{read:?}");
    for prediction in predictions {
        let key = &prediction[0][0];
        let predicted = &prediction[0][4];
        let landed = read.iter().find(|r| &r[3] == key).unwrap_or_else(|| panic!("{key} not read back"));
        assert_eq!(&landed[0], predicted, "key {key} predicted partition {predicted}, landed in {}", landed[0]);
        assert_eq!(landed[4], format!("value-of-{key}"));
    }
    // Kafka's own test vector: murmur2("foobar") = -790332482.
    assert!(out.stdout.contains("| foobar | -790332482 | 1357151166 | 3"), "{}", out.stdout);
}

#[test]
fn read_from_beginning_end_offset_and_tail_in_memory() {
    read_from_beginning_end_offset_and_tail(&[]);
}

#[test]
fn read_from_beginning_end_offset_and_tail_in_sqlite() {
    let data = common::temp_dir("read-sqlite");
    read_from_beginning_end_offset_and_tail(&["--data", data.to_str().unwrap()]);
}

/// Five messages go in one batch, so `--from 3` and `--from -2` start inside a batch.
fn read_from_beginning_end_offset_and_tail(args: &[&str]) {
    let topic = unique("log");
    let out = run_with(args, &format!(
        "create-topic {topic}\n\
         produce {topic} 'event {{n}}' --count 5\n\
         read {topic} --from beginning\n\
         read {topic} --from -2\n\
         read {topic} --from 3\n\
         read {topic} --from end\n\
         read {topic} --max 2\n"
    ), Duration::from_secs(120));
    out.assert_ok();
    let reads = out.tables_with(&["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"]);
    let values = |t: &Vec<Vec<String>>| t.iter().map(|r| r[4].clone()).collect::<Vec<_>>();
    assert_eq!(values(&reads[0]), ["event 1", "event 2", "event 3", "event 4", "event 5"]);
    assert_eq!(values(&reads[1]), ["event 4", "event 5"]);
    assert_eq!(values(&reads[2]), ["event 4", "event 5"]);
    assert_eq!(reads[2][0][1], "3");
    assert_eq!(values(&reads[3]), ["event 1", "event 2"]);
    assert!(out.stdout.contains(&format!("nothing to read: no messages in any partition of '{topic}' from the end")), "{}", out.stdout);
    assert!(out.stdout.contains("showing the first 2; more remain"), "{}", out.stdout);
}

#[test]
fn json_values_are_sent_compact_and_read_back_unchanged() {
    let topic = unique("json");
    let out = run(&format!(
        "create-topic {topic}\n\
         produce {topic} '{{\"order\": 271, \"till\": 3, \"parts\": [[\"cod\", \"chips\"], [\"plaice\", \"chips\"]]}}' --key till-3 --header source=till-3\n\
         read {topic}\n"
    ));
    out.assert_ok();
    let read = out.table(&["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"]);
    assert_eq!(read.len(), 1);
    assert_eq!(read[0][4], r#"{"order":271,"till":3,"parts":[["cod","chips"],["plaice","chips"]]}"#);
    assert_eq!(read[0][3], "till-3");
    assert_eq!(read[0][5], "source=till-3");
}

#[test]
fn produce_reports_every_delivery_and_summarises_large_batches() {
    let topic = unique("batch");
    let out = run(&format!(
        "create-topic {topic} --partitions 2\n\
         produce {topic} one --key a\n\
         produce {topic} 'order {{n}}' --count 50 --acks 1\n\
         topics\n"
    ));
    out.assert_ok();
    let single = out.table(&["PARTITION", "OFFSET", "KEY", "TIMESTAMP"]);
    assert_eq!(single.len(), 1);
    assert_eq!(single[0][2], "a");
    assert!(out.stdout.contains(&format!("ok: sent 50 message(s) to '{topic}'")), "{}", out.stdout);
    let summary = out.table(&["PARTITION", "MESSAGES", "FIRST-OFFSET", "LAST-OFFSET"]);
    let total: u64 = summary.iter().map(|r| r[1].parse::<u64>().unwrap()).sum();
    assert_eq!(total, 50);
    let listed = out.table(&["NAME", "PARTITIONS", "REPLICATION", "MESSAGES"]);
    assert_eq!(listed[0][3], "51");
}

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
fn unknown_command_suggests_a_close_one() {
    let out = run("descibe-topic x\n");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("hint: did you mean `describe-topic`?"), "{}", out.stderr);
}

#[test]
fn an_unreachable_cluster_is_reported_within_ten_seconds_naming_the_address() {
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let address = format!("127.0.0.1:{port}");
    let out = run_with(&["--bootstrap-servers", &address], "topics\n", Duration::from_secs(60));
    assert_ne!(out.code, 0);
    let first = out.stderr.lines().next().unwrap_or_default();
    assert_eq!(first, format!("error: line 1: cannot reach the cluster at {address}: connection refused"));
    assert!(out.elapsed < Duration::from_secs(10), "took {:?}", out.elapsed);
}

#[test]
fn a_host_that_does_not_resolve_is_named_within_ten_seconds() {
    let out = run_with(&["--bootstrap-servers", "no-such-host.invalid:9092"], "topics\n", Duration::from_secs(60));
    assert_ne!(out.code, 0);
    let first = out.stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: line 1: cannot reach the cluster at no-such-host.invalid:9092: failed to resolve"), "{first}");
    assert!(out.elapsed < Duration::from_secs(10), "took {:?}", out.elapsed);
}

#[test]
fn help_lists_every_command_and_explains_one() {
    let out = run("help\nhelp produce\nproduce --help\n");
    out.assert_ok();
    let commands = out.table(&["COMMAND", "WHAT IT DOES"]);
    let names: Vec<&str> = commands.iter().map(|r| r[0].as_str()).collect();
    for name in ["cluster", "topics", "create-topic", "describe-topic", "delete-topic", "produce", "read", "partition-for", "help", "quit"] {
        assert!(names.contains(&name), "help lacks {name}: {names:?}");
    }
    assert_eq!(out.stdout.matches("--idempotent").count(), 2, "{}", out.stdout);
}

#[test]
fn cluster_shows_the_embedded_broker() {
    let out = run("cluster\n");
    out.assert_ok();
    assert!(out.stdout.contains("cluster id kafka-workshop"), "{}", out.stdout);
    assert!(out.stdout.contains("the embedded broker (tansu 0.6.0, memory storage)"), "{}", out.stdout);
    let brokers = out.table(&["BROKER", "HOST:PORT", "ROLE"]);
    assert_eq!(brokers.len(), 1);
    assert!(brokers[0][1].starts_with("127.0.0.1:"), "{brokers:?}");
}

#[test]
fn data_in_sqlite_survives_a_restart_with_an_absolute_path() {
    let data = common::temp_dir("data");
    let topic = unique("kept");
    let data_arg = data.to_str().unwrap();
    run_with(&["--data", data_arg], &format!("create-topic {topic} --partitions 2\nproduce {topic} hello --key k\n"), Duration::from_secs(120))
        .assert_ok();
    assert!(data.join("tansu.db").exists(), "the database is not where --data said");
    let out = run_with(&["--data", data_arg], &format!("topics\nread {topic}\n"), Duration::from_secs(120));
    out.assert_ok();
    let listed = out.table(&["NAME", "PARTITIONS", "REPLICATION", "MESSAGES"]);
    assert_eq!(listed, vec![vec![topic.clone(), "2".into(), "1".into(), "1".into()]]);
    assert_eq!(out.table(&["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"])[0][4], "hello");
}

#[test]
fn a_separate_broker_process_serves_a_client_with_bootstrap_servers() {
    let broker = BackgroundBroker::start(&[]);
    let topic = unique("remote");
    let out = run_with(
        &["--bootstrap-servers", &broker.bootstrap],
        &format!("cluster\ncreate-topic {topic} --partitions 2\nproduce {topic} hi --partition 1\nread {topic} --partition 1\n"),
        Duration::from_secs(60),
    );
    out.assert_ok();
    assert!(out.stdout.contains(&format!("an external cluster via {}", broker.bootstrap)), "{}", out.stdout);
    let read = out.table(&["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"]);
    assert_eq!(read, vec![vec!["1".to_string(), "0".into(), read[0][2].clone(), "(null)".into(), "hi".into(), String::new()]]);
}

#[test]
fn script_file_runs_like_piped_input() {
    let dir = common::temp_dir("script");
    let topic = unique("scripted");
    let path = dir.join("demo.kw");
    std::fs::write(&path, format!("# a comment\n\ncreate-topic {topic}\nproduce {topic} x\nread {topic}\nno-such-command\ntopics\n")).unwrap();
    let out = run_with(&["--script", path.to_str().unwrap()], "", Duration::from_secs(60));
    assert_eq!(out.code, 2);
    assert!(out.stderr.starts_with("error: line 6: unknown command 'no-such-command'"), "{}", out.stderr);
    assert_eq!(out.table(&["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"])[0][4], "x");
}
