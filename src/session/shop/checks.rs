//! The shop's checks: they prove what the participants did from the cluster's state (orders read
//! back from the topics, the groups' committed offsets, the analyst's rows), not from the screen.

use std::collections::{BTreeMap, BTreeSet};

use super::super::{Session, Verdict};
use crate::actors::shop::{AnalystDb, Job};
use crate::error::{Error, Result, Thing};
use crate::expect::Condition;
use crate::format::shorten_list;
use crate::shop::{Order, Placed, Role};

impl Session {
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

    pub(in crate::session) async fn check_shop(&self, condition: &Condition) -> Result<Verdict> {
        match condition {
            Condition::PreparerServed { preparer, count } => {
                self.known_worker(preparer, Role::Preparer, Thing::Preparer)?;
                let found = self.shop.with(|log| log.served.iter().filter(|s| s.by == *preparer).count()) as u64;
                Ok(if found >= *count {
                    Verdict::Holds(format!("preparer {preparer} has served {found} order(s)"))
                } else {
                    Verdict::NotYet(format!("expected preparer {preparer} to have served {count} or more orders, found {found}"))
                })
            }
            Condition::CookCooked { cook, count } => {
                self.known_worker(cook, Role::Cook, Thing::Cook)?;
                let found = self.shop.with(|log| {
                    log.panels().into_iter().find(|p| p.role == Role::Cook && p.name == *cook).map_or(0, |p| p.done)
                });
                Ok(if found >= *count {
                    Verdict::Holds(format!("cook {cook} has sent back {found} order(s) ready"))
                } else {
                    Verdict::NotYet(format!("expected cook {cook} to have sent back {count} or more orders, found {found}"))
                })
            }
            Condition::OrdersServedOnce { topic } => self.served_once(topic).await,
            Condition::OrdersPlaiceCooked { topic } => self.plaice_cooked(topic).await,
            Condition::CabinetBalances => self.cabinet_balances().await,
            Condition::AnalystStoredEveryOrder { analyst } => self.analyst_stored_all(analyst).await,
            Condition::WorkerIs { worker, fact } => self.worker_is(worker, fact),
            _ => Err(Error::input("not a shop condition")),
        }
    }

    /// `worker W cabinet | sends-to T`: how a preparer or cook was started.
    fn worker_is(&self, worker: &str, fact: &crate::expect::WorkerFact) -> Result<Verdict> {
        use crate::expect::WorkerFact;
        let job = self.jobs.get(worker).ok_or_else(|| Error::not_found(Thing::Consumer, worker))?;
        let (cabinet, sends_to, role) = match job {
            Job::Preparer { cook_topic, cabinet } => (cabinet.is_some(), cook_topic.clone(), "preparer"),
            Job::Cook { orders_topic, cabinet } => (cabinet.is_some(), Some(orders_topic.clone()), "cook"),
            Job::Analyst { .. } => (false, None, "analyst"),
        };
        Ok(match fact {
            WorkerFact::Cabinet => Verdict::when(cabinet, format!("{role} {worker} works from the hot cabinet"), || {
                format!("{role} {worker} has no cabinet: stop it and start it again with --cabinet")
            }),
            WorkerFact::SendsTo(topic) => Verdict::when(
                sends_to.as_deref() == Some(topic.as_str()),
                format!("{role} {worker} sends orders on to {topic}"),
                || match &sends_to {
                    Some(found) => format!("expected {role} {worker} to send orders on to {topic}, found {found}"),
                    None => format!("expected {role} {worker} to send orders on to {topic}, but it sends nothing on (no --cook-topic)"),
                },
            ),
        })
    }

