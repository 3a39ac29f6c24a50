//! Apache Kafka itself on this machine: KRaft nodes, each a combined broker and controller,
//! started from an unpacked release (its `libs/`) or any folder of its jars, with one cluster id
//! and a static quorum, on free loopback ports, in a temporary folder that goes with them.
//!
//! Like Kafka's own `KafkaClusterTestKit`, a caller asks for "3 nodes with these settings" and
//! never writes a config file: this module writes each node's `server.properties`, formats its
//! storage (`kafka-storage format`), starts it, and waits until every broker is in the
//! metadata and a controller is active.
//!
//! No Java process outlives kafka-workshop: each is started with `PR_SET_PDEATHSIG`, so the
//! kernel kills it when the process that started it dies, even by `kill -9`; the next start
//! removes the folders such a death left behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

mod jars;
mod settings;

pub use jars::{java, run_tool, tool_command, KafkaJars};

use crate::error::{Error, Result};
use crate::report::Reporter;

/// How long the nodes may take to form a cluster.
const READY_WITHIN: Duration = Duration::from_secs(120);
/// How long a clean stop may take before the node is killed.
const STOP_WITHIN: Duration = Duration::from_secs(30);
/// Where to download Apache Kafka, for the messages that say so.
pub const DOWNLOAD: &str = "https://kafka.apache.org/downloads";
/// The temporary folders' names start with this and the pid of the process that owns them.
const FOLDER_PREFIX: &str = "kafka-workshop-kafka-";

/// What to start.
#[derive(Debug, Clone)]
pub struct ApacheSpec {
    /// An unpacked Apache Kafka release, or a folder of its jars.
    pub home: PathBuf,
    /// How many nodes, each a broker and a controller (1 to 5).
    pub nodes: usize,
    /// Broker settings for every node, after the teaching settings, so they win.
    pub settings: Vec<(String, String)>,
    /// Listeners beyond the plain one clients bootstrap from: (name, security protocol), each
    /// on its own free port on every node.
    pub listeners: Vec<(String, String)>,
    /// SCRAM credentials written into the storage when it is formatted: (mechanism, user, password).
    pub scram: Vec<(String, String, String)>,
    /// Each node's Java heap.
    pub heap_mb: u32,
    /// Kafka's own defaults instead of the teaching settings, as a managed cluster runs: only
    /// what fewer than three nodes need to work at all (the internal topics' replication).
    pub kafka_defaults: bool,
}

impl ApacheSpec {
    pub fn new(home: impl Into<PathBuf>, nodes: usize) -> Self {
        ApacheSpec {
            home: home.into(),
            nodes,
            settings: Vec::new(),
            listeners: Vec::new(),
            scram: Vec::new(),
            heap_mb: 512,
            kafka_defaults: false,
        }
    }
}

/// One node: its id, its ports by listener name, its folder, and its process while it runs.
struct Node {
    id: i32,
    ports: BTreeMap<String, u16>,
    dir: PathBuf,
    process: Option<Child>,
    down_since: Option<Instant>,
}

impl Node {
    fn config(&self) -> PathBuf {
        self.dir.join("server.properties")
    }
}

/// What a caller may know of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    pub id: i32,
    /// host:port of its plain listener.
    pub address: String,
    pub up: bool,
    pub down_since: Option<Instant>,
}

/// Local Apache Kafka nodes, running until `shutdown` (or drop).
pub struct ApacheKafka {
    java: PathBuf,
    home: PathBuf,
    jars: KafkaJars,
    heap_mb: u32,
    nodes: Vec<Node>,
    /// Holds every node's folder; removed last.
    root: Option<tempfile::TempDir>,
    teaching: bool,
}

