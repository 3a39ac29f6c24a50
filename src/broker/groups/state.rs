//! The classic consumer group protocol as Apache Kafka's coordinator runs it, as plain state:
//! no network, no waiting, every step given the time, so it is tested directly.
//!
//! A group is Empty, PreparingRebalance (collecting JoinGroups), CompletingRebalance (waiting
//! for the leader's SyncGroup) or Stable. A rebalance completes as soon as every current member
//! has rejoined; only a group that was empty waits a short initial delay for more members to
//! arrive. Members that do not rejoin within the rebalance timeout are dropped, and members
//! silent for longer than their session timeout are removed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;

/// How long a group that was empty waits for more members before its first assignment (Kafka's
/// `group.initial.rebalance.delay.ms`, 3 s by default there; short here, for a classroom). Each
/// new member during the wait starts it again, up to the rebalance timeout.
pub const INITIAL_DELAY: Duration = Duration::from_millis(100);

/// Kafka's error codes that the protocol answers with.
pub mod code {
    pub const NONE: i16 = 0;
    pub const ILLEGAL_GENERATION: i16 = 22;
    pub const INCONSISTENT_GROUP_PROTOCOL: i16 = 23;
    pub const UNKNOWN_MEMBER_ID: i16 = 25;
    pub const REBALANCE_IN_PROGRESS: i16 = 27;
    pub const NON_EMPTY_GROUP: i16 = 68;
    pub const MEMBER_ID_REQUIRED: i16 = 79;
}

#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub host: String,
    /// The assignors it offers, in its order of preference, each with its subscription.
    pub protocols: Vec<(String, Bytes)>,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    pub last_contact: Instant,
    /// What the leader assigned it in the current generation.
    pub assignment: Bytes,
    /// It has joined the rebalance under way.
    pub joined: bool,
    /// A request of it is waiting on the group (a JoinGroup or SyncGroup): it cannot heartbeat
    /// meanwhile, so its session does not run out.
    pub waiting: bool,
    /// When it first joined the group, to choose a leader as Kafka does: the first to join.
    pub since: u64,
}

impl Member {
    fn metadata(&self, protocol: &str) -> Option<&Bytes> {
        self.protocols.iter().find(|(name, _)| name == protocol).map(|(_, metadata)| metadata)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Empty,
    Preparing { deadline: Instant, initial: bool },
    Completing,
    Stable,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Empty => "Empty",
            Phase::Preparing { .. } => "PreparingRebalance",
            Phase::Completing => "CompletingRebalance",
            Phase::Stable => "Stable",
        }
    }
}

/// What a JoinGroup gets: the group's generation, its assignor and leader, and for the leader
/// every member with its subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinAnswer {
    pub error: i16,
    pub generation: i32,
    pub protocol_type: Option<String>,
    pub protocol: Option<String>,
    pub leader: String,
    pub member_id: String,
    pub members: Vec<(String, Option<String>, Bytes)>,
}

impl JoinAnswer {
    fn error(error: i16, member_id: &str) -> Self {
        JoinAnswer {
            error,
            generation: -1,
            protocol_type: None,
            protocol: None,
            leader: String::new(),
            member_id: member_id.to_string(),
            members: Vec::new(),
        }
    }
}

/// What a JoinGroup asks.
#[derive(Debug, Clone)]
pub struct Join {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub host: String,
    pub protocol_type: String,
    pub protocols: Vec<(String, Bytes)>,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
}

/// A JoinGroup or SyncGroup is answered now, or waits for the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<T> {
    Answer(T),
    /// Wait; the member id is the one to look for (a new static member is given one).
    Wait(String),
}

#[derive(Debug, Clone)]
pub struct Group {
    pub phase: Phase,
    pub generation: i32,
    pub protocol_type: Option<String>,
    pub protocol: Option<String>,
    pub leader: Option<String>,
    pub members: BTreeMap<String, Member>,
    /// Join answers of the round that completed, until each member takes its own.
    pub answers: BTreeMap<String, JoinAnswer>,
    joins: u64,
}

