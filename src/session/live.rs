//! Live consumers and producers: starting, polling, committing, seeking, stopping and crashing
//! them, and the tables that show them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::topics::check_partition;
use super::Session;
use crate::actors::consumer::{ConsumerHandle, ConsumerSpec, Status, DEFAULT_MAX_POLL_INTERVAL};
use crate::actors::producer::{ProducerHandle, ProducerSpec};
use crate::command::{PollArgs, StartConsumerArgs, StartProducerArgs};
use crate::error::{Error, Result, Thing};
use crate::format::optional;
use crate::kafka::Offsets;
use crate::outcome::{format_partitions, Outcome, Partitions, Table};

/// A consumer's session timeout unless it says otherwise: Apache Kafka's smallest by default
/// (`group.min.session.timeout.ms`), so a crash shows in seconds and every broker accepts it.
pub const DEFAULT_SESSION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(6);

/// How long a graceful stop may take to show up as a new assignment.
const STOP_WAIT: Duration = Duration::from_secs(10);
/// After a kill, how long past the session timeout to keep waiting for the group to notice.
const KILL_GRACE: Duration = Duration::from_secs(10);

impl Session {
    pub(super) fn running_consumer(&self, name: &str) -> Result<&ConsumerHandle> {
        let handle = self.consumers.get(name).ok_or_else(|| unknown_consumer(name, &self.consumers))?;
        match handle.status() {
            Status::Running => Ok(handle),
            status => Err(Error::input_with_hint(
                format!("consumer '{name}' is {}", status.as_str()),
                format!("start it again with: restart-consumer {name}"),
            )),
        }
    }

    pub(super) async fn start_consumer(&mut self, args: StartConsumerArgs) -> Result<Outcome> {
        if let Some(existing) = self.consumers.get(&args.name) {
            if existing.status() == Status::Running {
                return Err(Error::input(format!("a consumer named '{}' is already running", args.name)));
            }
        }
        let consumer_protocol = args.group_protocol == crate::command::GroupProtocol::Consumer;
        if consumer_protocol {
            if self.target.is_embedded() {
                return Err(Error::unsupported(
                    "the consumer group protocol of KIP-848 needs Apache Kafka 4.0 or newer: the embedded tansu 0.6.0 broker speaks only the classic protocol",
                    "start kafka-workshop with --apache-kafka DIR, or connect to Apache Kafka with --bootstrap-servers",
                ));
            }
            let refused: Vec<&str> = [(args.session_timeout.is_some(), "--session-timeout"), (args.assignor.is_some(), "--assignor")]
                .into_iter()
                .filter_map(|(given, flag)| given.then_some(flag))
                .collect();
            if !refused.is_empty() {
                return Err(Error::input_with_hint(
                    format!(
                        "{} is not the consumer's to choose under --group-protocol consumer: the broker computes the assignment (a client may only name its server-side assignor, uniform or range, with group.remote.assignor) and sets the session timeout and heartbeat (group.consumer.session.timeout.ms, group.consumer.heartbeat.interval.ms)",
                        refused.join(" and ")
                    ),
                    "leave them out, or use --group-protocol classic",
                ));
            }
        }
        let session_timeout = args.session_timeout.unwrap_or(DEFAULT_SESSION_TIMEOUT);
        if args.max_poll_interval < session_timeout && !consumer_protocol {
            return Err(Error::input_with_hint(
                format!(
                    "--max-poll-interval ({}) must be at least the session timeout ({})",
                    humantime::format_duration(args.max_poll_interval),
                    humantime::format_duration(session_timeout)
                ),
                "librdkafka refuses a poll interval shorter than the session timeout",
            ));
        }
        for topic in &args.topics {
            self.connection.topic(topic).await?;
        }
        let spec = ConsumerSpec {
            name: args.name.clone(),
            group: args.group,
            topics: args.topics,
            from: args.from.into(),
            manual_commit: args.manual_commit,
            session_timeout,
            assignor: args.assignor.unwrap_or(crate::command::Assignor::Range).into(),
            max_poll_interval: args.max_poll_interval,
            instance_id: args.instance_id,
            follow: args.follow,
            isolation: args.isolation.into(),
            protocol: args.group_protocol.into(),
        };
        self.launch_consumer(spec)
    }

