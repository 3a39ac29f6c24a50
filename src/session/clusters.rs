//! Which cluster the session talks to, and how: the settings a connection is built from, the
//! `connect` command that switches cluster mid-session, and what `cluster` says about security.

use super::{ConnectOptions, Session};
use crate::command::ConnectCommandArgs;
use crate::error::{Error, Result};
use crate::kafka::Connection;
use crate::outcome::{Outcome, Table, Target};
use crate::report::{Events, Reporter};
use crate::security::{self, SecurityArgs};

/// What a session starts with: its connection, what it is connected to, and the embedded broker
/// when it runs one.
#[cfg(feature = "embedded-broker")]
type Started = (Connection, Target, Option<crate::broker::EmbeddedBroker>);
#[cfg(not(feature = "embedded-broker"))]
type Started = (Connection, Target, Option<()>);

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

/// Start the embedded broker on a free port and connect to it; ready means it answers metadata.
#[cfg(feature = "embedded-broker")]
pub(super) async fn start_embedded(options: &ConnectOptions, log: Option<Events>) -> Result<Started> {
    use crate::broker::{BrokerStorage, EmbeddedBroker};
    let storage = match &options.data {
        Some(dir) => BrokerStorage::Sqlite { dir: dir.clone(), maintenance: None },
        None => BrokerStorage::Memory,
    };
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let broker = EmbeddedBroker::start(listen, None, storage, false).await?;
    let connection = Connection::new(broker.bootstrap(), &options.properties, log)?;
    // Ready means it answers metadata, not merely that the port is open.
    connection.cluster_info().await?;
    let target = Target::Embedded { bootstrap: broker.bootstrap().to_string(), storage: broker.storage().describe() };
    Ok((connection, target, Some(broker)))
}

#[cfg(not(feature = "embedded-broker"))]
pub(super) async fn start_embedded(_options: &ConnectOptions, _log: Option<Events>) -> Result<Started> {
    Err(Error::unsupported(
        "this build has no embedded broker",
        "connect to a cluster with --bootstrap-servers HOST:PORT",
    ))
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
        self.stop_all_actors().await;
        self.consumers.clear();
        self.producers.clear();
        self.tills.clear();
        self.jobs.clear();
        self.analysts.clear();
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
                Target::External { bootstrap } => bootstrap.clone(),
            },
            info.brokers.len()
        )));
        Ok(Outcome::Many(parts))
    }

    #[cfg(feature = "embedded-broker")]
    async fn embedded_connection(&mut self, extra: &[(String, String)]) -> Result<(Connection, Target)> {
        use crate::broker::{BrokerStorage, EmbeddedBroker};
        if self.stopped_broker.is_some() {
            return Err(Error::input("the embedded broker is stopped: `broker start` brings it back"));
        }
        if self.embedded.is_none() {
            let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            self.embedded = Some(EmbeddedBroker::start(listen, None, BrokerStorage::Memory, false).await?);
        }
        let broker = self.embedded.as_ref().ok_or_else(|| Error::broker("the embedded broker did not start"))?;
        let connection = Connection::new(broker.bootstrap(), extra, self.log())?;
        let target = Target::Embedded { bootstrap: broker.bootstrap().to_string(), storage: broker.storage().describe() };
        Ok((connection, target))
    }

    #[cfg(not(feature = "embedded-broker"))]
    async fn embedded_connection(&mut self, _extra: &[(String, String)]) -> Result<(Connection, Target)> {
        Err(Error::unsupported("this build has no embedded broker", "build kafka-workshop with its default features"))
    }

    /// Where --verbose logs go, if anywhere.
    fn log(&self) -> Option<Events> {
        self.verbose.then(|| self.events.clone())
    }

    /// `broker stop` / `broker start`: the embedded broker goes away (every connection dropped,
    /// as if its machine died) and comes back on the same address, where clients find it again.
    #[cfg(feature = "embedded-broker")]
    pub(super) async fn broker(&mut self, action: crate::command::BrokerAction) -> Result<Outcome> {
        use crate::broker::{BrokerStorage, EmbeddedBroker};
        use crate::command::BrokerAction;
        if let Target::External { bootstrap } = &self.target {
            return Err(Error::input(format!(
                "broker stop and start work on the embedded broker; this session is connected to {bootstrap}"
            )));
        }
        match action {
            BrokerAction::Stop => {
                let broker = self.embedded.take().ok_or_else(|| Error::input("the broker is already stopped; `broker start` brings it back"))?;
                let place = (broker.local_addr(), broker.storage().clone());
                broker.stop().await;
                let memory = matches!(place.1, BrokerStorage::Memory);
                self.stopped_broker = Some(place);
                let mut parts = vec![Outcome::Warning(
                    "the broker is down: commands fail until `broker start`, and running consumers report that they lost the cluster".into(),
                )];
                if memory {
                    parts.push(Outcome::Note(
                        "its storage was memory, so what it held is gone; with --data DIR it would come back".into(),
                    ));
                }
                Ok(Outcome::Many(parts))
            }
            BrokerAction::Start => {
                let (addr, storage) = self.stopped_broker.clone().ok_or_else(|| Error::input("the broker is already running"))?;
                let broker = EmbeddedBroker::start(addr, None, storage, false).await?;
                self.stopped_broker = None;
                self.embedded = Some(broker);
                self.broker_restarts += 1;
                // The clients were refused while it was down; give them a moment to reconnect.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
                while let Err(err) = self.connection.cluster_info().await {
                    if std::time::Instant::now() >= deadline {
                        return Err(err);
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Ok(Outcome::Done(format!("the broker is back on {addr}; clients and consumers reconnect by themselves")))
            }
        }
    }

    #[cfg(not(feature = "embedded-broker"))]
    pub(super) async fn broker(&mut self, _action: crate::command::BrokerAction) -> Result<Outcome> {
        Err(Error::unsupported("this build has no embedded broker", "build kafka-workshop with its default features"))
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
            said.push_str(&format!(", mutual TLS with the certificates in {}", dir.display()));
        }
        parts.push(Outcome::Note(said));
        let mut files: Vec<std::path::PathBuf> = Vec::new();
        if let Some(dir) = &self.security.certs {
            files.push(dir.join(security::CA_FILE));
            files.push(dir.join(security::CERT_FILE));
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