impl Default for Group {
    fn default() -> Self {
        Group {
            phase: Phase::Empty,
            generation: 0,
            protocol_type: None,
            protocol: None,
            leader: None,
            members: BTreeMap::new(),
            answers: BTreeMap::new(),
            joins: 0,
        }
    }
}

impl Group {
    /// A JoinGroup.
    pub fn join(&mut self, now: Instant, join: Join) -> Step<JoinAnswer> {
        if self.protocol_type.as_ref().is_some_and(|t| *t != join.protocol_type && !self.members.is_empty())
            || (!self.members.is_empty() && !self.common_protocols_with(&join.protocols))
        {
            return Step::Answer(JoinAnswer::error(code::INCONSISTENT_GROUP_PROTOCOL, &join.member_id));
        }
        let static_id = join.instance_id.as_ref().and_then(|instance| {
            self.members.values().find(|m| m.instance_id.as_ref() == Some(instance)).map(|m| m.id.clone())
        });
        let member_id = match (join.member_id.is_empty(), &join.instance_id, static_id) {
            (true, Some(_), Some(known)) => known,
            (true, Some(instance), None) => format!("{instance}-{}", uuid::Uuid::new_v4()),
            (true, None, _) => {
                // The client must ask again with this id (JoinGroup v4 and later).
                let id = format!("{}-{}", join.client_id, uuid::Uuid::new_v4());
                return Step::Answer(JoinAnswer::error(code::MEMBER_ID_REQUIRED, &id));
            }
            (false, _, _) => join.member_id.clone(),
        };
        let known = self.members.get(&member_id).map(|m| (m.protocols.clone(), m.since, m.assignment.clone()));
        let is_new = known.is_none();
        let changed = known.as_ref().is_none_or(|(protocols, _, _)| *protocols != join.protocols);
        let steady = matches!(self.phase, Phase::Stable | Phase::Completing);
        // A static member back within its session, or a follower whose subscription did not
        // change, is told the current generation: no rebalance.
        if steady && !changed && (join.instance_id.is_some() || self.leader.as_ref() != Some(&member_id)) {
            let member = self.members.get_mut(&member_id).expect("known");
            member.last_contact = now;
            member.client_id = join.client_id;
            member.host = join.host;
            return Step::Answer(self.answer_for(&member_id));
        }
        self.joins += 1;
        let (since, assignment) = known.map_or((self.joins, Bytes::new()), |(_, since, assignment)| (since, assignment));
        self.members.insert(
            member_id.clone(),
            Member {
                id: member_id.clone(),
                instance_id: join.instance_id,
                client_id: join.client_id,
                host: join.host,
                protocols: join.protocols,
                session_timeout: join.session_timeout,
                rebalance_timeout: join.rebalance_timeout,
                last_contact: now,
                assignment,
                joined: true,
                waiting: true,
                since,
            },
        );
        self.protocol_type = Some(join.protocol_type);
        // An answer from an earlier round that this member never took is not for this join.
        self.answers.remove(&member_id);
        self.phase = match self.phase {
            Phase::Empty => Phase::Preparing { deadline: now + INITIAL_DELAY, initial: true },
            Phase::Preparing { initial: true, .. } if is_new => {
                Phase::Preparing { deadline: now + INITIAL_DELAY.min(join.rebalance_timeout), initial: true }
            }
            Phase::Preparing { deadline, initial } => Phase::Preparing { deadline, initial },
            Phase::Stable | Phase::Completing => Phase::Preparing { deadline: now + self.rebalance_timeout(), initial: false },
        };
        self.try_complete(now);
        Step::Wait(member_id)
    }

    /// Whether a member offering `protocols` shares an assignor with every member.
    fn common_protocols_with(&self, protocols: &[(String, Bytes)]) -> bool {
        protocols.iter().any(|(name, _)| self.members.values().all(|m| m.metadata(name).is_some()))
    }