    fn known_worker(&self, name: &str, role: Role, thing: Thing) -> Result<()> {
        if self.shop.with(|log| log.has_role(role, name)) {
            Ok(())
        } else {
            Err(Error::not_found(thing, name))
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
            return Ok(Verdict::NotYet(format!("no till has sent an order to {topic} yet")));
        }
        let on_cluster = self.orders_on(topic).await?;
        if let Some(missing) = sent.iter().find(|p| on_cluster.get(&(p.partition, p.offset)).map(|o| o.order) != Some(p.order)) {
            return Ok(Verdict::NotYet(format!(
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
            return Ok(Verdict::NotYet(format!("order {order} was served {} times (by {})", by.len(), by.join(", "))));
        }
        if !unserved.is_empty() {
            return Ok(Verdict::NotYet(format!(
                "{} of {} orders on {topic} not served yet: {}",
                unserved.len(),
                sent.len(),
                shorten_list(&unserved)
            )));
        }
        // Served is not enough: the group must have committed it, or a restart serves it again.
        let groups = self.worker_groups(topic, Role::Preparer);
        if let Some(uncommitted) = self.uncommitted(topic, &groups, sent.iter().chain(&returned)).await? {
            return Ok(Verdict::NotYet(uncommitted));
        }
        let mut by: BTreeMap<&str, usize> = BTreeMap::new();
        for (name, _) in &served {
            *by.entry(name.as_str()).or_default() += 1;
        }
        let who: Vec<String> = by.iter().map(|(name, n)| format!("{name} {n}")).collect();
        let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
        Ok(Verdict::Holds(format!(
            "all {} orders on {topic} were served exactly once ({}); group {} committed past each one",
            sent.len(),
            who.join(", "),
            groups.join(", ")
        )))
    }

    /// The first of `groups` that has not committed past every order in `placed`, said plainly.
    async fn uncommitted<'a>(
        &self,
        topic: &str,
        groups: &BTreeSet<String>,
        placed: impl Iterator<Item = &'a Placed>,
    ) -> Result<Option<String>> {
        let mut last: BTreeMap<i32, i64> = BTreeMap::new();
        for placed in placed {
            let entry = last.entry(placed.partition).or_insert(placed.offset);
            *entry = (*entry).max(placed.offset);
        }
        for group in groups {
            let committed = self.connection.committed(group, last.keys().map(|p| (topic.to_string(), *p)).collect()).await?;
            for (partition, offset) in &last {
                let done = committed.get(&(topic.to_string(), *partition)).copied().unwrap_or(-1);
                if done <= *offset {
                    return Ok(Some(format!(
                        "group {group} has committed {topic}[{partition}] up to {done}; the order at offset {offset} is served but not yet committed"
                    )));
                }
            }
        }
        Ok(None)
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
            return Ok(Verdict::NotYet(format!("no till has sent a plaice order to {topic} yet")));
        }
        let cook_topics: BTreeSet<String> = self
            .jobs
            .iter()
            .filter(|(_, job)| matches!(job, Job::Cook { orders_topic, .. } if orders_topic == topic))
            .filter_map(|(name, _)| self.consumers.get(name))
            .flat_map(|c| c.spec.topics.clone())
            .collect();
        if cook_topics.is_empty() {
            return Ok(Verdict::NotYet(format!("no cook sends orders back to {topic}")));
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
                return Ok(Verdict::NotYet(format!("{} of {} plaice orders {what}: {}", missing.len(), plaice.len(), shorten_list(&missing))));
            }
        }
        Ok(Verdict::Holds(format!(
            "all {} plaice orders went to {} not ready, came back to {topic} with ready: true, and were served",
            plaice.len(),
            cooks.join(", ")
        )))
    }

