//! The lesson engine: checking lesson files, replaying every lesson through the real binary
//! against its own embedded broker, pauses checked by state, progress, recordings.

use std::path::PathBuf;
use std::time::Duration;

use kafka_workshop::outcome::Outcome;
use kafka_workshop::session::ConnectOptions;
use kafka_workshop::view::View;

use crate::harness::{command, run_command, run_with, says, table, temp_dir, Run, Workshop};

fn lesson_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("lessons");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md") && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    files
}

fn demo_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("lessons/demos");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

const LESSONS: [&str; 4] = ["LESSON", "TITLE", "STATUS", "MINUTES"];

#[test]
fn every_lesson_file_passes_lessons_check() {
    let out = run_with(&["lessons", "check", concat!(env!("CARGO_MANIFEST_DIR"), "/lessons")], "", Duration::from_secs(30));
    out.assert_ok();
    let said = format!("ok: {} lesson file(s) and {} demo(s) checked, no problems", lesson_files().len(), demo_files().len());
    assert!(out.stdout.contains(&said), "{}", out.stdout);
}

#[test]
fn lessons_check_names_file_and_line_of_each_problem() {
    let dir = temp_dir("bad-lessons");
    let file = dir.path().join("01-bad.md");
    let lesson = "---\nnumber: 1\ntitle: Bad\n---\n\nText.\n\n```kafka\ncreate-topic t\nprodcue t x\n```\n\n```try\ngoal: g\nexpect group g members lots\nsolution: topics\n```\n";
    std::fs::write(&file, lesson).unwrap();
    // A file that is not UTF-8, a lesson whose last block is never closed, and a second
    // lesson 1: each is its own problem, and none stops the others being checked.
    std::fs::write(dir.path().join("02-latin1.md"), b"---\nnumber: 2\ntitle: Caf\xe9\n---\n").unwrap();
    let open = "---\nnumber: 3\ntitle: Open\n---\n\nText.\n\n```kafka\ntopics\n";
    std::fs::write(dir.path().join("03-open.md"), open).unwrap();
    std::fs::write(dir.path().join("04-again.md"), "---\nnumber: 1\ntitle: Again\n---\n\n```kafka\ntopics\n```\n").unwrap();
    // A FIFO named like a lesson is not opened (opening it would wait for a writer for ever).
    let fifo = dir.path().join("05-fifo.md");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let out = run_with(&["lessons", "check", dir.path().to_str().unwrap()], "", Duration::from_secs(30));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let name = file.display().to_string();
    let at = |file: &str, line: usize, what: &str| format!("{}:{line}: {what}", dir.path().join(file).display());
    for wanted in [
        format!("{name}:13: this try block has no hint: line"),
        format!("{name}:10: `prodcue t x`: unknown command 'prodcue'"),
        // Reported at its own line, not the block's, and although the block has no hint.
        format!("{name}:15: `expect group g members lots`: expected a whole number, got 'lots'"),
        at("02-latin1.md", 1, "not UTF-8 text (line 3"),
        at("03-open.md", 8, "this ```kafka block is never closed"),
        at("04-again.md", 1, "lesson number 1 is also used by"),
        at("05-fifo.md", 1, "not a regular file"),
    ] {
        assert!(out.stderr.contains(&wanted), "missing {wanted}\n{}", out.stderr);
    }
    assert!(!out.stderr.contains("panicked"));
}

#[test]
fn a_lessons_folder_with_one_bad_file_still_opens_the_others() {
    let dir = temp_dir("some-bad");
    std::fs::write(dir.path().join("01-good.md"), "---\nnumber: 1\ntitle: Good\n---\n\n```kafka\ntopics\n```\n").unwrap();
    std::fs::write(dir.path().join("02-bad.md"), "---\nnumber: 2\n---\n\nno title, no block\n").unwrap();
    std::fs::write(dir.path().join("03-twin.md"), "---\nnumber: 1\ntitle: Twin\n---\n\n```kafka\ntopics\n```\n").unwrap();
    let out = run_with(&["--lessons", dir.path().to_str().unwrap()], "lessons\nlesson 1\n", Duration::from_secs(60));
    out.assert_ok();
    assert!(out.stdout.contains("2 lesson file(s) left out for problems"), "{}", out.stdout);
    let listed = out.table(&["LESSON", "TITLE", "STATUS", "MINUTES"]);
    assert_eq!(listed.len(), 1, "only the good lesson, and the twin left out: {listed:?}");
    assert_eq!(listed[0][1], "Good");
}