    pub(super) fn launch_consumer(&mut self, spec: ConsumerSpec) -> Result<Outcome> {
        let how = match spec.protocol {
            crate::kafka::GroupProtocol::Classic => format!("session timeout {} s", spec.session_timeout.as_secs_f64()),
            crate::kafka::GroupProtocol::Consumer => {
                "group protocol consumer (KIP-848): the broker assigns and sets the session timeout".to_string()
            }
        };
        let isolation = match spec.isolation {
            crate::kafka::Isolation::ReadCommitted => "",
            crate::kafka::Isolation::ReadUncommitted => ", read_uncommitted",
        };
        let text = format!(
            "started consumer '{}' in group '{}' on {} (from {}, {how}{isolation}{}{}{})",
            spec.name,
            spec.group,
            spec.topics.join(", "),
            spec.from.as_config(),
            if spec.max_poll_interval == DEFAULT_MAX_POLL_INTERVAL {
                String::new()
            } else {
                format!(", max poll interval {} s", spec.max_poll_interval.as_secs_f64())
            },
            spec.instance_id.as_ref().map_or_else(String::new, |id| format!(", static member '{id}'")),
            if spec.manual_commit { ", manual commit" } else { "" }
        );
        let handle = ConsumerHandle::start(spec.clone(), &self.connection, self.events.clone())?;
        self.consumers.insert(spec.name.clone(), handle);
        Ok(Outcome::Done(text))
    }

    pub(super) async fn restart_consumer(&mut self, name: &str) -> Result<Outcome> {
        let handle = self.consumers.get(name).ok_or_else(|| unknown_consumer(name, &self.consumers))?;
        if handle.status() == Status::Running {
            return Err(Error::input(format!("consumer '{name}' is already running")));
        }
        let spec = handle.spec.clone();
        let restarts = handle.restarts + 1;
        let before = handle.state();
        let ended = handle.status();
        let outcome = self.launch_consumer(spec)?;
        if let Some(handle) = self.consumers.get_mut(name) {
            handle.restarts = restarts;
            handle.before_restart = Some((before.generation, before.last_assignment));
            handle.came_back_from = Some(ended);
        }
        // A preparer, cook or analyst comes back to its job too.
        if let Some(job) = self.jobs.get(name).cloned() {
            self.run_job(name, job)?;
        }
        Ok(outcome)
    }

    pub(super) async fn poll(&self, args: PollArgs) -> Result<Outcome> {
        let handle = self.running_consumer(&args.name)?;
        if let Some(left) = handle.state().stalled_for() {
            return Err(Error::input(format!(
                "{} is stalled for another {:.0} s: its handler is stuck, so it takes no messages",
                args.name,
                left.as_secs_f64().ceil()
            )));
        }
        let count = usize::try_from(args.count).unwrap_or(usize::MAX);
        // A long wait shows that it is waiting, and for what.
        let waiting = (args.wait >= Duration::from_secs(2)).then(|| {
            let label = format!("waiting up to {} for {} message(s) for {}", humantime::format_duration(args.wait), args.count, args.name);
            self.reporter.progress(args.count, &label)
        });
        let records = handle.poll(count, args.wait).await;
        if let Some(waiting) = waiting {
            waiting.finish();
        }
        let records = records?;
        if records.is_empty() {
            let assigned = format_partitions(&handle.state().assignment);
            return Ok(Outcome::Note(format!(
                "no messages for {} within {} s (assigned: {assigned})",
                args.name,
                args.wait.as_secs_f64()
            )));
        }
        let mut table = Table::new(["TOPIC", "PARTITION", "OFFSET", "KEY", "VALUE"]).verbatim(&["KEY", "VALUE"]);
        for record in &records {
            table.push([
                record.topic.clone(),
                record.partition.to_string(),
                record.offset.to_string(),
                optional(&record.key),
                optional(&record.value),
            ]);
        }
        let mut parts = vec![Outcome::Table(table)];
        if records.len() < count {
            parts.push(Outcome::Note(format!("only {} message(s) arrived within {} s", records.len(), args.wait.as_secs_f64())));
        }
        Ok(Outcome::Many(parts))
    }