    fn rebalance_timeout(&self) -> Duration {
        self.members.values().map(|m| m.rebalance_timeout).max().unwrap_or(Duration::from_secs(60))
    }

    /// The current generation as one member should hear it.
    fn answer_for(&self, member_id: &str) -> JoinAnswer {
        let leader = self.leader.clone().unwrap_or_default();
        let members = if leader == member_id {
            let protocol = self.protocol.as_deref().unwrap_or_default();
            let mut members: Vec<&Member> = self.members.values().collect();
            members.sort_by_key(|m| m.since);
            members.iter().map(|m| (m.id.clone(), m.instance_id.clone(), m.metadata(protocol).cloned().unwrap_or_default())).collect()
        } else {
            Vec::new()
        };
        JoinAnswer {
            error: code::NONE,
            generation: self.generation,
            protocol_type: self.protocol_type.clone(),
            protocol: self.protocol.clone(),
            leader,
            member_id: member_id.to_string(),
            members,
        }
    }

    /// Finish the rebalance under way if every member has rejoined (after the initial delay for
    /// a group that was empty), or if its time is up, dropping those that did not rejoin.
    /// Returns whether anything changed.
    pub fn try_complete(&mut self, now: Instant) -> bool {
        let Phase::Preparing { deadline, initial } = self.phase else { return false };
        let all_joined = self.members.values().all(|m| m.joined);
        if !(now >= deadline || (all_joined && !initial)) {
            return false;
        }
        self.members.retain(|_, m| m.joined);
        if self.members.is_empty() {
            self.become_empty();
            return true;
        }
        self.generation += 1;
        let first = self.members.values().min_by_key(|m| m.since).map(|m| m.id.clone()).unwrap_or_default();
        self.protocol = self.members[&first]
            .protocols
            .iter()
            .map(|(name, _)| name.clone())
            .find(|name| self.members.values().all(|m| m.metadata(name).is_some()));
        if !self.leader.as_ref().is_some_and(|l| self.members.contains_key(l)) {
            self.leader = Some(first);
        }
        self.phase = Phase::Completing;
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in ids {
            let answer = self.answer_for(&id);
            self.answers.insert(id.clone(), answer);
            if let Some(member) = self.members.get_mut(&id) {
                member.joined = false;
                member.assignment = Bytes::new();
                member.last_contact = now;
            }
        }
        true
    }

    fn become_empty(&mut self) {
        self.phase = Phase::Empty;
        self.leader = None;
        self.protocol = None;
        self.answers.clear();
    }

    /// A JoinGroup waiting on the group takes its answer, once the round it joined completed.
    pub fn take_answer(&mut self, member_id: &str) -> Option<JoinAnswer> {
        let answer = self.answers.remove(member_id)?;
        if let Some(member) = self.members.get_mut(member_id) {
            member.waiting = false;
        }
        Some(answer)
    }

    /// A SyncGroup: the leader's carries everyone's assignment; the others wait for it.
    pub fn sync(&mut self, now: Instant, member_id: &str, generation: i32, assignments: &[(String, Bytes)]) -> Step<(i16, Bytes)> {
        let Some(member) = self.members.get_mut(member_id) else { return Step::Answer((code::UNKNOWN_MEMBER_ID, Bytes::new())) };
        member.last_contact = now;
        if generation != self.generation {
            return Step::Answer((code::ILLEGAL_GENERATION, Bytes::new()));
        }
        match self.phase {
            Phase::Empty | Phase::Preparing { .. } => Step::Answer((code::REBALANCE_IN_PROGRESS, Bytes::new())),
            Phase::Completing if self.leader.as_deref() == Some(member_id) => {
                for (id, assignment) in assignments {
                    if let Some(member) = self.members.get_mut(id) {
                        member.assignment = assignment.clone();
                    }
                }
                // The followers' JoinGroup answers stay until each takes its own: a follower
                // whose answer the leader's SyncGroup overtook still needs it.
                self.phase = Phase::Stable;
                Step::Answer((code::NONE, self.members[member_id].assignment.clone()))
            }
            Phase::Completing => {
                member.waiting = true;
                Step::Wait(member_id.to_string())
            }
            Phase::Stable => Step::Answer((code::NONE, member.assignment.clone())),
        }
    }

