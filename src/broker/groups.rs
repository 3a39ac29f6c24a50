//! The embedded broker's consumer group coordinator: Apache Kafka's classic protocol, so that
//! rebalances take as long as they do on Kafka. Offsets are still tansu's.
//!
//! **Why not tansu's**: tansu 0.6.0's coordinator answers every JoinGroup at once, with no
//! barrier. To let the group's leader go first it makes every rejoining follower sleep 3 s
//! (`PAUSE_MS`), so a consumer joining a running group waited 3 s for its partitions (measured:
//! 3.22, 3.02 and 3.01 s), and every rebalance in a lesson or demo paid it. It also never told
//! the survivors of a crashed member to rejoin, and its DescribeGroups left every member's
//! client id, host and assignment empty.
//!
//! **What runs instead** (`state`): a JoinGroup waits until every current member has rejoined,
//! then all are answered at once; only a group that was empty waits a short initial delay.
//! Members that do not rejoin within the rebalance timeout are dropped. A follower's SyncGroup
//! waits for the leader's assignments. A member silent for longer than its session timeout is
//! removed, and the rest hear REBALANCE_IN_PROGRESS at their next heartbeat. Static members
//! (`group.instance.id`) that come back within their session get their partitions back with
//! no rebalance. DescribeGroups and ListGroups (`routes`) read the same state, with each
//! member's client id, host (from its connection), subscription and assignment.
//!
//! With `--bootstrap-servers` (a real Kafka) none of this is in play.

mod state;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use tansu_broker::coordinator::group::{Coordinator, OffsetCommit};
use tansu_broker::Result;
use tansu_sans_io::{
    describe_groups_response::{DescribedGroup, DescribedGroupMember},
    heartbeat_response::HeartbeatResponse,
    join_group_request::JoinGroupRequestProtocol,
    join_group_response::{JoinGroupResponse, JoinGroupResponseMember},
    leave_group_request::MemberIdentity,
    leave_group_response::{LeaveGroupResponse, MemberResponse},
    offset_fetch_request::{OffsetFetchRequestGroup, OffsetFetchRequestTopic},
    sync_group_request::SyncGroupRequestAssignment,
    sync_group_response::SyncGroupResponse,
    Body,
};
use tokio::sync::Notify;

use state::{code, Group, Join, JoinAnswer, Step};

/// DeleteGroups' answer for a group that still has members.
pub const NON_EMPTY_GROUP: i16 = code::NON_EMPTY_GROUP;

/// How often silent members are looked for, and rounds whose time is up are finished.
const TICK: Duration = Duration::from_millis(20);

/// Every group, shared by the coordinator (one clone per connection), the DescribeGroups and
/// ListGroups routes, and the task that expires silent members.
#[derive(Debug, Default)]
pub struct Groups {
    groups: Mutex<BTreeMap<String, Group>>,
    /// Woken whenever any group changes; waiting requests then look at their own.
    changed: Notify,
}

/// What the broker's routes read.
pub type Records = Arc<Groups>;

impl Groups {
    fn with<T>(&self, group_id: &str, f: impl FnOnce(&mut Group) -> T) -> T {
        let mut groups = self.groups.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(groups.entry(group_id.to_string()).or_default())
    }

    /// Look at every group: expire silent members, finish rounds whose time is up.
    fn tick(&self, now: Instant) {
        let mut changed = false;
        if let Ok(mut groups) = self.groups.lock() {
            for group in groups.values_mut() {
                changed |= !group.expire(now).is_empty();
                changed |= group.try_complete(now);
            }
        }
        if changed {
            self.changed.notify_waiters();
        }
    }

