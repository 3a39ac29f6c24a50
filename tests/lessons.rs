//! The lesson engine through the real binary: checking lesson files, replaying every lesson
//! against its own embedded broker, pauses checked by state, progress, recordings.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{command, run_command, run_with, temp_dir};

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

#[test]
fn every_lesson_file_passes_lessons_check() {
    let out = run_with(&["lessons", "check", concat!(env!("CARGO_MANIFEST_DIR"), "/lessons")], "", Duration::from_secs(30));
    out.assert_ok();
    assert!(out.stdout.contains(&format!("ok: {} lesson file(s) and {} demo(s) checked, no problems", lesson_files().len(), demo_files().len())), "{}", out.stdout);
}

#[test]
fn lessons_check_names_file_and_line_of_each_problem() {
    let dir = temp_dir("bad-lessons");
    std::fs::write(
        dir.join("01-bad.md"),
        "---\nnumber: 1\ntitle: Bad\n---\n\nText.\n\n```kafka\ncreate-topic t\nprodcue t x\n```\n\n```try\ngoal: g\nexpect group g members lots\nsolution: topics\n```\n",
    )
    .unwrap();
    let out = run_with(&["lessons", "check", dir.to_str().unwrap()], "", Duration::from_secs(30));
    assert_eq!(out.code, 1);
    let file = dir.join("01-bad.md").display().to_string();
    assert!(out.stderr.contains(&format!("{file}:13: this try block has no hint: line")), "{}", out.stderr);
    let out = run_with(&["lessons", "check", dir.to_str().unwrap()], "", Duration::from_secs(30));
    assert!(!out.stderr.contains("panicked"));
    // With the hint fixed, the command and the check are what is wrong.
    std::fs::write(
        dir.join("01-bad.md"),
        "---\nnumber: 1\ntitle: Bad\n---\n\nText.\n\n```kafka\ncreate-topic t\nprodcue t x\n```\n\n```try\ngoal: g\nexpect group g members lots\nhint: h\nsolution: topics\n```\n",
    )
    .unwrap();
    let out = run_with(&["lessons", "check", dir.to_str().unwrap()], "", Duration::from_secs(30));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains(&format!("{file}:10: `prodcue t x`: unknown command 'prodcue'")), "{}", out.stderr);
    assert!(out.stderr.contains(&format!("{file}:13: `expect group g members lots`: expected a whole number, got 'lots'")), "{}", out.stderr);
}

fn demo_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("lessons/demos");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

