//! How quickly a running group takes in a newcomer, and what eager and cooperative rebalancing
//! look like to the consumers that were already there.
//!
//! tansu's own coordinator made every rejoining follower wait 3 s; Kafka's (and ours, in
//! src/broker/groups.rs) completes the round as soon as every member has rejoined. The deadline
//! below sits between the two, so these tests fail on the old coordinator.

use std::collections::BTreeSet;
use std::time::Duration;

use kafka_workshop::outcome::Event;
use kafka_workshop::view::View;

use crate::harness::{table, wait_until, Workshop};

const CONSUMERS: [&str; 7] = ["NAME", "GROUP", "STATE", "ASSIGNED", "POSITION", "COMMITTED", "LAG"];

/// A newcomer and everyone else hold their new partitions within this (Kafka: one heartbeat
/// plus the round trip; measured 0.6 s in bench/groups.sh; tansu's coordinator: 3 s).
const REJOIN: Duration = Duration::from_millis(2500);

/// The partitions of `topic` each consumer holds now, from the `consumers` table ("t[0,1]").
fn holdings(shop: &mut Workshop, topic: &str) -> Vec<(String, BTreeSet<i32>)> {
    let outcome = shop.ok("consumers");
    table(&outcome, &CONSUMERS)
        .rows
        .iter()
        .map(|row| {
            let ids = row[3]
                .strip_prefix(&format!("{topic}["))
                .and_then(|rest| rest.strip_suffix(']'))
                .map(|list| list.split(',').filter_map(|id| id.parse().ok()).collect())
                .unwrap_or_default();
            (row[0].clone(), ids)
        })
        .collect()
}

/// Every consumer holds at least one partition, none twice, and together all of them.
fn fairly_split(holdings: &[(String, BTreeSet<i32>)], partitions: i32) -> bool {
    let total: usize = holdings.iter().map(|(_, ids)| ids.len()).sum();
    let union: BTreeSet<i32> = holdings.iter().flat_map(|(_, ids)| ids.iter().copied()).collect();
    holdings.iter().all(|(_, ids)| !ids.is_empty()) && total == union.len() && union == (0..partitions).collect()
}

/// Consumers join a running group one at a time; after each join, every member holds its new
/// share within `REJOIN`.
fn members_join_one_at_a_time(members: usize) {
    let mut shop = Workshop::start();
    shop.ok("create-topic t --partitions 10");
    for n in 1..=members {
        shop.ok(&format!("start-consumer c{n} --group g --topic t"));
        // The first join also waits out the empty group's initial delay.
        let limit = if n == 1 { Duration::from_secs(10) } else { REJOIN };
        wait_until(&format!("{n} member(s) each holding a share of t"), limit, || {
            let now = holdings(&mut shop, "t");
            now.len() == n && fairly_split(&now, 10)
        });
    }
    let described = shop.ok("describe-group g");
    assert!(View::plain().render(&described).contains(&format!("{members} member(s)")));
}

#[test]
fn a_second_member_gets_its_partitions_within_a_heartbeat_or_two() {
    members_join_one_at_a_time(2);
}

#[test]
fn four_members_join_a_running_group_quickly() {
    members_join_one_at_a_time(4);
}

#[test]
fn ten_members_join_a_running_group_quickly() {
    members_join_one_at_a_time(10);
}

/// `a` holds all four partitions, then `b` joins with the given assignor. Returns the lines the
/// learner saw for `a` and `b`.
fn newcomer_with(assignor: &str) -> Vec<String> {
    let mut shop = Workshop::start();
    shop.script(&format!(
        "create-topic t --partitions 4
         start-consumer a --group g --topic t --assignor {assignor}
         expect consumer a assigned t[0,1,2,3] --within 10s"
    ));
    shop.events();
    shop.ok(&format!("start-consumer b --group g --topic t --assignor {assignor}"));
    wait_until("a and b each hold two partitions", Duration::from_secs(10), || {
        let now = holdings(&mut shop, "t");
        now.len() == 2 && fairly_split(&now, 4) && now.iter().all(|(_, ids)| ids.len() == 2)
    });
    let events = shop.events();
    let a_revoked: Vec<&Event> =
        events.iter().filter(|e| matches!(e, Event::Revoked { actor, .. } if actor == "a")).collect();
    assert!(!a_revoked.is_empty(), "a gave something up: {events:?}");
    events.iter().map(|e| View::plain().event(e).trim_end().to_string()).collect()
}

#[test]
fn eager_rebalancing_takes_everything_away_and_hands_it_back() {
    let lines = newcomer_with("range");
    assert!(lines.iter().any(|l| l.contains("a → revoked t[0,1,2,3]") && !l.contains("keeps")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("a ← assigned t[0,1]")), "{lines:#?}");
}

#[test]
fn cooperative_sticky_takes_away_only_what_moves() {
    let lines = newcomer_with("cooperative-sticky");
    let a: Vec<&String> = lines.iter().filter(|l| l.contains("a →") || l.contains("a ←")).collect();
    // a keeps two partitions all along: it is never told to give up all four.
    assert!(!a.iter().any(|l| l.contains("revoked t[0,1,2,3]")), "{lines:#?}");
    let revoked = a.iter().find(|l| l.contains("→ revoked")).unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(revoked.contains(", keeps t["), "the line says what a keeps: {revoked}");
    // And b is handed exactly what a gave up.
    let given: String =
        revoked.split("revoked ").nth(1).and_then(|r| r.split(", keeps").next()).unwrap_or_default().to_string();
    assert!(lines.iter().any(|l| l.contains(&format!("b ← assigned {given}"))), "b gets {given}: {lines:#?}");
}

/// A consumer that starts from the latest offset reads what is produced straight after it was
/// assigned. Left to librdkafka, the end was looked up a moment after the assignment, and the
/// message produced in between was skipped (the pizza demo's makers polled nothing).
#[test]
fn a_message_produced_the_moment_a_consumer_is_assigned_is_read() {
    let mut shop = Workshop::start();
    for round in 1..=3 {
        shop.script(&format!(
            "create-topic fresh-{round} --partitions 2
             start-consumer c{round} --group fresh-{round} --topic fresh-{round}
             expect consumer c{round} assigned fresh-{round}[0,1] --within 10s
             produce fresh-{round} order-{round} --partition 0"
        ));
        let polled = View::plain().render(&shop.ok(&format!("poll c{round} 1 --wait 5s")));
        assert!(polled.contains(&format!("order-{round}")), "round {round}: {polled}");
    }
}

/// `assigned none` means the group dealt this consumer nothing, not that it has not been dealt
/// anything yet: a consumer still joining does not count.
#[test]
fn assigned_none_holds_only_once_the_consumer_has_joined() {
    let mut shop = Workshop::start();
    shop.script(
        "create-topic single --partitions 1
         start-consumer first --group pair --topic single
         expect consumer first assigned single[0] --within 10s",
    );
    shop.ok("start-consumer second --group pair --topic single");
    let early = shop.run("expect consumer second assigned none --within 1ms");
    let early = match early {
        Ok(outcome) => View::plain().render(&outcome),
        Err(err) => err.to_string(),
    };
    assert!(early.contains("has not finished joining"), "{early}");
    let joined = View::plain().render(&shop.ok("expect consumer second assigned none --within 10s"));
    assert!(joined.contains("consumer second is assigned none"), "{joined}");
    let first = View::plain().render(&shop.ok("expect consumer first assigned single[0] --within 10s"));
    assert!(first.contains("assigned single[0]"), "{first}");
}
