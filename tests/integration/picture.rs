//! `show` and `watch`: the picture in a terminal, after real produce, poll, commit, stop and kill,
//! and the owners of members started in other sessions.

use kafka_workshop::outcome::picture::Picture;
use kafka_workshop::outcome::Outcome;
use kafka_workshop::view::View;

use crate::harness::{table, BackgroundBroker, Workshop};

fn picture(outcome: &Outcome) -> &Picture {
    match outcome {
        Outcome::Picture(picture) => picture,
        other => panic!("not a picture: {other:?}"),
    }
}

/// The plain frame's line for one partition, and the marker lines under it.
fn row(frame: &str, partition: i32) -> Vec<&str> {
    let label = format!("  p{partition:<3}");
    let mut lines = frame.lines().skip_while(|l| !l.starts_with(&label));
    let first = lines.next().unwrap_or_else(|| panic!("no row for p{partition} in:\n{frame}"));
    std::iter::once(first).chain(lines.take_while(|l| l.starts_with("       "))).collect()
}

#[test]
fn show_draws_each_partition_as_a_log_with_keys_commits_positions_and_owners() {
    let mut shop = Workshop::start();
    shop.script(
        r#"create-topic orders --partitions 2
           produce orders '{"order": {n}}' --key till-1 --count 3 --partition 0
           produce orders '{"order": {n}}' --key till-2 --count 2 --partition 0
           start-consumer alice --group preparers --topic orders --from earliest --manual-commit
           expect consumer alice assigned orders[0,1] --within 30s
           poll alice 2
           commit alice
           produce orders 'unkeyed {n}' --count 4 --partition 1"#,
    );
    let shown = shop.ok("show");
    let frame = View::plain().render(&shown);
    let p0 = row(&frame, 0);
    // Five cells, one per offset: till-1 is A, till-2 is B.
    assert!(p0[0].contains("│A A A B B│ end 5 · preparers: alice"), "{frame}");
    // The commit is at offset 2: under the third cell, with the lag to the end.
    let commit = p0.iter().find(|l| l.contains("preparers committed 2 · lag 3")).unwrap_or_else(|| panic!("{frame}"));
    let bar = p0[0].find('│').unwrap();
    assert_eq!(commit.find('^').unwrap(), bar + 1 + 2 * 2, "the marker sits under offset 2:\n{frame}");
    assert!(p0.iter().any(|l| l.contains("^ alice reads 2 next")), "{frame}");
    let p1 = row(&frame, 1);
    assert!(p1[0].contains("│· · · ·│ end 4 · preparers: alice"), "{frame}");
    assert!(p1.iter().any(|l| l.contains("preparers: no commit yet")), "{frame}");
    assert!(frame.contains("keys: A=till-1  B=till-2"), "{frame}");
    assert!(frame.contains("group preparers · Stable · assignor range"), "{frame}");
    assert!(frame.contains("  alice ──▶ orders[0,1]"), "{frame}");
    // A plain frame is the same for the same state.
    assert_eq!(frame, View::plain().render(&shop.ok("show")));
    // It fits 80 columns.
    assert!(frame.lines().all(|l| l.chars().count() <= 80), "{frame}");
}

#[test]
fn a_long_log_shows_its_last_cells_and_says_how_many_came_before() {
    let mut shop = Workshop::start();
    shop.script("create-topic long\nproduce long 'm {n}' --key k --count 100");
    let frame = View::plain().render(&shop.ok("show long"));
    let line = row(&frame, 0)[0];
    let hidden: i64 = line.split('+').nth(1).and_then(|t| t.split(' ').next()).and_then(|n| n.parse().ok()).unwrap();
    let cells = line.split('│').nth(1).unwrap().split(' ').count() as i64;
    assert_eq!(hidden + cells, 100, "{line}");
    assert!(line.ends_with("│ end 100"), "{line}");
}

#[test]
fn a_graceful_stop_moves_the_owners_at_once() {
    let mut shop = Workshop::start();
    shop.script(
        "create-topic orders --partitions 2
         start-consumer a --group g --topic orders
         start-consumer b --group g --topic orders
         expect consumer a assigned orders[0] --within 30s
         expect consumer b assigned orders[1] --within 30s",
    );
    let before = shop.ok("show group g");
    let owners = |p: &Picture| -> Vec<String> {
        p.topics[0].partitions.iter().map(|part| part.owners.iter().map(|o| o.owner.clone()).collect::<Vec<_>>().join(",")).collect()
    };
    assert_eq!(owners(picture(&before)), ["a", "b"]);
    shop.ok("stop-consumer b");
    let after_stop = shop.ok("show group g");
    assert_eq!(owners(picture(&after_stop)), ["a", "a"]);
    let frame = View::plain().render(&after_stop);
    assert!(frame.contains("  a ──▶ orders[0,1]") && !frame.contains("  b ──▶"), "{frame}");
}