    /// A SyncGroup waiting for the leader's: its answer once the generation it synced is Stable,
    /// or REBALANCE_IN_PROGRESS once another rebalance has begun.
    pub fn sync_answer(&mut self, member_id: &str, generation: i32) -> Option<(i16, Bytes)> {
        let answer = match (self.phase, self.members.get(member_id)) {
            (_, None) => (code::UNKNOWN_MEMBER_ID, Bytes::new()),
            (_, Some(_)) if self.generation != generation => (code::REBALANCE_IN_PROGRESS, Bytes::new()),
            (Phase::Stable, Some(member)) => (code::NONE, member.assignment.clone()),
            (Phase::Empty | Phase::Preparing { .. }, Some(_)) => (code::REBALANCE_IN_PROGRESS, Bytes::new()),
            (Phase::Completing, Some(_)) => return None,
        };
        if let Some(member) = self.members.get_mut(member_id) {
            member.waiting = false;
        }
        Some(answer)
    }

    /// A Heartbeat's error code.
    pub fn heartbeat(&mut self, now: Instant, member_id: &str, generation: i32) -> i16 {
        let phase = self.phase;
        let current = self.generation;
        let Some(member) = self.members.get_mut(member_id) else { return code::UNKNOWN_MEMBER_ID };
        member.last_contact = now;
        match phase {
            Phase::Preparing { .. } => code::REBALANCE_IN_PROGRESS,
            _ if generation != current => code::ILLEGAL_GENERATION,
            _ => code::NONE,
        }
    }

    /// Members leave (a graceful close): each gets its error code. The others rebalance.
    pub fn leave(&mut self, now: Instant, members: &[String]) -> Vec<(String, i16)> {
        let results = members
            .iter()
            .map(|id| (id.clone(), if self.members.remove(id).is_some() { code::NONE } else { code::UNKNOWN_MEMBER_ID }))
            .collect::<Vec<_>>();
        if results.iter().any(|(_, code)| *code == code::NONE) {
            self.members_changed(now);
        }
        results
    }

    /// Remove members silent for longer than their session timeout (those waiting on the group
    /// cannot speak, so they are not); returns them.
    pub fn expire(&mut self, now: Instant) -> Vec<String> {
        let expired: Vec<String> = self
            .members
            .values()
            .filter(|m| !m.waiting && now.saturating_duration_since(m.last_contact) > m.session_timeout)
            .map(|m| m.id.clone())
            .collect();
        if !expired.is_empty() {
            for id in &expired {
                self.members.remove(id);
            }
            self.members_changed(now);
        }
        expired
    }

    /// After members went away: the rest rejoin (they hear it at their next heartbeat), or the
    /// group is empty.
    fn members_changed(&mut self, now: Instant) {
        if self.members.is_empty() {
            self.become_empty();
            return;
        }
        if let Some(leader) = &self.leader {
            if !self.members.contains_key(leader) {
                self.leader = None;
            }
        }
        match self.phase {
            Phase::Stable | Phase::Completing => {
                for member in self.members.values_mut() {
                    member.joined = false;
                }
                self.answers.clear();
                self.phase = Phase::Preparing { deadline: now + self.rebalance_timeout(), initial: false };
            }
            Phase::Preparing { .. } => {
                self.try_complete(now);
            }
            Phase::Empty => {}
        }
    }

