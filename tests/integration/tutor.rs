//! The lesson engine at the prompt: a learner's command answers at once, the goal is watched in
//! the background and announced when it holds, nothing says "not yet" unless asked, and `check`
//! says what fails (and when a group is still rebalancing).

use std::time::{Duration, Instant};

use kafka_workshop::session::ConnectOptions;
use kafka_workshop::view::View;
use tempfile::TempDir;

use crate::harness::{says, temp_dir, Workshop};

/// A one-lesson library: consumer `a` holds both partitions of `j`; the task is to add `b`,
/// which the group takes a rebalance to hand a partition to.
pub const NEWCOMER: &str = r#"---
number: 1
title: A newcomer joins
minutes: 2
---

# A newcomer joins

```kafka
create-topic j --partitions 2
start-consumer a --group g --topic j
expect consumer a assigned j[0,1] --within 10s
```

```try
goal: Start consumer b in group g, reading j.
expect consumer b assigned j[1]
expect consumer a assigned j[0]
hint: `start-consumer` with the same group.
hint: start-consumer b --group g --topic j
solution: start-consumer b --group g --topic j
```

Two members now share the topic.

## Recap

A newcomer gets its share of the partitions.
"#;

fn with_lesson() -> (Workshop, TempDir) {
    let dir = temp_dir("tutor-lessons");
    std::fs::write(dir.path().join("01-newcomer.md"), NEWCOMER).unwrap();
    let shop = Workshop::with(ConnectOptions { lessons: Some(dir.path().to_path_buf()), ..ConnectOptions::default() });
    (shop, dir)
}

fn text(outcome: &kafka_workshop::outcome::Outcome) -> String {
    View::plain().render(outcome)
}

#[test]
fn a_goal_reached_after_the_command_returns_is_announced_in_the_background() {
    let (mut shop, _lessons) = with_lesson();
    shop.script("lesson 1\nnext");
    assert!(shop.session().prompt().starts_with("lesson 1 · step 2/"), "{}", shop.session().prompt());
    // The command answers at once, with its own output only: the group has not rebalanced yet.
    let started = Instant::now();
    let said = shop.ok("start-consumer b --group g --topic j");
    let answered = started.elapsed();
    assert!(says(&said, "started consumer 'b'"), "{said:?}");
    assert!(!text(&said).contains("not yet") && !text(&said).contains("hint"), "unasked: {}", text(&said));
    assert!(answered < Duration::from_secs(1), "the command was held back {answered:?}");
    // Nobody types; the rebalance finishes, and the watch says so and moves on.
    let announced = shop.announcement(Duration::from_secs(10)).expect("the goal is announced");
    let announced = text(&announced);
    assert!(announced.contains("goal reached: Start consumer b in group g, reading j."), "{announced}");
    assert!(announced.contains("Two members now share the topic."), "the next step follows: {announced}");
    assert!(shop.session().prompt().starts_with("lesson 1 · step 3/"), "{}", shop.session().prompt());
}

#[test]
fn check_says_what_fails_and_that_the_group_is_rebalancing_then_reports_when_it_settles() {
    let (mut shop, _lessons) = with_lesson();
    shop.script("lesson 1\nnext");
    let early = shop.ok("check");
    let early = text(&early);
    assert!(early.contains("not yet: no consumer named 'b'"), "{early}");
    shop.ok("start-consumer b --group g --topic j");
    // Straight after the join, the group is rebalancing: `check` answers at once and says so.
    let started = Instant::now();
    let checked = text(&shop.ok("check"));
    assert!(started.elapsed() < Duration::from_millis(500), "check took {:?}", started.elapsed());
    if checked.contains("goal reached") {
        // The rebalance was already over (a fast machine): nothing left to report.
        return;
    }
    assert!(checked.contains("not yet: consumer b has not finished joining its group yet"), "{checked}");
    assert!(checked.contains("group g is rebalancing; you will hear when it has settled"), "{checked}");
    let announced = text(&shop.announcement(Duration::from_secs(10)).expect("the settled rebalance is reported"));
    assert!(announced.contains("goal reached"), "{announced}");
}

#[test]
fn enough_unmet_checks_bring_a_gentle_nudge_once() {
    let (mut shop, _lessons) = with_lesson();
    shop.script("lesson 1\nnext");
    let checks: Vec<String> = (0..4).map(|_| text(&shop.ok("check"))).collect();
    assert!(!checks[0].contains("stuck?") && !checks[1].contains("stuck?"), "{checks:#?}");
    assert!(checks[2].contains("stuck? try `hint`"), "{checks:#?}");
    assert!(!checks[3].contains("stuck?"), "only once: {checks:#?}");
    assert!(text(&shop.ok("hint")).contains("hint: `start-consumer` with the same group."));
}

/// Through a pipe, everything is typed ahead of the slow parts: `check` while the group has not
/// settled, then `hint`, the solving command, a `produce` and a `poll`. Each runs, in order,
/// and the goal is announced as soon as the newcomer holds its partition.
#[test]
fn lines_piped_ahead_of_a_check_all_run_in_order() {
    let lessons = temp_dir("pipe-lessons");
    std::fs::write(lessons.path().join("01-newcomer.md"), NEWCOMER).unwrap();
    let dir = lessons.path().display().to_string();
    let run = crate::harness::run_with(
        &["--lessons", &dir],
        "lesson 1\nnext\ncheck\nhint\nstart-consumer b --group g --topic j\nexpect consumer b assigned j[1] --within 10s\nexpect consumer a assigned j[0] --within 10s\nproduce j typed-ahead --partition 1\npoll b 1 --wait 10s\n",
        Duration::from_secs(60),
    );
    let out = &run.stdout;
    assert_eq!(run.code, 0, "{out}\n{}", run.stderr);
    let at = |text: &str| out.find(text).unwrap_or_else(|| panic!("no {text:?} in:\n{out}\n{}", run.stderr));
    let order = [
        at("not yet: no consumer named 'b'"),
        at("`start-consumer` with the same group"),
        at("started consumer 'b'"),
        at("goal reached: Start consumer b"),
        at("| 1         | 0      |"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "out of order:\n{out}");
    assert!(out.contains("typed-ahead"), "b read the message produced after it:\n{out}");
}
