//! Which cluster the session talks to, and how: the settings a connection is built from, the
//! `connect` command that switches cluster mid-session, and what `cluster` says about security.

use super::{ConnectOptions, Session};
use crate::cluster::{ApacheSpec, ClusterSpec, LocalCluster};
use crate::command::ConnectCommandArgs;
use crate::error::{Error, Result};
use crate::kafka::Connection;
use crate::outcome::{Outcome, Table, Target};
use crate::report::{Events, Reporter};
use crate::security::{self, SecurityArgs};

/// What a session starts with: its connection, what it is connected to, and the cluster it
/// started, when it started one.
type Started = (Connection, Target, Option<LocalCluster>);

/// The SASL password: `-X sasl.password=…` when a script gives one, else
/// `$KAFKA_SASL_PASSWORD`, else asked for without echo where someone can answer.
pub fn sasl_password(reporter: &dyn Reporter, properties: &[(String, String)]) -> Option<security::Secret> {
    use security::{Secret, SecretFrom};
    if let Some((_, given)) = properties.iter().rev().find(|(k, v)| k == "sasl.password" && !v.is_empty()) {
        return Some(Secret::new(given.clone(), SecretFrom::Setting));
    }
    if let Some(value) = std::env::var(security::PASSWORD_ENV).ok().filter(|p| !p.is_empty()) {
        return Some(Secret::new(value, SecretFrom::Environment));
    }
    reporter.secret("SASL password (not echoed): ").map(|value| Secret::new(value, SecretFrom::Prompt))
}

/// What the session starts when it is given no cluster: local Apache Kafka nodes with
/// `--apache-kafka DIR`, else the embedded broker.
fn local_spec(options: &ConnectOptions) -> Result<ClusterSpec> {
    let home = match &options.apache_kafka {
        Some(dir) if dir.as_os_str().is_empty() => match std::env::var_os("KAFKA_HOME").filter(|h| !h.is_empty()) {
            Some(home) => Some(std::path::PathBuf::from(home)),
            None => {
                return Err(Error::input_with_hint(
                    "--apache-kafka needs a folder: an unpacked Apache Kafka release (or set KAFKA_HOME)",
                    format!("download one from {} and unpack it", crate::cluster::apache::DOWNLOAD),
                ))
            }
        },
        other => other.clone(),
    };
    if let Some(home) = &home {
        if options.data.is_some() {
            return Err(Error::input("--data is for the embedded broker; local Apache Kafka nodes keep their data in a temporary folder"));
        }
        let mut spec = ApacheSpec::new(home, options.brokers.unwrap_or(3));
        spec.heap_mb = if spec.nodes > 1 { 384 } else { 512 };
        return Ok(ClusterSpec::Apache(spec));
    }
    if options.brokers.is_some_and(|n| n != 1) {
        return Err(Error::input_with_hint(
            "the embedded broker is one broker; several brokers need Apache Kafka",
            format!("add --apache-kafka DIR with an unpacked Apache Kafka release (download: {})", crate::cluster::apache::DOWNLOAD),
        ));
    }
    embedded_spec(options.data.clone())
}

#[cfg(feature = "embedded-broker")]
fn embedded_spec(data: Option<std::path::PathBuf>) -> Result<ClusterSpec> {
    use crate::broker::BrokerStorage;
    let storage = match data {
        Some(dir) => BrokerStorage::Sqlite { dir, maintenance: None },
        None => BrokerStorage::Memory,
    };
    Ok(ClusterSpec::Embedded { listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)), advertise: None, storage, sasl: false })
}

#[cfg(not(feature = "embedded-broker"))]
fn embedded_spec(_data: Option<std::path::PathBuf>) -> Result<ClusterSpec> {
    Err(Error::unsupported(
        "this build has no embedded broker",
        "connect to a cluster with --bootstrap-servers HOST:PORT, or start one with --apache-kafka DIR",
    ))
}

/// Start the session's own cluster and connect to it; ready means it answers metadata.
pub(super) async fn start_local(options: &ConnectOptions, reporter: &dyn Reporter, log: Option<Events>) -> Result<Started> {
    let cluster = LocalCluster::start(&local_spec(options)?, reporter).await?;
    let connection = Connection::new(&cluster.bootstrap(), &options.properties, log)?;
    connection.cluster_info().await?;
    let target = target_of(&cluster);
    Ok((connection, target, Some(cluster)))
}

