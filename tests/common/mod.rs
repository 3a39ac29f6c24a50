//! Drives the real `kafka-workshop` binary. Every run gets its own embedded broker (the binary
//! starts one on a free port) and its own data folder, so tests run in parallel.
#![allow(dead_code)]

pub mod tls;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_kafka-workshop");

/// What a finished run printed, and how it ended.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
    pub elapsed: Duration,
}

impl Run {
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    /// The rows of the first markdown table under the given header cells.
    pub fn table(&self, header: &[&str]) -> Vec<Vec<String>> {
        tables(&self.stdout)
            .into_iter()
            .find(|t| t.first().is_some_and(|h| h.iter().map(String::as_str).eq(header.iter().copied())))
            .map(|t| t[1..].to_vec())
            .unwrap_or_else(|| panic!("no table with header {header:?} in:\n{}", self.stdout))
    }

    /// All tables with that header, in order.
    pub fn tables_with(&self, header: &[&str]) -> Vec<Vec<Vec<String>>> {
        tables(&self.stdout)
            .into_iter()
            .filter(|t| t.first().is_some_and(|h| h.iter().map(String::as_str).eq(header.iter().copied())))
            .map(|t| t[1..].to_vec())
            .collect()
    }
}

/// Markdown tables in text: each is a list of rows, the first being the header. A separator
/// line (`|---|`) marks the row above it as the header of a new table.
pub fn tables(text: &str) -> Vec<Vec<Vec<String>>> {
    let mut found = Vec::new();
    let mut current: Vec<Vec<String>> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("|-") || line.starts_with("| -") || line.starts_with("|:") {
            let header = current.pop();
            if !current.is_empty() {
                found.push(std::mem::take(&mut current));
            }
            current.extend(header);
        } else if line.starts_with('|') {
            let cells = line.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect();
            current.push(cells);
        } else if !current.is_empty() {
            found.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        found.push(current);
    }
    found
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("kw-test-{}-{name}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The binary with a private home so history and progress never touch the user's.
pub fn command(home: &Path) -> Command {
    let mut command = Command::new(BIN);
    command.env("KAFKA_WORKSHOP_HOME", home).env("NO_COLOR", "1").env_remove("KAFKA_BOOTSTRAP_SERVERS");
    command
}

/// Run the binary with `script` on stdin and the given arguments; kill it after `limit`.
pub fn run_with(args: &[&str], script: &str, limit: Duration) -> Run {
    let home = temp_dir("home");
    let mut command = command(&home);
    command.args(args);
    run_command(command, script, limit)
}

pub fn run_command(mut command: Command, script: &str, limit: Duration) -> Run {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kafka-workshop");
    let mut stdin = child.stdin.take().expect("stdin");
    let script = script.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(script.as_bytes());
    });
    let stdout = drain(child.stdout.take().expect("stdout"));
    let stderr = drain(child.stderr.take().expect("stderr"));
    let code = wait_with_deadline(&mut child, limit);
    let _ = writer.join();
    Run {
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        code,
        elapsed: started.elapsed(),
    }
}

/// Run a script against the binary's own embedded broker.
pub fn run(script: &str) -> Run {
    run_with(&[], script, Duration::from_secs(120))
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn wait_with_deadline(child: &mut Child, limit: Duration) -> i32 {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kafka-workshop did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A unique name for a topic or group in one test.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// `kafka-workshop broker` running in the background; killed when dropped.
pub struct BackgroundBroker {
    child: Child,
    pub bootstrap: String,
    /// Where it really listens (the advertised address may be a proxy in front of it).
    pub listening: String,
}

impl BackgroundBroker {
    /// Start `kafka-workshop broker --listen 127.0.0.1:0 EXTRA…` and wait (bounded) for its address.
    pub fn start(extra: &[&str]) -> BackgroundBroker {
        let home = temp_dir("broker-home");
        let mut command = command(&home);
        command.args(["broker", "--listen", "127.0.0.1:0"]).args(extra);
        let mut child =
            command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("spawn broker");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut reader = std::io::BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining so the broker never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).expect("the broker printed its address in time");
        let field = |after: &str, end: char| {
            line.split(after)
                .nth(1)
                .and_then(|rest| rest.split(end).next())
                .unwrap_or_else(|| panic!("no address in {line:?}"))
                .to_string()
        };
        let bootstrap = field("advertised as ", ')');
        let listening = field("listening on ", ' ');
        BackgroundBroker { child, bootstrap, listening }
    }
}

impl Drop for BackgroundBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
