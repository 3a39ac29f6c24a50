//! The clusters kafka-workshop starts itself, behind one handle: the embedded tansu broker (one
//! node, id 1), or local Apache Kafka nodes (`apache`). The session, the tests and the
//! benchmarks hold a `LocalCluster` and never care which kind it is: each has a bootstrap
//! address, nodes that can be stopped (cleanly), killed (a crash) and started again, and a
//! `shutdown` that stops everything. Dropping the handle stops what is still running.
//!
//! A cluster someone else runs (`--bootstrap-servers`) is no `LocalCluster`: nothing here may
//! be assumed of it.

pub mod apache;

use std::time::Instant;

use crate::error::{Error, Result};
use crate::report::Reporter;

pub use apache::{ApacheKafka, ApacheSpec, NodeView};

/// What to start.
#[derive(Debug, Clone)]
pub enum ClusterSpec {
    /// tansu in this process.
    #[cfg(feature = "embedded-broker")]
    Embedded {
        listen: std::net::SocketAddr,
        advertise: Option<String>,
        storage: crate::broker::BrokerStorage,
        sasl: bool,
    },
    /// Apache Kafka's own broker, as local Java processes.
    Apache(ApacheSpec),
}

pub struct LocalCluster {
    kind: Kind,
}

enum Kind {
    #[cfg(feature = "embedded-broker")]
    Embedded(Embedded),
    Apache(ApacheKafka),
}

/// The embedded broker as a one-node cluster: while it is down, where it was and since when.
#[cfg(feature = "embedded-broker")]
struct Embedded {
    running: Option<crate::broker::EmbeddedBroker>,
    addr: std::net::SocketAddr,
    storage: crate::broker::BrokerStorage,
    advertise: Option<String>,
    sasl: bool,
    down_since: Option<Instant>,
}

impl LocalCluster {
    /// Start the cluster and return once clients can use it.
    pub async fn start(spec: &ClusterSpec, reporter: &dyn Reporter) -> Result<LocalCluster> {
        match spec {
            #[cfg(feature = "embedded-broker")]
            ClusterSpec::Embedded { listen, advertise, storage, sasl } => {
                let broker = crate::broker::EmbeddedBroker::start(*listen, advertise.clone(), storage.clone(), *sasl).await?;
                let _ = reporter;
                Ok(LocalCluster {
                    kind: Kind::Embedded(Embedded {
                        addr: broker.local_addr(),
                        storage: storage.clone(),
                        advertise: advertise.clone(),
                        sasl: *sasl,
                        running: Some(broker),
                        down_since: None,
                    }),
                })
            }
            ClusterSpec::Apache(spec) => {
                Ok(LocalCluster { kind: Kind::Apache(ApacheKafka::start(spec, reporter).await?) })
            }
        }
    }

    /// The address clients bootstrap from.
    pub fn bootstrap(&self) -> String {
        match &self.kind {
            #[cfg(feature = "embedded-broker")]
            Kind::Embedded(e) => e.advertise.clone().unwrap_or_else(|| e.addr.to_string()),
            Kind::Apache(kafka) => kafka.bootstrap(),
        }
    }

    /// The addresses of an extra listener (Apache Kafka's SSL or SASL_SSL, say), on every node.
    pub fn listener(&self, name: &str) -> Option<String> {
        match &self.kind {
            #[cfg(feature = "embedded-broker")]
            Kind::Embedded(_) => None,
            Kind::Apache(kafka) => kafka.listener(name),
        }
    }

    /// "the embedded broker (tansu 0.6.0, memory storage)", "Apache Kafka 4.4.0 on 3 local nodes".
    pub fn describe(&self) -> String {
        match &self.kind {
            #[cfg(feature = "embedded-broker")]
            Kind::Embedded(e) => format!("the embedded broker (tansu 0.6.0, {} storage)", e.storage.describe()),
            Kind::Apache(kafka) => format!("Apache Kafka {} on {} local node(s)", kafka.version(), kafka_len(kafka)),
        }
    }

    /// One line on the teaching settings local Apache Kafka nodes run with, for the banner.
    pub fn settings_summary(&self) -> Option<String> {
        match &self.kind {
            Kind::Apache(kafka) if kafka.teaching() => Some(apache::ApacheSpec::teaching_summary()),
            _ => None,
        }
    }

