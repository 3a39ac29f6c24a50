//! Topics: `cluster`, `topics`, `create-topic`, `describe-topic`, `delete-topic` and
//! `partition-for`, and the topic facts that checks read.

use super::Session;
use crate::command::{AlterTopicArgs, CreateTopicArgs, PartitionForArgs, TopicsArgs};
use crate::error::{Error, Result};
use crate::format::join_ids;
use crate::kafka::admin::Created;
use crate::kafka::{NewTopic, ReadPlan, TopicInfo, Watermarks};
use crate::murmur2;
use crate::outcome::{Outcome, Table, Target};

impl Session {
    /// `cluster` (or `brokers`): every broker, the nodes this session started that are down
    /// among them, each one's role in the quorum, and the quorum itself.
    pub(super) async fn cluster(&mut self) -> Result<Outcome> {
        // The nodes this session started, so that one that is down is listed too.
        let nodes = self.local.as_mut().map(crate::cluster::LocalCluster::nodes).unwrap_or_default();
        // With every node down there is nobody to ask; the table still says so, and since when.
        let all_down = !nodes.is_empty() && nodes.iter().all(|n| !n.up);
        let info = if all_down { crate::kafka::ClusterInfo::default() } else { self.connection.cluster_info().await? };
        // The embedded broker has no KRaft quorum to ask.
        let quorum = if self.target.is_embedded() || all_down { None } else { self.connection.quorum().await };
        let voters: Vec<i32> = match &quorum {
            Some(Ok(q)) => q.voters.iter().map(|(id, _)| *id).collect(),
            _ => Vec::new(),
        };
        let active = match &quorum {
            Some(Ok(q)) => Some(q.leader),
            _ => None,
        };
        let mut ids: Vec<i32> = info.brokers.iter().map(|b| b.id).chain(nodes.iter().map(|n| n.id)).chain(voters.iter().copied()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut brokers = Table::new(["NODE", "HOST:PORT", "STATE", "ROLE", "LEADS"]);
        for id in ids {
            let listed = info.brokers.iter().find(|b| b.id == id);
            let node = nodes.iter().find(|n| n.id == id);
            let address = listed.map_or_else(|| node.map_or_else(|| "-".to_string(), |n| n.address.clone()), |b| format!("{}:{}", b.host, b.port));
            let state = match (node, listed) {
                (Some(node), _) if !node.up => match node.down_since {
                    Some(since) => format!("down {} s", since.elapsed().as_secs()),
                    None => "down".to_string(),
                },
                (_, Some(_)) => "up".to_string(),
                // A voter the Metadata answer does not list: a controller that is no broker, or
                // a combined node that is down.
                (None, None) => "not in the metadata".to_string(),
                // Running, but the controller has not (yet, or any more) registered it.
                (Some(_), None) => "up, not in the metadata".to_string(),
            };
            let is_broker = listed.is_some() || node.is_some();
            let role = match (is_broker, voters.contains(&id), active == Some(id)) {
                (true, true, true) => "broker + active controller",
                (true, true, false) => "broker + controller",
                (false, _, true) => "active controller",
                (false, _, false) => "controller",
                (true, false, _) => "broker",
            };
            let leads = info.topics.iter().flat_map(|t| &t.partitions).filter(|p| p.leader == id).count();
            let leads = if is_broker { format!("{leads} partition(s)") } else { "-".to_string() };
            brokers.push([id.to_string(), address, state, role.to_string(), leads]);
        }
        let id = info.cluster_id.clone().unwrap_or_else(|| "(not reported)".into());
        let what = match &self.target {
            Target::Embedded { storage, .. } => format!("the embedded broker (tansu 0.6.0, {storage} storage)"),
            Target::Local { what, .. } => format!("{what}, started by this session"),
            Target::External { bootstrap } => format!("an external cluster via {bootstrap}"),
        };
        let mut parts = vec![
            Outcome::Note(format!("cluster id {id} · connected to {what}")),
            Outcome::Table(brokers.titled("brokers")),
        ];
        if all_down {
            parts.push(Outcome::Warning("every broker this session started is down; `broker start` brings them back".into()));
        } else if !self.target.is_embedded() {
            parts.extend(quorum_report(quorum, info.controller));
        }
        parts.extend(self.security_report());
        Ok(Outcome::Many(parts))
    }

    /// `broker-config [KEY]…`: what one broker says of the settings that decide how soon a
    /// lesson sees something happen, with Kafka's default beside each.
    pub(super) async fn broker_config(&self, keys: &[String]) -> Result<Outcome> {
        let info = self.connection.cluster_info().await?;
        let broker = info.brokers.first().map(|b| b.id).ok_or_else(|| Error::kafka("the cluster reported no brokers"))?;
        let wanted: Vec<String> =
            if keys.is_empty() { LESSON_SETTINGS.iter().map(|(k, _)| (*k).to_string()).collect() } else { keys.to_vec() };
        let reported = self.connection.broker_configs(broker).await.unwrap_or_default();
        let mut table = Table::new(["SETTING", "VALUE", "SOURCE", "KAFKA'S DEFAULT"]);
        for key in &wanted {
            let default = LESSON_SETTINGS.iter().find(|(k, _)| k == key).map_or("", |(_, d)| *d);
            let (value, source) = match reported.iter().find(|(name, _, _)| name == key) {
                Some((_, value, is_default)) => {
                    let shown = value.as_deref().map_or_else(|| "(hidden)".to_string(), |v| with_duration(key, v));
                    (shown, if *is_default { "Kafka's default" } else { "set on this cluster" })
                }
                None => ("(not reported)".to_string(), "this broker does not report it"),
            };
            table.push([key.clone(), value, source.to_string(), default.to_string()]);
        }
        Ok(Outcome::Many(vec![
            Outcome::Note(format!("as broker {broker} reports them (DescribeConfigs)")),
            Outcome::Table(table),
        ]))
    }

    pub(super) async fn topics(&self, args: TopicsArgs) -> Result<Outcome> {
        let info = self.connection.cluster_info().await?;
        let topics: Vec<&TopicInfo> =
            info.topics.iter().filter(|t| (args.all || !crate::room::is_internal(&t.name)) && self.visible(&t.name)).collect();
        if topics.is_empty() {
            return Ok(Outcome::Note("no topics yet; create one with: create-topic NAME --partitions 3".into()));
        }
        let seen = self.connection.watermarks_seen(&topics, &self.scene.down_nodes()).await;
        let mut table = Table::new(["NAME", "PARTITIONS", "REPLICATION", "MESSAGES"]);
        for topic in topics {
            let pairs = topic.pairs();
            let messages: i64 = pairs.iter().filter_map(|pair| seen.marks.get(pair)).map(Watermarks::messages).sum();
            let counted = pairs.iter().all(|pair| seen.marks.contains_key(pair));
            let replication = topic.partitions.iter().map(|p| p.replicas.len()).max().unwrap_or(0);
            let messages = if counted { messages.to_string() } else { format!("{messages}+?") };
            table.push([topic.name.clone(), topic.partitions.len().to_string(), replication.to_string(), messages]);
        }
        Ok(with_silent(Outcome::Table(table), &seen))
    }

    pub(super) async fn create_topic(&self, args: CreateTopicArgs) -> Result<Outcome> {
        if let Some(namespace) = &self.namespace {
            let prefix = namespace.qualify("");
            let room = crate::paths::MAX_TOPIC_NAME - prefix.len();
            let short = args.topic.strip_prefix(&prefix).unwrap_or(&args.topic);
            if short.len() > room {
                return Err(Error::input(format!(
                    "'{}' is {} characters long: your topics' names start with {} and a '.', so a topic name may have at most {room}",
                    crate::paths::clip(short),
                    short.len(),
                    namespace.learner()
                )));
            }
        }
        crate::paths::validate_topic_name(&args.topic)?;
        // Kafka refuses more replicas than brokers; tansu 0.6.0 accepts them and reports the one
        // broker three times over, which would teach something false. Refuse here instead.
        let brokers = self.connection.cluster_info().await?.brokers.len();
        if usize::try_from(args.replication_factor).unwrap_or(usize::MAX) > brokers {
            let what = match self.target {
                Target::Embedded { .. } => "the embedded broker is a single broker; to see replication, start kafka-workshop with --apache-kafka DIR --brokers 3 (DIR: an unpacked Apache Kafka release)".to_string(),
                Target::Local { .. } | Target::External { .. } => format!("this cluster has {brokers} broker(s)"),
            };
            return Err(Error::input(format!(
                "replication factor {} needs at least {} brokers: {what}",
                args.replication_factor, args.replication_factor
            )));
        }
        let schema = args.schema.as_deref().map(|text| self.prepare_schema(text)).transpose()?;
        let topic = NewTopic {
            name: args.topic.clone(),
            partitions: args.partitions,
            replication_factor: args.replication_factor,
            configs: args.configs.clone(),
        };
        if self.connection.create_topic(&topic).await? == Created::AlreadyExisted {
            let existing = self.connection.topic(&args.topic).await.ok();
            let detail = existing.map(|t| format!(" with {} partition(s)", t.partitions.len())).unwrap_or_default();
            return Ok(Outcome::Warning(format!("topic '{}' already exists{detail}; nothing changed", args.topic)));
        }
        let configs = if args.configs.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = args.configs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!(", {}", list.join(", "))
        };
        let created = Outcome::Done(format!(
            "created topic '{}' with {} partition(s), replication factor {}{configs}",
            args.topic, args.partitions, args.replication_factor
        ));
        match schema {
            Some(schema) => Ok(Outcome::Many(vec![created, schema.attach(&args.topic)?])),
            None => Ok(created),
        }
    }

