//! The librdkafka client context every client of a connection shares. librdkafka calls it from
//! its own threads. It keeps the last transport error so that a timeout can say *why*
//! ("connection refused") rather than only that it timed out, and with --verbose it passes
//! librdkafka's log on as events, with every secret masked first.

use std::sync::{Arc, Mutex};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;

use super::meter::Meter;
use crate::report::Events;

#[derive(Clone, Default)]
pub struct Context {
    last_error: Arc<Mutex<Option<String>>>,
    /// Where --verbose logs go; None when quiet.
    log: Option<Events>,
    /// Values that must never be shown, even in --verbose logs.
    secrets: Arc<Vec<String>>,
    /// A measured producer's batch totals, from librdkafka's statistics.
    meter: Option<Meter>,
    /// A producer's record of what the broker answered to the batches it retried.
    refusals: Option<Refusals>,
}

/// The errors brokers answered a producer's batches with, in order, as librdkafka's `msg`
/// debug log reports them ("encountered error: Broker: Not enough in-sync replicas"). A
/// producer retries such an error until `message.timeout.ms`, and then reports only that the
/// message timed out: this keeps what the broker said.
#[derive(Clone, Default)]
pub struct Refusals(Arc<Mutex<Vec<String>>>);

impl Refusals {
    /// How many have been heard so far.
    pub fn mark(&self) -> usize {
        self.0.lock().map_or(0, |r| r.len())
    }

    /// Those heard since `mark`.
    pub fn since(&self, mark: usize) -> Vec<String> {
        self.0.lock().map(|r| r.get(mark..).map(<[String]>::to_vec).unwrap_or_default()).unwrap_or_default()
    }

    fn hear(&self, message: &str) {
        let Some(at) = message.find("encountered error: ") else { return };
        let rest = &message[at + "encountered error: ".len()..];
        let error = rest.find(" (actions").map_or(rest, |end| &rest[..end]);
        if let Ok(mut heard) = self.0.lock() {
            if heard.len() < 10_000 {
                heard.push(error.to_string());
            }
        }
    }
}

impl Context {
    pub fn new(log: Option<Events>, secrets: Vec<String>) -> Self {
        Context { last_error: Arc::default(), log, secrets: Arc::new(secrets), meter: None, refusals: None }
    }

    /// The same context with a meter of its own, for one producer whose batches are counted.
    pub(super) fn measured(&self) -> Self {
        Context { meter: Some(Meter::new()), ..self.clone() }
    }

    pub(super) fn meter(&self) -> Option<&Meter> {
        self.meter.as_ref()
    }

    /// The same context keeping a record of refused batches (its producer logs `debug=msg`).
    pub(super) fn hearing_refusals(&self) -> Self {
        Context { refusals: Some(Refusals::default()), ..self.clone() }
    }

    pub(super) fn refusals(&self) -> Option<&Refusals> {
        self.refusals.as_ref()
    }

    /// `text` with every secret value masked.
    pub fn redact(&self, text: &str) -> String {
        crate::security::mask(text, &self.secrets)
    }

    pub fn clear(&self) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = None;
        }
    }

    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|last| last.clone())
    }

    fn remember(&self, reason: &str) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(self.redact(reason));
        }
    }
}

impl ClientContext for Context {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        if let Some(refusals) = &self.refusals {
            // Only for the refusals: the `msg` debug log is not passed on, even with --verbose.
            if fac == "MSGSET" {
                refusals.hear(message);
            }
            if matches!(level, RDKafkaLogLevel::Debug) {
                return;
            }
        }
        if let Some(log) = &self.log {
            log.log("librdkafka", format!("{level:?} {fac}: {}", self.redact(message)));
        }
        // Connection failures (refused, unresolvable, not Kafka at all) arrive as FAIL logs.
        let serious = matches!(
            level,
            RDKafkaLogLevel::Emerg
                | RDKafkaLogLevel::Alert
                | RDKafkaLogLevel::Critical
                | RDKafkaLogLevel::Error
                | RDKafkaLogLevel::Warning
        );
        if fac == "FAIL" && serious {
            self.remember(message);
        }
    }

    fn stats(&self, statistics: Statistics) {
        if let Some(meter) = &self.meter {
            meter.fold(&statistics);
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if let Some(log) = &self.log {
            log.log("librdkafka", format!("error {}: {}", self.redact(&error.to_string()), self.redact(reason)));
        }
        self.remember(reason);
    }
}

impl ConsumerContext for Context {}