/// Every lesson (18 of them) and every demo, in order.
pub fn curriculum() -> Vec<PathBuf> {
    let mut files = lesson_files();
    assert_eq!(files.len(), 18);
    files.extend(demo_files());
    files
}

/// Replay each file with `--no-pause --check` through the real binary, a few at a time:
/// 25 at once beside the other tests starved a 2-core machine until a consumer's rejoin took
/// longer than a demo's 20 s deadline. `command` makes the command line for the n-th file.
pub fn replay_each(files: Vec<PathBuf>, workers: usize, command: impl Fn(&str, usize) -> std::process::Command + Sync) -> Vec<(String, Run)> {
    let queue = std::sync::Mutex::new(files.into_iter().enumerate().collect::<Vec<_>>());
    let (queue, command) = (&queue, &command);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        // The lock is let go before the replay runs, so the workers run side by side.
                        let next = queue.lock().unwrap().pop();
                        let Some((n, file)) = next else { break };
                        let path = file.to_str().unwrap().to_string();
                        let mut replay = command(&path, n);
                        replay.args(["replay", &path, "--no-pause", "--check", "--speed", "max"]);
                        done.push((path, run_command(replay, "", Duration::from_secs(900))));
                    }
                    done
                })
            })
            .collect();
        workers.into_iter().flat_map(|worker| worker.join().unwrap()).collect()
    })
}

/// What every replay of the curriculum must show, on any broker.
pub fn assert_replayed(path: &str, out: &Run) {
    assert_eq!(out.code, 0, "{path} failed its replay\nstdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    if !path.contains("/demos/") {
        assert!(out.stdout.contains("Recap"), "{path}: no recap\n{}", out.stdout);
        // Every lesson has a task that holds on every broker, and every task has wrong ways,
        // each replayed on a fresh learner and shown not to reach the goal.
        assert!(out.stdout.contains("does not reach the goal"), "{path}: no wrong way was replayed\n{}", out.stdout);
    }
    // The lessons that draw the picture where their ideas land: each task's `show:` is drawn
    // once its goal is reached (the three-broker tasks of lesson 11 are checked on three).
    let pictured = ["/01-", "/03-", "/05-", "/06-", "/07-", "/10-", "/14-"];
    if pictured.iter().any(|p| path.contains(p)) {
        let text = std::fs::read_to_string(path).unwrap();
        let shows: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("show: ")).collect();
        assert!(!shows.is_empty(), "{path}: no task draws the picture");
        let lines: Vec<&str> = out.stdout.lines().collect();
        let drawn = lines
            .windows(4)
            .filter(|w| w[0].starts_with("kafka › show ") && w[1..].iter().any(|l| l.contains("one cell per offset")))
            .count();
        assert!(drawn >= shows.len(), "{path}: {drawn} pictures drawn for {} tasks that show one\n{}", shows.len(), out.stdout);
    }
    // Lesson 10's compaction try passes only once the cleaner has removed a superseded price
    // from inside the log (not the log's start moving, which retention does).
    if path.ends_with("10-retention-and-compaction.md") {
        assert!(out.stdout.contains("is gone: the broker removed it from inside the log"), "{path}: no compaction\n{}", out.stdout);
    }
}

#[test]
fn every_lesson_and_demo_replays_with_its_checks_passing() {
    let homes: Vec<_> = (0..curriculum().len()).map(|_| temp_dir("home")).collect();
    let replays = replay_each(curriculum(), 3, |_, n| command(homes[n].path()));
    for (path, out) in &replays {
        assert_replayed(path, out);
    }
}

