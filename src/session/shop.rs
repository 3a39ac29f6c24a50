//! The fish-and-chip shop's commands: tills, preparers, cooks and the analyst, the board that
//! shows them, and the checks that prove what they did against the cluster.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::{check_partition, ReadPlan, Session};
use crate::actors::consumer::{ConsumerSpec, Status};
use crate::actors::shop::{start_worker, AnalystDb, Job, TillHandle, TillSpec};
use crate::command::{
    Acks, Assignor, QueryArgs, StartAnalystArgs, StartCookArgs, StartFrom, StartPreparerArgs, StartTillArgs,
};
use crate::error::{Error, Result};
use crate::kafka::ProducerSettings;
use crate::outcome::{Outcome, Record};
use crate::shop::{Board, Order, PartitionBy, Placed, Role};

/// What an analyst was started with, for its checks and queries.
pub(super) struct AnalystRun {
    db: PathBuf,
    run: String,
    topic: String,
    /// Where the analyst's group started reading, per partition.
    start: BTreeMap<i32, i64>,
}

type Verdict = std::result::Result<String, String>;

impl Session {
    pub(super) async fn start_till(&mut self, args: StartTillArgs) -> Result<Outcome> {
        if self.tills.get(&args.number).is_some_and(TillHandle::running) {
            return Err(Error::input(format!("till {} is already open", args.number)));
        }
        let topic = self.connection.topic(&args.topic).await?;
        if args.partition_by == PartitionBy::Till {
            let partition = i32::try_from(args.number - 1).unwrap_or(i32::MAX);
            check_partition(&topic, Some(partition)).map_err(|_| {
                Error::input(format!(
                    "till {} sends to partition {partition}, but topic '{}' has {} partition(s): create it with --partitions {} or use --partition-by key",
                    args.number,
                    args.topic,
                    topic.partitions.len(),
                    args.number
                ))
            })?;
        }
        let producer = self.connection.producer(ProducerSettings { acks: Acks::All, idempotent: false })?;
        let spec = TillSpec { number: args.number, topic: args.topic.clone(), partition_by: args.partition_by, plaice: args.plaice };
        let how = match args.partition_by {
            PartitionBy::Till => format!("to partition {}", args.number - 1),
            PartitionBy::Key => format!("with key \"{}\"", args.number),
            PartitionBy::None => "with no key, spread by the client".to_string(),
        };
        self.tills.insert(args.number, TillHandle::start(spec, producer, self.shop.clone()));
        Ok(Outcome::Done(format!(
            "opened till {}: an order every 1–1.5 s to '{}' {how}{}",
            args.number,
            args.topic,
            if args.plaice { ", some with plaice" } else { "" }
        )))
    }

    pub(super) async fn stop_till(&mut self, which: &[String]) -> Result<Outcome> {
        let numbers: Vec<u32> = if which.iter().any(|w| w == "all") {
            self.tills.iter().filter(|(_, t)| t.running()).map(|(n, _)| *n).collect()
        } else {
            which
                .iter()
                .map(|w| w.parse::<u32>().map_err(|_| Error::usage(format!("expected till numbers or `all`, got '{w}'"))))
                .collect::<Result<_>>()?
        };
        if numbers.is_empty() {
            return Ok(Outcome::Note("no till is open".into()));
        }
        let open = open_tills(&self.tills);
        let mut closed = Vec::new();
        for number in numbers {
            let till = self
                .tills
                .get_mut(&number)
                .filter(|t| t.running())
                .ok_or_else(|| Error::input(format!("till {number} is not open; open tills: {open}")))?;
            till.stop().await;
            let sent = self.shop.with(|log| log.sent.iter().filter(|(o, _)| o.till == number).count());
            closed.push(format!("till {number} ({sent} orders)"));
        }
        Ok(Outcome::Done(format!("closed {}", closed.join(", "))))
    }