impl ApacheKafka {
    /// Write, format and start the nodes; return once every broker is in the metadata.
    pub async fn start(spec: &ApacheSpec, reporter: &dyn Reporter) -> Result<ApacheKafka> {
        if !(1..=5).contains(&spec.nodes) {
            return Err(Error::input(format!("a local Apache Kafka cluster has 1 to 5 nodes, not {}", spec.nodes)));
        }
        let java = java()?;
        let jars = KafkaJars::find(&spec.home)?;
        remove_abandoned_folders();
        let root = tempfile::Builder::new()
            .prefix(&format!("{FOLDER_PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(|e| Error::io("cannot make a folder for the Kafka nodes", e))?;
        let mut names: Vec<String> = vec!["PLAINTEXT".into(), "CONTROLLER".into()];
        names.extend(spec.listeners.iter().map(|(name, _)| name.clone()));
        let mut nodes = Vec::new();
        for id in 1..=spec.nodes {
            let dir = root.path().join(format!("node-{id}"));
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("cannot make {}", dir.display()), e))?;
            let ports = names.iter().map(|name| Ok((name.clone(), free_port()?))).collect::<Result<BTreeMap<_, _>>>()?;
            nodes.push(Node { id: i32::try_from(id).unwrap_or(1), ports, dir, process: None, down_since: None });
        }
        let voters: Vec<String> = nodes.iter().map(|n| format!("{}@127.0.0.1:{}", n.id, n.ports["CONTROLLER"])).collect();
        for node in &nodes {
            write_config(node, spec, &voters.join(","))?;
        }
        let mut kafka =
            ApacheKafka { java, home: spec.home.clone(), jars, heap_mb: spec.heap_mb, nodes, root: Some(root), teaching: !spec.kafka_defaults };
        let progress = reporter.progress(3, &format!("starting Apache Kafka {}", kafka.jars.version));
        kafka.format(&cluster_id(), &spec.scram)?;
        progress.advance(1);
        for index in 0..kafka.nodes.len() {
            kafka.launch(index)?;
        }
        progress.advance(1);
        let ready = kafka.wait_ready().await;
        progress.finish();
        ready?;
        Ok(kafka)
    }

    pub fn version(&self) -> &str {
        &self.jars.version
    }

    /// Whether the nodes run the teaching settings (not Kafka's own defaults).
    pub fn teaching(&self) -> bool {
        self.teaching
    }

    /// The folder the jars were found in.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Every node's plain listener, for `bootstrap.servers`.
    pub fn bootstrap(&self) -> String {
        self.nodes.iter().map(|n| format!("127.0.0.1:{}", n.ports["PLAINTEXT"])).collect::<Vec<_>>().join(",")
    }

    /// Every node's address on one of the extra listeners.
    pub fn listener(&self, name: &str) -> Option<String> {
        let found: Vec<String> = self.nodes.iter().filter_map(|n| n.ports.get(name).map(|p| format!("127.0.0.1:{p}"))).collect();
        (!found.is_empty()).then(|| found.join(","))
    }

    pub fn nodes(&mut self) -> Vec<NodeView> {
        self.nodes
            .iter_mut()
            .map(|node| {
                // A node that died by itself is down from when it was noticed.
                if node.process.as_mut().is_some_and(|p| p.try_wait().ok().flatten().is_some()) {
                    node.process = None;
                    node.down_since.get_or_insert_with(Instant::now);
                }
                NodeView {
                    id: node.id,
                    address: format!("127.0.0.1:{}", node.ports["PLAINTEXT"]),
                    up: node.process.is_some(),
                    down_since: node.down_since,
                }
            })
            .collect()
    }

    fn index(&self, id: i32) -> Result<usize> {
        self.nodes.iter().position(|n| n.id == id).ok_or_else(|| {
            let ids: Vec<String> = self.nodes.iter().map(|n| n.id.to_string()).collect();
            Error::input(format!("there is no broker {id}: the brokers are {}", ids.join(", ")))
        })
    }