    pub fn is_embedded(&self) -> bool {
        !matches!(self.kind, Kind::Apache(_))
    }

    /// The Apache Kafka version, for a local Apache Kafka.
    pub fn apache_version(&self) -> Option<String> {
        match &self.kind {
            Kind::Apache(kafka) => Some(kafka.version().to_string()),
            #[cfg(feature = "embedded-broker")]
            Kind::Embedded(_) => None,
        }
    }

    /// Where the local Apache Kafka's jars are, for Kafka's own tools.
    pub fn apache_home(&self) -> Option<std::path::PathBuf> {
        match &self.kind {
            Kind::Apache(kafka) => Some(kafka.home().to_path_buf()),
            #[cfg(feature = "embedded-broker")]
            Kind::Embedded(_) => None,
        }
    }

    /// Every node: up or down, and since when it is down.
    pub fn nodes(&mut self) -> Vec<NodeView> {
        match &mut self.kind {
            #[cfg(feature = "embedded-broker")]
            Kind::Embedded(e) => vec![NodeView {
                id: crate::broker::NODE_ID,
                address: e.addr.to_string(),
                up: e.running.is_some(),
                down_since: e.down_since,
            }],
            Kind::Apache(kafka) => kafka.nodes(),
        }
    }

    /// The running embedded broker, for what only it can do (schemas, who wrote a batch).
    #[cfg(feature = "embedded-broker")]
    pub fn embedded(&self) -> Option<&crate::broker::EmbeddedBroker> {
        match &self.kind {
            Kind::Embedded(e) => e.running.as_ref(),
            Kind::Apache(_) => None,
        }
    }

    /// A clean stop of one node. The embedded broker drops every connection at once.
    pub async fn stop(&mut self, node: i32) -> Result<()> {
        match &mut self.kind {
            #[cfg(feature = "embedded-broker")]
            Kind::Embedded(e) => {
                check_embedded_node(node)?;
                let broker = e.running.take().ok_or_else(|| Error::input("the broker is already stopped; `broker start` brings it back"))?;
                broker.stop().await;
                e.down_since = Some(Instant::now());
                Ok(())
            }
            Kind::Apache(kafka) => kafka.stop(node).await,
        }
    }

    /// A crash of one node: SIGKILL for Apache Kafka; the embedded broker has only one way to go.
    pub async fn kill(&mut self, node: i32) -> Result<()> {
        match &mut self.kind {
            #[cfg(feature = "embedded-broker")]
            Kind::Embedded(_) => self.stop(node).await,
            Kind::Apache(kafka) => kafka.kill(node),
        }
    }

    /// Start a node that is down, on the same address and storage.
    pub async fn start_node(&mut self, node: i32) -> Result<()> {
        match &mut self.kind {
            #[cfg(feature = "embedded-broker")]
            Kind::Embedded(e) => {
                check_embedded_node(node)?;
                if e.running.is_some() {
                    return Err(Error::input("the broker is already running"));
                }
                let broker = crate::broker::EmbeddedBroker::start(e.addr, e.advertise.clone(), e.storage.clone(), e.sasl).await?;
                e.running = Some(broker);
                e.down_since = None;
                Ok(())
            }
            Kind::Apache(kafka) => kafka.start_node(node),
        }
    }

    /// Stop everything and remove what it kept in temporary folders.
    pub async fn shutdown(self) {
        match self.kind {
            #[cfg(feature = "embedded-broker")]
            Kind::Embedded(mut e) => {
                if let Some(broker) = e.running.take() {
                    broker.stop().await;
                }
            }
            Kind::Apache(kafka) => kafka.shutdown().await,
        }
    }
}

fn kafka_len(kafka: &ApacheKafka) -> usize {
    kafka.bootstrap().split(',').count()
}

#[cfg(feature = "embedded-broker")]
fn check_embedded_node(node: i32) -> Result<()> {
    if node == crate::broker::NODE_ID {
        Ok(())
    } else {
        Err(Error::input(format!("the embedded broker is one node, broker {}; there is no broker {node}", crate::broker::NODE_ID)))
    }
}
