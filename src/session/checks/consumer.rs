//! The checks about one of the session's consumers: what it holds, where it reads, how it was
//! started and how it last ended.

use super::super::Session;
use super::Verdict;
use crate::error::{Error, Result, Thing};
use crate::expect::{Condition, ConsumerFact};
use crate::outcome::format_partitions;

impl Session {
    /// `consumer C out-of-group | seeked KIND | manual-commit | protocol P`.
    pub(super) async fn check_consumer_is(&self, name: &str, fact: &ConsumerFact) -> Result<Verdict> {
        use crate::actors::consumer::Status;
        let handle = self.consumers.get(name).ok_or_else(|| Error::not_found(Thing::Consumer, name))?;
        Ok(match fact {
            ConsumerFact::OutOfGroup => {
                let state = handle.state();
                let group = &handle.spec.group;
                match state.status {
                    Status::Killed => Verdict::NotYet(format!(
                        "consumer {name} was killed: a crash, which its session timeout catches; this asks for one that is still running but has stopped polling"
                    )),
                    Status::Stopped => Verdict::NotYet(format!(
                        "consumer {name} was stopped: it left its group politely; this asks for one that is still running but has stopped polling"
                    )),
                    Status::Running => {
                        let members = self.connection.group(group).await?.map(|g| g.members).unwrap_or_default();
                        let listed = state.member_id.as_deref().is_some_and(|id| members.iter().any(|m| m.id == id));
                        let stalled = state.stalled_for().map_or_else(String::new, |left| format!(", stalled for {} s more", left.as_secs()));
                        Verdict::when(
                            !listed && state.member_id.is_some(),
                            format!("consumer {name} is still running{stalled}, but group {group} no longer lists it: it was taken out for not polling"),
                            || format!("expected consumer {name} to be running but out of group {group}; the group still lists it{stalled}"),
                        )
                    }
                }
            }
            ConsumerFact::Seeked(kind) => match self.last_seek(name) {
                Some(found) if found == *kind => Verdict::Holds(format!("consumer {name} was last moved by a seek to {}", kind.word())),
                Some(found) => Verdict::NotYet(format!(
                    "expected consumer {name}'s latest seek to be by {}, but it was a seek to {}",
                    kind.word(),
                    found.word()
                )),
                None => Verdict::NotYet(format!("expected consumer {name} to have been moved by a seek to {}; it has not been moved", kind.word())),
            },
            ConsumerFact::ManualCommit => Verdict::when(
                handle.spec.manual_commit,
                format!("consumer {name} commits only when told to (--manual-commit)"),
                || {
                    format!(
                        "consumer {name} commits by itself (auto-commit); stop it and start it again with --manual-commit, so that only \
                         `commit` records its progress (if it has committed already, `reset-offsets {} --topic T --to-earliest --execute` \
                         while it is stopped takes its group back to the start)",
                        handle.spec.group
                    )
                },
            ),
            ConsumerFact::Status(wanted) => {
                let found = handle.status().as_str();
                let how = |status: &str| match status {
                    "killed" => "was killed (a crash: no commit, no goodbye)",
                    "stopped" => "was stopped (a clean goodbye: it left the group at once)",
                    _ => "is running",
                };
                Verdict::when(found == wanted, format!("consumer {name} {}", how(found)), || {
                    format!("expected consumer {name} to be {wanted}, but it {}", how(found))
                })
            }
            ConsumerFact::CameBackFrom(wanted) => match handle.came_back_from.map(crate::actors::consumer::Status::as_str) {
                Some(found) if found == wanted => Verdict::Holds(format!("consumer {name} was {found}, then restarted")),
                Some(found) => Verdict::NotYet(format!(
                    "expected consumer {name} to come back after being {wanted}, but it was {found} before its restart{}",
                    if wanted == "killed" { ": `kill-consumer` is the crash" } else { "" }
                )),
                None => Verdict::NotYet(format!("expected consumer {name} to come back after being {wanted}; it has not been restarted")),
            },
            ConsumerFact::Protocol(protocol) => {
                let found = match handle.spec.protocol {
                    crate::kafka::GroupProtocol::Classic => "classic",
                    crate::kafka::GroupProtocol::Consumer => "consumer",
                };
                Verdict::when(found == protocol, format!("consumer {name} speaks the {found} group protocol"), || {
                    format!("expected consumer {name} to speak the {protocol} group protocol, found {found} (--group-protocol)")
                })
            }
        })
    }