#[test]
fn a_pause_is_satisfied_by_any_command_that_changes_the_state() {
    let mut shop = Workshop::start();
    shop.script("lesson 1\nnext\nnext");
    // One more message is not enough: the lesson stays paused, and says nothing unasked.
    let quiet = shop.ok("produce orders 'not the solution'");
    assert!(!View::plain().render(&quiet).contains("not yet") && !View::plain().render(&quiet).contains("hint"), "{quiet:?}");
    // `check` says why; `hint` gives a hint.
    let not_yet = shop.ok("check");
    assert!(says(&not_yet, "not yet: expected partition orders[0] to end at offset 5, found 3"), "{not_yet:?}");
    assert!(says(&shop.ok("hint"), "hint: `produce` sends one message"));
    // The second one reaches the goal although it is not the solution's command.
    let reached = shop.ok("produce orders 'nor this' --count 2");
    assert!(says(&reached, "goal reached: The lunchtime rush starts."), "{reached:?}");
    assert!(shop.session().prompt().starts_with("lesson 1 · step 4/"), "{}", shop.session().prompt());
}

#[test]
fn progress_survives_a_restart_and_a_damaged_file() {
    let home = temp_dir("progress-home");
    let options = || ConnectOptions { home: Some(home.path().to_path_buf()), ..ConnectOptions::default() };
    Workshop::with(options()).script("lesson 5\nnext");
    let mut second = Workshop::with(options());
    let listed = second.ok("lessons");
    let five = table(&listed, &LESSONS).rows.iter().find(|r| r[0] == "5").cloned().unwrap();
    assert!(five[2].starts_with("in progress (step 2/"), "{five:?}");
    assert!(says(&second.ok("lesson 5"), "(resuming at step 2)"));
    drop(second);

    std::fs::write(home.path().join("progress.json"), "{ this is not json").unwrap();
    let mut third = Workshop::with(options());
    let listed = third.ok("lessons");
    assert!(says(&listed, "is damaged"), "{listed:?}");
    assert!(table(&listed, &LESSONS).rows.iter().all(|r| r[2] == "not started"));
}

#[test]
fn a_recording_replays() {
    let dir = temp_dir("record");
    let file = dir.path().join("demo.md");
    let file = file.to_str().unwrap();
    let mut shop = Workshop::start();
    shop.script(&format!(
        "record {file}\ncreate-topic rec --partitions 2\nhelp\nproduce rec hello --partition 1\nexpect partition rec[1] end-offset 1\nrecord stop"
    ));
    let written = std::fs::read_to_string(file).unwrap();
    assert!(
        written.contains("```kafka\ncreate-topic rec --partitions 2\nproduce rec hello --partition 1\nexpect partition rec[1] end-offset 1\n```"),
        "{written}"
    );
    assert!(!written.contains("help"), "tool commands are not recorded");
    let replayed = run_with(&["replay", file, "--no-pause", "--check", "--speed", "max"], "", Duration::from_secs(60));
    replayed.assert_ok();
    assert!(replayed.stdout.contains("ok: partition rec[1] ends at offset 1"), "{}", replayed.stdout);
}

#[test]
fn every_lesson_exists_in_order_and_names_its_number() {
    let mut shop = Workshop::start();
    let listed = shop.ok("lessons");
    let numbers: Vec<String> = (1..=18).map(|n| n.to_string()).collect();
    assert_eq!(table(&listed, &LESSONS).column("LESSON"), numbers);
    for file in lesson_files() {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let prefix: u32 = name.split('-').next().unwrap().parse().unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(&format!("\nnumber: {prefix}\n")), "{name} does not say it is lesson {prefix}");
        assert!(text.contains("## Recap"), "{name} has no recap");
        assert!(text.contains("```try"), "{name} has no pause for the learner");
    }
}

