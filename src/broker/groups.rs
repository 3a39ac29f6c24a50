//! Makes tansu 0.6.0's group coordinator notice a crashed member and tell the survivors.
//!
//! **The defect**: tansu's coordinator drops a member whose session timed out, but the group is
//! then `Forming` and answers the survivors' heartbeats with NONE, so no one rejoins and nothing
//! is reassigned. Measured: 60 s after a crash (6 s session timeout) the survivor still owned
//! only its own partition. A real Kafka coordinator answers REBALANCE_IN_PROGRESS instead.
//!
//! **The fix**: this wrapper delegates every call to the inner coordinator and also keeps each
//! member's last contact (join, sync, heartbeat) and the group's session timeout. On any
//! heartbeat it evicts members silent for longer than the session timeout, by calling the inner
//! `leave` on their behalf (what Kafka does on expiry), then answers each survivor's heartbeats
//! with REBALANCE_IN_PROGRESS until that survivor has joined again. Survivors are tracked by
//! member, not by generation: tansu keeps the generation number when the group re-forms, so a
//! generation test would send them round again and again. One crash costs exactly one rebalance.
//!
//! **Who owns what**: tansu's DescribeGroups leaves each member's client id, host, subscription
//! and assignment empty, so no tool can show who owns a partition. The wrapper sees all of them
//! (the client id and subscription at JoinGroup, the host from the connection, the leader's
//! assignments at SyncGroup) and keeps them in `Records`; `routes` answers DescribeGroups with
//! them, as Apache Kafka does.
//!
//! With `--bootstrap-servers` (a real Kafka) none of this is in play.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tansu_broker::coordinator::group::{Coordinator, OffsetCommit};
use tansu_broker::Result;
use bytes::Bytes;
use tansu_sans_io::{
    describe_groups_response::DescribedGroup,
    heartbeat_response::HeartbeatResponse,
    join_group_request::JoinGroupRequestProtocol,
    join_group_response::JoinGroupResponse,
    leave_group_request::MemberIdentity,
    offset_fetch_request::{OffsetFetchRequestGroup, OffsetFetchRequestTopic},
    sync_group_request::SyncGroupRequestAssignment,
    Body, ErrorCode,
};

/// What a member told the coordinator about itself, and what the leader gave it.
#[derive(Debug, Clone, Default)]
struct Member {
    client_id: String,
    host: String,
    /// Its subscription for each assignor it offered, by assignor name.
    metadata: BTreeMap<String, Bytes>,
    /// Its partitions, as the leader's SyncGroup encoded them.
    assignment: Bytes,
}

/// What the wrapper knows about one group.
#[derive(Debug, Default)]
struct GroupWatch {
    session_timeout: Duration,
    /// member id → last contact.
    last_contact: BTreeMap<String, Instant>,
    /// Survivors of an eviction that have not joined again yet.
    must_rejoin: BTreeSet<String>,
    members: BTreeMap<String, Member>,
    /// The assignor the group settled on.
    protocol: Option<String>,
}

impl GroupWatch {
    /// Members silent for longer than the session timeout, removed from the watch.
    fn take_expired(&mut self, now: Instant) -> Vec<String> {
        let timeout = self.session_timeout;
        let expired: Vec<String> = self
            .last_contact
            .iter()
            .filter(|(_, seen)| now.duration_since(**seen) > timeout)
            .map(|(member, _)| member.clone())
            .collect();
        for member in &expired {
            self.last_contact.remove(member);
        }
        expired
    }
}

/// Every group's watch, shared by the coordinator wrapper (which writes it) and the
/// DescribeGroups service (which reads it).
#[derive(Clone, Debug, Default)]
pub struct Records(Arc<Mutex<BTreeMap<String, GroupWatch>>>);