/// How the session names a cluster it started.
fn target_of(cluster: &LocalCluster) -> Target {
    if cluster.is_embedded() {
        let storage = cluster.describe().trim_start_matches("the embedded broker (tansu 0.6.0, ").trim_end_matches(" storage)").to_string();
        Target::Embedded { bootstrap: cluster.bootstrap(), storage }
    } else {
        Target::Local { bootstrap: cluster.bootstrap(), what: cluster.describe(), settings: cluster.settings_summary() }
    }
}

/// A broker this session took down, and who the active controller was just before (its id and
/// epoch), when the quorum could be read.
#[derive(Debug, Clone)]
pub(super) struct Downed {
    pub node: i32,
    /// Started again since: a failover it caused is history, not something to judge a try by.
    pub back: bool,
    pub controller: Option<(i32, i32)>,
    /// Which broker led each partition just before.
    pub leaders: std::collections::HashMap<(String, i32), i32>,
}

/// A certificate this close to expiring gets a warning.
const EXPIRY_WARNING_DAYS: i32 = 7;

/// librdkafka settings for a connection: the security flags' first, then `-X`, which wins.
pub(super) fn client_properties(
    security: &SecurityArgs,
    password: Option<&security::Secret>,
    extra: &[(String, String)],
) -> Result<Vec<(String, String)>> {
    let mut properties = security.properties(password)?;
    properties.extend(extra.iter().cloned());
    Ok(properties)
}

impl Session {
    /// `connect BOOTSTRAP [flags]` or `connect embedded`: reach the new cluster first, and only
    /// then stop what runs on the old one and switch.
    pub(super) async fn connect_to(&mut self, args: ConnectCommandArgs) -> Result<Outcome> {
        let (connection, target) = if args.bootstrap == "embedded" {
            if !args.security.is_empty() {
                return Err(Error::input("the embedded broker needs no certificates or SASL: give just `connect embedded`"));
            }
            self.embedded_connection(&args.properties).await?
        } else {
            let password =
                if args.security.needs_password() { sasl_password(self.reporter.as_ref(), &args.properties) } else { None };
            self.password_from = password.as_ref().map(security::Secret::from);
            let properties = client_properties(&args.security, password.as_ref(), &args.properties)?;
            let connection = Connection::new(&args.bootstrap, &properties, self.log())?;
            (connection, Target::External { bootstrap: args.bootstrap.clone() })
        };
        let info = connection.cluster_info().await?;
        let mut parts = Vec::new();
        let running = self.running_actors();
        if !running.is_empty() {
            parts.push(Outcome::Warning(format!("stopping {} before switching cluster", running.join(", "))));
        }
        self.forget_all_actors().await;
        // A learner's room is on the cluster they leave: they join the new one's.
        self.leave_room(std::time::Duration::from_secs(1));
        self.room = None;
        self.connection = std::sync::Arc::new(connection);
        self.target = target;
        self.security = args.security;
        self.settings = args.properties;
        self.join_room();
        let how = self.security.protocol().map_or("plaintext", |p| p.as_config());
        parts.push(Outcome::Done(format!(
            "connected to {} ({} broker(s), {how})",
            match &self.target {
                Target::Embedded { .. } => "the embedded broker".to_string(),
                Target::Local { what, .. } => what.clone(),
                Target::External { bootstrap } => bootstrap.clone(),
            },
            info.brokers.len()
        )));
        Ok(Outcome::Many(parts))
    }

    /// `connect embedded`: the session's embedded broker, started now if it has none yet.
    async fn embedded_connection(&mut self, extra: &[(String, String)]) -> Result<(Connection, Target)> {
        match &mut self.local {
            Some(cluster) if !cluster.is_embedded() => {
                return Err(Error::input(
                    "this session runs local Apache Kafka nodes; quit and start kafka-workshop without --apache-kafka for the embedded broker",
                ))
            }
            Some(cluster) => {
                if cluster.nodes().iter().any(|n| !n.up) {
                    return Err(Error::input("the embedded broker is stopped: `broker start` brings it back"));
                }
            }
            None => self.local = Some(LocalCluster::start(&embedded_spec(None)?, self.reporter.as_ref()).await?),
        }
        let cluster = self.local.as_ref().ok_or_else(|| Error::broker("the embedded broker did not start"))?;
        let connection = Connection::new(&cluster.bootstrap(), extra, self.log())?;
        Ok((connection, target_of(cluster)))
    }

    /// Where --verbose logs go, if anywhere.
    fn log(&self) -> Option<Events> {
        self.verbose.then(|| self.events.clone())
    }