#[test]
fn show_names_what_it_cannot_draw() {
    let mut shop = Workshop::start();
    assert_eq!(shop.ok("show"), Outcome::Note("nothing to draw yet: create a topic, produce, or start a consumer, then `show` draws them".into()));
    let err = shop.fails("show nowhere");
    assert_eq!((err.to_string().as_str(), err.exit_code()), ("topic 'nowhere' does not exist", 2));
    let err = shop.fails("show group");
    assert!(err.to_string().contains("`group` needs a group's name"), "{err}");
}

#[test]
fn members_started_in_another_session_show_their_client_host_and_partitions() {
    let broker = BackgroundBroker::start(&[]);
    let mut other = broker.client(None);
    other.script(
        "create-topic orders --partitions 2
         start-consumer remote --group kitchen --topic orders
         expect consumer remote assigned orders[0,1] --within 30s",
    );
    // This session started nothing in the group: everything it knows comes from the broker.
    let mut here = broker.client(None);
    let described = here.ok("describe-group kitchen");
    let rows = table(&described, &["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"]);
    for row in &rows.rows {
        assert_eq!(row[8], "remote", "the client id is the consumer's: {row:?}");
        assert!(row[7].contains("127.0.0.1"), "the host is where it connected from: {row:?}");
        assert!(row[6].starts_with("remote-"), "librdkafka's member id starts with the client id: {row:?}");
    }
    let members = table(&described, &["MEMBER-ID", "CLIENT-ID", "HOST", "ASSIGNMENT"]);
    assert_eq!(members.column("ASSIGNMENT"), ["orders[0,1]"]);
    let shown = here.ok("show group kitchen");
    let frame = View::plain().render(&shown);
    let member = &picture(&shown).groups[0].members[0];
    assert!(frame.contains(&format!("  {} ──▶ orders[0,1]", member.id)), "{frame}");
    assert!(frame.contains("assignor range"), "the group's assignor comes from the broker: {frame}");
    here.ok("expect group kitchen members 1");
}

/// Three defects a new learner found: `show TOPIC` left out the groups that read it, a key's
/// letter changed when another key landed in a partition drawn above it, and a `+N` count
/// pushed one row's log right of the others.
#[test]
fn show_topic_draws_its_readers_keys_keep_their_letters_and_rows_line_up() {
    let mut shop = Workshop::start();
    shop.script(
        r#"create-topic pic --partitions 2
           produce pic x --key till-1 --partition 1 --count 2
           start-consumer alice --group preparers --topic pic --from earliest --manual-commit
           expect consumer alice assigned pic[0,1] --within 30s
           poll alice 2
           commit alice
           create-topic other"#,
    );
    let frame = View::plain().render(&shop.ok("show pic"));
    assert!(frame.contains("group preparers · Stable"), "show pic left out its group:\n{frame}");
    assert!(row(&frame, 1).iter().any(|l| l.contains("preparers committed 2 · lag 0")), "{frame}");
    assert!(frame.contains("keys: A=till-1\n"), "{frame}");
    // till-3 lands in partition 0, drawn above till-1's: till-1 is still A.
    shop.ok("produce pic y --key till-3 --partition 0");
    let frame = View::plain().render(&shop.ok("show pic"));
    assert!(row(&frame, 0)[0].contains("│B│"), "{frame}");
    assert!(row(&frame, 1)[0].contains("│A A│"), "{frame}");
    assert!(frame.contains("keys: A=till-1  B=till-3"), "{frame}");
    // A legend lists only what is drawn: `other` has no till-1.
    shop.ok("produce other z --key till-3");
    let frame = View::plain().render(&shop.ok("show other"));
    assert!(frame.contains("keys: B=till-3\n") && !frame.contains("till-1"), "{frame}");
    // A long row counts what it leaves out; every row's log still starts in one column.
    shop.ok("produce pic w --key till-1 --partition 1 --count 60");
    let frame = View::plain().render(&shop.ok("show pic"));
    let (p0, p1) = (row(&frame, 0)[0], row(&frame, 1)[0]);
    assert!(p1.contains('+'), "{frame}");
    assert_eq!(p0.find('│'), p1.find('│'), "the logs start in different columns:\n{frame}");
}