    /// Wait until `ready` gives an answer, looking again whenever a group changes and at least
    /// every tick (so a round whose time is up is finished even if nothing else happens).
    async fn wait_for<T>(&self, group_id: &str, mut ready: impl FnMut(&mut Group) -> Option<T>) -> T {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let found = self.with(group_id, |group| {
                group.try_complete(Instant::now());
                ready(group)
            });
            if let Some(answer) = found {
                self.changed.notify_waiters();
                return answer;
            }
            let _ = tokio::time::timeout(TICK, notified).await;
        }
    }

    /// The group as DescribeGroups tells it, if this coordinator knows it.
    pub fn describe(&self, group_id: &str) -> Option<DescribedGroup> {
        let groups = self.groups.lock().ok()?;
        let group = groups.get(group_id)?;
        let protocol = group.protocol.clone().unwrap_or_default();
        let mut members: Vec<&state::Member> = group.members.values().collect();
        members.sort_by_key(|m| m.since);
        let members = members
            .into_iter()
            .map(|m| {
                DescribedGroupMember::default()
                    .member_id(m.id.clone())
                    .group_instance_id(m.instance_id.clone())
                    .client_id(m.client_id.clone())
                    .client_host(m.host.clone())
                    .member_metadata(m.protocols.iter().find(|(p, _)| *p == protocol).map(|(_, b)| b.clone()).unwrap_or_default())
                    .member_assignment(m.assignment.clone())
            })
            .collect();
        Some(
            DescribedGroup::default()
                .error_code(code::NONE)
                .group_id(group_id.to_string())
                .group_state(group.phase.name().to_string())
                .protocol_type(group.protocol_type.clone().unwrap_or_default())
                .protocol_data(protocol)
                .members(Some(members))
                .authorized_operations(Some(-1)),
        )
    }

    /// Every group this coordinator knows, with its state.
    pub fn list(&self) -> Vec<(String, String, String)> {
        let Ok(groups) = self.groups.lock() else { return Vec::new() };
        groups
            .iter()
            .map(|(name, g)| (name.clone(), g.phase.name().to_string(), g.protocol_type.clone().unwrap_or_else(|| "consumer".into())))
            .collect()
    }

    /// Forget a group nobody is in (DeleteGroups); false while it has members.
    pub fn delete(&self, group_id: &str) -> bool {
        let Ok(mut groups) = self.groups.lock() else { return false };
        match groups.get(group_id) {
            Some(group) if !group.deletable() => false,
            _ => {
                groups.remove(group_id);
                true
            }
        }
    }
}

/// Expire silent members and finish timed-out rounds while the broker runs.
fn watch(groups: Weak<Groups>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        loop {
            tick.tick().await;
            let Some(groups) = groups.upgrade() else { return };
            groups.tick(Instant::now());
        }
    });
}

/// The coordinator for one client connection; offsets go to tansu's.
#[derive(Clone, Debug)]
pub struct GroupCoordinator<C> {
    offsets: C,
    groups: Records,
    /// The address of the client on this connection, reported as its members' host.
    peer: String,
}

impl<C: Clone> GroupCoordinator<C> {
    /// Start the coordinator (on the current tokio runtime); `offsets` keeps committed offsets.
    pub fn new(offsets: C) -> Self {
        let groups = Records::default();
        watch(Arc::downgrade(&groups));
        GroupCoordinator { offsets, groups, peer: String::new() }
    }

    /// This coordinator for one client connection.
    pub fn for_peer(&self, peer: std::net::SocketAddr) -> Self {
        GroupCoordinator { offsets: self.offsets.clone(), groups: Arc::clone(&self.groups), peer: format!("/{}", peer.ip()) }
    }

    /// What DescribeGroups, ListGroups and DeleteGroups need.
    pub fn records(&self) -> Records {
        Arc::clone(&self.groups)
    }
}

fn millis(ms: i32) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fn join_response(answer: JoinAnswer) -> Body {
    JoinGroupResponse::default()
        .throttle_time_ms(Some(0))
        .error_code(answer.error)
        .generation_id(answer.generation)
        .protocol_type(answer.protocol_type)
        .protocol_name(answer.protocol.or(Some(String::new())))
        .leader(answer.leader)
        .skip_assignment(Some(false))
        .member_id(answer.member_id)
        .members(Some(
            answer
                .members
                .into_iter()
                .map(|(id, instance, metadata)| {
                    JoinGroupResponseMember::default().member_id(id).group_instance_id(instance).metadata(metadata)
                })
                .collect(),
        ))
        .into()
}

