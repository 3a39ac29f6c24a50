//! Live consumers and groups against the real embedded broker, through the real binary.

mod common;

use std::time::Duration;

use common::{run, run_with, unique, Run};

const POLL: [&str; 5] = ["TOPIC", "PARTITION", "OFFSET", "KEY", "VALUE"];

fn assigned(out: &Run, consumer: &str) -> String {
    let rows = out.tables_with(&["NAME", "GROUP", "STATE", "ASSIGNED", "POSITION", "COMMITTED", "LAG"]);
    let last = rows.last().unwrap_or_else(|| panic!("no consumers table:\n{}", out.stdout));
    last.iter().find(|r| r[0] == consumer).map(|r| r[3].clone()).unwrap_or_else(|| panic!("{consumer} missing"))
}

/// "… reassigned orders[0] after 5.9 s" → 5.9
fn reassigned_after(out: &Run) -> f64 {
    let line = out.stdout.lines().find(|l| l.contains("reassigned")).unwrap_or_else(|| panic!("no reassignment:\n{}", out.stdout));
    line.rsplit("after ").next().and_then(|t| t.trim_end_matches(" s").parse().ok()).unwrap_or_else(|| panic!("{line}"))
}

#[test]
fn two_consumers_split_three_partitions_without_overlap() {
    let (topic, group) = (unique("orders"), unique("preparers"));
    let out = run(&format!(
        "create-topic {topic} --partitions 3\n\
         start-consumer p1 --group {group} --topic {topic}\n\
         start-consumer p2 --group {group} --topic {topic}\n\
         expect group {group} members 2 --within 30s\n\
         expect consumer p1 assigned {topic}[0,1] --within 30s\n\
         expect consumer p2 assigned {topic}[2] --within 30s\n\
         consumers\n"
    ));
    out.assert_ok();
    assert_eq!(assigned(&out, "p1"), format!("{topic}[0,1]"));
    assert_eq!(assigned(&out, "p2"), format!("{topic}[2]"));
    assert!(out.stdout.contains(&format!("p2 ← assigned {topic}[2]")), "assignment events are printed:\n{}", out.stdout);
}

#[test]
fn a_third_consumer_on_two_partitions_sits_idle() {
    let (topic, group) = (unique("orders"), unique("g"));
    let out = run(&format!(
        "create-topic {topic} --partitions 2\n\
         start-consumer c1 --group {group} --topic {topic}\n\
         start-consumer c2 --group {group} --topic {topic}\n\
         start-consumer c3 --group {group} --topic {topic}\n\
         expect group {group} members 3 --within 30s\n\
         expect consumer c3 assigned none --within 30s\n\
         expect consumer c1 assigned {topic}[0] --within 30s\n\
         expect consumer c2 assigned {topic}[1] --within 30s\n\
         consumers\n"
    ));
    out.assert_ok();
    let idle: Vec<&str> = ["c1", "c2", "c3"].into_iter().filter(|c| assigned(&out, c) == "none").collect();
    assert_eq!(idle, ["c3"]);
}

#[test]
fn stop_consumer_hands_its_partitions_over_at_once() {
    let (topic, group) = (unique("orders"), unique("g"));
    let out = run(&format!(
        "create-topic {topic} --partitions 2\n\
         start-consumer c1 --group {group} --topic {topic}\n\
         start-consumer c2 --group {group} --topic {topic}\n\
         expect consumer c1 assigned {topic}[0] --within 30s\n\
         expect consumer c2 assigned {topic}[1] --within 30s\n\
         stop-consumer c1\n\
         expect consumer c2 assigned {topic}[0,1] --within 1s\n\
         expect group {group} members 1\n\
         consumers\n"
    ));
    out.assert_ok();
    assert!(reassigned_after(&out) < 5.0, "a graceful stop should not wait for the session timeout");
    let rows = out.table(&["NAME", "GROUP", "STATE", "ASSIGNED", "POSITION", "COMMITTED", "LAG"]);
    assert_eq!(rows.iter().find(|r| r[0] == "c1").unwrap()[2], "stopped");
}

