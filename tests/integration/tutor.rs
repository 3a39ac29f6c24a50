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

/// Walk lesson `n` at the prompt; at every step that starts a consumer, run it, go `back` and
/// run it again; at the first one, `restart-lesson` and come back to it too. Tries are solved
/// with their solutions, then skipped. Nothing may fail.
fn walk_again(n: usize) -> usize {
    use kafka_workshop::session::Cue;
    let mut shop = Workshop::start();
    let opened = shop.ok(&format!("lesson {n}"));
    assert!(opened.failure().is_none(), "lesson {n}: {}", text(&opened));
    let starts = |lines: &[String]| lines.iter().any(|l| l.starts_with("start-consumer"));
    let (mut again, mut restarted, mut steps) = (0, false, 0);
    while let Some((_, cue)) = shop.session().lesson_cue() {
        steps += 1;
        assert!(steps < 200, "lesson {n} does not end");
        match cue {
            Cue::Run { lines, .. } if starts(&lines) => {
                let first = shop.ok("next");
                assert!(first.failure().is_none(), "lesson {n}: {}", text(&first));
                let back = if restarted { shop.ok("back") } else { shop.ok("restart-lesson") };
                assert!(back.failure().is_none(), "lesson {n}: {}", text(&back));
                if !restarted {
                    restarted = true;
                    // Walk back to the same step, running what comes before it.
                    while let Some((_, cue)) = shop.session().lesson_cue() {
                        match cue {
                            Cue::Run { lines: here, .. } if here == lines => break,
                            Cue::Try(block) => {
                                block.solution.iter().for_each(|l| drop(shop.run(l)));
                                shop.ok("skip");
                            }
                            _ => drop(shop.ok("next")),
                        }
                    }
                }
                let second = shop.ok("next");
                assert!(second.failure().is_none(), "lesson {n}, run again: {}", text(&second));
                again += 1;
            }
            Cue::Try(block) => {
                block.solution.iter().for_each(|l| drop(shop.run(l)));
                shop.ok("skip");
            }
            _ => drop(shop.ok("next")),
        }
    }
    again
}

#[test]
fn back_and_restart_lesson_run_every_step_that_starts_a_consumer_again() {
    // The lessons whose steps start consumers.
    let lessons: Vec<usize> = vec![4, 5, 6, 7, 8, 9, 11, 14];
    let queue = std::sync::Mutex::new(lessons);
    let again: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let mut again = 0;
                    while let Some(n) = queue.lock().unwrap().pop() {
                        again += walk_again(n);
                    }
                    again
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    assert!(again >= 5, "only {again} steps start a consumer");
}

/// Lesson 14's static-membership try, done wrong first (fryer-a stays away past its session
/// timeout, so the group rebalances twice) and then right: the second go passes, because the
/// check asks whether anything moved since that stop, not for a generation or a count.
#[test]
fn lesson_14_static_restart_passes_after_a_first_go_that_was_too_slow() {
    use kafka_workshop::session::Cue;
    let mut shop = Workshop::start();
    shop.ok("lesson 14");
    let is_static_try = |cue: &Cue| matches!(cue, Cue::Try(block) if block.goal.starts_with("Restart `fryer-a`"));
    loop {
        let (_, cue) = shop.session().lesson_cue().expect("lesson 14 has the static-membership try");
        if is_static_try(&cue) {
            break;
        }
        match cue {
            Cue::Try(block) => {
                block.solution.iter().for_each(|l| drop(shop.run(l)));
                shop.ok("skip");
            }
            _ => drop(shop.ok("next")),
        }
    }
    // Too slow: fryer-b is dealt both partitions before fryer-a is back.
    shop.ok("stop-consumer fryer-a");
    shop.ok("expect consumer fryer-b assigned fryer-static[0,1] --within 30s");
    shop.ok("restart-consumer fryer-a");
    shop.ok("expect consumer fryer-a assigned fryer-static[0] --within 30s");
    let unmet = shop.ok("check");
    assert!(says(&unmet, "not yet"), "{}", text(&unmet));
    assert!(is_static_try(&shop.session().lesson_cue().unwrap().1), "the try is still open");
    // Right: straight back, and nothing moves.
    shop.ok("stop-consumer fryer-a");
    shop.ok("restart-consumer fryer-a");
    shop.ok("expect consumer fryer-a assigned fryer-static[0] --within 10s");
    // The goal is met: the tutor says so (in the background, or at `check`) and moves on.
    crate::harness::wait_until("the try is done", Duration::from_secs(15), || {
        if shop.session().lesson_cue().is_some_and(|(_, cue)| is_static_try(&cue)) {
            drop(shop.run("check"));
        }
        !shop.session().lesson_cue().is_some_and(|(_, cue)| is_static_try(&cue))
    });
}

/// A task with `show:` draws the picture of what the learner made the moment its goal is
/// reached, under "goal reached": lesson 1's log of five orders, end 5.
#[test]
fn a_reached_goal_draws_the_picture_the_task_names() {
    use kafka_workshop::outcome::Outcome;
    use kafka_workshop::session::Cue;
    let mut shop = Workshop::start();
    shop.ok("lesson 1");
    loop {
        let (_, cue) = shop.session().lesson_cue().expect("lesson 1 has a task");
        if matches!(cue, Cue::Try(_)) {
            break;
        }
        shop.ok("next");
    }
    // Not yet: a check that fails draws nothing.
    let early = shop.ok("check");
    assert!(!early.parts().iter().any(|p| matches!(p, Outcome::Picture(_))), "{early:?}");
    // The goal is looked at after each command: the produce's answer announces it, or else
    // `check` does.
    let mut checked = shop.ok("produce orders '{\"order\": {n}}' --count 3");
    if shop.session().lesson_cue().is_some_and(|(_, cue)| matches!(cue, Cue::Try(_))) {
        checked = shop.ok("check");
    }
    let parts = checked.parts();
    let reached = parts.iter().position(|p| matches!(p, Outcome::Done(d) if d.starts_with("goal reached"))).expect("goal reached");
    let drawn = parts.iter().position(|p| matches!(p, Outcome::Picture(_))).unwrap_or_else(|| panic!("no picture: {checked:?}"));
    assert!(drawn > reached, "{checked:?}");
    let Outcome::Picture(picture) = parts[drawn] else { unreachable!() };
    assert_eq!(picture.topics.iter().map(|t| (t.name.as_str(), t.partitions[0].end)).collect::<Vec<_>>(), [("orders", 5)]);
}