    /// The cabinet holds what the cooks put in less what the served orders (read back from the
    /// cluster) took out.
    async fn cabinet_balances(&self) -> Result<Verdict> {
        let (cabinet, served) = self.shop.with(|log| (log.cabinet.clone(), log.served.clone()));
        if cabinet == Default::default() && self.redis_cabinet.is_none() {
            return Ok(Verdict::NotYet("the hot cabinet has not been used: start preparers and a cook with --cabinet".into()));
        }
        let mut taken: BTreeMap<String, u32> = BTreeMap::new();
        let topics: BTreeSet<String> = served.iter().map(|s| s.from.topic.clone()).collect();
        for topic in topics {
            let orders = self.orders_on(&topic).await?;
            for s in served.iter().filter(|s| s.from.topic == topic) {
                let Some(order) = orders.get(&(s.from.partition, s.from.offset)) else {
                    return Ok(Verdict::NotYet(format!("served order {} is not on the cluster at {topic}[{}] offset {}", s.from.order, s.from.partition, s.from.offset)));
                };
                for (item, n) in order.needs() {
                    *taken.entry(item).or_default() += n;
                }
            }
        }
        if let Some(redis) = &self.redis_cabinet {
            return Ok(redis_balances(redis, &taken, served.len()).await);
        }
        if taken != cabinet.taken {
            return Ok(Verdict::NotYet(format!("the served orders on the cluster need {taken:?}, but the cabinet gave out {:?}", cabinet.taken)));
        }
        for (item, cooked) in &cabinet.cooked {
            let left = cooked - taken.get(item).copied().unwrap_or(0);
            if cabinet.stock.get(item).copied().unwrap_or(0) != left {
                return Ok(Verdict::NotYet(format!("the cabinet should hold {left} {item}, but holds {}", cabinet.stock.get(item).copied().unwrap_or(0))));
            }
        }
        let list = |m: &BTreeMap<String, u32>| m.iter().map(|(i, n)| format!("{n} {i}")).collect::<Vec<_>>().join(", ");
        Ok(Verdict::Holds(format!(
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
        let db = AnalystDb::open(&run.db).await?;
        let rows = db.stored(&run.run).await?;
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
            return Ok(Verdict::NotYet(format!("no orders on {} since analyst {name} started", run.topic)));
        }
        let mut seen = BTreeSet::new();
        for row in &rows {
            if !seen.insert((row.partition, row.offset)) {
                return Ok(Verdict::NotYet(format!("{}[{}] offset {} is stored twice", row.topic, row.partition, row.offset)));
            }
            if !messages.contains(row) {
                return Ok(Verdict::NotYet(format!("the row for order {} ({}[{}] offset {}) matches no message on the cluster", row.order, row.topic, row.partition, row.offset)));
            }
        }
        let missing: Vec<String> = messages.iter().filter(|m| !rows.contains(m)).map(|m| m.order.to_string()).collect();
        if !missing.is_empty() {
            return Ok(Verdict::NotYet(format!("{} of {} orders not stored yet: {}", missing.len(), messages.len(), shorten_list(&missing))));
        }
        Ok(Verdict::Holds(format!(
            "{} holds a row for each of the {} orders on {} since analyst {name} started, once each",
            run.db.describe(),
            messages.len(),
            run.topic
        )))
    }
}

/// A cabinet in Redis, perhaps shared with other sessions: for every item it holds what all the
/// cooks put in less what all the preparers took, never less than nothing, and what this
/// session's served orders (read back from the cluster) needed is part of what was taken.
async fn redis_balances(redis: &crate::actors::cabinet::RedisCabinet, ours: &BTreeMap<String, u32>, served: usize) -> Verdict {
    let counts = match redis.counts().await {
        Ok(counts) => counts,
        Err(why) => return Verdict::NotYet(format!("the cabinet at {} cannot be read: {why}", redis.shown)),
    };
    let get = |m: &BTreeMap<String, i64>, item: &str| m.get(item).copied().unwrap_or(0);
    let items: BTreeSet<&String> = counts.stock.keys().chain(counts.cooked.keys()).chain(counts.taken.keys()).collect();
    for item in items {
        let (stock, cooked, taken) = (get(&counts.stock, item), get(&counts.cooked, item), get(&counts.taken, item));
        if stock != cooked - taken || stock < 0 {
            return Verdict::NotYet(format!("the cabinet at {} holds {stock} {item}, but cooks put in {cooked} and preparers took {taken}", redis.shown));
        }
    }
    for (item, n) in ours {
        if i64::from(*n) > get(&counts.taken, item) {
            return Verdict::NotYet(format!("this session's served orders needed {n} {item}, but the cabinet at {} gave out {}", redis.shown, get(&counts.taken, item)));
        }
    }
    let list = |m: &BTreeMap<String, i64>| m.iter().map(|(i, n)| format!("{n} {i}")).collect::<Vec<_>>().join(", ");
    Verdict::Holds(format!(
        "the cabinet at {} balances: cooks put in {}; preparers took {} ({served} of those orders served here); it holds {}",
        redis.shown,
        list(&counts.cooked),
        list(&counts.taken),
        list(&counts.stock)
    ))
}