#[test]
fn kill_consumer_is_noticed_only_after_the_session_timeout_and_uncommitted_messages_come_back() {
    let (topic, group) = (unique("orders"), unique("g"));
    let out = run(&format!(
        "create-topic {topic} --partitions 2\n\
         produce {topic} 'first {{n}}' --count 3 --partition 0\n\
         start-consumer c1 --group {group} --topic {topic} --from earliest --manual-commit\n\
         start-consumer c2 --group {group} --topic {topic} --from earliest --manual-commit\n\
         expect consumer c1 assigned {topic}[0] --within 30s\n\
         expect consumer c2 assigned {topic}[1] --within 30s\n\
         poll c1 2\n\
         kill-consumer c1\n\
         expect consumer c2 assigned {topic}[0,1]\n\
         poll c2 3\n\
         consumers\n"
    ));
    out.assert_ok();
    let after = reassigned_after(&out);
    // The last heartbeat may be up to a second before the kill; the timeout itself is 6 s.
    assert!((4.5..14.0).contains(&after), "reassigned after {after} s with a 6 s session timeout");
    let polls = out.tables_with(&POLL);
    let offsets = |t: &Vec<Vec<String>>| t.iter().map(|r| (r[1].clone(), r[2].clone())).collect::<Vec<_>>();
    assert_eq!(offsets(&polls[0]), [("0".into(), "0".into()), ("0".into(), "1".into())]);
    // Nothing was committed, so c2 gets everything c1 had been handed, and the rest.
    assert_eq!(offsets(&polls[1]), [("0".into(), "0".into()), ("0".into(), "1".into()), ("0".into(), "2".into())]);
    let after_kill = out.stdout.split("c1 killed").nth(1).unwrap_or_default();
    assert_eq!(after_kill.matches(&format!("c2 ← assigned {topic}[0,1]")).count(), 1, "one rebalance, not two:\n{}", out.stdout);
}

#[test]
fn earliest_reads_the_backlog_and_latest_only_what_comes_after() {
    let topic = unique("orders");
    let (early, late) = (unique("billing"), unique("kitchen"));
    let out = run(&format!(
        "create-topic {topic}\n\
         produce {topic} 'old {{n}}' --count 3\n\
         start-consumer early --group {early} --topic {topic} --from earliest\n\
         start-consumer late --group {late} --topic {topic} --from latest\n\
         expect consumer early assigned {topic}[0] --within 30s\n\
         expect consumer late assigned {topic}[0] --within 30s\n\
         poll late 1 --wait 1s\n\
         produce {topic} new\n\
         poll early 4\n\
         poll late 4\n\
         expect consumer early received 4\n\
         expect consumer late received 1\n"
    ));
    out.assert_ok();
    let polls = out.tables_with(&POLL);
    let values = |t: &Vec<Vec<String>>| t.iter().map(|r| r[4].clone()).collect::<Vec<_>>();
    assert_eq!(values(&polls[0]), ["old 1", "old 2", "old 3", "new"]);
    assert_eq!(values(&polls[1]), ["new"]);
}

#[test]
fn seek_to_end_skips_the_backlog_and_seek_to_beginning_replays_it() {
    let (topic, group) = (unique("orders"), unique("g"));
    let out = run(&format!(
        "create-topic {topic}\n\
         produce {topic} 'old {{n}}' --count 4\n\
         start-consumer c --group {group} --topic {topic} --from earliest\n\
         expect consumer c assigned {topic}[0] --within 30s\n\
         seek-to-end c\n\
         produce {topic} fresh\n\
         poll c 5 --wait 2s\n\
         seek-to-beginning c\n\
         poll c 5\n\
         seek c 0 2\n\
         poll c 1\n"
    ));
    out.assert_ok();
    let polls = out.tables_with(&POLL);
    let values = |t: &Vec<Vec<String>>| t.iter().map(|r| r[4].clone()).collect::<Vec<_>>();
    assert_eq!(values(&polls[0]), ["fresh"]);
    assert_eq!(values(&polls[1]), ["old 1", "old 2", "old 3", "old 4", "fresh"]);
    assert_eq!(values(&polls[2]), ["old 3"]);
}

fn describe_group_lag_is_end_minus_committed(args: &[&str]) {
    let (topic, group) = (unique("orders"), unique("g"));
    let out = run_with(
        args,
        &format!(
            "create-topic {topic} --partitions 2\n\
             produce {topic} 'a {{n}}' --count 5 --partition 0\n\
             produce {topic} 'b {{n}}' --count 3 --partition 1\n\
             start-consumer c --group {group} --topic {topic} --from earliest --manual-commit\n\
             expect consumer c assigned {topic}[0,1] --within 30s\n\
             poll c 6\n\
             commit c\n\
             groups\n\
             describe-group {group}\n\
             expect group {group} lag {topic} 2\n"
        ),
        Duration::from_secs(120),
    );
    out.assert_ok();
    let rows = out.table(&["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"]);
    let mut total = 0;
    for row in &rows {
        let (current, end, lag) = (row[3].parse::<i64>().unwrap(), row[4].parse::<i64>().unwrap(), row[5].parse::<i64>().unwrap());
        assert_eq!(lag, end - current, "{row:?}");
        assert_eq!(row[8], "c");
        total += lag;
    }
    assert_eq!(total, 2);
    let groups = out.table(&["GROUP", "STATE", "PROTOCOL", "MEMBERS"]);
    assert!(groups.iter().any(|r| r[0] == group && r[1] == "Stable" && r[3] == "1"), "{groups:?}");
}