    /// `broker stop|kill|start [N]`: a broker of the session's own cluster goes away (cleanly,
    /// or as a crash) and comes back on the same address, where clients find it again. The
    /// embedded broker is node 1, and drops every connection either way.
    pub(super) async fn broker(&mut self, action: crate::command::BrokerAction, node: Option<i32>) -> Result<Outcome> {
        use crate::command::BrokerAction;
        let Some(cluster) = self.local.as_mut() else {
            return Err(Error::input_with_hint(
                format!(
                    "broker stop, kill and start work on a cluster kafka-workshop started; this session is connected to {}",
                    self.target.bootstrap()
                ),
                "start kafka-workshop with no cluster flags (the embedded broker) or with --apache-kafka DIR --brokers 3",
            ));
        };
        let nodes = cluster.nodes();
        let down: Vec<i32> = nodes.iter().filter(|n| !n.up).map(|n| n.id).collect();
        let id = match node {
            Some(id) => id,
            None if nodes.len() == 1 => nodes[0].id,
            // `broker start` brings back whichever are down.
            None if action == BrokerAction::Start && !down.is_empty() => {
                let said = self.start_every_broker().await;
                return Ok(Outcome::Many(said));
            }
            None if action == BrokerAction::Start => return Ok(Outcome::Note("every broker is up: there is nothing to start".into())),
            None => {
                let ids: Vec<String> = nodes.iter().map(|n| n.id.to_string()).collect();
                return Err(Error::input(format!("say which broker: `broker {} N`, N one of {}", action_word(action), ids.join(", "))));
            }
        };
        let embedded = cluster.is_embedded();
        match action {
            BrokerAction::Stop | BrokerAction::Kill => {
                // Who the active controller was, so a check can tell whether this took it down.
                let before = if embedded { None } else { self.connection.quorum().await.and_then(Result::ok) };
                let leaders = match self.connection.cluster_info().await {
                    Ok(info) => info.topics.iter().flat_map(|t| t.partitions.iter().map(|p| ((t.name.clone(), p.id), p.leader))).collect(),
                    Err(_) => std::collections::HashMap::new(),
                };
                let Some(cluster) = self.local.as_mut() else { return Err(Error::input("this session started no cluster")) };
                if action == BrokerAction::Stop {
                    cluster.stop(id).await?;
                } else {
                    cluster.kill(id).await?;
                }
                self.downed.push(Downed { node: id, back: false, controller: before.map(|q| (q.leader, q.epoch)), leaders });
                if embedded {
                    let mut parts = vec![Outcome::Warning(
                        "the broker is down: commands fail until `broker start`, and running consumers report that they lost the cluster".into(),
                    )];
                    if self.target_storage_is_memory() {
                        parts.push(Outcome::Note(
                            "its storage was memory, so what it held is gone; with --data DIR it would come back".into(),
                        ));
                    }
                    return Ok(Outcome::Many(parts));
                }
                let how = if action == BrokerAction::Stop {
                    "stopped cleanly: it handed its leaderships over before it left"
                } else {
                    "killed (SIGKILL): the controller notices when its heartbeats stop"
                };
                Ok(Outcome::Warning(format!("broker {id} {how}; `broker start {id}` brings it back")))
            }
            BrokerAction::Start => {
                let done = self.start_broker(id, embedded).await?;
                Ok(Outcome::Done(done))
            }
        }
    }

