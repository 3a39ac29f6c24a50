//! The workshop room: learners on one shared broker publish their progress to
//! `workshop.progress`, the instructor reads it with `class`, talks to them with `announce`, and
//! cleans up with `class clean`. Each test has its own `kafka-workshop broker` process.

use std::io::BufRead;
use std::process::Stdio;
use std::time::Duration;

use kafka_workshop::outcome::{Event, Outcome};
use kafka_workshop::session::ConnectOptions;

use crate::harness::{command, run_with, says, table, temp_dir, wait_until, BackgroundBroker, Workshop};

pub const CLASS: [&str; 7] = ["LEARNER", "LESSON", "STEP", "STATUS", "HINTS", "FAILED-CHECKS", "LAST-SEEN"];
pub const PLAN: [&str; 4] = ["LEARNER", "KIND", "NAME", "NOTE"];

/// The class table's rows as (learner, lesson, step, status, hints, failed checks), or none yet.
pub fn class_rows(instructor: &mut Workshop) -> Vec<[String; 6]> {
    let outcome = instructor.ok("class");
    let Some(table) = outcome.table(&CLASS) else { return Vec::new() };
    table.rows.iter().map(|r| [r[0].clone(), r[1].clone(), r[2].clone(), r[3].clone(), r[4].clone(), r[5].clone()]).collect()
}

fn heard_announcement(learner: &mut Workshop, text: &str) -> bool {
    learner.events().iter().any(|e| matches!(e, Event::Announcement { text: said, .. } if said == text))
}

fn names(outcome: &Outcome, columns: &[&str]) -> Vec<String> {
    outcome.table(columns).map(|t| t.column(columns[0]).iter().map(|s| s.to_string()).collect()).unwrap_or_default()
}

#[test]
fn two_learners_and_an_instructor_share_one_room() {
    let broker = BackgroundBroker::start(&[]);
    let mut instructor = broker.client(None);
    let mut private = Workshop::with(ConnectOptions {
        bootstrap_servers: Some(broker.bootstrap.clone()),
        learner: Some("cat".into()),
        private: true,
        ..ConnectOptions::default()
    });
    private.ok("lesson 1");
    let mut amy = broker.client(Some("amy"));
    let mut bob = broker.client(Some("bob"));
    amy.ok("lesson 2");
    // Step 1 creates amy.till-orders; step 2 is a task.
    amy.ok("next");
    amy.ok("hint");
    let unmet = amy.ok("check");
    assert!(says(&unmet, "not yet"), "{unmet:?}");
    bob.ok("lesson 3");

    wait_until("class shows amy on lesson 2 step 2 and bob on lesson 3 step 1", Duration::from_secs(10), || {
        let rows = class_rows(&mut instructor);
        rows.len() == 2
            && rows.iter().any(|r| r[0] == "amy" && r[1] == "2 Topics and partitions" && r[2] == "2/5" && r[4] == "1" && r[5] == "1")
            && rows.iter().any(|r| r[0] == "bob" && r[1] == "3 Keys and partitioning" && r[2].starts_with("1/") && r[3] == "working")
    });
    let class = instructor.ok("class");
    assert!(says(&class, "2 learners · lesson 2: 1, lesson 3: 1 · 0 stuck, 2 working, 0 done"), "{class:?}");

    // One announcement reaches every learner, the private one too, above their prompt.
    let said = instructor.ok("announce break until 11:00");
    assert!(says(&said, "announced to the room"), "{said:?}");
    for (name, learner) in [("amy", &mut amy), ("bob", &mut bob), ("cat", &mut private)] {
        wait_until(&format!("{name} hears the announcement"), Duration::from_secs(5), || heard_announcement(learner, "break until 11:00"));
    }
    // Only the instructor talks to the room.
    assert!(amy.fails("announce hello").to_string().contains("instructor"));
    assert!(amy.fails("class clean").to_string().contains("instructor"));

    // What the learners made, and what is not theirs.
    bob.ok("create-topic menu");
    bob.ok("start-consumer c1 --group fryers --topic menu");
    bob.ok("expect consumer c1 assigned menu[0] --within 20s");
    bob.ok("stop-consumer c1");
    instructor.ok("create-topic menu");
    instructor.ok("create-topic amyx.notes");
    instructor.ok("start-consumer k --group kitchen --topic menu");
    instructor.ok("expect group kitchen members 1 --within 20s");

    let plan = instructor.ok("class clean");
    let rows = &table(&plan, &PLAN).rows;
    let planned: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str())).collect();
    assert_eq!(
        planned,
        [("amy", "topic", "amy.till-orders"), ("bob", "group", "bob.fryers"), ("bob", "topic", "bob.menu")],
        "the plan is exactly the learners' names"
    );
    assert!(names(&instructor.ok("topics"), &["NAME", "PARTITIONS", "REPLICATION", "MESSAGES"]).contains(&"bob.menu".to_string()));

    let cleaned = instructor.ok("class clean --execute");
    assert!(says(&cleaned, "deleted 3 of 3"), "{cleaned:?}");
    let topics = names(&instructor.ok("topics"), &["NAME", "PARTITIONS", "REPLICATION", "MESSAGES"]);
    assert_eq!(topics, ["amyx.notes", "menu"]);
    let everything = names(&instructor.ok("topics --all"), &["NAME", "PARTITIONS", "REPLICATION", "MESSAGES"]);
    assert_eq!(everything, ["amyx.notes", "menu", "workshop.announcements", "workshop.progress"]);
    let groups = instructor.ok("groups");
    let group_names: Vec<String> = groups.parts().iter().filter_map(|p| match p {
        Outcome::Table(t) if t.columns.first().is_some_and(|c| c == "GROUP") => Some(t.column("GROUP").iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        _ => None,
    }).flatten().collect();
    assert!(group_names.contains(&"kitchen".to_string()) && !group_names.contains(&"bob.fryers".to_string()), "{group_names:?}");
    assert!(says(&instructor.ok("class clean"), "nothing to clean"));
}

