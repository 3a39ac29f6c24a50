//! Live consumers and groups against the real embedded broker, in a session in this process.

use kafka_workshop::outcome::{Event, Outcome};
use kafka_workshop::session::ConnectOptions;

use crate::harness::{says, table, temp_dir, Workshop};

const POLL: [&str; 5] = ["TOPIC", "PARTITION", "OFFSET", "KEY", "VALUE"];
const CONSUMERS: [&str; 7] = ["NAME", "GROUP", "STATE", "ASSIGNED", "POSITION", "COMMITTED", "LAG"];

fn assigned(shop: &mut Workshop, consumer: &str) -> String {
    let consumers = shop.ok("consumers");
    let table = table(&consumers, &CONSUMERS);
    let row = table.rows.iter().find(|r| r[0] == consumer).unwrap_or_else(|| panic!("{consumer} missing"));
    row[3].clone()
}

/// "group 'g' reassigned orders[0] after 5.9 s" → 5.9
fn reassigned_after(outcome: &Outcome) -> f64 {
    let line = outcome.said().into_iter().find(|l| l.contains("reassigned")).unwrap_or_else(|| panic!("no reassignment: {outcome:?}"));
    line.rsplit("after ").next().and_then(|t| t.trim_end_matches(" s").parse().ok()).unwrap_or_else(|| panic!("{line}"))
}

fn values(outcome: &Outcome) -> Vec<String> {
    table(outcome, &POLL).column("VALUE").iter().map(|v| v.to_string()).collect()
}

#[test]
fn two_consumers_split_three_partitions_without_overlap() {
    let mut shop = Workshop::start();
    shop.script(
        "create-topic orders --partitions 3
         start-consumer p1 --group preparers --topic orders
         start-consumer p2 --group preparers --topic orders
         expect group preparers members 2 --within 30s
         expect consumer p1 assigned orders[0,1] --within 30s
         expect consumer p2 assigned orders[2] --within 30s",
    );
    assert_eq!(assigned(&mut shop, "p1"), "orders[0,1]");
    assert_eq!(assigned(&mut shop, "p2"), "orders[2]");
    let events = shop.events();
    assert!(
        events.iter().any(|e| matches!(e, Event::Assigned { actor, partitions, .. } if actor == "p2" && partitions.get("orders").is_some_and(|p| p.contains(&2)))),
        "assignment events are reported: {events:?}"
    );
}

#[test]
fn a_third_consumer_on_two_partitions_sits_idle() {
    let mut shop = Workshop::start();
    shop.script(
        "create-topic orders --partitions 2
         start-consumer c1 --group g --topic orders
         start-consumer c2 --group g --topic orders
         start-consumer c3 --group g --topic orders
         expect group g members 3 --within 30s
         expect consumer c3 assigned none --within 30s
         expect consumer c1 assigned orders[0] --within 30s
         expect consumer c2 assigned orders[1] --within 30s",
    );
    let idle: Vec<&str> = ["c1", "c2", "c3"].into_iter().filter(|c| assigned(&mut shop, c) == "none").collect();
    assert_eq!(idle, ["c3"]);
}

#[test]
fn stop_consumer_hands_its_partitions_over_at_once() {
    let mut shop = Workshop::start();
    shop.script(
        "create-topic orders --partitions 2
         start-consumer c1 --group g --topic orders
         start-consumer c2 --group g --topic orders
         expect consumer c1 assigned orders[0] --within 30s
         expect consumer c2 assigned orders[1] --within 30s",
    );
    let stopped = shop.ok("stop-consumer c1");
    assert!(reassigned_after(&stopped) < 5.0, "a graceful stop should not wait for the session timeout");
    shop.script("expect consumer c2 assigned orders[0,1] --within 1s\nexpect group g members 1");
    let consumers = shop.ok("consumers");
    let rows = table(&consumers, &CONSUMERS);
    assert_eq!(rows.rows.iter().find(|r| r[0] == "c1").unwrap()[2], "stopped");
}