    /// Start one node again and wait until the metadata lists it.
    async fn start_broker(&mut self, id: i32, embedded: bool) -> Result<String> {
        let Some(cluster) = self.local.as_mut() else { return Err(Error::input("this session started no cluster")) };
        cluster.start_node(id).await?;
        self.broker_restarts += 1;
        for downed in self.downed.iter_mut().filter(|d| d.node == id) {
            downed.back = true;
        }
        // The clients were refused while it was down; give them a moment to reconnect.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match self.connection.cluster_info().await {
                Ok(info) if info.brokers.iter().any(|b| b.id == id) => break,
                Err(err) if std::time::Instant::now() >= deadline => return Err(err),
                _ if std::time::Instant::now() >= deadline => {
                    return Err(Error::broker(format!("broker {id} did not rejoin the cluster within 30 s")))
                }
                _ => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
            }
        }
        let address = self.local.as_mut().map(|c| c.nodes()).unwrap_or_default().into_iter().find(|n| n.id == id).map(|n| n.address);
        let at = address.unwrap_or_default();
        Ok(if embedded {
            format!("the broker is back on {at}; clients and consumers reconnect by themselves")
        } else {
            format!("broker {id} is back on {at}; it catches up on what it missed and rejoins the ISR")
        })
    }

    /// Bring back every node this session started that is down (a rehearsal's wrong way may
    /// leave one down); says which.
    pub(super) async fn start_every_broker(&mut self) -> Vec<Outcome> {
        let down: Vec<i32> = self.local.as_mut().map(|c| c.nodes()).unwrap_or_default().iter().filter(|n| !n.up).map(|n| n.id).collect();
        let embedded = self.local.as_ref().is_some_and(crate::cluster::LocalCluster::is_embedded);
        let mut said = Vec::new();
        for id in down {
            said.push(match self.start_broker(id, embedded).await {
                Ok(done) => Outcome::Done(done),
                Err(err) => Outcome::Failure(err),
            });
        }
        said
    }

    fn target_storage_is_memory(&self) -> bool {
        matches!(&self.target, Target::Embedded { storage, .. } if storage.starts_with("memory"))
    }

    fn running_actors(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .consumers
            .values()
            .filter(|c| c.status() == crate::actors::consumer::Status::Running)
            .map(|c| format!("consumer {}", c.spec.name))
            .collect();
        names.extend(self.producers.iter().filter(|(_, p)| p.stats().running).map(|(n, _)| format!("producer {n}")));
        names.extend(self.tills.iter().filter(|(_, t)| t.running()).map(|(n, _)| format!("till {n}")));
        names
    }

    /// What `cluster` says about security: the protocol, the SASL user, the certificates with
    /// their subject and expiry, and any `-X` settings (secrets masked).
    pub(super) fn security_report(&self) -> Vec<Outcome> {
        let mut parts = Vec::new();
        let protocol = self
            .settings
            .iter()
            .rev()
            .find(|(k, _)| k == "security.protocol")
            .map(|(_, v)| v.to_lowercase())
            .or_else(|| self.security.protocol().map(|p| p.as_config().to_string()))
            .unwrap_or_else(|| "plaintext".into());
        let mut said = format!("security: {protocol}");
        if let Some(user) = &self.security.sasl_username {
            let mechanism = self.security.sasl_mechanism.map_or("PLAIN", |m| m.as_config());
            let from = self.password_from.map_or_else(|| "no password".to_string(), security::SecretFrom::describe);
            said.push_str(&format!(", SASL {mechanism} as {user} ({from})"));
        }
        if let Some(dir) = &self.security.certs {
            if dir.join(security::CERT_FILE).exists() {
                said.push_str(&format!(", mutual TLS with the certificates in {}", dir.display()));
            } else {
                said.push_str(&format!(", TLS trusting the CA in {}", dir.join(security::CA_FILE).display()));
            }
        }
        parts.push(Outcome::Note(said));
        let mut files: Vec<std::path::PathBuf> = Vec::new();
        if let Some(dir) = &self.security.certs {
            files.push(dir.join(security::CA_FILE));
            files.extend(Some(dir.join(security::CERT_FILE)).filter(|f| f.exists()));
        }
        for (key, value) in &self.settings {
            if key == "ssl.ca.location" || key == "ssl.certificate.location" {
                files.push(std::path::PathBuf::from(value));
            }
        }
        if !files.is_empty() {
            let mut table = Table::new(["CERTIFICATE", "SUBJECT", "EXPIRES", "DAYS LEFT"]);
            let mut warnings = Vec::new();
            for file in files {
                match security::certificate_info(&file) {
                    Ok(info) => {
                        if info.days_left <= EXPIRY_WARNING_DAYS {
                            warnings.push(Outcome::Warning(if info.days_left < 0 {
                                format!("{} expired on {}", info.file, info.expires)
                            } else {
                                format!("{} expires in {} day(s), on {}: get a new one soon", info.file, info.days_left, info.expires)
                            }));
                        }
                        table.push([info.file, info.subject, info.expires, info.days_left.to_string()]);
                    }
                    Err(err) => warnings.push(Outcome::Warning(err.to_string())),
                }
            }
            parts.push(Outcome::Table(table));
            parts.extend(warnings);
        }
        if !self.settings.is_empty() {
            let mut table = Table::new(["SETTING (-X)", "VALUE"]);
            for (key, value) in &self.settings {
                table.push([key.clone(), security::shown(key, value)]);
            }
            parts.push(Outcome::Table(table));
        }
        parts
    }
}

fn action_word(action: crate::command::BrokerAction) -> &'static str {
    match action {
        crate::command::BrokerAction::Stop => "stop",
        crate::command::BrokerAction::Kill => "kill",
        crate::command::BrokerAction::Start => "start",
    }
}
