//! Two ways to drive kafka-workshop in a test, each against its own embedded broker so tests run
//! in parallel:
//!
//! - `Workshop`: a session in this process, fed lines, answering with typed `Outcome`s. For the
//!   grammar, tables and checks.
//! - `run_with` and friends: the real binary through a pipe, for what the front end does (exit
//!   codes, errors on stderr, replays, the broker process).
//!
//! Every temporary folder is a `TempDir`, removed when the test is done with it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_workshop::error::{Error, Result};
use kafka_workshop::front::driver::Driver;
use kafka_workshop::outcome::{Event, Outcome, Table};
use kafka_workshop::report::Quiet;
use kafka_workshop::session::{ConnectOptions, Session};
use kafka_workshop::view::View;
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_kafka-workshop");

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty folder for one test, removed when dropped.
pub fn temp_dir(name: &str) -> TempDir {
    tempfile::Builder::new().prefix(&format!("kw-test-{name}-")).tempdir().expect("temp dir")
}

/// A unique name for a topic or group in one test.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// A session in this process with its own embedded broker (or the cluster `options` names) and
/// its own home folder.
pub struct Workshop {
    driver: Driver,
    pub home: TempDir,
}

impl Workshop {
    pub fn start() -> Workshop {
        Workshop::with(ConnectOptions::default())
    }

    /// A session with these options; its home is a fresh folder unless `options.home` says.
    pub fn with(mut options: ConnectOptions) -> Workshop {
        Workshop::try_with(&mut options).unwrap_or_else(|e| panic!("the session did not start: {e}"))
    }

    pub fn try_with(options: &mut ConnectOptions) -> Result<Workshop> {
        let home = temp_dir("home");
        options.home.get_or_insert_with(|| home.path().to_path_buf());
        Ok(Workshop { driver: Driver::connect(options, Arc::new(Quiet))?, home })
    }

    pub fn session(&mut self) -> &mut Session {
        self.driver.session().expect("a running session")
    }

    /// Run one line as a user would type it.
    pub fn run(&mut self, line: &str) -> Result<Outcome> {
        self.driver.run(line)
    }

    /// Run one line that must succeed, failing the test with what the user would see if not.
    pub fn ok(&mut self, line: &str) -> Outcome {
        match self.run(line) {
            Ok(outcome) => match outcome.failure() {
                None => outcome,
                Some(err) => panic!("`{line}` failed: {}\n{}", err, View::plain().render(&outcome)),
            },
            Err(err) => panic!("`{line}` failed: {}", View::plain().error(&err, None)),
        }
    }

    /// Run each line that must succeed; the outcomes in order.
    pub fn script(&mut self, lines: &str) -> Vec<Outcome> {
        lines.lines().map(str::trim).filter(|l| !l.is_empty()).map(|line| self.ok(line)).collect()
    }

    /// Run one line that must fail; the error.
    pub fn fails(&mut self, line: &str) -> Error {
        match self.run(line) {
            Ok(outcome) => match outcome.failure() {
                Some(err) => err.clone(),
                None => panic!("`{line}` should have failed, but said:\n{}", View::plain().render(&outcome)),
            },
            Err(err) => err,
        }
    }

    /// Everything the live actors reported since the last call.
    pub fn events(&mut self) -> Vec<Event> {
        self.driver.events()
    }

    /// What the lesson's goal watch announces next while nobody types, if anything within
    /// `limit`.
    pub fn announcement(&mut self, limit: Duration) -> Option<Outcome> {
        self.driver.announcement(limit)
    }
}

/// The table with exactly these columns in an outcome, or a failure showing what was there.
pub fn table<'a>(outcome: &'a Outcome, columns: &[&str]) -> &'a Table {
    outcome.table(columns).unwrap_or_else(|| panic!("no table {columns:?} in:\n{}", View::plain().render(outcome)))
}

/// Whether any line the outcome says contains `text`.
pub fn says(outcome: &Outcome, text: &str) -> bool {
    outcome.said().iter().any(|line| line.contains(text))
}

/// What a finished run of the binary printed, and how it ended.
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
        self.tables_with(header).into_iter().next().unwrap_or_else(|| panic!("no table with header {header:?} in:\n{}", self.stdout))
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
            current.push(line.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect());
        } else if !current.is_empty() {
            found.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        found.push(current);
    }
    found
}

/// The binary with a private home so history and progress never touch the user's.
pub fn command(home: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env("KAFKA_WORKSHOP_HOME", home)
        .env("NO_COLOR", "1")
        .env_remove("KAFKA_BOOTSTRAP_SERVERS")
        .env_remove("KAFKA_WORKSHOP_PROGRESS")
        .env_remove("KAFKA_WORKSHOP_LEARNER");
    command
}

/// Run the binary with `script` on stdin and the given arguments; kill it after `limit`.
pub fn run_with(args: &[&str], script: &str, limit: Duration) -> Run {
    let home = temp_dir("home");
    let mut command = command(home.path());
    command.args(args);
    run_command(command, script, limit)
}

/// Run a script against the binary's own embedded broker.
pub fn run(script: &str) -> Run {
    run_with(&[], script, Duration::from_secs(120))
}

pub fn run_command(mut command: Command, script: &str, limit: Duration) -> Run {
    let started = Instant::now();
    let mut child =
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn kafka-workshop");
    let mut stdin = child.stdin.take().expect("stdin");
    let script = script.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(script.as_bytes());
    });
    let stdout = drain(child.stdout.take().expect("stdout"));
    let stderr = drain(child.stderr.take().expect("stderr"));
    let code = wait_with_deadline(&mut child, limit);
    let _ = writer.join();
    Run { stdout: stdout.join().unwrap_or_default(), stderr: stderr.join().unwrap_or_default(), code, elapsed: started.elapsed() }
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

/// Wait (bounded) until `condition` holds, checking every 50 ms.
pub fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `kafka-workshop broker` running in the background; killed when dropped.
pub struct BackgroundBroker {
    child: Child,
    pub bootstrap: String,
    /// Where it really listens (the advertised address may be a proxy in front of it).
    pub listening: String,
    _home: TempDir,
}

impl BackgroundBroker {
    /// Start `kafka-workshop broker --listen 127.0.0.1:0 EXTRA…` and wait (bounded) for its address.
    pub fn start(extra: &[&str]) -> BackgroundBroker {
        let home = temp_dir("broker-home");
        let mut command = command(home.path());
        command.args(["broker", "--listen", "127.0.0.1:0"]).args(extra);
        let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("spawn broker");
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
        BackgroundBroker { child, bootstrap, listening, _home: home }
    }

    /// A client session in this process on this broker.
    pub fn client(&self, learner: Option<&str>) -> Workshop {
        Workshop::with(ConnectOptions {
            bootstrap_servers: Some(self.bootstrap.clone()),
            learner: learner.map(str::to_string),
            ..ConnectOptions::default()
        })
    }
}

impl Drop for BackgroundBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
