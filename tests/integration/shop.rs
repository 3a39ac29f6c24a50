//! The fish-and-chip shop: tills, preparers, cooks and the analyst on the embedded broker, and
//! checks that prove what they did from the cluster's state.

use std::time::Duration;

use kafka_workshop::error::Error;
use kafka_workshop::outcome::Event;
use kafka_workshop::shop::{Customers, Pace};

use crate::harness::{run_with, table, tables, Run, Workshop};

/// Replay a built-in demo straight through with its checks.
fn replay(demo: &str) -> Run {
    let out = run_with(&["replay", demo, "--no-pause", "--check", "--speed", "max"], "", Duration::from_secs(240));
    assert_eq!(out.code, 0, "{demo} failed\nstdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    out
}

/// The number in `text` right after `before`, as in "(preparer-1 12, …".
fn count_after(text: &str, before: &str) -> u64 {
    let at = text.find(before).unwrap_or_else(|| panic!("no '{before}' in:\n{text}")) + before.len();
    text[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
}

/// What actors said, as `actor text` lines.
fn said(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Said { actor, text, .. } => Some(format!("{actor} {text}")),
            _ => None,
        })
        .collect()
}

#[test]
fn shop_3_both_preparers_serve_and_every_order_is_served_exactly_once() {
    let out = replay("shop-3");
    let line = out.stdout.lines().find(|l| l.contains("were served exactly once")).expect("the served-once check ran");
    let total = count_after(line, "ok: all ");
    let one = count_after(line, "preparer-1 ");
    let two = count_after(line, "preparer-2 ");
    assert!(one > 0 && two > 0, "both preparers serve: {line}");
    assert_eq!(one + two, total, "{line}");
    // Each event line (not the board's copy) names a distinct order.
    let mut served: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("preparer-"))
        .filter_map(|l| l.split(" served order ").nth(1)?.split(' ').next())
        .collect();
    let all = served.len();
    served.sort_unstable();
    served.dedup();
    assert_eq!(served.len(), all, "an order was served twice");
    assert_eq!(all as u64, total);
}