#[test]
fn a_learner_whose_progress_cannot_be_written_still_completes_the_lesson() {
    let data = temp_dir("room-refuses");
    let broker = BackgroundBroker::start(&["--data", &data.path().to_string_lossy()]);
    // The broker refuses every record of workshop.progress: its schema wants a field no
    // progress record has.
    let schemas = data.path().join("schemas");
    std::fs::create_dir_all(&schemas).unwrap();
    let refuse = r#"{"type": "object", "properties": {"value": {"type": "object", "required": ["never-sent"]}}}"#;
    std::fs::write(schemas.join("workshop.progress.json"), refuse).unwrap();

    let run = run_with(
        &["replay", "2", "--no-pause", "--check", "--speed", "max", "-b", &broker.bootstrap, "--learner", "zed"],
        "",
        Duration::from_secs(120),
    );
    let said = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(run.code, 0, "the lesson did not complete:\n{said}");
    assert_eq!(said.matches("cannot publish your progress").count(), 1, "said once:\n{said}");
    let mut instructor = broker.client(None);
    assert!(class_rows(&mut instructor).is_empty(), "nothing of zed's was stored");
}

#[test]
fn the_broker_prints_the_line_learners_join_with() {
    let home = temp_dir("join-home");
    let mut broker = command(home.path())
        .args(["broker", "--listen", "127.0.0.1:0", "--advertise", "room.example:9092"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn broker");
    let stdout = broker.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    while !lines.iter().any(|l: &String| l.contains("class -b")) {
        lines.push(rx.recv_timeout(Duration::from_secs(30)).expect("the broker printed its join lines"));
    }
    let _ = broker.kill();
    let _ = broker.wait();
    assert!(lines.iter().any(|l| l.trim() == "kafka-workshop -b room.example:9092 --learner YOUR-NAME"), "{lines:?}");
    assert!(lines.iter().any(|l| l.trim() == "kafka-workshop class -b room.example:9092 --watch"), "{lines:?}");
}

#[test]
fn class_from_the_shell_and_a_reserved_learner_name() {
    let broker = BackgroundBroker::start(&[]);
    let run = run_with(&["class", "-b", &broker.bootstrap], "", Duration::from_secs(60));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("no learner has published progress"), "{}", run.stdout);
    // The instructor's first `class` set the room up.
    let mut instructor = broker.client(None);
    instructor.ok("expect topic workshop.progress config cleanup.policy compact --within 5s");
    instructor.ok("expect topic workshop.announcements partitions 1 --within 5s");
    let run = run_with(&["class"], "", Duration::from_secs(60));
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("add -b HOST:PORT"), "{}", run.stderr);
    let refused = run_with(&["-b", &broker.bootstrap, "--learner", "workshop"], "", Duration::from_secs(60));
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("cannot be a learner name"), "{}", refused.stderr);
}

#[test]
fn a_learner_whose_session_is_killed_shows_as_left_not_working() {
    let broker = BackgroundBroker::start(&[]);
    let mut instructor = broker.client(None);
    let home = temp_dir("killed-learner");
    let mut learner = command(home.path())
        .args(["-b", &broker.bootstrap, "--learner", "zed"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the learner's session");
    use std::io::Write;
    let mut typing = learner.stdin.take().expect("stdin");
    typing.write_all(b"lesson 1\n").unwrap();
    let status = |instructor: &mut Workshop| class_rows(instructor).into_iter().find(|r| r[0] == "zed").map(|r| r[3].clone());
    wait_until("the learner is working", Duration::from_secs(30), || status(&mut instructor).as_deref() == Some("working"));
    // A crash says no goodbye: the room notices that the session stopped saying it is alive.
    learner.kill().unwrap();
    let _ = learner.wait();
    let limit = kafka_workshop::room::GONE_AFTER + kafka_workshop::room::ALIVE_EVERY * 3;
    wait_until("the killed learner shows as left", limit, || status(&mut instructor).as_deref() == Some("left"));
    drop(typing);
}
