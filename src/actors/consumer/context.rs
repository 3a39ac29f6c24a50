//! What librdkafka calls back into, on the consumer's own thread while it polls: logs, errors
//! and rebalances. A rebalance updates the consumer's state and tells the learner what moved.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance, RebalanceProtocol};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{Offset, TopicPartitionList};

use super::ConsumerState;
use crate::kafka::StartFrom;
use crate::outcome::{Event, Partitions};
use crate::report::Events;

/// How long a rebalance may spend finding where newly assigned partitions start.
const LOOKUP: Duration = Duration::from_secs(2);

pub(super) struct ActorContext {
    pub(super) name: String,
    pub(super) state: Arc<Mutex<ConsumerState>>,
    pub(super) events: Events,
    /// Where --verbose logs go.
    pub(super) verbose: Option<Events>,
    /// Values never to print, even in --verbose logs.
    pub(super) secrets: Vec<String>,
    /// Where a partition with no committed offset starts.
    pub(super) from: StartFrom,
    /// Set just before the consumer is closed. An assignment that arrives while it closes is
    /// taken and nothing more: asking librdkafka for the group's generation then waits on the
    /// group thread that is closing, forever (seen once in CI, a test hung in `stop`).
    pub(super) closing: std::sync::atomic::AtomicBool,
}

impl ActorContext {
    fn redact(&self, text: &str) -> String {
        crate::security::mask(text, &self.secrets)
    }
}

impl ClientContext for ActorContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        if let Some(log) = &self.verbose {
            log.log(&self.name, format!("librdkafka {level:?} {fac}: {}", self.redact(message)));
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let all_down = matches!(error.rdkafka_error_code(), Some(RDKafkaErrorCode::AllBrokersDown));
        if let Ok(mut state) = self.state.lock() {
            if all_down && !state.lost_cluster {
                state.lost_cluster = true;
                self.events.warn(&self.name, format!("lost the cluster: {}", self.redact(reason)));
            }
        }
    }
}

impl ConsumerContext for ActorContext {
    /// rust-rdkafka's own rebalance, except that partitions this consumer reads from the latest
    /// offset are placed at their end before they are assigned.
    fn rebalance(&self, consumer: &BaseConsumer<Self>, err: RDKafkaRespErr, tpl: &mut TopicPartitionList) {
        let assign = err == RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
        let closing = self.closing.load(std::sync::atomic::Ordering::SeqCst);
        self.pre_rebalance(consumer, &described(err, tpl));
        if assign && self.from == StartFrom::Latest && !closing {
            start_at_the_end(consumer, tpl);
        }
        let cooperative = matches!(consumer.rebalance_protocol(), RebalanceProtocol::Cooperative);
        let client = consumer.client().native_ptr();
        // SAFETY: the client and the list are alive for the call; this is what rust-rdkafka's
        // default rebalance does.
        unsafe {
            match (assign, cooperative) {
                (true, true) => drop(rdkafka_sys::rd_kafka_incremental_assign(client, tpl.ptr())),
                (true, false) => drop(rdkafka_sys::rd_kafka_assign(client, tpl.ptr())),
                (false, true) => drop(rdkafka_sys::rd_kafka_incremental_unassign(client, tpl.ptr())),
                (false, false) => drop(rdkafka_sys::rd_kafka_assign(client, std::ptr::null())),
            }
        }
        if !closing {
            self.post_rebalance(consumer, &described(err, tpl));
        }
    }