    pub(super) async fn describe_topic(&self, name: &str) -> Result<Outcome> {
        let topic = self.connection.topic(name).await?;
        // Side by side, so that a dead node costs one wait, not two.
        let looked = [&topic];
        let down = self.scene.down_nodes();
        let (seen, configs) = tokio::join!(self.connection.watermarks_seen(&looked, &down), self.topic_configs(name));
        let mut table = Table::new(["PARTITION", "LEADER", "REPLICAS", "ISR", "START-OFFSET", "END-OFFSET", "MESSAGES"]);
        for partition in &topic.partitions {
            let mark = seen.marks.get(&(topic.name.clone(), partition.id)).copied();
            let show = |f: fn(Watermarks) -> i64| mark.map_or_else(|| "?".into(), |m| f(m).to_string());
            table.push([
                partition.id.to_string(),
                partition.leader.to_string(),
                join_ids(&partition.replicas),
                join_ids(&partition.isr),
                show(|m| m.low),
                show(|m| m.high),
                show(|m| m.messages()),
            ]);
        }
        let described = Outcome::Many(vec![Outcome::Table(table.titled(format!("topic {name}"))), configs]);
        Ok(with_silent(described, &seen))
    }

    /// How many messages a reader finds in one partition right now.
    pub(super) async fn messages_in(&self, topic: &str, partition: i32) -> Result<u64> {
        let info = self.connection.topic(topic).await?;
        check_partition(&info, Some(partition))?;
        let marks = self.connection.watermarks(vec![(topic.to_string(), partition)]).await?;
        let Some(mark) = marks.get(&(topic.to_string(), partition)).copied() else { return Ok(0) };
        if mark.high <= mark.low {
            return Ok(0);
        }
        let plan = vec![ReadPlan { partition, start: mark.low, end: mark.high }];
        let read = self.connection.read(topic, plan, u64::try_from(mark.high - mark.low).unwrap_or(u64::MAX)).await?;
        Ok(read.records.len() as u64)
    }

