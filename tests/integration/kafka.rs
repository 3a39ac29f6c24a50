//! Apache Kafka itself in the tests: its jars from Maven Central (`tests/kafka/fetch.sh`, once
//! a run, cached outside the checkout), and nodes started by the library's own `LocalCluster`,
//! on free loopback ports in temporary folders, stopped and removed when the handle is dropped.
//!
//! Most tests share one node (`shared()`) and keep apart by their own topic and group names,
//! as thirty learners on one cluster do; a test that needs its own listeners or its own
//! failures starts its own cluster.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use kafka_workshop::cluster::{ApacheSpec, ClusterSpec, LocalCluster};
use kafka_workshop::report::Quiet;
use kafka_workshop::session::ConnectOptions;

use crate::harness::Workshop;

/// The folder of Kafka's jars, fetched the first time a run asks (Java and Maven installed with
/// apt-get first when they are missing).
pub fn jars() -> PathBuf {
    static JARS: OnceLock<PathBuf> = OnceLock::new();
    JARS.get_or_init(|| {
        let has = |program: &str, arg: &str| std::process::Command::new(program).arg(arg).output().is_ok_and(|o| o.status.success());
        crate::servers::install("openjdk-17-jre-headless", || has("java", "-version"));
        crate::servers::install("maven", || has("mvn", "-v"));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/kafka/fetch.sh");
        let output = std::process::Command::new(script).output().expect("run tests/kafka/fetch.sh");
        assert!(output.status.success(), "fetching Apache Kafka failed:\n{}", String::from_utf8_lossy(&output.stderr));
        PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
    })
    .clone()
}

/// Local Apache Kafka nodes for one test (or for the run, `shared()`), stopped when dropped.
pub struct Kafka {
    cluster: Mutex<Option<LocalCluster>>,
    runtime: tokio::runtime::Runtime,
    pub bootstrap: String,
}

impl Kafka {
    pub fn start(nodes: usize) -> Kafka {
        Kafka::with(ApacheSpec::new(jars(), nodes))
    }

    pub fn with(spec: ApacheSpec) -> Kafka {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let cluster = runtime
            .block_on(LocalCluster::start(&ClusterSpec::Apache(spec), &Quiet))
            .unwrap_or_else(|e| panic!("Apache Kafka did not start: {e}"));
        let bootstrap = cluster.bootstrap();
        Kafka { cluster: Mutex::new(Some(cluster)), runtime, bootstrap }
    }

    /// Run something on the cluster's handle (stop or kill a node, say).
    pub fn on<T>(&self, act: impl FnOnce(&mut LocalCluster, &tokio::runtime::Runtime) -> T) -> T {
        let mut cluster = self.cluster.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        act(cluster.as_mut().expect("the cluster is running"), &self.runtime)
    }

    pub fn listener(&self, name: &str) -> String {
        self.on(|cluster, _| cluster.listener(name)).unwrap_or_else(|| panic!("no {name} listener"))
    }

    /// A session in this process on this cluster, as `-b BOOTSTRAP` (and `--learner`) would make it.
    pub fn client(&self, learner: Option<&str>) -> Workshop {
        Workshop::with(ConnectOptions {
            bootstrap_servers: Some(self.bootstrap.clone()),
            learner: learner.map(str::to_string),
            private: true,
            ..ConnectOptions::default()
        })
    }
}

impl Drop for Kafka {
    fn drop(&mut self) {
        let cluster = self.cluster.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(cluster) = cluster {
            self.runtime.block_on(cluster.shutdown());
        }
    }
}

/// One Apache Kafka node for the whole run, for the tests that keep apart by their names. Its
/// Java process ends with the test process (the kernel kills it: `PR_SET_PDEATHSIG`).
pub fn shared() -> &'static Kafka {
    static SHARED: OnceLock<Kafka> = OnceLock::new();
    SHARED.get_or_init(|| Kafka::start(1))
}

/// One Apache Kafka node with Kafka's own broker defaults, as a managed cluster at a workshop
/// runs them (retention checked every 5 minutes, a 3 s wait before a group's first deal, topics
/// made on first use): only the internal topics' replication fits one node.
pub fn defaults() -> &'static Kafka {
    static DEFAULTS: OnceLock<Kafka> = OnceLock::new();
    DEFAULTS.get_or_init(|| {
        let mut spec = ApacheSpec::new(jars(), 1);
        spec.kafka_defaults = true;
        Kafka::with(spec)
    })
}