#[test]
fn kill_consumer_is_noticed_only_after_the_session_timeout_and_uncommitted_messages_come_back() {
    let mut shop = Workshop::start();
    shop.script(
        "create-topic orders --partitions 2
         produce orders 'first {n}' --count 3 --partition 0
         start-consumer c1 --group g --topic orders --from earliest --manual-commit
         start-consumer c2 --group g --topic orders --from earliest --manual-commit
         expect consumer c1 assigned orders[0] --within 30s
         expect consumer c2 assigned orders[1] --within 30s",
    );
    let first = shop.ok("poll c1 2");
    let offsets = |o: &Outcome| table(o, &POLL).rows.iter().map(|r| (r[1].clone(), r[2].clone())).collect::<Vec<_>>();
    assert_eq!(offsets(&first), [("0".into(), "0".into()), ("0".into(), "1".into())]);
    shop.events();
    let killed = shop.ok("kill-consumer c1 --wait");
    let after = reassigned_after(&killed);
    // The last heartbeat may be up to a second before the kill; the timeout itself is 6 s.
    assert!((4.5..14.0).contains(&after), "reassigned after {after} s with a 6 s session timeout");
    shop.ok("expect consumer c2 assigned orders[0,1]");
    // Nothing was committed, so c2 gets everything c1 had been handed, and the rest.
    let second = shop.ok("poll c2 3");
    assert_eq!(offsets(&second), [("0".into(), "0".into()), ("0".into(), "1".into()), ("0".into(), "2".into())]);
    let rebalances = shop.events().into_iter().filter(|e| matches!(e, Event::Assigned { actor, .. } if actor == "c2")).count();
    assert_eq!(rebalances, 1, "one rebalance, not two");
}

#[test]
fn earliest_reads_the_backlog_and_latest_only_what_comes_after() {
    let mut shop = Workshop::start();
    shop.script(
        "create-topic orders
         produce orders 'old {n}' --count 3
         start-consumer early --group billing --topic orders --from earliest
         start-consumer late --group kitchen --topic orders --from latest
         expect consumer early assigned orders[0] --within 30s
         expect consumer late assigned orders[0] --within 30s
         poll late 1 --wait 1s
         produce orders new",
    );
    assert_eq!(values(&shop.ok("poll early 4")), ["old 1", "old 2", "old 3", "new"]);
    assert_eq!(values(&shop.ok("poll late 4")), ["new"]);
    shop.script("expect consumer early received 4\nexpect consumer late received 1");
}

#[test]
fn seek_to_end_skips_the_backlog_and_seek_to_beginning_replays_it() {
    let mut shop = Workshop::start();
    shop.script(
        "create-topic orders
         produce orders 'old {n}' --count 4
         start-consumer c --group g --topic orders --from earliest
         expect consumer c assigned orders[0] --within 30s
         seek-to-end c
         produce orders fresh",
    );
    assert_eq!(values(&shop.ok("poll c 5 --wait 2s")), ["fresh"]);
    shop.ok("seek-to-beginning c");
    assert_eq!(values(&shop.ok("poll c 5")), ["old 1", "old 2", "old 3", "old 4", "fresh"]);
    shop.ok("seek c 0 2");
    assert_eq!(values(&shop.ok("poll c 1")), ["old 3"]);
    // Seeking where the consumer cannot go is bad input, said in one line.
    let err = shop.fails("seek c 0 999");
    assert_eq!((err.exit_code(), err.to_string().contains("offset 999 is past the end of orders[0]")), (2, true), "{err}");
}

fn describe_group_lag_is_end_minus_committed(options: ConnectOptions) {
    let mut shop = Workshop::with(options);
    shop.script(
        "create-topic orders --partitions 2
         produce orders 'a {n}' --count 5 --partition 0
         produce orders 'b {n}' --count 3 --partition 1
         start-consumer c --group g --topic orders --from earliest --manual-commit
         expect consumer c assigned orders[0,1] --within 30s
         poll c 6
         commit c",
    );
    let described = shop.ok("describe-group g");
    let rows = table(&described, &["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"]);
    let mut total = 0;
    for row in &rows.rows {
        let (current, end, lag) = (row[3].parse::<i64>().unwrap(), row[4].parse::<i64>().unwrap(), row[5].parse::<i64>().unwrap());
        assert_eq!(lag, end - current, "{row:?}");
        assert_eq!(row[8], "c");
        total += lag;
    }
    assert_eq!(total, 2);
    shop.ok("expect group g lag orders 2");
    let groups = shop.ok("groups");
    let groups = table(&groups, &["GROUP", "STATE", "PROTOCOL", "MEMBERS"]);
    assert!(groups.rows.iter().any(|r| r[0] == "g" && r[1] == "Stable" && r[3] == "1"), "{groups:?}");
}

#[test]
fn describe_group_lag_in_memory() {
    describe_group_lag_is_end_minus_committed(ConnectOptions::default());
}

