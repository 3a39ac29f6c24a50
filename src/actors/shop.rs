//! The shop's participants as live actors. A till is a tokio task with its own pace; a preparer,
//! a cook and the analyst are each a consumer actor (so they join groups, rebalance, commit,
//! and can be stopped or killed like any consumer) with a worker task that takes one message at
//! a time from it and does the job. Everything they do goes to the shop's log (for the board
//! and the checks) and to the event channel (printed above the prompt).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::sync::oneshot;

use super::consumer::{ConsumerHandle, Status};
use crate::error::{Error, Result};
use crate::kafka::{Connection, Context, ProducerSettings};
use crate::outcome::Record;
use crate::report::Events;
use crate::shop::{Customers, Order, Pace, PartitionBy, Placed, Role, Served, ShopLog};

pub use super::analyst::AnalystDb;

/// The shop the participants share: its log, its pace, and where events go.
#[derive(Clone)]
pub struct Shop {
    log: Arc<Mutex<ShopLog>>,
    events: Events,
    pub pace: Pace,
    /// With a seed, each participant's orders and timings are the same on every run.
    pub seed: Option<u64>,
}

impl Shop {
    pub fn new(events: Events) -> Self {
        Shop { log: Arc::new(Mutex::new(ShopLog::default())), events, pace: Pace::default(), seed: None }
    }

    /// A participant's random numbers: from the shop's seed and its name, or from the system.
    fn rng(&self, who: &str) -> StdRng {
        crate::shop::participant_rng(self.seed, who)
    }

    /// Read or change the log.
    pub fn with<T>(&self, f: impl FnOnce(&mut ShopLog) -> T) -> T {
        let mut log = self.log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut log)
    }

    fn say(&self, role: Role, name: &str, text: String, counts: bool) {
        self.with(|log| log.note(role, name, &text, counts));
        self.events.say(name, text);
    }

    fn warn(&self, role: Role, name: &str, text: String) {
        self.with(|log| log.note(role, name, &format!("! {text}"), false));
        self.events.warn(name, text);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TillSpec {
    pub number: u32,
    pub topic: String,
    pub partition_by: PartitionBy,
    pub plaice: bool,
}

impl TillSpec {
    pub fn name(&self) -> String {
        format!("till-{}", self.number)
    }
}

/// A till: a customer's order every 1.0–1.5 s until stopped.
pub struct TillHandle {
    pub spec: TillSpec,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TillHandle {
    pub fn start(spec: TillSpec, connection: &Connection, shop: Shop) -> Result<Self> {
        let producer = connection.producer(ProducerSettings::RELIABLE)?;
        let (stop, mut stopped) = oneshot::channel();
        let task_spec = spec.clone();
        let name = spec.name();
        shop.with(|log| log.open_panel(Role::Till, &name));
        let task = tokio::spawn(async move {
            let spec = task_spec;
            let mut customers = Customers::new(shop.seed, spec.number, spec.plaice);
            loop {
                let (gap, mut order) = customers.next(&shop.pace, 0);
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tokio::time::sleep(gap) => {}
                }
                // Orders are numbered as they are placed, across the session's tills.
                let number = shop.with(ShopLog::next_order);
                order.order = number;
                let value = order.to_json();
                let key = spec.number.to_string();
                let mut record = FutureRecord::<str, str>::to(&spec.topic).payload(&value);
                match spec.partition_by {
                    PartitionBy::Till => record = record.partition(i32::try_from(spec.number).unwrap_or(1) - 1),
                    PartitionBy::Key => record = record.key(&key),
                    PartitionBy::None => {}
                }
                match producer.send(record, Duration::from_secs(5)).await {
                    Ok(delivery) => {
                        let placed = Placed { order: number, topic: spec.topic.clone(), partition: delivery.partition, offset: delivery.offset };
                        shop.with(|log| log.sent.push((order.clone(), placed)));
                        shop.say(
                            Role::Till,
                            &name,
                            format!("order {number}: {} → partition {}", order.describe(), delivery.partition),
                            true,
                        );
                    }
                    Err((err, _)) => shop.warn(
                        Role::Till,
                        &name,
                        format!("order {number} was not sent: {}", crate::kafka::describe_kafka_error(&err)),
                    ),
                }
            }
            shop.with(|log| log.close_panel(Role::Till, &name));
        });
        Ok(TillHandle { spec, stop: Some(stop), task: Some(task) })
    }

    pub fn running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stop after the order being sent, if any.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// Where the hot cabinet is: in this session, or in Redis for every session that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CabinetAt {
    Here,
    Redis(super::cabinet::RedisCabinet),
}

/// What a consumer-based participant does with each message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Make up each order; send it to `cook_topic` if something must be cooked first.
    Preparer { cook_topic: Option<String>, cabinet: Option<CabinetAt> },
    /// Cook what an order needs, mark it ready, send it back to `orders_topic`.
    Cook { orders_topic: String, cabinet: Option<CabinetAt> },
    /// Store every order as a row in SQLite or PostgreSQL.
    Analyst { db: crate::actors::analyst::Store, run: String },
}