    /// The message at one offset, if the partition holds one there.
    pub(super) async fn message_at(&self, topic: &str, partition: i32, offset: i64) -> Result<Option<crate::outcome::Record>> {
        let info = self.connection.topic(topic).await?;
        check_partition(&info, Some(partition))?;
        let marks = self.connection.watermarks(vec![(topic.to_string(), partition)]).await?;
        let Some(mark) = marks.get(&(topic.to_string(), partition)).copied() else { return Ok(None) };
        if offset < mark.low || offset >= mark.high {
            return Ok(None);
        }
        let plan = vec![ReadPlan { partition, start: offset, end: offset + 1 }];
        let read = self.connection.read(topic, plan, 1).await?;
        Ok(read.records.into_iter().find(|r| r.offset == offset))
    }

    /// One config of a topic as the broker reports it.
    pub(super) async fn topic_config(&self, topic: &str, key: &str) -> Result<Option<String>> {
        self.connection.topic(topic).await?;
        let entries = self.connection.topic_configs(topic).await?;
        Ok(entries.into_iter().find(|entry| entry.name == key).and_then(|entry| entry.value))
    }

    /// The topic's configs as the broker reports them: anything set on the topic, plus the two
    /// that every lesson talks about.
    async fn topic_configs(&self, name: &str) -> Outcome {
        let entries = match self.connection.topic_configs(name).await {
            Ok(entries) => entries,
            Err(err) => return Outcome::Note(format!("the broker did not report configs: {err}")),
        };
        let mut table = Table::new(["CONFIG", "VALUE"]);
        for entry in entries {
            // What was set on the topic, and the two every lesson talks about. A broker's own
            // settings (a teaching cluster's short delays) are not the topic's.
            let interesting = entry.set_on_topic || matches!(entry.name.as_str(), "cleanup.policy" | "retention.ms");
            if interesting {
                let value = if entry.is_sensitive { "(hidden)".to_string() } else { entry.value.unwrap_or_default() };
                table.push([entry.name, value]);
            }
        }
        if table.rows.is_empty() {
            Outcome::Note("configs: the broker reports none set on this topic (broker defaults apply)".into())
        } else {
            table.rows.sort();
            Outcome::Table(table.titled("configs"))
        }
    }