#[test]
fn describe_group_lag_in_memory() {
    describe_group_lag_is_end_minus_committed(&[]);
}

#[test]
fn describe_group_lag_in_sqlite() {
    let data = common::temp_dir("groups-sqlite");
    describe_group_lag_is_end_minus_committed(&["--data", data.to_str().unwrap()]);
}

#[test]
fn reset_offsets_refuses_an_active_group_and_resets_an_inactive_one() {
    let (topic, group) = (unique("orders"), unique("g"));
    let active = run(&format!(
        "create-topic {topic}\n\
         produce {topic} 'm {{n}}' --count 4\n\
         start-consumer c --group {group} --topic {topic} --from earliest\n\
         expect consumer c assigned {topic}[0] --within 30s\n\
         reset-offsets {group} --topic {topic} --to-earliest --execute\n"
    ));
    assert_ne!(active.code, 0);
    assert!(active.stderr.contains("has 1 active member(s) (c)") && active.stderr.contains("stop-consumer c"), "{}", active.stderr);

    let out = run(&format!(
        "create-topic {topic}\n\
         produce {topic} 'm {{n}}' --count 4\n\
         start-consumer c --group {group} --topic {topic} --from earliest\n\
         expect consumer c assigned {topic}[0] --within 30s\n\
         poll c 4\n\
         stop-consumer c\n\
         expect committed {group} {topic}[0] 4\n\
         expect group {group} members 0\n\
         reset-offsets {group} --topic {topic} --shift-by -3\n\
         expect committed {group} {topic}[0] 4\n\
         reset-offsets {group} --topic {topic} --shift-by -3 --execute\n\
         expect committed {group} {topic}[0] 1\n\
         restart-consumer c\n\
         expect consumer c assigned {topic}[0] --within 30s\n\
         poll c 3\n"
    ));
    out.assert_ok();
    assert!(out.stdout.contains("nothing changed yet: add --execute"), "{}", out.stdout);
    let polls = out.tables_with(&POLL);
    let values: Vec<&str> = polls.last().unwrap().iter().map(|r| r[4].as_str()).collect();
    assert_eq!(values, ["m 2", "m 3", "m 4"]);
}

#[test]
fn expect_fails_with_what_it_found() {
    let topic = unique("orders");
    let out = run(&format!("create-topic {topic} --partitions 2\nexpect topic {topic} partitions 3 --within 300ms\n"));
    assert_eq!(out.code, 1);
    assert!(out.stderr.starts_with(&format!("error: line 2: expected 3 partitions in topic {topic}, found 2")), "{}", out.stderr);
}

#[test]
fn producers_run_until_stopped() {
    let (topic, group) = (unique("orders"), unique("g"));
    let out = run(&format!(
        "create-topic {topic}\n\
         start-consumer c --group {group} --topic {topic} --from earliest\n\
         start-producer till-1 --topic {topic} --every 50ms '{{\"order\": {{n}}, \"till\": 1}}'\n\
         poll c 5 --wait 20s\n\
         stop-producer till-1\n\
         producers\n\
         read {topic} --max 1\n"
    ));
    out.assert_ok();
    let producers = out.table(&["NAME", "TOPIC", "RATE", "SENT", "LAST PARTITION/OFFSET", "ERRORS", "STATE"]);
    assert_eq!(producers[0][6], "stopped");
    assert!(producers[0][3].parse::<u64>().unwrap() >= 5);
    assert_eq!(out.table(&["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"])[0][4], r#"{"order":1,"till":1}"#);
}

#[test]
fn follow_prints_each_message_as_it_arrives() {
    let (topic, group) = (unique("orders"), unique("g"));
    let out = run(&format!(
        "create-topic {topic}\n\
         produce {topic} hello --key till-1\n\
         start-consumer f --group {group} --topic {topic} --from earliest --follow\n\
         expect consumer f received 1 --within 30s\n"
    ));
    out.assert_ok();
    assert!(out.stdout.contains(&format!("f ▸ {topic}[0]@0 key=till-1 hello")), "{}", out.stdout);
}