    /// Whether the group can be deleted (it has no members).
    pub fn deletable(&self) -> bool {
        self.members.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn join(member: &str, protocols: &[&str]) -> Join {
        Join {
            member_id: member.to_string(),
            instance_id: None,
            client_id: "c".into(),
            host: "/127.0.0.1".into(),
            protocol_type: "consumer".into(),
            protocols: protocols.iter().map(|p| (p.to_string(), Bytes::from_static(b"sub"))).collect(),
            session_timeout: 6 * SECOND,
            rebalance_timeout: 300 * SECOND,
        }
    }

    /// A member joined and synced as the leader would: the group is Stable.
    fn stable(group: &mut Group, now: Instant, members: &[&str]) {
        for member in members {
            assert!(matches!(group.join(now, join(member, &["range"])), Step::Wait(_)));
        }
        assert!(group.try_complete(now + INITIAL_DELAY));
        for member in members {
            group.take_answer(member).unwrap();
        }
        let leader = group.leader.clone().unwrap();
        let assignments: Vec<(String, Bytes)> = members.iter().map(|m| (m.to_string(), Bytes::from(m.to_string()))).collect();
        assert!(matches!(group.sync(now, &leader, group.generation, &assignments), Step::Answer((code::NONE, _))));
        assert_eq!(group.phase, Phase::Stable);
    }

    #[test]
    fn a_new_member_must_ask_again_with_the_id_it_is_given() {
        let mut group = Group::default();
        let Step::Answer(answer) = group.join(Instant::now(), join("", &["range"])) else { panic!() };
        assert_eq!(answer.error, code::MEMBER_ID_REQUIRED);
        assert!(answer.member_id.starts_with("c-"));
    }

    #[test]
    fn an_empty_group_waits_the_initial_delay_then_the_first_member_leads() {
        let now = Instant::now();
        let mut group = Group::default();
        assert!(matches!(group.join(now, join("a", &["range"])), Step::Wait(_)));
        assert!(matches!(group.join(now, join("b", &["range"])), Step::Wait(_)));
        assert!(!group.try_complete(now + INITIAL_DELAY / 2), "still in the initial delay");
        assert!(group.try_complete(now + INITIAL_DELAY));
        let a = group.take_answer("a").unwrap();
        let b = group.take_answer("b").unwrap();
        assert_eq!((a.leader.as_str(), a.members.len(), b.members.len(), a.generation), ("a", 2, 0, 1));
    }

    #[test]
    fn a_joiner_completes_the_rebalance_as_soon_as_every_member_rejoined() {
        let now = Instant::now();
        let mut group = Group::default();
        stable(&mut group, now, &["a", "b"]);
        // c joins: a rebalance starts, and the others hear it at their next heartbeat.
        assert!(matches!(group.join(now, join("c", &["range"])), Step::Wait(_)));
        assert_eq!(group.heartbeat(now, "a", 1), code::REBALANCE_IN_PROGRESS);
        assert!(matches!(group.join(now, join("a", &["range"])), Step::Wait(_)));
        assert!(group.take_answer("c").is_none(), "b has not rejoined yet");
        // The last one back completes it at once: no delay, no timeout.
        assert!(matches!(group.join(now, join("b", &["range"])), Step::Wait(_)));
        let a = group.take_answer("a").unwrap();
        assert_eq!((a.generation, a.leader.as_str(), a.members.len()), (2, "a", 3));
        assert_eq!(group.phase, Phase::Completing);
        // A follower's sync waits for the leader's.
        assert_eq!(group.sync(now, "c", 2, &[]), Step::Wait("c".into()));
        assert_eq!(group.sync_answer("c", 2), None);
        group.sync(now, "a", 2, &[("c".into(), Bytes::from_static(b"p2"))]);
        assert_eq!(group.sync_answer("c", 2), Some((code::NONE, Bytes::from_static(b"p2"))));
    }

    #[test]
    fn a_follower_overtaken_by_the_leaders_sync_still_gets_its_answer_and_assignment() {
        // Seen under load: the leader took its answer and synced before the follower's waiting
        // JoinGroup looked again. The follower's answer must still be there.
        let now = Instant::now();
        let mut group = Group::default();
        assert!(matches!(group.join(now, join("a", &["range"])), Step::Wait(_)));
        assert!(matches!(group.join(now, join("b", &["range"])), Step::Wait(_)));
        assert!(group.try_complete(now + INITIAL_DELAY));
        let leader = group.take_answer("a").unwrap();
        let assignments = [("a".to_string(), Bytes::from_static(b"p0")), ("b".to_string(), Bytes::from_static(b"p1"))];
        assert!(matches!(group.sync(now, "a", leader.generation, &assignments), Step::Answer((code::NONE, _))));
        let follower = group.take_answer("b").expect("b's JoinGroup is answered");
        assert_eq!(follower.generation, leader.generation);
        assert_eq!(group.sync(now, "b", follower.generation, &[]), Step::Answer((code::NONE, Bytes::from_static(b"p1"))));
    }

    #[test]
    fn members_that_do_not_rejoin_in_time_are_dropped() {
        let now = Instant::now();
        let mut group = Group::default();
        stable(&mut group, now, &["a", "b"]);
        group.join(now, join("c", &["range"]));
        group.join(now, join("a", &["range"]));
        assert!(!group.try_complete(now + 10 * SECOND));
        assert!(group.try_complete(now + 301 * SECOND), "the rebalance timeout is up");
        assert!(!group.members.contains_key("b"));
    }

    #[test]
    fn a_silent_member_is_removed_after_its_session_times_out_and_the_rest_rebalance() {
        let now = Instant::now();
        let mut group = Group::default();
        stable(&mut group, now, &["a", "b"]);
        assert_eq!(group.heartbeat(now + 5 * SECOND, "a", 1), code::NONE);
        assert!(group.expire(now + 6 * SECOND).is_empty());
        assert_eq!(group.expire(now + 7 * SECOND), ["b"]);
        assert_eq!(group.heartbeat(now + 7 * SECOND, "a", 1), code::REBALANCE_IN_PROGRESS);
        group.join(now + 7 * SECOND, join("a", &["range"]));
        assert_eq!(group.take_answer("a").unwrap().generation, 2, "alone, a completes it at once");
    }

    #[test]
    fn a_graceful_leave_rebalances_the_rest_and_the_last_leaves_it_empty() {
        let now = Instant::now();
        let mut group = Group::default();
        stable(&mut group, now, &["a", "b"]);
        assert_eq!(group.leave(now, &["b".into()]), [("b".to_string(), code::NONE)]);
        assert_eq!(group.phase.name(), "PreparingRebalance");
        group.leave(now, &["a".into()]);
        assert_eq!((group.phase, group.members.len()), (Phase::Empty, 0));
        assert!(group.deletable());
    }

    #[test]
    fn a_static_member_back_within_its_session_causes_no_rebalance() {
        let now = Instant::now();
        let mut group = Group::default();
        let mut first = join("", &["range"]);
        first.instance_id = Some("preparer-1".into());
        let Step::Wait(id) = group.join(now, first.clone()) else { panic!() };
        group.try_complete(now + INITIAL_DELAY);
        group.take_answer(&id).unwrap();
        group.sync(now, &id, 1, &[(id.clone(), Bytes::from_static(b"all"))]);
        // It restarts: no member id, the same instance id.
        let Step::Answer(answer) = group.join(now + SECOND, first) else { panic!("no rebalance for a static rejoin") };
        assert_eq!((answer.member_id, answer.generation, group.phase), (id, 1, Phase::Stable));
    }

    #[test]
    fn a_member_with_no_assignor_in_common_is_refused() {
        let now = Instant::now();
        let mut group = Group::default();
        stable(&mut group, now, &["a"]);
        let Step::Answer(answer) = group.join(now, join("x", &["roundrobin"])) else { panic!() };
        assert_eq!(answer.error, code::INCONSISTENT_GROUP_PROTOCOL);
    }
}