    /// `alter-topic T [--partitions N] [--config K=V]… [--delete-config K]…`.
    pub(super) async fn alter_topic(&self, args: AlterTopicArgs) -> Result<Outcome> {
        use crate::kafka::alter::ConfigChange;
        let topic = self.connection.topic(&args.topic).await?;
        if args.partitions.is_none() && args.configs.is_empty() && args.delete_configs.is_empty() {
            return Err(Error::input("say what to change: --partitions N, --config KEY=VALUE or --delete-config KEY"));
        }
        let mut parts = Vec::new();
        if let Some(wanted) = args.partitions {
            let now = topic.partitions.len();
            let wanted = usize::try_from(wanted).unwrap_or(0);
            if wanted < now {
                return Err(Error::input(format!(
                    "topic '{}' has {now} partitions, and Kafka cannot remove one: CreatePartitions only raises the count, and no request shrinks a topic",
                    args.topic
                )));
            }
            if wanted == now {
                parts.push(Outcome::Note(format!("topic '{}' already has {now} partition(s); nothing changed", args.topic)));
            } else if self.target.is_embedded() {
                return Err(Error::unsupported(
                    "adding partitions needs Apache Kafka: the embedded tansu 0.6.0 broker has no CreatePartitions",
                    "start kafka-workshop with --apache-kafka DIR, or connect to Apache Kafka with --bootstrap-servers",
                ));
            } else {
                self.connection.add_partitions(&args.topic, wanted).await?;
                parts.push(Outcome::Done(format!(
                    "topic '{}' now has {wanted} partitions ({} new); messages already written stay where they are",
                    args.topic,
                    wanted - now
                )));
            }
        }
        let mut changes: Vec<ConfigChange> = args.configs.iter().map(|(k, v)| ConfigChange::Set(k.clone(), v.clone())).collect();
        changes.extend(args.delete_configs.iter().cloned().map(ConfigChange::Delete));
        if !changes.is_empty() {
            let said: Vec<String> = changes
                .iter()
                .map(|c| match c {
                    ConfigChange::Set(k, v) => format!("{k}={v}"),
                    ConfigChange::Delete(k) => format!("{k} back to the broker's default"),
                })
                .collect();
            self.connection.alter_topic_configs(&args.topic, changes).await?;
            parts.push(Outcome::Done(format!("changed topic '{}': {}", args.topic, said.join(", "))));
        }
        Ok(Outcome::Many(parts))
    }