#[test]
fn compaction_really_happens_on_sqlite_storage() {
    let data = temp_dir("compaction");
    let out = run_with(
        &["replay", "10", "--no-pause", "--check", "--speed", "max", "--data", data.path().to_str().unwrap()],
        "",
        Duration::from_secs(600),
    );
    out.assert_ok();
    assert_replayed("lessons/10-retention-and-compaction.md", &out);
    assert!(!out.stdout.contains("this cluster cannot do that"), "{}", out.stdout);
}

#[test]
fn the_prompt_and_a_replay_step_through_a_lesson_the_same_way() {
    // At the prompt: `next` runs a kafka step's commands, shown as typed, and moves on.
    let mut shop = Workshop::start();
    shop.ok("lesson 1");
    let ran = shop.ok("next");
    let typed: Vec<&Outcome> = ran.parts().into_iter().filter(|p| matches!(p, Outcome::Typed(_))).collect();
    assert!(!typed.is_empty(), "{ran:?}");
    // A replay of the same lesson types the same commands, in the same order.
    let out = run_with(&["replay", "1", "--no-pause", "--speed", "max"], "", Duration::from_secs(60));
    out.assert_ok();
    let replayed: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("kafka › ")).collect();
    for (part, line) in typed.iter().zip(&replayed) {
        let Outcome::Typed(command) = part else { unreachable!() };
        assert_eq!(format!("kafka › {command}"), *line);
    }
}

/// `replay --check` refuses a try whose goal already holds before its solution runs: a
/// learner would pass it by doing nothing. The fault names the file and the try's line.
#[test]
fn a_try_that_passes_without_the_learner_fails_its_replay_check() {
    let dir = temp_dir("idle-try");
    let file = dir.path().join("idle.md");
    let lesson = "# Nothing to do\n\n```kafka\ncreate-topic done --partitions 2\n```\n\n\
                  ```try\ngoal: Create a topic `done` with two partitions.\nexpect topic done partitions 2\n\
                  hint: create-topic\nsolution: create-topic done --partitions 2\n```\n\n\
                  ```try\ngoal: Create a topic `fresh`.\nexpect topic fresh partitions 1\nhint: create-topic\n\
                  solution: create-topic fresh\n```\n";
    std::fs::write(&file, lesson).unwrap();
    let file = file.to_str().unwrap();
    let out = run_with(&["replay", file, "--no-pause", "--check", "--speed", "max"], "", Duration::from_secs(60));
    assert_ne!(out.code, 0, "{}", out.stdout);
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(said.contains(&format!("{file}:7: the task's goal already holds before the learner acts")), "{said}");
    assert!(said.contains("topic done has 2 partitions"), "says what already holds: {said}");
    assert!(!said.contains("created topic 'fresh'"), "the replay stops at the fault: {said}");

    // The same try after a step that does not already do the work passes.
    std::fs::write(dir.path().join("idle.md"), lesson.replace("```kafka\ncreate-topic done --partitions 2\n```", "```kafka\ntopics\n```")).unwrap();
    let fixed = run_with(&["replay", file, "--no-pause", "--check", "--speed", "max"], "", Duration::from_secs(60));
    fixed.assert_ok();
}

/// `replay --check` plays every wrong way of a task on a fresh learner: one that reaches the
/// goal fails the replay, naming its file and line, and one that does not is said to miss it.
#[test]
fn a_wrong_way_that_reaches_the_goal_fails_the_replay_check() {
    let dir = temp_dir("wrong-ways");
    let file = dir.path().join("wrong.md");
    let lesson = "# Keys\n\n```kafka\ncreate-topic keyed --partitions 3\n```\n\n\
                  ```try\ngoal: Send one order keyed `till-2`.\nexpect partition keyed[2] end-offset 1\n\
                  hint: --key\nsolution: produce keyed x --key till-2\nwrong: produce keyed x --partition 2\n```\n";
    std::fs::write(&file, lesson).unwrap();
    let path = file.to_str().unwrap();
    let out = run_with(&["replay", path, "--no-pause", "--check", "--speed", "max"], "", Duration::from_secs(90));
    assert_ne!(out.code, 0, "{}", out.stdout);
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(
        said.contains(&format!("{path}:12: the wrong way `produce keyed x --partition 2` reaches the goal")),
        "the unkeyed send lands where the key would, so the try cannot tell: {said}"
    );

    // With the key checked, the same wrong way misses the goal and the replay passes.
    std::fs::write(&file, lesson.replace("end-offset 1\n", "end-offset 1\nexpect message keyed[2] 0 key till-2\n")).unwrap();
    let fixed = run_with(&["replay", path, "--no-pause", "--check", "--speed", "max"], "", Duration::from_secs(90));
    fixed.assert_ok();
    assert!(
        fixed.stdout.contains(&format!(
            "wrong way at {path}:13 (`produce keyed x --partition 2`) does not reach the goal: expected the message at keyed[2] offset 0 to have the key till-2, found (null)"
        )),
        "{}",
        fixed.stdout
    );
}