    pub(super) fn check_consumer(&self, condition: &Condition) -> Result<Verdict> {
        let name = match condition {
            Condition::ConsumerAssigned { consumer, .. }
            | Condition::ConsumerReceived { consumer, .. }
            | Condition::ConsumerPosition { consumer, .. }
            | Condition::ConsumerGeneration { consumer, .. }
            | Condition::ConsumerRejoinedUnchanged { consumer }
            | Condition::ConsumerHolds { consumer, .. }
            | Condition::ConsumerRestarts { consumer, .. } => consumer,
            _ => return Err(Error::input("not a consumer condition")),
        };
        let handle = self.consumers.get(name).ok_or_else(|| Error::not_found(Thing::Consumer, name.as_str()))?;
        let state = handle.state();
        Ok(match condition {
            // Between joining and its first assignment (or mid-rebalance) a consumer holds
            // nothing yet, which is not the same as being assigned nothing.
            Condition::ConsumerAssigned { consumer, .. } | Condition::ConsumerHolds { consumer, .. } if handle.joining() => {
                Verdict::NotYet(format!("consumer {consumer} has not finished joining its group yet"))
            }
            Condition::ConsumerAssigned { consumer, partitions } => {
                Verdict::when(state.assignment == *partitions, format!("consumer {consumer} is assigned {}", format_partitions(partitions)), || {
                    format!(
                        "expected consumer {consumer} to be assigned {}, found {}",
                        format_partitions(partitions),
                        format_partitions(&state.assignment)
                    )
                })
            }
            Condition::ConsumerPosition { consumer, topic, partition, offset } => {
                match state.positions.get(&(topic.clone(), *partition)) {
                    Some(found) if found == offset => {
                        Verdict::Holds(format!("consumer {consumer} reads {topic}[{partition}] from offset {offset}"))
                    }
                    Some(found) => Verdict::NotYet(format!(
                        "expected consumer {consumer} to read {topic}[{partition}] from offset {offset}, found {found}"
                    )),
                    None => Verdict::NotYet(format!(
                        "expected consumer {consumer} to read {topic}[{partition}] from offset {offset}; it has not polled or moved there yet"
                    )),
                }
            }
            Condition::ConsumerGeneration { consumer, generation } => match state.generation {
                Some(found) if found == *generation => {
                    Verdict::Holds(format!("consumer {consumer} was assigned in generation {generation}"))
                }
                Some(found) => Verdict::NotYet(format!(
                    "expected consumer {consumer} to be in generation {generation}, found {found}: the group rebalanced {}",
                    if found > *generation { "more often" } else { "less often" }
                )),
                None => Verdict::NotYet(format!("consumer {consumer} has no assignment yet, so no generation")),
            },
            Condition::ConsumerRestarts { consumer, count } => {
                let found = handle.restarts;
                Verdict::when(found == *count, format!("consumer {consumer} was restarted {count} time(s)"), || {
                    format!("expected consumer {consumer} to have been restarted {count} time(s), found {found}")
                })
            }
            Condition::ConsumerHolds { consumer, count } => {
                let found: usize = state.assignment.values().map(std::collections::BTreeSet::len).sum();
                Verdict::when(found == *count, format!("consumer {consumer} holds {count} partition(s)"), || {
                    format!("expected consumer {consumer} to hold {count} partition(s), found {found} ({})", format_partitions(&state.assignment))
                })
            }
            Condition::ConsumerRejoinedUnchanged { consumer } => match &handle.before_restart {
                None => Verdict::NotYet(format!("consumer {consumer} has not been restarted yet")),
                Some((before, held)) => {
                    let (now, holds) = (state.generation, &state.assignment);
                    if now.is_none() || handle.joining() {
                        Verdict::NotYet(format!("consumer {consumer} is still on its way back into its group"))
                    } else if now == *before && holds == held {
                        Verdict::Holds(format!(
                            "consumer {consumer} came back into generation {} with {}: nothing moved",
                            now.unwrap_or_default(),
                            format_partitions(holds)
                        ))
                    } else {
                        Verdict::NotYet(format!(
                            "consumer {consumer} left generation {} holding {} and came back to generation {} holding {}: \
                             the group rebalanced, so it was away longer than its session timeout; stop and restart it again, quickly",
                            before.map_or_else(|| "?".into(), |g| g.to_string()),
                            format_partitions(held),
                            now.map_or_else(|| "?".into(), |g| g.to_string()),
                            format_partitions(holds)
                        ))
                    }
                }
            },
            Condition::ConsumerReceived { consumer, count } => {
                let found = state.received;
                Verdict::when(found == *count, format!("consumer {consumer} has received {count} message(s)"), || {
                    format!("expected consumer {consumer} to have received {count} messages, found {found}")
                })
            }
            _ => return Err(Error::input("not a consumer condition")),
        })
    }
}