    /// A clean shutdown, as `kafka-server-stop.sh` does: SIGTERM, and the broker hands its
    /// leaderships over before it exits.
    pub async fn stop(&mut self, id: i32) -> Result<()> {
        let index = self.index(id)?;
        let Some(mut process) = self.nodes[index].process.take() else {
            return Err(Error::input(format!("broker {id} is already down; `broker start {id}` brings it back")));
        };
        self.nodes[index].down_since = Some(Instant::now());
        signal(&process, libc::SIGTERM);
        tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + STOP_WITHIN;
            while Instant::now() < deadline {
                if process.try_wait().ok().flatten().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = process.kill();
            let _ = process.wait();
        })
        .await
        .map_err(|e| Error::broker(format!("stopping broker {id} did not finish: {e}")))
    }

    /// A crash: SIGKILL, no goodbye to the controller.
    pub fn kill(&mut self, id: i32) -> Result<()> {
        let index = self.index(id)?;
        let Some(mut process) = self.nodes[index].process.take() else {
            return Err(Error::input(format!("broker {id} is already down; `broker start {id}` brings it back")));
        };
        self.nodes[index].down_since = Some(Instant::now());
        let _ = process.kill();
        let _ = process.wait();
        Ok(())
    }

    /// Start a node that is down again, on the same ports and storage.
    pub fn start_node(&mut self, id: i32) -> Result<()> {
        let index = self.index(id)?;
        if self.nodes[index].process.is_some() {
            return Err(Error::input(format!("broker {id} is already running")));
        }
        self.launch(index)?;
        self.nodes[index].down_since = None;
        Ok(())
    }

    /// Stop every node cleanly (at once, in parallel), then remove their folders.
    pub async fn shutdown(mut self) {
        let mut stopping = Vec::new();
        for node in &mut self.nodes {
            if let Some(process) = node.process.take() {
                signal(&process, libc::SIGTERM);
                stopping.push(process);
            }
        }
        let _ = tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + STOP_WITHIN;
            for mut process in stopping {
                while Instant::now() < deadline && process.try_wait().ok().flatten().is_none() {
                    std::thread::sleep(Duration::from_millis(50));
                }
                let _ = process.kill();
                let _ = process.wait();
            }
        })
        .await;
        drop(self.root.take());
    }

    /// `kafka-storage format` for every node, in parallel: one cluster id, a static quorum.
    fn format(&self, cluster_id: &str, scram: &[(String, String, String)]) -> Result<()> {
        let mut running = Vec::new();
        for node in &self.nodes {
            let mut command = self.java_command("kafka.tools.StorageTool", 256);
            command.args(["format", "-t", cluster_id, "-c"]).arg(node.config());
            for (mechanism, user, password) in scram {
                command.arg("--add-scram").arg(format!("{mechanism}=[name={user},password={password}]"));
            }
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
            let child = launch(command).map_err(|e| Error::io("cannot run Java to format the Kafka storage", e))?;
            running.push((node.id, child));
        }
        for (id, child) in running {
            let output = child.wait_with_output().map_err(|e| Error::io("formatting the Kafka storage did not finish", e))?;
            if !output.status.success() {
                let said = format!("{}{}", String::from_utf8_lossy(&output.stderr), String::from_utf8_lossy(&output.stdout));
                let line = said.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no reason given").trim().to_string();
                return Err(Error::broker(format!("cannot format node {id}'s storage: {line}")));
            }
        }
        Ok(())
    }

    fn java_command(&self, main: &str, heap_mb: u32) -> Command {
        let mut command = Command::new(&self.java);
        command
            .arg(format!("-Xmx{heap_mb}m"))
            .arg(format!("-Xms{}m", heap_mb.min(256)))
            // A small cluster on a laptop: one GC thread, and no C2 compiler time at start.
            .args(["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"])
            .arg(format!("-Dlog4j2.configurationFile={}", self.root_path().join("log4j2.properties").display()))
            .arg("-cp")
            .arg(&self.jars.classpath)
            .arg(main)
            .stdin(Stdio::null());
        command
    }

    fn root_path(&self) -> PathBuf {
        self.root.as_ref().map(|r| r.path().to_path_buf()).unwrap_or_default()
    }

    fn launch(&mut self, index: usize) -> Result<()> {
        let root = self.root_path();
        if !root.join("log4j2.properties").exists() {
            write_logging(&root)?;
        }
        let node = &self.nodes[index];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(node.dir.join("stdout.log"))
            .map_err(|e| Error::io("cannot open the node's log", e))?;
        let err_log = log.try_clone().map_err(|e| Error::io("cannot open the node's log", e))?;
        let mut command = self.java_command("kafka.Kafka", self.heap_mb);
        command.arg(node.config()).env("LOG_DIR", &node.dir).stdout(log).stderr(err_log);
        let child = launch(command).map_err(|e| Error::io("cannot start Java for a Kafka node", e))?;
        self.nodes[index].process = Some(child);
        Ok(())
    }

    /// Wait until every node is a broker in the metadata and a controller is active, or a node
    /// exits, saying why.
    async fn wait_ready(&mut self) -> Result<()> {
        let connection = crate::kafka::Connection::new(&self.bootstrap(), &[], None)?;
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            for node in &mut self.nodes {
                if let Some(status) = node.process.as_mut().and_then(|p| p.try_wait().ok().flatten()) {
                    node.process = None;
                    return Err(Error::broker(format!(
                        "Kafka node {} stopped as it started ({status}): {}",
                        node.id,
                        last_error(&node.dir)
                    )));
                }
            }
            if let Ok(info) = connection.cluster_info().await {
                if info.brokers.len() == self.nodes.len() && info.controller.is_some() {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                return Err(Error::broker(format!(
                    "the Kafka nodes were not ready within {} s; their logs are in {}",
                    READY_WITHIN.as_secs(),
                    self.root_path().display()
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for ApacheKafka {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut process) = node.process.take() {
                let _ = process.kill();
                let _ = process.wait();
            }
        }
    }
}

/// The server's last ERROR line (or its last line), from its log.
fn last_error(dir: &Path) -> String {
    let text = format!(
        "{}{}",
        std::fs::read_to_string(dir.join("server.log")).unwrap_or_default(),
        std::fs::read_to_string(dir.join("stdout.log")).unwrap_or_default()
    );
    text.lines()
        .rev()
        .find(|l| l.contains(" ERROR ") || l.contains("Exception"))
        .or_else(|| text.lines().rev().find(|l| !l.trim().is_empty()))
        .map_or_else(|| format!("see the logs in {}", dir.display()), |l| crate::paths::clip_line(l.trim(), 240))
}

fn write_config(node: &Node, spec: &ApacheSpec, voters: &str) -> Result<()> {
    let mut listeners = vec![
        format!("PLAINTEXT://127.0.0.1:{}", node.ports["PLAINTEXT"]),
        format!("CONTROLLER://127.0.0.1:{}", node.ports["CONTROLLER"]),
    ];
    let mut advertised = vec![format!("PLAINTEXT://127.0.0.1:{}", node.ports["PLAINTEXT"])];
    let mut protocols = vec!["PLAINTEXT:PLAINTEXT".to_string(), "CONTROLLER:PLAINTEXT".to_string()];
    for (name, protocol) in &spec.listeners {
        listeners.push(format!("{name}://127.0.0.1:{}", node.ports[name]));
        advertised.push(format!("{name}://127.0.0.1:{}", node.ports[name]));
        protocols.push(format!("{name}:{protocol}"));
    }
    let mut settings: Vec<(String, String)> = vec![
        ("process.roles".into(), "broker,controller".into()),
        ("node.id".into(), node.id.to_string()),
        ("controller.quorum.voters".into(), voters.to_string()),
        ("listeners".into(), listeners.join(",")),
        ("advertised.listeners".into(), advertised.join(",")),
        ("listener.security.protocol.map".into(), protocols.join(",")),
        ("controller.listener.names".into(), "CONTROLLER".into()),
        ("inter.broker.listener.name".into(), "PLAINTEXT".into()),
        ("log.dirs".into(), node.dir.join("data").display().to_string()),
    ];
    if spec.kafka_defaults {
        settings.extend(ApacheSpec::minimal_settings(spec.nodes));
    } else {
        settings.extend(ApacheSpec::teaching_settings(spec.nodes));
    }
    settings.extend(spec.settings.iter().cloned());
    // The last value of a key wins, as in a properties file read top to bottom.
    let mut text = String::from("# written by kafka-workshop for a local teaching cluster\n");
    for (key, value) in settings {
        text.push_str(&format!("{key}={}\n", value.replace('\\', "\\\\")));
    }
    std::fs::write(node.config(), text).map_err(|e| Error::io(format!("cannot write {}", node.config().display()), e))
}

/// Log4j 2 for every node: INFO and up into the node's own `server.log` (kafka.Kafka is
/// started with LOG_DIR set to the node's folder).
fn write_logging(root: &Path) -> Result<()> {
    let text = "status = error\n\
        appender.file.type = File\n\
        appender.file.name = FILE\n\
        appender.file.fileName = ${env:LOG_DIR:-.}/server.log\n\
        appender.file.layout.type = PatternLayout\n\
        appender.file.layout.pattern = [%d] %p %m (%c)%n\n\
        rootLogger.level = INFO\n\
        rootLogger.appenderRef.file.ref = FILE\n\
        logger.kafka.name = org.apache.kafka\n\
        logger.kafka.level = INFO\n";
    let path = root.join("log4j2.properties");
    std::fs::write(&path, text).map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// A free loopback port, found by binding port 0 (the node binds it a moment later).
fn free_port() -> Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::io("cannot find a free port for a Kafka node", e))
}

/// A new cluster id: 16 random bytes in URL-safe base64 without padding, as `kafka-storage
/// random-uuid` prints.
fn cluster_id() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes: [u8; 16] = rand::random();
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = String::new();
    for byte in bytes {
        bits = (bits << 8) | u32::from(byte);
        count += 8;
        while count >= 6 {
            count -= 6;
            out.push(char::from(ALPHABET[((bits >> count) & 63) as usize]));
        }
    }
    if count > 0 {
        out.push(char::from(ALPHABET[((bits << (6 - count)) & 63) as usize]));
    }
    out
}

fn signal(process: &Child, signal: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(process.id()) {
        // SAFETY: kill(2) on our own child's pid, which it still is: it has not been waited for.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// Folders left by a kafka-workshop that died without cleaning up: their owner's pid is gone.
fn remove_abandoned_folders() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(FOLDER_PREFIX).and_then(|rest| rest.split('-').next()) else { continue };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

type Launch = (Command, mpsc::Sender<std::io::Result<Child>>);

/// Start `command` from one long-lived thread, with `PR_SET_PDEATHSIG`: the kernel sends the
/// child SIGKILL when the thread that started it ends, and this thread ends only with the
/// process. (A child started from a short-lived thread would be killed with that thread.)
fn launch(command: Command) -> std::io::Result<Child> {
    static LAUNCHER: OnceLock<Mutex<mpsc::Sender<Launch>>> = OnceLock::new();
    let launcher = LAUNCHER.get_or_init(|| {
        let (send, requests) = mpsc::channel::<Launch>();
        let _ = std::thread::Builder::new().name("kafka-launcher".into()).spawn(move || {
            for (mut command, reply) in requests {
                let _ = reply.send(spawn_tied(&mut command));
            }
        });
        Mutex::new(send)
    });
    let (reply, answer) = mpsc::channel();
    launcher
        .lock()
        .map_err(|_| std::io::Error::other("the launcher is poisoned"))?
        .send((command, reply))
        .map_err(|_| std::io::Error::other("the launcher thread is gone"))?;
    answer.recv().map_err(|_| std::io::Error::other("the launcher thread is gone"))?
}

fn spawn_tied(command: &mut Command) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    // SAFETY: getpid(2) has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the closure runs in the child between fork and exec, and only makes
    // async-signal-safe calls (prctl, getppid, _exit).
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent died before the prctl: nobody would kill this child.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    command.spawn()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_id_is_22_url_safe_characters() {
        let id = cluster_id();
        assert_eq!(id.len(), 22, "{id}");
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{id}");
        assert_ne!(id, cluster_id());
    }
}