impl Job {
    pub fn role(&self) -> Role {
        match self {
            Job::Preparer { .. } => Role::Preparer,
            Job::Cook { .. } => Role::Cook,
            Job::Analyst { .. } => Role::Analyst,
        }
    }
}

/// Run `job` on the messages of `consumer` until it stops or is killed.
pub fn start_worker(consumer: ConsumerHandle, job: Job, connection: &Connection, shop: Shop) -> Result<()> {
    let producer = connection.producer(ProducerSettings::RELIABLE)?;
    let name = consumer.spec.name.clone();
    let role = job.role();
    shop.with(|log| log.open_panel(role, &name));
    tokio::spawn(async move {
        let rng = shop.rng(&name);
        let worker = Worker { consumer, producer, shop: shop.clone(), name: name.clone(), rng };
        let finished = match job {
            Job::Preparer { cook_topic, cabinet } => worker.prepare(cook_topic, cabinet).await,
            Job::Cook { orders_topic, cabinet } => worker.cook(&orders_topic, cabinet).await,
            Job::Analyst { db, run } => worker.analyse(&db, &run).await,
        };
        let status = finished.consumer.status();
        let last = if status == Status::Killed { "crashed".to_string() } else { status.as_str().to_string() };
        shop.with(|log| {
            log.note(role, &name, &format!("({last})"), false);
            log.close_panel(role, &name);
        });
    });
    Ok(())
}

struct Worker {
    consumer: ConsumerHandle,
    producer: FutureProducer<Context>,
    shop: Shop,
    name: String,
    rng: StdRng,
}