    pub(super) async fn start_preparer(&mut self, args: StartPreparerArgs) -> Result<Outcome> {
        if let Some(cook_topic) = &args.cook_topic {
            self.connection.topic(cook_topic).await?;
        }
        let job = Job::Preparer { cook_topic: args.cook_topic.clone(), cabinet: args.cabinet };
        let started = self.start_worker(&args.name, &args.group, &args.topic, StartFrom::Latest, job).await?;
        let cook = args.cook_topic.map(|c| format!("; orders to cook go to '{c}'")).unwrap_or_default();
        Ok(Outcome::Done(format!("preparer '{}' joined group '{}' on '{}'{started}{cook}", args.name, args.group, args.topic)))
    }

    pub(super) async fn start_cook(&mut self, args: StartCookArgs) -> Result<Outcome> {
        self.connection.topic(&args.orders_topic).await?;
        let job = Job::Cook { orders_topic: args.orders_topic.clone(), cabinet: args.cabinet };
        let started = self.start_worker(&args.name, &args.group, &args.topic, StartFrom::Latest, job).await?;
        Ok(Outcome::Done(format!(
            "cook '{}' joined group '{}' on '{}'{started}; cooked orders go back to '{}'",
            args.name, args.group, args.topic, args.orders_topic
        )))
    }