    pub(super) async fn delete_topic(&self, name: &str) -> Result<Outcome> {
        self.connection.topic(name).await?;
        self.connection.delete_topic(name).await?;
        self.forget_schema(name);
        let done = Outcome::Done(format!("deleted topic '{name}'"));
        let readers: Vec<String> = self
            .consumers
            .values()
            .filter(|c| c.status() == crate::actors::consumer::Status::Running && c.spec.topics.iter().any(|t| t == name))
            .map(|c| c.spec.name.clone())
            .collect();
        if readers.is_empty() {
            return Ok(done);
        }
        let (who, keeps) = match readers.len() {
            1 => (format!("consumer {} subscribes", readers[0]), "it keeps its subscription and takes"),
            _ => (format!("consumers {} subscribe", readers.join(", ")), "they keep their subscription and take"),
        };
        Ok(Outcome::Many(vec![
            done,
            Outcome::Note(format!(
                "{who} to {name}: as Kafka's clients do, {keeps} its partitions again if {name} is created again"
            )),
        ]))
    }

    pub(super) async fn partition_for(&self, args: PartitionForArgs) -> Result<Outcome> {
        let (partitions, source) = match (&args.partitions, &args.topic) {
            (Some(n), _) => (*n, format!("{n} partitions")),
            (None, Some(topic)) => {
                let info = self.connection.topic(topic).await?;
                let count = i32::try_from(info.partitions.len()).unwrap_or(i32::MAX);
                (count, format!("topic '{topic}' has {count} partitions"))
            }
            (None, None) => return Err(Error::input("give --partitions N or --topic T")),
        };
        if partitions < 1 {
            return Err(Error::input("a topic has at least one partition"));
        }
        let choice = murmur2::partition_for(args.key.as_bytes(), partitions);
        let mut table = Table::new(["KEY", "MURMUR2", "POSITIVE", "PARTITIONS", "PARTITION"]).verbatim(&["KEY"]);
        table.push([
            args.key.clone(),
            choice.hash.to_string(),
            choice.positive.to_string(),
            choice.partitions.to_string(),
            choice.partition.to_string(),
        ]);
        Ok(Outcome::Many(vec![
            Outcome::Table(table),
            Outcome::Note(format!(
                "murmur2(key) = {} → & 0x7fffffff = {} → {} % {} = {} ({source})",
                choice.hash, choice.positive, choice.positive, partitions, choice.partition
            )),
        ]))
    }
}

/// A partition number the topic really has, or an error saying which it has.
pub(super) fn check_partition(topic: &TopicInfo, partition: Option<i32>) -> Result<()> {
    if let Some(p) = partition {
        let count = topic.partitions.len();
        if usize::try_from(p).map_or(true, |p| p >= count) {
            return Err(Error::input(format!(
                "topic '{}' has {count} partition(s), numbered 0 to {}; there is no partition {p}",
                topic.name,
                count.saturating_sub(1)
            )));
        }
    }
    Ok(())
}