#[test]
fn shop_4_every_plaice_order_comes_back_from_the_cook_ready() {
    let out = replay("shop-4");
    assert!(out.stdout.contains("plaice orders went to demo4-cook not ready, came back to demo4-orders with ready: true, and were served"));
    // What the preparer sent to the cook, read back with `read`: plaice, not ready.
    let read = tables(&out.stdout).into_iter().find(|t| t[0].contains(&"VALUE".to_string())).expect("the read table");
    assert!(read.len() > 1);
    for row in &read[1..] {
        let value = &row[4];
        assert!(value.contains("plaice") && value.contains(r#""ready":false"#), "{value}");
    }
}

/// A seed whose first customer at till 1 orders plaice and whose second does not.
fn seed_with_plaice_then_none() -> u64 {
    let pace = Pace::default();
    (0..1000)
        .find(|seed| {
            let mut customers = Customers::new(Some(*seed), 1, true);
            customers.next(&pace, 1).1.has_plaice() && !customers.next(&pace, 2).1.has_plaice()
        })
        .expect("some seed in a thousand")
}

#[test]
fn a_plaice_order_without_a_cook_is_never_served_and_the_check_says_so() {
    let mut shop = Workshop::start();
    let seed = seed_with_plaice_then_none();
    shop.session().set_shop_seed(seed);
    shop.session().set_shop_speedup(20.0);
    shop.script(
        "create-topic orders
         start-preparer alice --group preparers --topic orders
         expect consumer alice assigned orders[0] --within 30s
         start-till 1 --topic orders --plaice
         expect preparer alice served 1 --within 60s
         stop-till all",
    );
    let told = said(&shop.events());
    assert!(told.iter().any(|l| l.starts_with("alice order 1 needs cooking and this shop has no cook")), "{told:?}");
    let err = shop.fails("expect orders orders served-once --within 2s");
    assert!(matches!(err, Error::Unmet { .. }), "{err:?}");
    assert!(err.to_string().contains("not served yet: 1"), "{err}");
}

#[test]
fn shop_commands_refuse_bad_input_in_one_line() {
    let cases = [
        ("create-topic one\nstart-till 2 --topic one", "till 2 sends to partition 1, but topic 'one' has 1 partition(s)"),
        ("start-till 1 --topic nowhere", "topic 'nowhere' does not exist"),
        ("stop-till 4", "till 4 is not open; open tills: none"),
        ("create-topic t\nstart-till 1 --topic t\nstop-till 9", "till 9 is not open; open tills: 1"),
        ("stop-till one", "expected till numbers or `all`, got 'one'"),
        ("start-preparer p --group g --topic t --cabinet", "--cook-topic"),
        ("query nobody \"SELECT 1\"", "no analyst named 'nobody'"),
        ("expect orders t plaice-cooked --within 100ms", "no till has sent a plaice order to t yet"),
        ("expect preparer ghost served 1", "no preparer named 'ghost' in the shop"),
    ];
    let mut shop = Workshop::start();
    for (script, said) in cases {
        let mut lines: Vec<&str> = script.lines().collect();
        let bad = lines.pop().unwrap();
        for line in lines {
            let _ = shop.run(line);
        }
        let err = shop.fails(bad);
        assert!(err.to_string().contains(said), "{bad}: wanted '{said}', got '{err}'");
        assert!(!err.to_string().contains('\n'), "{err}");
    }
}

#[test]
fn the_analyst_stores_consumed_orders_that_sql_can_query() {
    let mut shop = Workshop::start();
    shop.session().set_shop_speedup(10.0);
    shop.script(
        "create-topic orders --partitions 2
         start-preparer alice --group preparers --topic orders
         start-analyst ann --topic orders --from earliest
         expect consumer ann assigned orders[0,1] --within 30s
         expect consumer alice assigned orders[0,1] --within 30s
         start-till 1 --topic orders
         start-till 2 --topic orders
         expect preparer alice served 4 --within 60s",
    );
    let closed = shop.ok("stop-till all");
    let stored = shop.ok("expect analyst ann stored-every-order --within 60s");
    let rows = shop.ok(r#"query ann "SELECT count(*) AS n, count(DISTINCT order_number) AS distinct_orders FROM orders""#);
    let rows = table(&rows, &["n", "distinct_orders"]);
    let stored = count_after(stored.said()[0], "holds a row for each of the ");
    assert_eq!(rows.rows, [[stored.to_string(), stored.to_string()]]);
    let sent: u64 = closed.said()[0].split('(').skip(1).map(|p| p.split(' ').next().unwrap().parse::<u64>().unwrap()).sum();
    assert_eq!(stored, sent, "one row per order the tills sent");
    assert!(shop.home.path().join("ann.sqlite").exists(), "the database is in the data folder");
    let err = shop.fails(r#"query ann "SELECT nonsense FROM nowhere""#);
    assert!(err.to_string().starts_with("the query failed"), "{err}");
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn a_killed_preparer_restarts_and_goes_back_to_work() {
    let mut shop = Workshop::start();
    shop.session().set_shop_speedup(10.0);
    shop.script(
        "create-topic orders
         start-preparer alice --group preparers --topic orders
         expect consumer alice assigned orders[0] --within 30s
         start-till 1 --topic orders
         expect preparer alice served 2 --within 60s
         kill-consumer alice
         restart-consumer alice
         expect consumer alice assigned orders[0] --within 30s
         expect preparer alice served 6 --within 60s
         stop-till all",
    );
    let board = shop.ok("shop");
    let text = kafka_workshop::view::View::plain().render(&board);
    assert!(text.contains("== PREPARER alice ·"), "{text}");
    assert!(text.contains("== TILL 1 ·") && text.contains("closed =="), "{text}");
}

/// The analyst into a real PostgreSQL, as the talk's homework has it: every order of a running
/// shop is a row there, `stored-every-order` holds against it, and SQL runs there. The password
/// is never shown; a wrong one is one line naming the server.
#[test]
fn the_analyst_stores_every_order_in_postgresql() {
    let postgres = crate::servers::Postgres::start();
    let with_password = postgres.url().replace("kw@", &format!("kw:{}@", crate::servers::Postgres::PASSWORD));
    let mut shop = Workshop::start();
    shop.session().set_shop_speedup(10.0);
    shop.ok("create-topic orders --partitions 2");
    let started = shop.ok(&format!("start-analyst pat --topic orders --from earliest --db '{with_password}' --show-connect-config"));
    let said = kafka_workshop::view::View::plain().render(&started);
    assert!(said.contains(&format!("a row in postgres://kw@127.0.0.1:{}/postgres", postgres.port)), "{said}");
    assert!(!said.contains(crate::servers::Postgres::PASSWORD), "the password is shown:\n{said}");
    assert!(said.contains("io.confluent.connect.jdbc.JdbcSinkConnector") && said.contains("${env:PGPASSWORD}"), "{said}");
    shop.script(
        "start-preparer alice --group preparers --topic orders
         expect consumer pat assigned orders[0,1] --within 30s
         expect consumer alice assigned orders[0,1] --within 30s
         start-till 1 --topic orders
         start-till 2 --topic orders
         expect preparer alice served 4 --within 60s",
    );
    shop.ok("stop-till all");
    let stored = shop.ok("expect analyst pat stored-every-order --within 60s");
    assert!(stored.said()[0].starts_with(&format!("postgres://kw@127.0.0.1:{}/postgres holds a row for each", postgres.port)), "{stored:?}");
    let n = count_after(stored.said()[0], "holds a row for each of the ");
    let rows = shop.ok(r#"query pat "SELECT count(*) AS n, count(DISTINCT order_number) AS orders, min(pg_typeof(stored_at)::text) AS kind FROM orders""#);
    assert_eq!(table(&rows, &["n", "orders", "kind"]).rows, [[n.to_string(), n.to_string(), "timestamp with time zone".to_string()]]);
    let err = shop.fails(r#"query pat "SELECT nonsense FROM nowhere""#);
    assert!(err.to_string().starts_with("the query failed") && err.exit_code() == 2, "{err}");

    let wrong = postgres.url().replace("kw@", "kw:not-the-password@");
    let err = shop.fails(&format!("start-analyst eve --topic orders --db '{wrong}'"));
    let line = err.to_string();
    assert!(line.contains(&format!("PostgreSQL at postgres://kw@127.0.0.1:{}/postgres", postgres.port)), "{line}");
    assert!(line.contains("password authentication failed") && !line.contains('\n') && !line.contains("not-the-password"), "{line}");
}

/// The hot cabinet in a real Redis, as the talk's homework keeps it: two sessions, each with a
/// preparer and a cook of its own, share one cabinet and its books balance; Redis going away
/// mid-shop is one line, and the shop goes on when it is back; a wrong password is one line
/// naming the server.
#[test]
fn two_sessions_share_a_hot_cabinet_in_redis_that_survives_an_outage() {
    let mut redis = crate::servers::Redis::start();
    let broker = crate::harness::BackgroundBroker::start(&[]);
    let url = redis.url();
    let mut shops: Vec<Workshop> = ["s1", "s2"].iter().map(|learner| broker.client(Some(learner))).collect();
    for shop in &mut shops {
        shop.session().set_shop_speedup(10.0);
        shop.script(&format!(
            "create-topic orders
             create-topic cook
             start-preparer preparer --group preparers --topic orders --cook-topic cook --cabinet {url}
             start-cook cook --topic cook --orders-topic orders --cabinet {url}
             expect consumer preparer assigned orders[0] --within 30s
             expect consumer cook assigned cook[0] --within 30s
             start-till 1 --topic orders --plaice"
        ));
    }
    for shop in &mut shops {
        shop.ok("expect preparer preparer served 3 --within 90s");
    }
    let _ = shops[0].events();
    redis.stop();
    crate::harness::wait_until("the preparer or cook says the cabinet cannot be reached", Duration::from_secs(30), || {
        shops[0].events().iter().any(|e| matches!(e, Event::Said { text, warning: true, .. } if text.contains("cannot be reached")))
    });
    redis.resume();
    crate::harness::wait_until("the shop goes on once Redis is back", Duration::from_secs(30), || {
        shops[0].events().iter().any(|e| matches!(e, Event::Said { text, .. } if text.contains("is back")))
    });
    for shop in &mut shops {
        shop.ok("stop-till all");
        shop.ok("expect orders orders served-once --within 120s");
        let balanced = shop.ok("expect cabinet balances --within 30s");
        let said = balanced.said()[0].to_string();
        assert!(said.starts_with(&format!("the cabinet at redis://:***@127.0.0.1:{} balances", redis.port)), "{said}");
        assert!(!said.contains(crate::servers::Redis::PASSWORD), "{said}");
    }
    let wrong = url.replace(crate::servers::Redis::PASSWORD, "not-it");
    let err = shops[0].fails(&format!("start-cook cook2 --topic cook --orders-topic orders --cabinet {wrong}"));
    let line = err.to_string();
    assert!(line.contains(&format!("redis://:***@127.0.0.1:{}", redis.port)) && line.contains("refused the password"), "{line}");
    assert!(!line.contains('\n') && !line.contains("not-it"), "{line}");
}