    pub(super) async fn start_analyst(&mut self, args: StartAnalystArgs) -> Result<Outcome> {
        let db = match args.db {
            Some(path) => path,
            None => crate::repl::data_dir()
                .ok_or_else(|| Error::input("no data folder for the database: give --db FILE"))?
                .join(format!("{}.sqlite", args.name)),
        };
        // Fail now, not in the background, if the file cannot be a database.
        AnalystDb::open(&db).await.map_err(Error::Io)?;
        let run = format!("{}-{}", args.name, std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis()));
        let job = Job::Analyst { db: db.clone(), run: run.clone() };
        let started = self.start_worker(&args.name, &args.group, &args.topic, args.from, job).await?;
        let start = self.group_positions(&args.group, &args.topic).await?;
        self.analysts.insert(args.name.clone(), AnalystRun { db: db.clone(), run, topic: args.topic.clone(), start });
        Ok(Outcome::Done(format!(
            "analyst '{}' joined group '{}' on '{}'{started}; each order becomes a row in {} (table orders); query it with: query {} \"SELECT …\"",
            args.name,
            args.group,
            args.topic,
            db.display(),
            args.name
        )))
    }

    /// Start a consumer for a shop participant and the worker that does its job. A group that
    /// nobody is in yet starts at `from` (the talk's `seek_to_end`), so a rerun never serves old
    /// orders; a participant joining a running group carries on from its committed offsets, so
    /// no order is skipped.
    async fn start_worker(&mut self, name: &str, group: &str, topic: &str, from: StartFrom, job: Job) -> Result<String> {
        if self.consumers.get(name).is_some_and(|c| c.status() == Status::Running) {
            return Err(Error::input(format!("a consumer named '{name}' is already running")));
        }
        let info = self.connection.topic(topic).await?;
        let mut said = String::new();
        let idle_here = self.consumers_in(group).is_empty();
        let idle_there = self.connection.group(group).await?.is_none_or(|g| g.members.is_empty());
        if idle_here && idle_there {
            let marks = self.connection.topic_watermarks(&info).await?;
            let offsets: Vec<(String, i32, i64)> = marks
                .iter()
                .map(|(p, m)| (topic.to_string(), *p, if from == StartFrom::Earliest { m.low } else { m.high }))
                .collect();
            self.connection.commit_for_group(group, offsets).await?;
            said = if from == StartFrom::Earliest { ", starting at the beginning".into() } else { ", starting at the end".into() };
        }
        let spec = ConsumerSpec {
            name: name.to_string(),
            group: group.to_string(),
            topics: vec![topic.to_string()],
            from,
            manual_commit: false,
            session_timeout: std::time::Duration::from_secs(6),
            assignor: Assignor::Range,
            follow: false,
        };
        self.launch_consumer(spec)?;
        self.jobs.insert(name.to_string(), job.clone());
        self.run_job(name, job)?;
        Ok(said)
    }

    /// Give a running consumer its shop job (again, after restart-consumer).
    pub(super) fn run_job(&mut self, name: &str, job: Job) -> Result<()> {
        let consumer = self.consumers.get(name).cloned().ok_or_else(|| Error::input(format!("no consumer named '{name}'")))?;
        let producer = self.connection.producer(ProducerSettings { acks: Acks::All, idempotent: false })?;
        start_worker(consumer, job, producer, self.shop.clone());
        Ok(())
    }

    /// The group's committed offsets on a topic, per partition.
    async fn group_positions(&self, group: &str, topic: &str) -> Result<BTreeMap<i32, i64>> {
        let info = self.connection.topic(topic).await?;
        let pairs = info.partitions.iter().map(|p| (topic.to_string(), p.id)).collect();
        let committed = self.connection.committed(group, pairs).await?;
        Ok(committed.into_iter().map(|((_, p), o)| (p, o)).collect())
    }

    pub(super) async fn query(&self, args: QueryArgs) -> Result<Outcome> {
        let run = self.analyst(&args.name)?;
        let db = AnalystDb::open(&run.db).await.map_err(Error::Io)?;
        let table = db.query(&args.sql).await.map_err(|e| Error::input(format!("the query failed: {e}")))?;
        if table.rows.is_empty() {
            return Ok(Outcome::Note("the query returned no rows".into()));
        }
        Ok(Outcome::Table(table))
    }

    fn analyst(&self, name: &str) -> Result<&AnalystRun> {
        self.analysts.get(name).ok_or_else(|| Error::Usage {
            message: format!("no analyst named '{name}'"),
            hint: Some("start one with: start-analyst NAME --topic T".into()),
        })
    }

    /// The shop's participants as they are now.
    pub fn shop_board(&self) -> Outcome {
        let (panels, cabinet_used) = self.shop.with(|log| (log.panels(), log.cabinet != Default::default()));
        if panels.is_empty() {
            return Outcome::Note("the shop is empty; open a till with: start-till 1 --topic orders".into());
        }
        let cabinet = cabinet_used.then(|| self.shop.with(|log| log.cabinet.describe()));
        Outcome::Board(Board { panels, cabinet })
    }

    /// Every message on `topic`, read back from the cluster.
    async fn whole_topic(&self, topic: &str, from: Option<&BTreeMap<i32, i64>>) -> Result<Vec<Record>> {
        let info = self.connection.topic(topic).await?;
        let marks = self.connection.topic_watermarks(&info).await?;
        let plan: Vec<ReadPlan> = marks
            .iter()
            .map(|(partition, m)| {
                let start = from.and_then(|f| f.get(partition)).copied().unwrap_or(m.low).max(m.low);
                ReadPlan { partition: *partition, start, end: m.high }
            })
            .filter(|p| p.start < p.end)
            .collect();
        let total: i64 = plan.iter().map(|p| p.end - p.start).sum();
        if plan.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.read_records(topic, plan, u64::try_from(total).unwrap_or(0)).await?.records)
    }

    /// The orders on `topic` by place, as the cluster holds them.
    async fn orders_on(&self, topic: &str) -> Result<BTreeMap<(i32, i64), Order>> {
        Ok(self
            .whole_topic(topic, None)
            .await?
            .into_iter()
            .filter_map(|r| Some(((r.partition, r.offset), r.value.as_deref().and_then(Order::parse)?)))
            .collect())
    }

    /// The consumer groups of the preparers and cooks reading `topic`.
    fn worker_groups(&self, topic: &str, role: Role) -> BTreeSet<String> {
        self.jobs
            .iter()
            .filter(|(_, job)| job.role() == role)
            .filter_map(|(name, _)| self.consumers.get(name))
            .filter(|c| c.spec.topics.iter().any(|t| t == topic))
            .map(|c| c.spec.group.clone())
            .collect()
    }

    pub(super) async fn check_shop(&self, condition: &crate::expect::Condition) -> Result<Verdict> {
        use crate::expect::Condition;
        Ok(match condition {
            Condition::PreparerServed { preparer, count } => {
                self.known_worker(preparer, Role::Preparer)?;
                let found = self.shop.with(|log| log.served.iter().filter(|s| s.by == *preparer).count()) as u64;
                if found >= *count {
                    Ok(format!("preparer {preparer} has served {found} order(s)"))
                } else {
                    Err(format!("expected preparer {preparer} to have served {count} or more orders, found {found}"))
                }
            }
            Condition::CookCooked { cook, count } => {
                self.known_worker(cook, Role::Cook)?;
                let found = self.shop.with(|log| log.panels().into_iter().find(|p| p.role == Role::Cook && p.name == *cook).map_or(0, |p| p.done));
                if found >= *count {
                    Ok(format!("cook {cook} has sent back {found} order(s) ready"))
                } else {
                    Err(format!("expected cook {cook} to have sent back {count} or more orders, found {found}"))
                }
            }
            Condition::OrdersServedOnce { topic } => self.served_once(topic).await?,
            Condition::OrdersPlaiceCooked { topic } => self.plaice_cooked(topic).await?,
            Condition::CabinetBalances => self.cabinet_balances().await?,
            Condition::AnalystStoredEveryOrder { analyst } => self.analyst_stored_all(analyst).await?,
            _ => return Err(Error::input("not a shop condition")),
        })
    }

    fn known_worker(&self, name: &str, role: Role) -> Result<()> {
        if self.shop.with(|log| log.has_role(role, name)) {
            Ok(())
        } else {
            Err(Error::input(format!("no {} named '{name}' in the shop", role.as_str().to_lowercase())))
        }
    }

    /// Every till order on `topic` is on the cluster where its delivery report said, was served by
    /// exactly one preparer, and the preparers' group has committed past it.
    async fn served_once(&self, topic: &str) -> Result<Verdict> {
        let (sent, served, returned) = self.shop.with(|log| {
            let sent: Vec<Placed> = log.sent.iter().filter(|(_, p)| p.topic == topic).map(|(_, p)| p.clone()).collect();
            let served: Vec<(String, Placed)> =
                log.served.iter().filter(|s| s.from.topic == topic).map(|s| (s.by.clone(), s.from.clone())).collect();
            let returned: Vec<Placed> = log.cooked.iter().filter(|p| p.topic == topic).cloned().collect();
            (sent, served, returned)
        });
        if sent.is_empty() {
            return Ok(Err(format!("no till has sent an order to {topic} yet")));
        }
        let on_cluster = self.orders_on(topic).await?;
        if let Some(missing) = sent.iter().find(|p| on_cluster.get(&(p.partition, p.offset)).map(|o| o.order) != Some(p.order)) {
            return Ok(Err(format!(
                "order {} is not on the cluster at {topic}[{}] offset {}, where the till's delivery report put it",
                missing.order, missing.partition, missing.offset
            )));
        }
        let mut times: BTreeMap<u64, Vec<&str>> = sent.iter().map(|p| (p.order, Vec::new())).collect();
        for (by, placed) in &served {
            times.entry(placed.order).or_default().push(by);
        }
        let unserved: Vec<String> = times.iter().filter(|(_, by)| by.is_empty()).map(|(n, _)| n.to_string()).collect();
        if let Some((order, by)) = times.iter().find(|(_, by)| by.len() > 1) {
            return Ok(Err(format!("order {order} was served {} times (by {})", by.len(), by.join(", "))));
        }
        if !unserved.is_empty() {
            return Ok(Err(format!(
                "{} of {} orders on {topic} not served yet: {}",
                unserved.len(),
                sent.len(),
                shorten_list(&unserved)
            )));
        }
        // Served is not enough: the group must have committed it, or a restart serves it again.
        let mut last: BTreeMap<i32, i64> = BTreeMap::new();
        for placed in sent.iter().chain(&returned) {
            let entry = last.entry(placed.partition).or_insert(placed.offset);
            *entry = (*entry).max(placed.offset);
        }
        let groups = self.worker_groups(topic, Role::Preparer);
        for group in &groups {
            let committed = self.connection.committed(group, last.keys().map(|p| (topic.to_string(), *p)).collect()).await?;
            for (partition, offset) in &last {
                let done = committed.get(&(topic.to_string(), *partition)).copied().unwrap_or(-1);
                if done <= *offset {
                    return Ok(Err(format!(
                        "group {group} has committed {topic}[{partition}] up to {done}; the order at offset {offset} is served but not yet committed"
                    )));
                }
            }
        }
        let mut by: BTreeMap<&str, usize> = BTreeMap::new();
        for (name, _) in &served {
            *by.entry(name.as_str()).or_default() += 1;
        }
        let who: Vec<String> = by.iter().map(|(name, n)| format!("{name} {n}")).collect();
        let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
        Ok(Ok(format!(
            "all {} orders on {topic} were served exactly once ({}); group {} committed past each one",
            sent.len(),
            who.join(", "),
            groups.join(", ")
        )))
    }

    /// Every plaice order on `topic` reached a cook's topic not ready, came back to `topic`
    /// ready, and was served ready.
    async fn plaice_cooked(&self, topic: &str) -> Result<Verdict> {
        let (plaice, served_ready) = self.shop.with(|log| {
            let plaice: Vec<u64> = log.sent.iter().filter(|(o, p)| p.topic == topic && o.has_plaice()).map(|(o, _)| o.order).collect();
            let served: BTreeSet<u64> =
                log.served.iter().filter(|s| s.from.topic == topic && s.ready == Some(true)).map(|s| s.from.order).collect();
            (plaice, served)
        });
        if plaice.is_empty() {
            return Ok(Err(format!("no till has sent a plaice order to {topic} yet")));
        }
        let cook_topics: BTreeSet<String> = self
            .jobs
            .iter()
            .filter(|(_, job)| matches!(job, Job::Cook { orders_topic, .. } if orders_topic == topic))
            .filter_map(|(name, _)| self.consumers.get(name))
            .flat_map(|c| c.spec.topics.clone())
            .collect();
        if cook_topics.is_empty() {
            return Ok(Err(format!("no cook sends orders back to {topic}")));
        }
        let mut to_cook: BTreeSet<u64> = BTreeSet::new();
        for cook_topic in &cook_topics {
            to_cook.extend(self.orders_on(cook_topic).await?.values().filter(|o| o.ready == Some(false)).map(|o| o.order));
        }
        let back: BTreeSet<u64> = self.orders_on(topic).await?.values().filter(|o| o.ready == Some(true)).map(|o| o.order).collect();
        let waiting = |set: &BTreeSet<u64>| -> Vec<String> { plaice.iter().filter(|n| !set.contains(n)).map(u64::to_string).collect() };
        let cooks: Vec<&str> = cook_topics.iter().map(String::as_str).collect();
        for (set, what) in [
            (&to_cook, format!("never reached the cook's topic {}", cooks.join(", "))),
            (&back, format!("not back on {topic} with ready: true yet")),
            (&served_ready, "back but not served yet".to_string()),
        ] {
            let missing = waiting(set);
            if !missing.is_empty() {
                return Ok(Err(format!("{} of {} plaice orders {what}: {}", missing.len(), plaice.len(), shorten_list(&missing))));
            }
        }
        Ok(Ok(format!(
            "all {} plaice orders went to {} not ready, came back to {topic} with ready: true, and were served",
            plaice.len(),
            cooks.join(", ")
        )))
    }

    /// The cabinet holds what the cooks put in less what the served orders (read back from the
    /// cluster) took out.
    async fn cabinet_balances(&self) -> Result<Verdict> {
        let (cabinet, served) = self.shop.with(|log| (log.cabinet.clone(), log.served.clone()));
        if cabinet == Default::default() {
            return Ok(Err("the hot cabinet has not been used: start preparers and a cook with --cabinet".into()));
        }
        let mut taken: BTreeMap<String, u32> = BTreeMap::new();
        let topics: BTreeSet<String> = served.iter().map(|s| s.from.topic.clone()).collect();
        for topic in topics {
            let orders = self.orders_on(&topic).await?;
            for s in served.iter().filter(|s| s.from.topic == topic) {
                let Some(order) = orders.get(&(s.from.partition, s.from.offset)) else {
                    return Ok(Err(format!("served order {} is not on the cluster at {topic}[{}] offset {}", s.from.order, s.from.partition, s.from.offset)));
                };
                for (item, n) in order.needs() {
                    *taken.entry(item).or_default() += n;
                }
            }
        }
        if taken != cabinet.taken {
            return Ok(Err(format!("the served orders on the cluster need {taken:?}, but the cabinet gave out {:?}", cabinet.taken)));
        }
        for (item, cooked) in &cabinet.cooked {
            let left = cooked - taken.get(item).copied().unwrap_or(0);
            if cabinet.stock.get(item).copied().unwrap_or(0) != left {
                return Ok(Err(format!("the cabinet should hold {left} {item}, but holds {}", cabinet.stock.get(item).copied().unwrap_or(0))));
            }
        }
        let list = |m: &BTreeMap<String, u32>| m.iter().map(|(i, n)| format!("{n} {i}")).collect::<Vec<_>>().join(", ");
        Ok(Ok(format!(
            "the cabinet balances: cooks put in {}; {} served orders took {}; it holds {}",
            list(&cabinet.cooked),
            served.len(),
            list(&taken),
            cabinet.describe()
        )))
    }

    /// The analyst's rows are exactly the order messages on its topic since it started.
    async fn analyst_stored_all(&self, name: &str) -> Result<Verdict> {
        let run = self.analyst(name)?;
        let db = AnalystDb::open(&run.db).await.map_err(Error::Io)?;
        let rows = db.stored(&run.run).await.map_err(Error::Io)?;
        let messages: Vec<Placed> = self
            .whole_topic(&run.topic, Some(&run.start))
            .await?
            .into_iter()
            .filter_map(|r| {
                let order = r.value.as_deref().and_then(Order::parse)?;
                Some(Placed { order: order.order, topic: r.topic, partition: r.partition, offset: r.offset })
            })
            .collect();
        if messages.is_empty() {
            return Ok(Err(format!("no orders on {} since analyst {name} started", run.topic)));
        }
        let mut seen = BTreeSet::new();
        for row in &rows {
            if !seen.insert((row.partition, row.offset)) {
                return Ok(Err(format!("{}[{}] offset {} is stored twice", row.topic, row.partition, row.offset)));
            }
            if !messages.contains(row) {
                return Ok(Err(format!("the row for order {} ({}[{}] offset {}) matches no message on the cluster", row.order, row.topic, row.partition, row.offset)));
            }
        }
        let missing: Vec<String> = messages.iter().filter(|m| !rows.contains(m)).map(|m| m.order.to_string()).collect();
        if !missing.is_empty() {
            return Ok(Err(format!("{} of {} orders not stored yet: {}", missing.len(), messages.len(), shorten_list(&missing))));
        }
        Ok(Ok(format!(
            "{} holds a row for each of the {} orders on {} since analyst {name} started, once each",
            run.db.display(),
            messages.len(),
            run.topic
        )))
    }
}

fn open_tills(tills: &BTreeMap<u32, TillHandle>) -> String {
    let open: Vec<String> = tills.iter().filter(|(_, t)| t.running()).map(|(n, _)| n.to_string()).collect();
    if open.is_empty() {
        "none".into()
    } else {
        open.join(", ")
    }
}

/// `1, 2, 3 … and 7 more`
fn shorten_list(items: &[String]) -> String {
    if items.len() <= 8 {
        return items.join(", ");
    }
    format!("{} … and {} more", items[..8].join(", "), items.len() - 8)
}