    pub(super) async fn commit(&self, name: &str) -> Result<Outcome> {
        let handle = self.running_consumer(name)?;
        let committed = handle.commit().await?;
        if committed.is_empty() {
            return Ok(Outcome::Note(format!("{name} has nothing committed yet: poll some messages first")));
        }
        Ok(Outcome::Many(vec![
            Outcome::Done(format!("{name} committed; the group '{}' now records:", handle.spec.group)),
            Outcome::Table(offsets_table("COMMITTED", &committed)),
        ]))
    }

    /// A stuck handler: the consumer stops polling while librdkafka goes on heartbeating. Once
    /// `max.poll.interval.ms` runs out librdkafka leaves the group, so wait (with a countdown)
    /// for the others to take its partitions over; the stall goes on after the prompt is back.
    pub(super) async fn stall_consumer(&mut self, name: &str, duration: Duration, wait: bool) -> Result<Outcome> {
        let handle = self.running_consumer(name)?;
        let owned = handle.state().assignment;
        let group = handle.spec.group.clone();
        let limit = handle.spec.max_poll_interval;
        let started = Instant::now();
        handle.stall(duration).await?;
        let mut parts = vec![Outcome::Warning(format!(
            "{name} stops polling for {} s; its heartbeats go on, so its session ({} s) never times out",
            duration.as_secs_f64(),
            handle.spec.session_timeout.as_secs_f64()
        ))];
        if duration <= limit {
            parts.push(Outcome::Note(format!(
                "that is within its max poll interval ({} s), so it stays in group '{group}' and catches up after",
                limit.as_secs_f64()
            )));
            return Ok(Outcome::Many(parts));
        }
        parts.push(Outcome::Note(format!(
            "after its max poll interval ({} s) librdkafka gives up on it and leaves group '{group}' for it",
            limit.as_secs_f64()
        )));
        if wait {
            parts.extend(self.await_takeover(name, &group, &owned, started, limit + KILL_GRACE, Some((limit, "max poll interval"))).await);
        } else {
            parts.push(self.watch_takeover(name, &group, &owned, started, limit + KILL_GRACE));
        }
        Ok(Outcome::Many(parts))
    }

    /// Graceful stop, then wait (bounded) until the group's other consumers here own what it had.
    /// A static member does not leave, so its partitions wait for it for a session timeout.
    pub(super) async fn stop_consumer(&mut self, name: &str) -> Result<Outcome> {
        let handle = self.running_consumer(name)?;
        let owned = handle.state().assignment;
        let group = handle.spec.group.clone();
        let started = Instant::now();
        handle.stop().await?;
        if let Some(instance) = &handle.spec.instance_id {
            return Ok(Outcome::Many(vec![
                Outcome::Done(format!(
                    "{name} stopped: {}closed, but as static member '{instance}' it did not leave group '{group}'",
                    if handle.spec.manual_commit { "" } else { "committed and " }
                )),
                Outcome::Note(format!(
                    "the group keeps {} for it: restart-consumer {name} within {} s and nothing moves",
                    format_partitions(&owned),
                    handle.spec.session_timeout.as_secs_f64()
                )),
            ]));
        }
        let mut parts = vec![Outcome::Done(if handle.spec.manual_commit {
            format!("{name} stopped: left group '{group}' without committing (it commits only on `commit`)")
        } else {
            format!("{name} stopped: committed and left group '{group}'")
        })];
        parts.extend(self.await_takeover(name, &group, &owned, started, STOP_WAIT, None).await);
        Ok(Outcome::Many(parts))
    }

    /// A crash: no commit, no LeaveGroup. Counts down the session timeout, then shows who took over.
    pub(super) async fn kill_consumer(&mut self, name: &str, wait: bool) -> Result<Outcome> {
        let handle = self.running_consumer(name)?;
        let owned = handle.state().assignment;
        let group = handle.spec.group.clone();
        let timeout = handle.spec.session_timeout;
        let started = Instant::now();
        handle.kill().await?;
        let mut parts = vec![Outcome::Warning(format!(
            "{name} killed: it did not commit or leave; group '{group}' finds out only when its session times out ({} s)",
            timeout.as_secs_f64()
        ))];
        if wait {
            parts.extend(self.await_takeover(name, &group, &owned, started, timeout + KILL_GRACE, Some((timeout, "session timeout"))).await);
        } else {
            parts.push(self.watch_takeover(name, &group, &owned, started, timeout + KILL_GRACE));
        }
        Ok(Outcome::Many(parts))
    }

