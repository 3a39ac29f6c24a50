//! The REPL at a real terminal (a pty from util-linux `script`): Ctrl-C cancels the running
//! command only, `watch` redraws in place until a key is pressed, nothing typed ahead is lost,
//! and a lesson's goal is announced above the prompt. Keys are typed into the pty, so the
//! terminal sends SIGINT for Ctrl-C as it would for a person.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::{temp_dir, BIN};

pub struct Terminal {
    child: std::process::Child,
    input: std::process::ChildStdin,
    output: Arc<Mutex<String>>,
    _home: tempfile::TempDir,
}

impl Terminal {
    pub fn start() -> Terminal {
        Terminal::start_with("")
    }

    /// The REPL with these extra arguments (no quoting: words split at spaces).
    pub fn start_with(args: &str) -> Terminal {
        let home = temp_dir("pty-home");
        let line = format!("{BIN} {args}");
        let mut child = Command::new("script")
            .args(["-qfec", line.trim(), "/dev/null"])
            .env("KAFKA_WORKSHOP_HOME", home.path())
            .env("NO_COLOR", "1")
            .env_remove("KAFKA_BOOTSTRAP_SERVERS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("util-linux `script` runs the REPL in a pty");
        let input = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        Terminal { child, input, output, _home: home }
    }

    pub fn type_keys(&mut self, keys: &str) {
        self.input.write_all(keys.as_bytes()).unwrap();
        self.input.flush().unwrap();
    }

    /// Wait (bounded) until `text` has appeared `times` times in the output.
    pub fn wait_for(&self, text: &str, times: usize, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let seen = self.output.lock().unwrap().matches(text).count();
            if seen >= times {
                return;
            }
            assert!(Instant::now() < deadline, "no {text:?} (x{times}) within {limit:?}; output:\n{}", self.output.lock().unwrap());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn ctrl_c_cancels_a_long_produce_and_a_poll_but_not_the_repl() {
    let mut term = Terminal::start();
    term.wait_for("kafka ›", 1, Duration::from_secs(30));
    term.type_keys("create-topic t\r");
    term.wait_for("created topic 't'", 1, Duration::from_secs(30));
    term.type_keys("produce t x --count 10000000\r");
    term.wait_for("producing", 1, Duration::from_secs(30));
    term.type_keys("\x03");
    term.wait_for("error: cancelled", 1, Duration::from_secs(10));
    term.type_keys("start-consumer c --group g --topic t\r");
    term.wait_for("started consumer 'c'", 1, Duration::from_secs(30));
    term.type_keys("poll c 5 --wait 10m\r");
    // A long wait shows that it is waiting: Ctrl-C goes in once it does.
    term.wait_for("waiting up to 10m", 1, Duration::from_secs(30));
    term.type_keys("\x03");
    term.wait_for("error: cancelled", 2, Duration::from_secs(10));
    // The REPL is still there and the topic holds what was sent before the cancel.
    term.type_keys("topics\r");
    term.wait_for("MESSAGES", 1, Duration::from_secs(30));
    term.type_keys("quit\r");
    let deadline = Instant::now() + Duration::from_secs(30);
    while term.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "quit did not end the REPL");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn watch_redraws_the_picture_as_messages_arrive_until_a_key_is_pressed() {
    let mut term = Terminal::start();
    term.wait_for("kafka ›", 1, Duration::from_secs(30));
    term.type_keys("create-topic t\r");
    term.wait_for("created topic 't'", 1, Duration::from_secs(30));
    term.type_keys("start-producer p --topic t --every 100ms --key k\r");
    term.wait_for("started producer 'p'", 1, Duration::from_secs(30));
    term.type_keys("watch t\r");
    // Frames follow one another as the producer sends: the log's end moves on.
    term.wait_for("press any key to go back to the prompt", 5, Duration::from_secs(30));
    let ends = |text: &str| -> Vec<u64> {
        text.split(" end ").skip(1).filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()).collect()
    };
    let seen = ends(&term.output.lock().unwrap());
    assert!(seen.windows(2).any(|w| w[1] > w[0]), "the end offset never moved: {seen:?}");
    // A key closes it, and what is typed straight after it is not lost with the live view.
    term.type_keys("qstop-producer p\rprod");
    term.wait_for("\u{1b}[?1049l", 1, Duration::from_secs(10));
    term.wait_for("stopped producer 'p'", 1, Duration::from_secs(30));
    // The unfinished line is still being typed at the prompt.
    term.type_keys("ucers\r");
    term.wait_for("│ p ", 1, Duration::from_secs(30));
}

#[test]
fn lines_typed_while_a_command_runs_run_afterwards_in_order() {
    let mut term = Terminal::start();
    term.wait_for("kafka ›", 1, Duration::from_secs(30));
    term.type_keys("create-topic t\r");
    term.wait_for("created topic 't'", 1, Duration::from_secs(30));
    term.type_keys("start-consumer c --group g --topic t\r");
    term.wait_for("started consumer 'c'", 1, Duration::from_secs(30));
    term.type_keys("poll c 1 --wait 3s\r");
    term.wait_for("waiting up to 3s", 1, Duration::from_secs(30));
    // Typed while `poll` waits: three lines, the last of them about the first two.
    term.type_keys("create-topic one\rcreate-topic two\rtopics\r");
    term.wait_for("created topic 'one'", 1, Duration::from_secs(30));
    term.wait_for("created topic 'two'", 1, Duration::from_secs(30));
    term.wait_for("│ two ", 1, Duration::from_secs(30));
    let output = term.output.lock().unwrap().clone();
    let (one, two, table) = (output.find("created topic 'one'"), output.find("created topic 'two'"), output.find("│ two "));
    assert!(one < two && two < table, "in the order typed:\n{output}");
    assert!(output.find("no messages") < one, "after the poll:\n{output}");
}

#[test]
fn a_goal_reached_while_the_learner_is_at_the_prompt_is_announced_above_it() {
    let lessons = temp_dir("pty-lessons");
    std::fs::write(lessons.path().join("01-newcomer.md"), crate::tutor::NEWCOMER).unwrap();
    let mut term = Terminal::start_with(&format!("--lessons {}", lessons.path().display()));
    term.wait_for("kafka ›", 1, Duration::from_secs(30));
    term.wait_for("new here? type `lesson 1` to start the course", 1, Duration::from_secs(5));
    term.type_keys("lesson 1\r");
    term.wait_for("lesson 1 · step 1/3 ›", 1, Duration::from_secs(30));
    term.type_keys("\r");
    term.wait_for("your turn", 1, Duration::from_secs(30));
    term.type_keys("start-consumer b --group g --topic j\r");
    term.wait_for("started consumer 'b'", 1, Duration::from_secs(30));
    // The rebalance ends after the command has answered and the prompt is back: the watch
    // announces it above the prompt, and the prompt says the new step.
    term.wait_for("goal reached: Start consumer b in group g, reading j.", 1, Duration::from_secs(30));
    term.wait_for("lesson 1 · step 3/3 ›", 1, Duration::from_secs(10));
    let output = term.output.lock().unwrap().clone();
    let answered = output.find("started consumer 'b'").unwrap();
    let prompt_back = answered + output[answered..].find("lesson 1 · step 2/3 ›").expect("the prompt came back first");
    assert!(prompt_back < output.find("goal reached").unwrap(), "announced after the prompt was back:\n{output}");
    assert!(!output.contains("not yet"), "nothing unasked:\n{output}");
}