impl Worker {
    /// The next message, or None once the consumer is no longer running.
    async fn next(&self) -> Option<Record> {
        loop {
            if self.consumer.status() != Status::Running {
                return None;
            }
            match self.consumer.poll(1, Duration::from_millis(300)).await {
                Ok(mut records) if !records.is_empty() => return Some(records.remove(0)),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    fn order_in(&self, role: Role, record: &Record) -> Option<Order> {
        let order = record.value.as_deref().and_then(Order::parse);
        if order.is_none() {
            self.shop.warn(
                role,
                &self.name,
                format!("{}[{}] offset {} is not an order; skipped", record.topic, record.partition, record.offset),
            );
        }
        order
    }

    /// Wait `range` of the shop's clock; false if the consumer crashed meanwhile (a crashed
    /// participant does not finish its work).
    async fn work_for(&mut self, range: std::ops::Range<f64>) -> bool {
        let time = self.shop.pace.draw(range, &mut self.rng);
        tokio::time::sleep(time).await;
        self.consumer.status() != Status::Killed
    }

    async fn send(&self, topic: &str, order: &Order) -> Result<Placed> {
        let value = order.to_json();
        let record = FutureRecord::<str, str>::to(topic).payload(&value);
        match self.producer.send(record, Duration::from_secs(5)).await {
            Ok(delivery) => {
                Ok(Placed { order: order.order, topic: topic.to_string(), partition: delivery.partition, offset: delivery.offset })
            }
            Err((err, _)) => Err(Error::kafka(format!(
                "could not send order {} to {topic}: {}",
                order.order,
                crate::kafka::describe_kafka_error(&err)
            ))),
        }
    }

    /// Ask the Redis cabinet, waiting (and saying so, once) while it cannot be reached; None if
    /// the participant stopped meanwhile. Its order waits, as an unserved message waits in Kafka.
    async fn ask_redis<T, F, Fut>(&self, role: Role, redis: &super::cabinet::RedisCabinet, order: u64, ask: F) -> Option<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, String>>,
    {
        let mut away = false;
        loop {
            match ask().await {
                Ok(answer) => {
                    if away {
                        self.shop.say(role, &self.name, format!("the cabinet at {} is back; order {order} goes on", redis.shown), false);
                    }
                    let stock = redis.describe().await;
                    self.shop.with(|log| log.cabinet.remote = Some(stock));
                    return Some(answer);
                }
                Err(why) => {
                    if !away {
                        self.shop.warn(
                            role,
                            &self.name,
                            format!("the cabinet at {} cannot be reached ({why}); order {order} waits until it is back", redis.shown),
                        );
                        away = true;
                    }
                    if self.consumer.status() != Status::Running {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    async fn prepare(mut self, cook_topic: Option<String>, cabinet: Option<CabinetAt>) -> Self {
        while let Some(record) = self.next().await {
            let Some(mut order) = self.order_in(Role::Preparer, &record) else { continue };
            if !self.work_for(Pace::PREPARING).await {
                break;
            }
            let ready = match &cabinet {
                // The hot cabinet decides: everything there, or off to the cook.
                Some(CabinetAt::Here) => Some(self.shop.with(|log| log.cabinet.take(&order))),
                Some(CabinetAt::Redis(redis)) => self.ask_redis(Role::Preparer, redis, order.order, || redis.take(&order)).await,
                // The talk's rule: an order without "ready" is ready unless it has plaice.
                None => Some(*order.ready.get_or_insert(!order.has_plaice())),
            };
            let Some(ready) = ready else { break };
            if cabinet.is_some() {
                order.ready = Some(ready);
            }
            let from = Placed { order: order.order, topic: record.topic.clone(), partition: record.partition, offset: record.offset };
            if ready {
                self.shop.with(|log| log.served.push(Served { by: self.name.clone(), from, ready: order.ready }));
                let note = if cabinet.is_some() { format!(" · cabinet: {}", self.shop.with(|log| log.cabinet.describe())) } else { String::new() };
                self.shop.say(
                    Role::Preparer,
                    &self.name,
                    format!("served order {} (till {}): {}{note}", order.order, order.till, order.describe()),
                    true,
                );
                continue;
            }
            let Some(cook_topic) = cook_topic.as_deref() else {
                self.shop.warn(
                    Role::Preparer,
                    &self.name,
                    format!("order {} needs cooking and this shop has no cook (start-preparer … --cook-topic C)", order.order),
                );
                continue;
            };
            order.ready = Some(false);
            match self.send(cook_topic, &order).await {
                Ok(placed) => {
                    self.shop.with(|log| log.to_cook.push(placed));
                    let why = if cabinet.is_some() { "the cabinet is short" } else { "it has plaice" };
                    self.shop.say(Role::Preparer, &self.name, format!("order {} not ready ({why}) → cook", order.order), false);
                }
                Err(err) => self.shop.warn(Role::Preparer, &self.name, err.to_string()),
            }
        }
        self
    }

    async fn cook(mut self, orders_topic: &str, cabinet: Option<CabinetAt>) -> Self {
        while let Some(record) = self.next().await {
            let Some(mut order) = self.order_in(Role::Cook, &record) else { continue };
            self.shop.say(Role::Cook, &self.name, format!("cooking for order {}…", order.order), false);
            if !self.work_for(Pace::COOKING).await {
                break;
            }
            let cooked = match &cabinet {
                Some(CabinetAt::Here) => Some(self.shop.with(|log| log.cabinet.stock_for(&order))),
                Some(CabinetAt::Redis(redis)) => {
                    let Some(cooked) = self.ask_redis(Role::Cook, redis, order.order, || redis.stock_for(&order)).await else { break };
                    Some(cooked)
                }
                None => None,
            };
            let what = match cooked {
                Some(cooked) => {
                    let list: Vec<String> = cooked.iter().map(|(item, n)| format!("{n} {item}")).collect();
                    if list.is_empty() { "nothing needed".to_string() } else { format!("cooked {}", list.join(", ")) }
                }
                None => "cooked the plaice".to_string(),
            };
            // Forgetting this sends the order round the loop for ever, as the talk warns.
            order.ready = Some(true);
            match self.send(orders_topic, &order).await {
                Ok(placed) => {
                    self.shop.with(|log| log.cooked.push(placed));
                    self.shop.say(Role::Cook, &self.name, format!("order {}: {what}; ready → preparers", order.order), true);
                }
                Err(err) => self.shop.warn(Role::Cook, &self.name, err.to_string()),
            }
        }
        self
    }

    async fn analyse(self, db: &crate::actors::analyst::Store, run: &str) -> Self {
        let store = match AnalystDb::open(db).await {
            Ok(store) => store,
            Err(err) => {
                self.shop.warn(Role::Analyst, &self.name, err.to_string());
                return self;
            }
        };
        while let Some(record) = self.next().await {
            let Some(order) = self.order_in(Role::Analyst, &record) else { continue };
            match store.insert(run, &order, &record).await {
                Ok(()) => self.shop.say(
                    Role::Analyst,
                    &self.name,
                    format!("stored order {} ({}[{}] offset {})", order.order, record.topic, record.partition, record.offset),
                    true,
                ),
                Err(err) => self.shop.warn(Role::Analyst, &self.name, err.to_string()),
            }
        }
        self
    }
}