impl Records {
    /// Fill in what tansu leaves empty in a described group: each member's client id, host,
    /// subscription and assignment, and the group's assignor.
    pub fn describe(&self, group: &mut DescribedGroup) {
        let Ok(groups) = self.0.lock() else { return };
        let Some(watch) = groups.get(&group.group_id) else { return };
        if let Some(protocol) = &watch.protocol {
            group.protocol_data = protocol.clone();
        }
        for member in group.members.iter_mut().flatten() {
            let Some(known) = watch.members.get(&member.member_id) else { continue };
            member.client_id = known.client_id.clone();
            member.client_host = known.host.clone();
            member.member_assignment = known.assignment.clone();
            if let Some(metadata) = watch.protocol.as_ref().and_then(|p| known.metadata.get(p)) {
                member.member_metadata = metadata.clone();
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct CrashAwareCoordinator<C> {
    inner: C,
    groups: Records,
    /// The address of the client on this connection, reported as its members' host.
    peer: String,
}

impl<C: Clone> CrashAwareCoordinator<C> {
    pub fn new(inner: C) -> Self {
        CrashAwareCoordinator { inner, groups: Records::default(), peer: String::new() }
    }

    /// This coordinator for one client connection.
    pub fn for_peer(&self, peer: std::net::SocketAddr) -> Self {
        CrashAwareCoordinator { inner: self.inner.clone(), groups: self.groups.clone(), peer: format!("/{}", peer.ip()) }
    }

    /// What DescribeGroups needs from the coordinator.
    pub fn records(&self) -> Records {
        self.groups.clone()
    }
}

impl<C> CrashAwareCoordinator<C> {
    fn with_watch<T>(&self, group_id: &str, f: impl FnOnce(&mut GroupWatch) -> T) -> Option<T> {
        self.groups.0.lock().ok().map(|mut groups| f(groups.entry(group_id.to_string()).or_default()))
    }

    fn touch(&self, group_id: &str, member_id: &str) {
        if member_id.is_empty() {
            return;
        }
        self.with_watch(group_id, |watch| watch.last_contact.insert(member_id.to_string(), Instant::now()));
    }

    fn forget(&self, group_id: &str, member_id: &str) {
        self.with_watch(group_id, |watch| {
            watch.last_contact.remove(member_id);
            watch.must_rejoin.remove(member_id);
            watch.members.remove(member_id);
        });
    }

    /// Members of `group_id` whose session expired; every remaining member must then rejoin.
    fn expire(&self, group_id: &str) -> Vec<String> {
        let Ok(mut groups) = self.groups.0.lock() else { return Vec::new() };
        let Some(watch) = groups.get_mut(group_id) else { return Vec::new() };
        let expired = watch.take_expired(Instant::now());
        for member in &expired {
            watch.members.remove(member);
        }
        if !expired.is_empty() {
            let survivors: Vec<String> = watch.last_contact.keys().cloned().collect();
            watch.must_rejoin.extend(survivors);
        }
        expired
    }

    /// Whether this member's heartbeat must be answered with REBALANCE_IN_PROGRESS.
    fn must_rejoin(&self, group_id: &str, member_id: &str) -> bool {
        self.groups.0.lock().is_ok_and(|groups| groups.get(group_id).is_some_and(|w| w.must_rejoin.contains(member_id)))
    }

    fn rejoined(&self, group_id: &str, member_id: &str) {
        self.with_watch(group_id, |watch| watch.must_rejoin.remove(member_id));
    }

    /// A member as it joined: its client id, this connection's host, and what it subscribes to.
    fn joined(&self, group_id: &str, member_id: &str, client_id: Option<&str>, protocols: Option<&[JoinGroupRequestProtocol]>) {
        let host = self.peer.clone();
        self.with_watch(group_id, |watch| {
            let member = watch.members.entry(member_id.to_string()).or_default();
            member.client_id = client_id.unwrap_or_default().to_string();
            member.host = host;
            member.metadata = protocols.unwrap_or_default().iter().map(|p| (p.name.clone(), p.metadata.clone())).collect();
        });
    }

    /// The leader's assignments, and the assignor the group uses.
    fn synced(&self, group_id: &str, protocol: Option<&str>, assignments: Option<&[SyncGroupRequestAssignment]>) {
        self.with_watch(group_id, |watch| {
            if let Some(protocol) = protocol {
                watch.protocol = Some(protocol.to_string());
            }
            for assignment in assignments.unwrap_or_default() {
                watch.members.entry(assignment.member_id.clone()).or_default().assignment = assignment.assignment.clone();
            }
        });
    }
}

#[async_trait]
impl<C: Coordinator> Coordinator for CrashAwareCoordinator<C> {
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
        reason: Option<&str>,
    ) -> Result<Body> {
        let timeout = Duration::from_millis(u64::try_from(session_timeout_ms).unwrap_or(45_000));
        self.with_watch(group_id, |watch| watch.session_timeout = timeout);
        self.touch(group_id, member_id);
        self.rejoined(group_id, member_id);
        let body = self
            .inner
            .join(
                client_id,
                group_id,
                session_timeout_ms,
                rebalance_timeout_ms,
                member_id,
                group_instance_id,
                protocol_type,
                protocols,
                reason,
            )
            .await?;
        if let Body::JoinGroupResponse(JoinGroupResponse { member_id: assigned, protocol_name, .. }) = &body {
            self.touch(group_id, assigned);
            if !assigned.is_empty() {
                self.joined(group_id, assigned, client_id, protocols);
            }
            // The assignor the coordinator chose, which SyncGroup may not repeat.
            if let Some(protocol) = protocol_name.as_deref().filter(|p| !p.is_empty()) {
                self.synced(group_id, Some(protocol), None);
            }
        }
        Ok(body)
    }

    async fn sync(
        &mut self,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        group_instance_id: Option<&str>,
        protocol_type: Option<&str>,
        protocol_name: Option<&str>,
        assignments: Option<&[SyncGroupRequestAssignment]>,
    ) -> Result<Body> {
        self.touch(group_id, member_id);
        self.synced(group_id, protocol_name, assignments);
        self.inner
            .sync(group_id, generation_id, member_id, group_instance_id, protocol_type, protocol_name, assignments)
            .await
    }

    async fn heartbeat(
        &mut self,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        group_instance_id: Option<&str>,
    ) -> Result<Body> {
        self.touch(group_id, member_id);
        for expired in self.expire(group_id) {
            // What Kafka's coordinator does when a session expires: the member leaves.
            let _ = self.inner.leave(group_id, Some(&expired), None).await;
        }
        let body = self.inner.heartbeat(group_id, generation_id, member_id, group_instance_id).await?;
        if self.must_rejoin(group_id, member_id) {
            return Ok(HeartbeatResponse::default()
                .throttle_time_ms(Some(0))
                .error_code(ErrorCode::RebalanceInProgress.into())
                .into());
        }
        Ok(body)
    }

    async fn leave(
        &mut self,
        group_id: &str,
        member_id: Option<&str>,
        members: Option<&[MemberIdentity]>,
    ) -> Result<Body> {
        if let Some(member) = member_id {
            self.forget(group_id, member);
        }
        for member in members.unwrap_or_default() {
            self.forget(group_id, &member.member_id);
        }
        self.inner.leave(group_id, member_id, members).await
    }

    async fn offset_commit(&mut self, detail: OffsetCommit<'_>) -> Result<Body> {
        self.inner.offset_commit(detail).await
    }

    async fn offset_fetch(
        &mut self,
        group_id: Option<&str>,
        topics: Option<&[OffsetFetchRequestTopic]>,
        groups: Option<&[OffsetFetchRequestGroup]>,
        require_stable: Option<bool>,
    ) -> Result<Body> {
        self.inner.offset_fetch(group_id, topics, groups, require_stable).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_members_silent_past_the_timeout_expire() {
        let now = Instant::now();
        let mut watch = GroupWatch { session_timeout: Duration::from_secs(6), ..GroupWatch::default() };
        watch.last_contact.insert("alive".into(), now - Duration::from_secs(2));
        watch.last_contact.insert("crashed".into(), now - Duration::from_secs(7));
        assert_eq!(watch.take_expired(now), vec!["crashed".to_string()]);
        assert_eq!(watch.last_contact.keys().collect::<Vec<_>>(), vec!["alive"]);
        assert!(watch.take_expired(now).is_empty(), "an evicted member is evicted once");
    }

    #[test]
    fn survivors_rejoin_once_each() {
        let coordinator = CrashAwareCoordinator::new(());
        {
            let mut groups = coordinator.groups.0.lock().unwrap();
            let watch = groups.entry("g".into()).or_default();
            watch.session_timeout = Duration::from_secs(6);
            watch.last_contact.insert("crashed".into(), Instant::now() - Duration::from_secs(7));
            watch.last_contact.insert("alive".into(), Instant::now());
        }
        assert_eq!(coordinator.expire("g"), vec!["crashed".to_string()]);
        assert!(coordinator.must_rejoin("g", "alive"), "the survivor must rejoin");
        assert!(coordinator.must_rejoin("g", "alive"), "until it does");
        coordinator.rejoined("g", "alive");
        assert!(!coordinator.must_rejoin("g", "alive"), "no second rebalance");
        assert!(coordinator.expire("g").is_empty());
    }
}
