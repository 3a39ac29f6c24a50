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
//! With `--bootstrap-servers` (a real Kafka) none of this is in play.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tansu_broker::coordinator::group::{Coordinator, OffsetCommit};
use tansu_broker::Result;
use tansu_sans_io::{
    heartbeat_response::HeartbeatResponse,
    join_group_request::JoinGroupRequestProtocol,
    join_group_response::JoinGroupResponse,
    leave_group_request::MemberIdentity,
    offset_fetch_request::{OffsetFetchRequestGroup, OffsetFetchRequestTopic},
    sync_group_request::SyncGroupRequestAssignment,
    Body, ErrorCode,
};

/// What the wrapper knows about one group.
#[derive(Debug, Default)]
struct GroupWatch {
    session_timeout: Duration,
    /// member id → last contact.
    last_contact: BTreeMap<String, Instant>,
    /// Survivors of an eviction that have not joined again yet.
    must_rejoin: BTreeSet<String>,
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

#[derive(Clone, Debug)]
pub struct CrashAwareCoordinator<C> {
    inner: C,
    groups: Arc<Mutex<BTreeMap<String, GroupWatch>>>,
}

impl<C> CrashAwareCoordinator<C> {
    pub fn new(inner: C) -> Self {
        CrashAwareCoordinator { inner, groups: Arc::default() }
    }

    fn touch(&self, group_id: &str, member_id: &str) {
        if member_id.is_empty() {
            return;
        }
        if let Ok(mut groups) = self.groups.lock() {
            groups.entry(group_id.to_string()).or_default().last_contact.insert(member_id.to_string(), Instant::now());
        }
    }

    fn forget(&self, group_id: &str, member_id: &str) {
        if let Ok(mut groups) = self.groups.lock() {
            if let Some(watch) = groups.get_mut(group_id) {
                watch.last_contact.remove(member_id);
                watch.must_rejoin.remove(member_id);
            }
        }
    }

    /// Members of `group_id` whose session expired; every remaining member must then rejoin.
    fn expire(&self, group_id: &str) -> Vec<String> {
        let Ok(mut groups) = self.groups.lock() else { return Vec::new() };
        let Some(watch) = groups.get_mut(group_id) else { return Vec::new() };
        let expired = watch.take_expired(Instant::now());
        if !expired.is_empty() {
            let survivors: Vec<String> = watch.last_contact.keys().cloned().collect();
            watch.must_rejoin.extend(survivors);
        }
        expired
    }

    /// Whether this member's heartbeat must be answered with REBALANCE_IN_PROGRESS.
    fn must_rejoin(&self, group_id: &str, member_id: &str) -> bool {
        self.groups.lock().is_ok_and(|groups| groups.get(group_id).is_some_and(|w| w.must_rejoin.contains(member_id)))
    }

    fn rejoined(&self, group_id: &str, member_id: &str) {
        if let Ok(mut groups) = self.groups.lock() {
            if let Some(watch) = groups.get_mut(group_id) {
                watch.must_rejoin.remove(member_id);
            }
        }
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
        if let Ok(mut groups) = self.groups.lock() {
            let watch = groups.entry(group_id.to_string()).or_default();
            watch.session_timeout = Duration::from_millis(u64::try_from(session_timeout_ms).unwrap_or(45_000));
        }
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
        if let Body::JoinGroupResponse(JoinGroupResponse { member_id: assigned, .. }) = &body {
            self.touch(group_id, assigned);
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
            let mut groups = coordinator.groups.lock().unwrap();
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