    /// The prompt comes back at once; a background watch says above it when the group's other
    /// consumers here own what `gone` had (or that they still do not, after `limit`).
    fn watch_takeover(&self, gone: &str, group: &str, owned: &Partitions, started: Instant, limit: Duration) -> Outcome {
        let survivors: Vec<ConsumerHandle> = self
            .consumers
            .values()
            .filter(|c| c.spec.name != gone && c.spec.group == group && c.status() == Status::Running)
            .cloned()
            .collect();
        if owned.is_empty() {
            return Outcome::Note("it owned no partitions, so nothing moves".into());
        }
        if survivors.is_empty() {
            return Outcome::Note(format!(
                "no other consumer of '{group}' is running here, so {} must wait for the next one to join",
                format_partitions(owned)
            ));
        }
        let (events, gone, group, owned) = (self.events.clone(), gone.to_string(), group.to_string(), owned.clone());
        tokio::spawn(async move {
            loop {
                let held = union(survivors.iter().map(|c| c.state().assignment));
                if covers(&held, &owned) && survivors.iter().all(|c| !c.joining()) {
                    let owners: Vec<String> =
                        survivors.iter().map(|c| format!("{} {}", c.spec.name, format_partitions(&c.state().assignment))).collect();
                    events.say(
                        &gone,
                        format!(
                            "gone: group '{group}' reassigned {} after {:.1} s; now {}",
                            format_partitions(&owned),
                            started.elapsed().as_secs_f64(),
                            owners.join(", ")
                        ),
                    );
                    events.changed();
                    return;
                }
                if started.elapsed() >= limit {
                    events.warn(
                        &gone,
                        format!(
                            "after {:.1} s the other consumers of '{group}' still do not own {}",
                            started.elapsed().as_secs_f64(),
                            format_partitions(&owned)
                        ),
                    );
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Outcome::Note(
            "the prompt is yours meanwhile: the takeover is said above it when it happens; `show` draws the countdown (`--wait` waits here)"
                .into(),
        )
    }

    /// Wait until running consumers of `group` other than `gone` own every partition in `owned`,
    /// with a labelled countdown if given. Says what happened either way.
    async fn await_takeover(
        &self,
        gone: &str,
        group: &str,
        owned: &Partitions,
        started: Instant,
        limit: Duration,
        countdown: Option<(Duration, &str)>,
    ) -> Vec<Outcome> {
        let survivors: Vec<&ConsumerHandle> = self
            .consumers
            .values()
            .filter(|c| c.spec.name != gone && c.spec.group == group && c.status() == Status::Running)
            .collect();
        if owned.is_empty() {
            return vec![Outcome::Note("it owned no partitions, so nothing moves".into())];
        }
        if survivors.is_empty() {
            return vec![Outcome::Note(format!(
                "no other consumer of '{group}' is running here, so {} must wait for the next one to join",
                format_partitions(owned)
            ))];
        }
        let progress = countdown.map(|(timeout, label)| {
            (self.reporter.progress(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX), label), timeout)
        });
        let mut shown: u64 = 0;
        let covered = loop {
            // Settled: the dead member's partitions are held again, and no survivor is still
            // between giving partitions up and being dealt new ones, so the table is final.
            let held = union(survivors.iter().map(|c| c.state().assignment));
            if covers(&held, owned) && survivors.iter().all(|c| !c.joining()) {
                break true;
            }
            if started.elapsed() >= limit {
                break false;
            }
            if let Some((bar, timeout)) = &progress {
                let now = u64::try_from(started.elapsed().min(*timeout).as_millis()).unwrap_or(0);
                bar.advance(now.saturating_sub(shown));
                shown = now;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        if let Some((bar, _)) = &progress {
            bar.finish();
        }
        let waited = started.elapsed().as_secs_f64();
        let mut table = Table::new(["CONSUMER", "ASSIGNED"]);
        for survivor in &survivors {
            table.push([survivor.spec.name.clone(), format_partitions(&survivor.state().assignment)]);
        }
        let said = if covered {
            Outcome::Done(format!("group '{group}' reassigned {} after {waited:.1} s", format_partitions(owned)))
        } else {
            Outcome::Warning(format!(
                "after {waited:.1} s the group's other consumers still do not own {}",
                format_partitions(owned)
            ))
        };
        vec![said, Outcome::Table(table.titled(format!("group {group} now")))]
    }

    pub(super) async fn consumers_table(&self) -> Result<Outcome> {
        if self.consumers.is_empty() {
            return Ok(Outcome::Note("no consumers yet; start one with: start-consumer NAME --group G --topic T".into()));
        }
        let mut table = Table::new(["NAME", "GROUP", "STATE", "ASSIGNED", "POSITION", "COMMITTED", "LAG"]);
        // With the cluster away (`broker stop`, say) what each consumer knows is still shown.
        let mut unreachable: Option<Error> = None;
        for handle in self.consumers.values() {
            let state = handle.state();
            let pairs: Vec<(String, i32)> =
                state.assignment.iter().flat_map(|(t, ids)| ids.iter().map(move |id| (t.clone(), *id))).collect();
            let looked = match unreachable {
                Some(_) => None,
                None => {
                    let group = &handle.spec.group;
                    let both = async {
                        Ok((self.connection.committed(group, pairs.clone()).await?, self.connection.watermarks(pairs.clone()).await?))
                    };
                    both.await.map_err(|err: Error| unreachable = Some(err)).ok()
                }
            };
            let (committed, marks) = looked.unwrap_or_default();
            let single = handle.spec.topics.len() == 1;
            let mut lag: Option<i64> = None;
            for pair in &pairs {
                if let (Some(done), Some(mark)) = (committed.get(pair), marks.get(pair)) {
                    *lag.get_or_insert(0) += (mark.high - done).max(0);
                }
            }
            table.push([
                handle.spec.name.clone(),
                handle.spec.group.clone(),
                match state.stalled_for() {
                    Some(left) => format!("stalled {:.0}s", left.as_secs_f64().ceil()),
                    None if state.status == crate::actors::consumer::Status::Running && !state.waiting_for.is_empty() => {
                        format!("waiting for {}", state.waiting_for.join(","))
                    }
                    None => state.status.as_str().to_string(),
                },
                format_partitions(&state.assignment),
                format_offsets(state.positions.iter().map(|((t, p), o)| (t.clone(), *p, *o)), single),
                format_offsets(committed.iter().map(|((t, p), o)| (t.clone(), *p, *o)), single),
                lag.map_or_else(|| "-".into(), |l| l.to_string()),
            ]);
        }
        match unreachable {
            None => Ok(Outcome::Table(table)),
            Some(err) if err.is_bad_input() => Err(err),
            Some(err) => Ok(Outcome::Many(vec![
                Outcome::Table(table),
                Outcome::Warning(format!("committed offsets and lag are unknown: {err}")),
            ])),
        }
    }

    pub(super) async fn start_producer(&mut self, args: StartProducerArgs) -> Result<Outcome> {
        if self.producers.get(&args.name).is_some_and(|p| p.stats().running) {
            return Err(Error::input(format!("a producer named '{}' is already running", args.name)));
        }
        let topic = self.connection.topic(&args.topic).await?;
        check_partition(&topic, args.partition)?;
        if args.every < Duration::from_millis(1) {
            return Err(Error::input("--every must be at least 1ms"));
        }
        let spec = ProducerSpec {
            name: args.name.clone(),
            topic: args.topic.clone(),
            every: args.every,
            key: args.key,
            partition: args.partition,
            template: args.template,
        };
        let handle = ProducerHandle::start(spec, &self.connection, self.events.clone())?;
        self.producers.insert(args.name.clone(), handle);
        Ok(Outcome::Done(format!(
            "started producer '{}' sending to '{}' every {}",
            args.name,
            args.topic,
            humantime::format_duration(args.every)
        )))
    }

    pub(super) async fn stop_producer(&mut self, name: &str) -> Result<Outcome> {
        let handle = self
            .producers
            .get_mut(name)
            .ok_or_else(|| Error::not_found(Thing::Producer, name).with_hint("`producers` lists them"))?;
        handle.stop().await;
        let stats = handle.stats();
        Ok(Outcome::Done(format!("stopped producer '{name}' after {} message(s), {} error(s)", stats.sent, stats.errors)))
    }

    pub(super) fn producers_table(&self) -> Outcome {
        if self.producers.is_empty() {
            return Outcome::Note("no producers yet; start one with: start-producer NAME --topic T --every 1s".into());
        }
        let mut table = Table::new(["NAME", "TOPIC", "RATE", "SENT", "LAST PARTITION/OFFSET", "ERRORS", "STATE"]);
        for handle in self.producers.values() {
            let stats = handle.stats();
            let rate = 1.0 / handle.spec.every.as_secs_f64();
            table.push([
                handle.spec.name.clone(),
                handle.spec.topic.clone(),
                format!("{rate:.1}/s"),
                stats.sent.to_string(),
                stats.last.map_or_else(|| "-".into(), |(p, o)| format!("{p}/{o}")),
                stats.errors.to_string(),
                if stats.running { "running" } else { "stopped" }.to_string(),
            ]);
        }
        Outcome::Table(table)
    }

    /// Stop every producer and consumer (gracefully), as when the session ends.
    /// Each actor stops on its own (a consumer commits, leaves its group and closes), so they all
    /// stop at once: the session ends as fast as its slowest actor, not their sum. Tills and
    /// producers go first, so nothing new arrives while the consumers leave.
    pub(super) async fn stop_all_actors(&mut self) {
        let tills = self.tills.values_mut().map(|till| till.stop());
        let producers = self.producers.values_mut().map(|handle| handle.stop());
        futures::future::join(futures::future::join_all(tills), futures::future::join_all(producers)).await;
        let running = self.consumers.values().filter(|handle| handle.status() == Status::Running);
        futures::future::join_all(running.map(|handle| handle.stop())).await;
    }

    /// Stop everything the session started and forget it: no consumer, producer, till or
    /// shop job is left to name (a cluster switch, a fresh learner).
    pub(super) async fn forget_all_actors(&mut self) {
        self.stop_all_actors().await;
        self.consumers.clear();
        self.producers.clear();
        self.tills.clear();
        self.jobs.clear();
        self.analysts.clear();
    }

    /// The running consumers of `group` started in this session, by name.
    pub(super) fn consumers_in(&self, group: &str) -> Vec<&ConsumerHandle> {
        self.consumers.values().filter(|c| c.spec.group == group && c.status() == Status::Running).collect()
    }
}

fn unknown_consumer(name: &str, consumers: &BTreeMap<String, ConsumerHandle>) -> Error {
    let known: Vec<&str> = consumers.keys().map(String::as_str).collect();
    let hint = if known.is_empty() {
        "start one with: start-consumer NAME --group G --topic T".to_string()
    } else {
        format!("known consumers: {}", known.join(", "))
    };
    Error::not_found(Thing::Consumer, name).with_hint(hint)
}

fn union(assignments: impl Iterator<Item = Partitions>) -> Partitions {
    let mut all = Partitions::new();
    for assignment in assignments {
        for (topic, ids) in assignment {
            all.entry(topic).or_default().extend(ids);
        }
    }
    all
}

fn covers(held: &Partitions, wanted: &Partitions) -> bool {
    wanted.iter().all(|(topic, ids)| held.get(topic).is_some_and(|h: &BTreeSet<i32>| ids.is_subset(h)))
}

pub(super) fn offsets_table(label: &str, offsets: &Offsets) -> Table {
    let mut table = Table::new(["TOPIC", "PARTITION", label]);
    let mut sorted = offsets.clone();
    sorted.sort();
    for (topic, partition, offset) in sorted {
        table.push([topic, partition.to_string(), offset.to_string()]);
    }
    table
}

/// `0:5 1:3` for one topic, `orders[0]:5 cook[1]:3` for several; `-` when empty.
fn format_offsets(offsets: impl Iterator<Item = (String, i32, i64)>, single_topic: bool) -> String {
    let mut list: Vec<(String, i32, i64)> = offsets.collect();
    list.sort();
    if list.is_empty() {
        return "-".into();
    }
    list.iter()
        .map(|(t, p, o)| if single_topic { format!("{p}:{o}") } else { format!("{t}[{p}]:{o}") })
        .collect::<Vec<_>>()
        .join(" ")
}
