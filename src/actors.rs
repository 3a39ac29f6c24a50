//! Live actors: consumers and producers that run while the prompt stays responsive, and the
//! shop's participants built on them. Each one reports what it does as `Event`s over a channel;
//! the front end prints them above the prompt. With the Kafka layer, the only place that
//! touches librdkafka.

pub mod consumer;
pub mod producer;
pub mod analyst;
pub mod cabinet;
pub mod shop;
