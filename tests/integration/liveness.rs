//! Consumer liveness: a stalled consumer keeps heartbeating and is taken out of its group only
//! by its max poll interval; a static member restarts without a rebalance, unless it stays
//! away longer than its session timeout.

use std::time::Duration;

use kafka_workshop::outcome::Event;
use kafka_workshop::view::View;

use crate::harness::{says, table, wait_until, Workshop};

const CONSUMERS: [&str; 7] = ["NAME", "GROUP", "STATE", "ASSIGNED", "POSITION", "COMMITTED", "LAG"];

fn state_of(shop: &mut Workshop, name: &str) -> (String, String) {
    let outcome = shop.ok("consumers");
    let row = table(&outcome, &CONSUMERS).rows.iter().find(|row| row[0] == name).cloned().expect("listed");
    (row[2].clone(), row[3].clone())
}

#[test]
fn a_stalled_consumer_leaves_after_its_poll_interval_and_joins_again_after() {
    let mut shop = Workshop::start();
    shop.script(
        "create-topic stall --partitions 2
         start-consumer fast --group stallers --topic stall
         start-consumer slow --group stallers --topic stall --max-poll-interval 6s
         expect group stallers members 2 --within 10s
         expect consumer slow assigned stall[1] --within 10s",
    );
    shop.events();
    let started = std::time::Instant::now();
    let stalled = shop.ok("stall-consumer slow 10s");
    let said = View::plain().render(&stalled);
    // The prompt comes back at once; the takeover is said above it when it happens.
    assert!(started.elapsed() < Duration::from_secs(3), "stall-consumer held the prompt for {:?}", started.elapsed());
    assert!(said.contains("the prompt is yours meanwhile"), "{said}");
    // Taken over by the poll interval, not the session timeout: its heartbeats went on.
    assert!(said.contains("its heartbeats go on"), "{said}");
    let mut heard = String::new();
    wait_until("the takeover said above the prompt", Duration::from_secs(20), || {
        heard.extend(shop.events().iter().map(|e| View::plain().event(e)));
        heard.contains("reassigned stall[1]")
    });
    assert!(heard.contains("slow gone: group 'stallers' reassigned stall[1] after"), "{heard}");
    assert!(says(&shop.ok("expect consumer fast assigned stall[0,1]"), "assigned stall[0,1]"));
    assert!(says(&shop.ok("expect group stallers members 1"), "1 member"));
    // It does not know yet, and takes nothing while stalled.
    let (state, assigned) = state_of(&mut shop, "slow");
    assert!(state.starts_with("stalled"), "{state}");
    assert_eq!(assigned, "stall[1]");
    let refused = shop.fails("poll slow");
    assert!(refused.to_string().contains("slow is stalled for another"), "{refused}");
    // When the stall ends it polls, learns it was out, and is dealt its partition again.
    shop.ok("expect consumer slow assigned stall[1] --within 15s");
    shop.ok("expect consumer fast assigned stall[0] --within 10s");
    assert!(says(&shop.ok("expect group stallers members 2 --within 10s"), "2 member"));
    wait_until("slow to be running again", Duration::from_secs(5), || state_of(&mut shop, "slow").0 == "running");
}

#[test]
fn a_stall_within_the_poll_interval_moves_nothing() {
    let mut shop = Workshop::start();
    shop.script(
        "create-topic short-stall --partitions 1
         start-consumer only --group short-stallers --topic short-stall
         expect consumer only assigned short-stall[0] --within 10s
         produce short-stall waiting",
    );
    let said = View::plain().render(&shop.ok("stall-consumer only 1s"));
    assert!(said.contains("within its max poll interval"), "{said}");
    // Once the stall is over it hands over what waited.
    wait_until("the stall to end", Duration::from_secs(5), || state_of(&mut shop, "only").0 == "running");
    let polled = shop.ok("poll only 1 --wait 5s");
    assert_eq!(table(&polled, &["TOPIC", "PARTITION", "OFFSET", "KEY", "VALUE"]).rows[0][4], "waiting");
    shop.ok("expect consumer only generation 1");
}

#[test]
fn a_poll_interval_shorter_than_the_session_is_refused_in_one_line() {
    let mut shop = Workshop::start();
    shop.ok("create-topic short-poll");
    let err = shop.fails("start-consumer c --group g --topic short-poll --max-poll-interval 2s");
    assert!(err.to_string().contains("must be at least the session timeout"), "{err}");
    assert!(!err.to_string().contains('\n'));
}

#[test]
fn a_static_member_restarts_without_a_rebalance_only_within_its_session() {
    let mut shop = Workshop::start();
    shop.script(
        "create-topic statics --partitions 2
         start-consumer fryer-a --group static-fryers --topic statics --instance-id fryer-a
         expect consumer fryer-a assigned statics[0,1] --within 10s
         start-consumer fryer-b --group static-fryers --topic statics --instance-id fryer-b
         expect consumer fryer-b assigned statics[1] --within 10s
         expect consumer fryer-a generation 2 --within 10s",
    );
    shop.events();
    let stopped = View::plain().render(&shop.ok("stop-consumer fryer-a"));
    assert!(stopped.contains("did not leave group"), "{stopped}");
    shop.ok("restart-consumer fryer-a");
    shop.ok("expect consumer fryer-a assigned statics[0] --within 10s");
    shop.ok("expect consumer fryer-a generation 2");
    shop.ok("expect consumer fryer-b generation 2");
    shop.ok("expect consumer fryer-a restarts 1");
    // The other member was never dealt again.
    let revoked: Vec<Event> =
        shop.events().into_iter().filter(|e| matches!(e, Event::Revoked { actor, .. } if actor == "fryer-b")).collect();
    assert!(revoked.is_empty(), "fryer-b gave up its partition: {revoked:?}");

    // Away longer than the session timeout: the group deals its partition to fryer-b.
    shop.ok("stop-consumer fryer-a");
    shop.ok("expect consumer fryer-b assigned statics[0,1] --within 15s");
    shop.ok("restart-consumer fryer-a");
    shop.ok("expect consumer fryer-a assigned statics[0] --within 10s");
    let err = shop.fails("expect consumer fryer-a generation 2");
    assert!(err.to_string().contains("the group rebalanced more often"), "{err}");
    shop.ok("expect consumer fryer-a restarts 2");
}