#[test]
fn every_lesson_and_demo_replays_with_its_checks_passing() {
    let mut files = lesson_files();
    assert_eq!(files.len(), 12);
    files.extend(demo_files());
    let handles: Vec<_> = files
        .into_iter()
        .map(|file| {
            std::thread::spawn(move || {
                let path = file.to_str().unwrap().to_string();
                let out = run_with(&["replay", &path, "--no-pause", "--check", "--speed", "max"], "", Duration::from_secs(240));
                (path, out)
            })
        })
        .collect();
    for handle in handles {
        let (path, out) = handle.join().unwrap();
        assert_eq!(out.code, 0, "{path} failed its replay\nstdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
        if !path.contains("/demos/") {
            assert!(out.stdout.contains("Recap"), "{path}: no recap");
        }
        // Lesson 10 asks for persistent storage, so its replay sees compaction happen.
        if path.ends_with("10-retention-and-compaction.md") {
            assert!(out.stdout.contains("ok: partition prices[0] holds 2 message(s)"), "{path}: no compaction\n{}", out.stdout);
        }
    }
}

#[test]
fn a_pause_is_satisfied_by_any_command_that_changes_the_state() {
    let out = run_with(
        &[],
        "lesson 1\nnext\nnext\nproduce orders 'not the solution'\nproduce orders 'nor this' --count 2\nwhere\n",
        Duration::from_secs(60),
    );
    out.assert_ok();
    // One more message is not enough: the lesson stays paused and says why, with a hint.
    assert!(out.stdout.contains("not yet: expected partition orders[0] to end at offset 5, found 3"), "{}", out.stdout);
    assert!(out.stdout.contains("hint: `produce` sends one message"), "{}", out.stdout);
    // The second one reaches the goal although it is not the solution's command.
    assert!(out.stdout.contains("goal reached: The lunchtime rush starts."), "{}", out.stdout);
    assert!(out.stdout.contains("lesson 1 · step 4/"), "{}", out.stdout);
}

#[test]
fn progress_survives_a_restart_and_a_damaged_file() {
    let home = temp_dir("progress-home");
    let first = run_command(command(&home), "lesson 5\nnext\n", Duration::from_secs(60));
    first.assert_ok();
    let second = run_command(command(&home), "lessons\nlesson 5\nwhere\n", Duration::from_secs(60));
    second.assert_ok();
    let table = second.table(&["LESSON", "TITLE", "STATUS", "MINUTES"]);
    let five = table.iter().find(|r| r[0] == "5").unwrap();
    assert!(five[2].starts_with("in progress (step 2/"), "{five:?}");
    assert!(second.stdout.contains("(resuming at step 2)"), "{}", second.stdout);

    std::fs::write(home.join("progress.json"), "{ this is not json").unwrap();
    let third = run_command(command(&home), "lessons\nlesson 1\n", Duration::from_secs(60));
    third.assert_ok();
    assert!(third.stdout.contains("is damaged"), "{}", third.stdout);
    let table = third.table(&["LESSON", "TITLE", "STATUS", "MINUTES"]);
    assert!(table.iter().all(|r| r[2] == "not started"), "{table:?}");
}

#[test]
fn a_recording_replays() {
    let dir = temp_dir("record");
    let file = dir.join("demo.md");
    let file = file.to_str().unwrap();
    let out = run_with(
        &[],
        &format!("record {file}\ncreate-topic rec --partitions 2\nhelp\nproduce rec hello --partition 1\nexpect partition rec[1] end-offset 1\nrecord stop\n"),
        Duration::from_secs(60),
    );
    out.assert_ok();
    let written = std::fs::read_to_string(file).unwrap();
    assert!(written.contains("```kafka\ncreate-topic rec --partitions 2\nproduce rec hello --partition 1\nexpect partition rec[1] end-offset 1\n```"), "{written}");
    assert!(!written.contains("help"), "tool commands are not recorded");
    let replayed = run_with(&["replay", file, "--no-pause", "--check", "--speed", "max"], "", Duration::from_secs(60));
    replayed.assert_ok();
    assert!(replayed.stdout.contains("ok: partition rec[1] ends at offset 1"), "{}", replayed.stdout);
}

#[test]
fn two_learners_on_one_broker_never_see_each_other() {
    let broker = common::BackgroundBroker::start(&[]);
    let lesson = concat!(env!("CARGO_MANIFEST_DIR"), "/lessons/01-events-and-the-log.md");
    let learners: Vec<_> = ["alice", "bob"]
        .into_iter()
        .map(|learner| {
            let bootstrap = broker.bootstrap.clone();
            std::thread::spawn(move || {
                run_with(
                    &["replay", lesson, "--no-pause", "--check", "--speed", "max", "--learner", learner, "--bootstrap-servers", &bootstrap],
                    "",
                    Duration::from_secs(120),
                )
            })
        })
        .collect();
    for handle in learners {
        let out = handle.join().unwrap();
        // If the learners shared `orders`, one of them would find seven messages, not five.
        out.assert_ok();
        assert!(!out.stdout.contains("alice.") && !out.stdout.contains("bob."), "short names only:\n{}", out.stdout);
    }
    let alice = run_with(
        &["--learner", "alice", "--bootstrap-servers", &broker.bootstrap],
        "topics\nread orders --max 1\nproduce orders extra\n",
        Duration::from_secs(60),
    );
    alice.assert_ok();
    let names: Vec<String> = alice.table(&["NAME", "PARTITIONS", "REPLICATION", "MESSAGES"]).iter().map(|r| r[0].clone()).collect();
    assert_eq!(names, ["orders", "payments"]);
    let everyone = run_with(&["--bootstrap-servers", &broker.bootstrap], "topics\n", Duration::from_secs(60));
    everyone.assert_ok();
    let all: Vec<(String, String)> = everyone
        .table(&["NAME", "PARTITIONS", "REPLICATION", "MESSAGES"])
        .iter()
        .map(|r| (r[0].clone(), r[3].clone()))
        .collect();
    assert_eq!(
        all,
        [
            ("alice.orders".to_string(), "6".to_string()),
            ("alice.payments".into(), "1".into()),
            ("bob.orders".into(), "5".into()),
            ("bob.payments".into(), "1".into())
        ]
    );
}

#[test]
fn all_twelve_lessons_exist_and_name_their_number() {
    let out = run_with(&[], "lessons\n", Duration::from_secs(60));
    out.assert_ok();
    let table = out.table(&["LESSON", "TITLE", "STATUS", "MINUTES"]);
    let numbers: Vec<&str> = table.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(numbers, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]);
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
        &["replay", "10", "--no-pause", "--check", "--speed", "max", "--data", data.to_str().unwrap()],
        "",
        Duration::from_secs(120),
    );
    out.assert_ok();
    assert!(out.stdout.contains("ok: partition prices[0] holds 2 message(s)"), "{}", out.stdout);
    assert!(!out.stdout.contains("this cluster cannot do that"), "{}", out.stdout);
}