/// `lessons check --replay` replays every file of a folder with its checks and wrong ways, and
/// names each that fails.
#[test]
fn lessons_check_replays_every_lesson_with_its_wrong_ways() {
    let dir = temp_dir("check-replay");
    let good = "---\nnumber: 1\ntitle: Keys\n---\n\n```kafka\ncreate-topic keyed --partitions 3\n```\n\n\
                ```try\ngoal: Send one order keyed `till-2`.\nexpect partition keyed[2] keyed till-2\n\
                hint: --key\nsolution: produce keyed x --key till-2\nwrong: produce keyed x --partition 2\n```\n\n## Recap\n\nKeys.\n";
    std::fs::write(dir.path().join("01-keys.md"), good).unwrap();
    let path = dir.path().to_str().unwrap();
    let out = run_with(&["lessons", "check", path, "--replay"], "", Duration::from_secs(120));
    out.assert_ok();
    assert!(out.stdout.contains("1 lesson(s) and demo(s) replayed: every solution passed, every wrong way failed"), "{}", out.stdout);
    assert!(out.stdout.contains("(`produce keyed x --partition 2`) does not reach the goal"), "{}", out.stdout);

    std::fs::write(dir.path().join("01-keys.md"), good.replace("keyed till-2\n", "end-offset 1\n")).unwrap();
    let out = run_with(&["lessons", "check", path, "--replay"], "", Duration::from_secs(120));
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("the wrong way `produce keyed x --partition 2` reaches the goal"), "{}", out.stderr);
    assert!(out.stderr.contains("1 of 1 failed their replay"), "{}", out.stderr);
}

/// Under the banner: a newcomer is told where the course starts; a returning learner, where
/// they left off, and then which lesson is next.
#[test]
fn the_first_words_point_a_newcomer_and_a_returning_learner_somewhere() {
    let home = temp_dir("returning");
    let options = || ConnectOptions { home: Some(home.path().to_path_buf()), ..ConnectOptions::default() };
    let mut first = Workshop::with(options());
    let begin = first.session().where_to_begin().unwrap();
    assert!(begin.contains("type `lesson 1` to start the course"), "{begin}");
    first.script("lesson 2\nnext");
    drop(first);

    let mut second = Workshop::with(options());
    let begin = second.session().where_to_begin().unwrap();
    assert!(begin.contains("`lesson 2` continues \"Topics and partitions\" at step 2/"), "{begin}");
    second.ok("lesson 2");
    for _ in 0..50 {
        if !second.session().in_lesson() {
            break;
        }
        second.ok("skip");
    }
    assert!(!second.session().in_lesson(), "lesson 2 finished");
    // Skipping its tasks is not doing them: `lessons` says so, naming the steps.
    let listed = second.ok("lessons");
    let two = table(&listed, &LESSONS).rows.iter().find(|r| r[0] == "2").cloned().unwrap();
    assert!(two[2].starts_with("finished, 2 task(s) skipped (step "), "{two:?}");
    let begin = second.session().where_to_begin().unwrap();
    assert!(begin.contains("`lesson 1` is next"), "lesson 1 was never opened, so it is next: {begin}");
}