/// The broker settings that decide how soon a lesson sees something happen, with Kafka's
/// defaults (Kafka's broker configuration documentation).
const LESSON_SETTINGS: &[(&str, &str)] = &[
    ("log.retention.check.interval.ms", "300000 (5 min)"),
    ("log.cleaner.backoff.ms", "15000 (15 s)"),
    ("log.segment.delete.delay.ms", "60000 (1 min)"),
    ("group.initial.rebalance.delay.ms", "3000 (3 s)"),
    ("group.min.session.timeout.ms", "6000 (6 s)"),
    ("group.consumer.session.timeout.ms", "45000 (45 s)"),
    ("replica.lag.time.max.ms", "30000 (30 s)"),
    ("min.insync.replicas", "1"),
    ("auto.create.topics.enable", "true"),
];

/// A value in milliseconds, with how long that is.
fn with_duration(key: &str, value: &str) -> String {
    match value.parse::<u64>() {
        Ok(ms) if key.ends_with(".ms") && ms >= 1000 => {
            format!("{value} ({})", humantime::format_duration(std::time::Duration::from_secs(ms / 1000)))
        }
        _ => value.to_string(),
    }
}

/// A look's outcome, with a note naming each leader that did not answer in time.
pub(super) fn with_silent(outcome: Outcome, seen: &crate::kafka::Seen) -> Outcome {
    let mut parts = vec![outcome];
    let named = |ids: &std::collections::BTreeSet<i32>| ids.iter().map(|id| format!("broker {id}")).collect::<Vec<_>>().join(" and ");
    if !seen.silent.is_empty() {
        parts.push(Outcome::Warning(format!(
            "{} did not answer within {:.1} s (down, or just killed): the partitions it leads show ? until the controller \
             names a new leader",
            named(&seen.silent),
            crate::kafka::LOOK_TIMEOUT.as_secs_f64()
        )));
    }
    if !seen.down.is_empty() {
        parts.push(Outcome::Warning(format!(
            "{} is down: the partitions it still leads show ? until the controller fences it and names a new leader",
            named(&seen.down)
        )));
    }
    if parts.len() == 1 { parts.remove(0) } else { Outcome::Many(parts) }
}

/// The KRaft quorum: the active controller, its epoch and each voter's lag. In KRaft the
/// Metadata answer names any broker as "controller" (KIP-631), so only the quorum is shown.
fn quorum_report(quorum: Option<Result<crate::kafka::quorum::Quorum>>, named: Option<i32>) -> Vec<Outcome> {
    let unread = |why: String| {
        let named = named.map_or_else(String::new, |id| format!("; the Metadata answer's \"controller {id}\" is any broker in KRaft, not the active one"));
        vec![Outcome::Note(format!("controller quorum: {why}{named}"))]
    };
    match quorum {
        None => unread("not read over TLS or SASL (kafka-workshop asks DescribeQuorum over plaintext only)".into()),
        Some(Err(err)) => unread(format!("not read ({err})")),
        Some(Ok(quorum)) => {
            let mut voters = Table::new(["VOTER", "ROLE", "LOG-END-OFFSET", "LAG"]);
            for (id, end) in &quorum.voters {
                let role = if *id == quorum.leader { "active controller" } else { "voter" };
                let (end, lag) = if *end < 0 { ("?".into(), "?".into()) } else { (end.to_string(), (quorum.high_watermark - end).max(0).to_string()) };
                voters.push([id.to_string(), role.to_string(), end, lag]);
            }
            let active = if quorum.leader < 0 { "none (an election is under way)".to_string() } else { quorum.leader.to_string() };
            vec![
                Outcome::Note(format!(
                    "controller quorum (DescribeQuorum): active controller {active}, epoch {}, metadata log at offset {}",
                    quorum.epoch, quorum.high_watermark
                )),
                Outcome::Table(voters.titled("controller quorum")),
            ]
        }
    }
}