    fn commit_callback(&self, result: rdkafka::error::KafkaResult<()>, _offsets: &TopicPartitionList) {
        if result.is_ok() {
            self.events.changed();
        }
    }

    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let revoked = to_partitions(list);
            let mut keeps = Partitions::new();
            if let Ok(mut state) = self.state.lock() {
                for (topic, ids) in &revoked {
                    if let Some(owned) = state.assignment.get_mut(topic) {
                        owned.retain(|id| !ids.contains(id));
                    }
                    state.positions.retain(|(t, p), _| !(t == topic && ids.contains(p)));
                }
                state.assignment.retain(|_, ids| !ids.is_empty());
                state.drop_buffered(&revoked);
                state.joining = true;
                keeps = state.assignment.clone();
            }
            if !revoked.is_empty() {
                self.events.send(Event::Revoked { actor: self.name.clone(), partitions: revoked, keeps });
            }
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                let added = to_partitions(list);
                let now = consumer.assignment().map(|a| to_partitions(&a)).ok();
                let member_id = member_id(consumer);
                let generation = generation(consumer);
                let mut holds = added.clone();
                if let Ok(mut state) = self.state.lock() {
                    state.lost_cluster = false;
                    state.joining = false;
                    state.topics_read.extend(added.keys().cloned());
                    state.waiting_for.retain(|topic| !added.contains_key(topic));
                    state.member_id = member_id;
                    state.generation = generation;
                    match now {
                        Some(now) => state.assignment = now,
                        None => {
                            for (topic, ids) in &added {
                                state.assignment.entry(topic.clone()).or_default().extend(ids);
                            }
                        }
                    }
                    holds = state.assignment.clone();
                }
                // Cooperative-sticky ends each round with an assignment; one that adds nothing to
                // what a consumer already holds is not news.
                if !added.is_empty() || holds.is_empty() {
                    self.events.send(Event::Assigned { actor: self.name.clone(), partitions: added, holds });
                } else {
                    self.events.changed();
                }
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(err) => self.events.warn(&self.name, format!("rebalance failed: {err}")),
        }
    }
}

/// The group generation this consumer is in; rust-rdkafka does not wrap it.
fn generation(consumer: &BaseConsumer<ActorContext>) -> Option<i32> {
    // SAFETY: the client is alive for the call; the metadata librdkafka returns is ours to
    // read and then destroy.
    unsafe {
        let metadata = rdkafka_sys::rd_kafka_consumer_group_metadata(consumer.client().native_ptr());
        if metadata.is_null() {
            return None;
        }
        let generation = rdkafka_sys::rd_kafka_consumer_group_metadata_generation_id(metadata);
        rdkafka_sys::rd_kafka_consumer_group_metadata_destroy(metadata);
        (generation >= 0).then_some(generation)
    }
}

/// rust-rdkafka does not wrap `rd_kafka_memberid`.
fn member_id(consumer: &BaseConsumer<ActorContext>) -> Option<String> {
    // SAFETY: the client is alive for the call; librdkafka returns a copy we own and free.
    unsafe {
        let raw = rdkafka_sys::rd_kafka_memberid(consumer.client().native_ptr());
        if raw.is_null() {
            return None;
        }
        let id = std::ffi::CStr::from_ptr(raw).to_string_lossy().into_owned();
        rdkafka_sys::rd_kafka_mem_free(std::ptr::null_mut(), raw.cast());
        (!id.is_empty()).then_some(id)
    }
}

fn to_partitions(list: &TopicPartitionList) -> Partitions {
    let mut partitions = Partitions::new();
    for element in list.elements() {
        partitions.entry(element.topic().to_string()).or_default().insert(element.partition());
    }
    partitions
}

/// What librdkafka's rebalance callback says, as rust-rdkafka describes it.
fn described(err: RDKafkaRespErr, tpl: &TopicPartitionList) -> Rebalance<'_> {
    match err {
        RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => Rebalance::Assign(tpl),
        RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => Rebalance::Revoke(tpl),
        _ => Rebalance::Error(KafkaError::Rebalance(err.into())),
    }
}

/// Left to librdkafka, a partition with no committed offset starts at whatever its end is when
/// the lookup answers, a moment after the assignment: a message produced in between, right
/// after the learner saw "assigned", would be skipped. So the end is fixed here, before the
/// partitions are assigned. Where the lookup fails, librdkafka's own reset applies as before.
fn start_at_the_end(consumer: &BaseConsumer<ActorContext>, tpl: &mut TopicPartitionList) {
    let Ok(committed) = consumer.committed_offsets(tpl.clone(), LOOKUP) else { return };
    for element in committed.elements() {
        if element.offset() != Offset::Invalid {
            continue;
        }
        if let Ok((_, end)) = consumer.fetch_watermarks(element.topic(), element.partition(), LOOKUP) {
            let _ = tpl.set_partition_offset(element.topic(), element.partition(), Offset::Offset(end));
        }
    }
}
