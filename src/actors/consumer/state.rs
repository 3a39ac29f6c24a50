//! What a consumer actor shares with the session: its status, what it holds and has handed
//! over, read by `consumers`, `expect`, the picture and the tests.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::outcome::{Partitions, Record};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running,
    Stopped,
    Killed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Stopped => "stopped",
            Status::Killed => "killed",
        }
    }
}

/// What the actor shares with the session: read by `consumers`, `expect` and the tests.
#[derive(Debug, Clone)]
pub struct ConsumerState {
    pub status: Status,
    pub assignment: Partitions,
    /// Messages handed to the learner since the consumer started.
    pub received: u64,
    /// Next offset to hand over, per (topic, partition), once known.
    pub positions: BTreeMap<(String, i32), i64>,
    /// The member id the group coordinator gave this consumer.
    pub member_id: Option<String>,
    /// The group's generation at this consumer's latest assignment.
    pub generation: Option<i32>,
    /// When it was killed, for the countdown to its session timeout.
    pub killed_at: Option<Instant>,
    /// Between joining (or giving partitions up in a rebalance) and its next assignment.
    pub joining: bool,
    /// Until when it does not poll (stall-consumer), as a stuck message handler would.
    pub stalled_until: Option<Instant>,
    /// What it held when it last stopped or was killed (`assignment` is then empty).
    pub last_assignment: Partitions,
    /// The subscribed topics the cluster does not have: with none of them there, librdkafka
    /// stays out of the group and waits, holding nothing.
    pub waiting_for: Vec<String>,
    /// Every topic it has been assigned partitions of, to tell a deleted topic from a new one.
    pub(super) topics_read: std::collections::BTreeSet<String>,
    pub(super) buffer: VecDeque<Record>,
    pub(super) lost_cluster: bool,
}

impl ConsumerState {
    pub(super) fn new() -> Self {
        ConsumerState {
            status: Status::Running,
            assignment: Partitions::new(),
            received: 0,
            positions: BTreeMap::new(),
            member_id: None,
            generation: None,
            killed_at: None,
            joining: true,
            stalled_until: None,
            waiting_for: Vec::new(),
            last_assignment: Partitions::new(),
            topics_read: std::collections::BTreeSet::new(),
            buffer: VecDeque::new(),
            lost_cluster: false,
        }
    }

    /// How much longer it stays stalled, if it is.
    pub fn stalled_for(&self) -> Option<Duration> {
        self.stalled_until.and_then(|until| until.checked_duration_since(Instant::now())).filter(|d| !d.is_zero())
    }

    pub(super) fn drop_buffered(&mut self, partitions: &Partitions) {
        self.buffer.retain(|r| !partitions.get(&r.topic).is_some_and(|ids| ids.contains(&r.partition)));
    }
}
