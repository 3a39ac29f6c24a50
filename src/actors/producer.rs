//! A producer as a live actor for demos: it sends a message every so often until stopped, and
//! keeps counts the `producers` table shows.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::producer::FutureRecord;
use tokio::sync::oneshot;

use crate::error::Result;
use crate::kafka::{Connection, ProducerSettings};
use crate::report::Events;

#[derive(Debug, Clone, PartialEq)]
pub struct ProducerSpec {
    pub name: String,
    pub topic: String,
    pub every: Duration,
    pub key: Option<String>,
    pub partition: Option<i32>,
    pub template: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProducerStats {
    pub running: bool,
    pub sent: u64,
    pub errors: u64,
    pub last: Option<(i32, i64)>,
}

pub struct ProducerHandle {
    pub spec: ProducerSpec,
    stats: Arc<Mutex<ProducerStats>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// `{n}` becomes the message's number, `{name}` the producer's name; JSON is sent compact.
pub fn fill(template: &str, n: u64, name: &str) -> String {
    template.replace("{n}", &n.to_string()).replace("{name}", name)
}

impl ProducerHandle {
    /// Start sending on the current tokio runtime.
    pub fn start(spec: ProducerSpec, connection: &Connection, events: Events) -> Result<Self> {
        let producer = connection.producer(ProducerSettings::RELIABLE)?;
        let stats = Arc::new(Mutex::new(ProducerStats { running: true, ..ProducerStats::default() }));
        let (stop, mut stopped) = oneshot::channel();
        let task_spec = spec.clone();
        let task_stats = Arc::clone(&stats);
        let task = tokio::spawn(async move {
            let spec = task_spec;
            let mut ticks = tokio::time::interval(spec.every);
            let mut n: u64 = 0;
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = ticks.tick() => {}
                }
                n += 1;
                let value = crate::format::compact_json(&fill(&spec.template, n, &spec.name));
                let key = spec.key.as_deref().map(|k| fill(k, n, &spec.name));
                let mut record = FutureRecord::<str, str>::to(&spec.topic).payload(&value);
                if let Some(key) = key.as_deref() {
                    record = record.key(key);
                }
                if let Some(partition) = spec.partition {
                    record = record.partition(partition);
                }
                let result = producer.send(record, Duration::from_secs(5)).await;
                let Ok(mut stats) = task_stats.lock() else { break };
                match result {
                    Ok(delivery) => {
                        stats.sent += 1;
                        stats.last = Some((delivery.partition, delivery.offset));
                        events.changed();
                    }
                    Err((err, _)) => {
                        stats.errors += 1;
                        // The first failure, then every tenth, so a dead cluster does not flood the screen.
                        if stats.errors == 1 || stats.errors % 10 == 0 {
                            events.warn(&spec.name, format!("send failed ({} so far): {}", stats.errors, crate::kafka::describe_kafka_error(&err)));
                        }
                    }
                }
            }
            if let Ok(mut stats) = task_stats.lock() {
                stats.running = false;
            }
        });
        Ok(ProducerHandle { spec, stats, stop: Some(stop), task: Some(task) })
    }

    pub fn stats(&self) -> ProducerStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Stop after the message in flight, if any.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_number_and_name() {
        assert_eq!(fill(r#"{"order": {n}, "till": "{name}"}"#, 7, "till-1"), r#"{"order": 7, "till": "till-1"}"#);
    }
}