#[test]
fn describe_group_lag_in_sqlite() {
    let data = temp_dir("groups-sqlite");
    describe_group_lag_is_end_minus_committed(ConnectOptions { data: Some(data.path().to_path_buf()), ..ConnectOptions::default() });
}

#[test]
fn reset_offsets_refuses_an_active_group_and_resets_an_inactive_one() {
    let mut shop = Workshop::start();
    shop.script(
        "create-topic orders
         produce orders 'm {n}' --count 4
         start-consumer c --group g --topic orders --from earliest
         expect consumer c assigned orders[0] --within 30s",
    );
    let refused = shop.fails("reset-offsets g --topic orders --to-earliest --execute");
    assert!(refused.to_string().contains("has 1 active member(s) (c)") && refused.to_string().contains("stop-consumer c"), "{refused}");
    shop.script(
        "poll c 4
         stop-consumer c
         expect committed g orders[0] 4
         expect group g members 0",
    );
    let plan = shop.ok("reset-offsets g --topic orders --shift-by -3");
    assert!(says(&plan, "nothing changed yet: add --execute"), "{plan:?}");
    shop.ok("expect committed g orders[0] 4");
    shop.ok("reset-offsets g --topic orders --shift-by -3 --execute");
    shop.script(
        "expect committed g orders[0] 1
         restart-consumer c
         expect consumer c assigned orders[0] --within 30s",
    );
    assert_eq!(values(&shop.ok("poll c 3")), ["m 2", "m 3", "m 4"]);
}

#[test]
fn expect_fails_with_what_it_found() {
    let mut shop = Workshop::start();
    shop.ok("create-topic orders --partitions 2");
    let err = shop.fails("expect topic orders partitions 3 --within 300ms");
    assert_eq!((err.to_string().as_str(), err.exit_code()), ("expected 3 partitions in topic orders, found 2", 1));
}

#[test]
fn producers_run_until_stopped() {
    let mut shop = Workshop::start();
    shop.script(
        r#"create-topic orders
           start-consumer c --group g --topic orders --from earliest
           start-producer till-1 --topic orders --every 50ms '{"order": {n}, "till": 1}'
           poll c 5 --wait 20s
           stop-producer till-1"#,
    );
    let producers = shop.ok("producers");
    let producers = table(&producers, &["NAME", "TOPIC", "RATE", "SENT", "LAST PARTITION/OFFSET", "ERRORS", "STATE"]);
    assert_eq!(producers.cell(0, "STATE"), Some("stopped"));
    assert!(producers.cell(0, "SENT").unwrap().parse::<u64>().unwrap() >= 5);
    let read = shop.ok("read orders --max 1");
    assert_eq!(table(&read, &["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"]).cell(0, "VALUE"), Some(r#"{"order":1,"till":1}"#));
}

#[test]
fn follow_prints_each_message_as_it_arrives() {
    let mut shop = Workshop::start();
    shop.script(
        "create-topic orders
         produce orders hello --key till-1
         start-consumer f --group g --topic orders --from earliest --follow
         expect consumer f received 1 --within 30s",
    );
    let events = shop.events();
    let message = events.iter().find_map(|e| match e {
        Event::Message { actor, record } if actor == "f" => Some(record),
        _ => None,
    });
    let record = message.unwrap_or_else(|| panic!("no message event: {events:?}"));
    assert_eq!((record.topic.as_str(), record.partition, record.offset), ("orders", 0, 0));
    assert_eq!((record.key.as_deref(), record.value.as_deref()), (Some("till-1"), Some("hello")));
}

/// The table `kill-consumer` ends with is the group once it has settled: every survivor has
/// been dealt its new share, not caught between giving partitions up and getting them back.
/// Lesson 5's shape: three partitions, four members, one of them a spare.
#[test]
fn a_kill_reports_the_group_once_every_survivor_is_dealt_again() {
    let mut shop = Workshop::start();
    shop.ok("create-topic shared --partitions 3");
    for n in 1..=4 {
        shop.ok(&format!("start-consumer k{n} --group quartet --topic shared"));
        shop.ok(&format!("expect group quartet members {n} --within 30s"));
    }
    shop.script(
        "expect consumer k1 assigned shared[0] --within 30s
         expect consumer k4 assigned none --within 30s",
    );
    let killed = shop.ok("kill-consumer k1 --wait");
    let now = table(&killed, &["CONSUMER", "ASSIGNED"]);
    assert_eq!(now.rows.len(), 3, "{now:?}");
    assert!(now.rows.iter().all(|row| row[1] != "none"), "three survivors share three partitions: {now:?}");
}