#[async_trait]
impl<C: Coordinator> Coordinator for GroupCoordinator<C> {
    async fn join(
        &mut self,
        client_id: Option<&str>,
        group_id: &str,
        session_timeout_ms: i32,
        rebalance_timeout_ms: Option<i32>,
        member_id: &str,
        group_instance_id: Option<&str>,
        protocol_type: &str,
        protocols: Option<&[JoinGroupRequestProtocol]>,
        _reason: Option<&str>,
    ) -> Result<Body> {
        let join = Join {
            member_id: member_id.to_string(),
            instance_id: group_instance_id.map(str::to_string),
            client_id: client_id.unwrap_or_default().to_string(),
            host: self.peer.clone(),
            protocol_type: protocol_type.to_string(),
            protocols: protocols.unwrap_or_default().iter().map(|p| (p.name.clone(), p.metadata.clone())).collect(),
            session_timeout: millis(session_timeout_ms),
            rebalance_timeout: rebalance_timeout_ms.map_or(millis(session_timeout_ms), millis),
        };
        let step = self.groups.with(group_id, |group| group.join(Instant::now(), join));
        self.groups.changed.notify_waiters();
        let answer = match step {
            Step::Answer(answer) => answer,
            Step::Wait(member) => self.groups.wait_for(group_id, |group| group.take_answer(&member)).await,
        };
        Ok(join_response(answer))
    }

    async fn sync(
        &mut self,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        _group_instance_id: Option<&str>,
        _protocol_type: Option<&str>,
        _protocol_name: Option<&str>,
        assignments: Option<&[SyncGroupRequestAssignment]>,
    ) -> Result<Body> {
        let assignments: Vec<(String, Bytes)> =
            assignments.unwrap_or_default().iter().map(|a| (a.member_id.clone(), a.assignment.clone())).collect();
        let step = self.groups.with(group_id, |group| group.sync(Instant::now(), member_id, generation_id, &assignments));
        self.groups.changed.notify_waiters();
        let (error, assignment) = match step {
            Step::Answer(answer) => answer,
            Step::Wait(member) => self.groups.wait_for(group_id, |group| group.sync_answer(&member, generation_id)).await,
        };
        let (protocol_type, protocol_name) = self.groups.with(group_id, |g| (g.protocol_type.clone(), g.protocol.clone()));
        Ok(SyncGroupResponse::default()
            .throttle_time_ms(Some(0))
            .error_code(error)
            .protocol_type(protocol_type)
            .protocol_name(protocol_name)
            .assignment(assignment)
            .into())
    }

    async fn heartbeat(
        &mut self,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        _group_instance_id: Option<&str>,
    ) -> Result<Body> {
        let error = self.groups.with(group_id, |group| group.heartbeat(Instant::now(), member_id, generation_id));
        Ok(HeartbeatResponse::default().throttle_time_ms(Some(0)).error_code(error).into())
    }

    async fn leave(&mut self, group_id: &str, member_id: Option<&str>, members: Option<&[MemberIdentity]>) -> Result<Body> {
        let leaving: Vec<String> = member_id
            .map(str::to_string)
            .into_iter()
            .chain(members.unwrap_or_default().iter().map(|m| m.member_id.clone()))
            .collect();
        let results = self.groups.with(group_id, |group| group.leave(Instant::now(), &leaving));
        self.groups.changed.notify_waiters();
        let error = results.iter().map(|(_, e)| *e).find(|e| *e != code::NONE).unwrap_or(code::NONE);
        Ok(LeaveGroupResponse::default()
            .throttle_time_ms(Some(0))
            .error_code(if member_id.is_some() { error } else { code::NONE })
            .members(Some(results.into_iter().map(|(id, e)| MemberResponse::default().member_id(id).error_code(e)).collect()))
            .into())
    }

    async fn offset_commit(&mut self, detail: OffsetCommit<'_>) -> Result<Body> {
        self.offsets.offset_commit(detail).await
    }

    async fn offset_fetch(
        &mut self,
        group_id: Option<&str>,
        topics: Option<&[OffsetFetchRequestTopic]>,
        groups: Option<&[OffsetFetchRequestGroup]>,
        require_stable: Option<bool>,
    ) -> Result<Body> {
        self.offsets.offset_fetch(group_id, topics, groups, require_stable).await
    }
}
