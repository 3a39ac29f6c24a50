//! Filling in lesson lines that name a broker by its part (`crate::lesson::placeholders` has
//! their syntax): `{leader T[P]}` is the broker that leads T[P] now, `{follower T[P]}` an
//! in-sync replica of it that does not lead, `{controller}` the KRaft quorum's active
//! controller and `{not-controller}` a node that is up and is not. A solution or wrong way says
//! `broker kill {leader ledger[0]}`; the line is filled in from the metadata when it runs, and
//! shown to a learner as `broker kill <the leader of ledger[0]>`.

use super::Session;
use crate::lesson::placeholders::{find, QUORUM_ROLES};
use crate::error::{Error, Result};

impl Session {
    /// The line with each placeholder replaced by a broker id from the metadata now.
    pub(super) async fn fill_placeholders(&self, line: &str) -> Result<String> {
        let found = find(line);
        if found.is_empty() {
            return Ok(line.to_string());
        }
        let mut text = line.to_string();
        for (range, role, spec) in found.into_iter().rev() {
            if QUORUM_ROLES.contains(&role) {
                let id = self.quorum_role(role).await?;
                text.replace_range(range, &id.to_string());
                continue;
            }
            let (topic, partition) = crate::expect::single_partition(spec)?;
            let topic = self.namespace.as_ref().map_or_else(|| topic.clone(), |ns| ns.qualify(&topic));
            let info = self.connection.topic(&topic).await?;
            let found = info.partitions.iter().find(|p| p.id == partition).ok_or_else(|| Error::input(format!("{spec} has no such partition")))?;
            let id = match role {
                "leader" if found.leader >= 0 => found.leader,
                "leader" => return Err(Error::input(format!("{spec} has no leader now"))),
                _ => found
                    .isr
                    .iter()
                    .copied()
                    .filter(|id| *id != found.leader)
                    .min()
                    .ok_or_else(|| Error::input(format!("{spec} has no in-sync follower now")))?,
            };
            text.replace_range(range, &id.to_string());
        }
        Ok(text)
    }

    /// The active controller, or the lowest node that is up and is not it.
    async fn quorum_role(&self, role: &str) -> Result<i32> {
        let quorum = match self.connection.quorum().await {
            Some(answer) => answer?,
            None => return Err(Error::input("the quorum is read over plaintext only")),
        };
        if role == "controller" {
            return Ok(quorum.leader);
        }
        let info = self.connection.cluster_info().await?;
        let mut up: Vec<i32> = info.brokers.iter().map(|b| b.id).filter(|id| *id != quorum.leader).collect();
        up.sort_unstable();
        up.first().copied().ok_or_else(|| Error::input("no node but the active controller is up"))
    }
}
