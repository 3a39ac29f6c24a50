//! The fish-and-chip shop's commands: tills, preparers, cooks and the analyst, the board that
//! shows them, and the checks that prove what they did against the cluster.

use std::collections::BTreeMap;

use super::topics::check_partition;
use super::Session;
use crate::actors::consumer::{ConsumerSpec, Status};
use crate::actors::analyst::Store;
use crate::actors::cabinet::RedisCabinet;
use crate::actors::shop::{start_worker, AnalystDb, CabinetAt, Job, TillHandle, TillSpec};
use crate::command::{QueryArgs, StartAnalystArgs, StartCookArgs, StartPreparerArgs, StartTillArgs};
use crate::error::{Error, Result, Thing};
use crate::kafka::{Assignor, StartFrom};
use crate::outcome::{Live, LiveSource, Outcome};
use crate::shop::{Board, PartitionBy};

mod checks;

/// What an analyst was started with, for its checks and queries.
pub(super) struct AnalystRun {
    pub(super) db: Store,
    pub(super) run: String,
    pub(super) topic: String,
    /// Where the analyst's group started reading, per partition.
    pub(super) start: BTreeMap<i32, i64>,
}

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
        let spec = TillSpec { number: args.number, topic: args.topic.clone(), partition_by: args.partition_by, plaice: args.plaice };
        let how = match args.partition_by {
            PartitionBy::Till => format!("to partition {}", args.number - 1),
            PartitionBy::Key => format!("with key \"{}\"", args.number),
            PartitionBy::None => "with no key, spread by the client".to_string(),
        };
        self.tills.insert(args.number, TillHandle::start(spec, &self.connection, self.shop.clone())?);
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
        let job = Job::Preparer { cook_topic: args.cook_topic.clone(), cabinet: self.cabinet_at(args.cabinet.as_deref()).await? };
        let started = self.start_worker(&args.name, &args.group, &args.topic, StartFrom::Latest, job).await?;
        let cook = args.cook_topic.map(|c| format!("; orders to cook go to '{c}'")).unwrap_or_default();
        Ok(Outcome::Done(format!("preparer '{}' joined group '{}' on '{}'{started}{cook}", args.name, args.group, args.topic)))
    }

    pub(super) async fn start_cook(&mut self, args: StartCookArgs) -> Result<Outcome> {
        self.connection.topic(&args.orders_topic).await?;
        let job = Job::Cook { orders_topic: args.orders_topic.clone(), cabinet: self.cabinet_at(args.cabinet.as_deref()).await? };
        let started = self.start_worker(&args.name, &args.group, &args.topic, StartFrom::Latest, job).await?;
        Ok(Outcome::Done(format!(
            "cook '{}' joined group '{}' on '{}'{started}; cooked orders go back to '{}'",
            args.name, args.group, args.topic, args.orders_topic
        )))
    }

    pub(super) async fn start_analyst(&mut self, args: StartAnalystArgs) -> Result<Outcome> {
        let db = match args.db.as_deref() {
            Some(raw) => Store::parse(raw, |prompt| self.reporter.secret(prompt))?,
            None => Store::Sqlite(
                self.home
                    .as_ref()
                    .ok_or_else(|| Error::input("no data folder for the database: give --db FILE"))?
                    .join(format!("{}.sqlite", args.name)),
            ),
        };
        let connect = args.show_connect_config.then(|| connect_config(&args.name, &args.topic, &db));
        // Fail now, not in the background, if the database cannot be opened.
        AnalystDb::open(&db).await?;
        let run = format!("{}-{}", args.name, std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis()));
        let job = Job::Analyst { db: db.clone(), run: run.clone() };
        let started = self.start_worker(&args.name, &args.group, &args.topic, args.from.into(), job).await?;
        let start = self.group_positions(&args.group, &args.topic).await?;
        let shown = db.describe();
        self.analysts.insert(args.name.clone(), AnalystRun { db, run, topic: args.topic.clone(), start });
        let mut parts = vec![Outcome::Done(format!(
            "analyst '{}' joined group '{}' on '{}'{started}; each order becomes a row in {shown} (table orders); query it with: query {} \"SELECT …\"",
            args.name, args.group, args.topic, args.name
        ))];
        parts.extend(connect.into_iter().flatten());
        Ok(Outcome::many(parts))
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
            max_poll_interval: crate::actors::consumer::DEFAULT_MAX_POLL_INTERVAL,
            instance_id: None,
            follow: false,
            isolation: crate::kafka::Isolation::ReadCommitted,
            protocol: crate::kafka::GroupProtocol::Classic,
        };
        self.launch_consumer(spec)?;
        self.jobs.insert(name.to_string(), job.clone());
        self.run_job(name, job)?;
        Ok(said)
    }

    /// Give a running consumer its shop job (again, after restart-consumer).
    pub(super) fn run_job(&mut self, name: &str, job: Job) -> Result<()> {
        let consumer = self.consumers.get(name).cloned().ok_or_else(|| Error::not_found(Thing::Consumer, name))?;
        start_worker(consumer, job, &self.connection, self.shop.clone())
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
        let db = AnalystDb::open(&run.db).await?;
        let table = db.query(&args.sql).await?;
        if table.rows.is_empty() {
            return Ok(Outcome::Note("the query returned no rows".into()));
        }
        Ok(Outcome::Table(table))
    }

    /// `--cabinet` (this session's), `--cabinet redis://…` (connected once, then shared by the
    /// session's participants), or no cabinet.
    async fn cabinet_at(&mut self, cabinet: Option<&str>) -> Result<Option<CabinetAt>> {
        let Some(at) = cabinet else { return Ok(None) };
        if at == "here" {
            return Ok(Some(CabinetAt::Here));
        }
        if !(at.starts_with("redis://") || at.starts_with("rediss://")) {
            return Err(Error::input(format!(
                "--cabinet takes no value (this session's cabinet) or a Redis URL such as redis://localhost:6379, not '{}'",
                crate::security::mask_url_password(at)
            )));
        }
        let redis = match self.redis_cabinet.clone().filter(|r| r.is_at(at)) {
            Some(redis) => redis,
            None => RedisCabinet::connect(at).await?,
        };
        self.redis_cabinet = Some(redis.clone());
        Ok(Some(CabinetAt::Redis(redis)))
    }

    pub(super) fn analyst(&self, name: &str) -> Result<&AnalystRun> {
        self.analysts
            .get(name)
            .ok_or_else(|| Error::not_found(Thing::Analyst, name).with_hint("start one with: start-analyst NAME --topic T"))
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

    /// `shop`: the board, kept fresh by a front end at a terminal.
    pub(super) fn shop_live(&self) -> Outcome {
        match self.shop_board() {
            board @ Outcome::Board(_) => Outcome::Live(Live { source: LiveSource::Shop, frame: Box::new(board) }),
            empty => empty,
        }
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

/// `start-analyst … --show-connect-config`: the Kafka Connect JDBC sink that would do the
/// analyst's job in production, as JSON to POST to a Connect cluster's `/connectors`.
fn connect_config(name: &str, topic: &str, db: &Store) -> Vec<Outcome> {
    let (url, user) = match db {
        Store::Postgres(config) => {
            let described = db.describe();
            let address = described.split_once('@').map_or(described.as_str(), |(_, a)| a);
            (format!("jdbc:postgresql://{address}"), config.get_user().unwrap_or_default().to_string())
        }
        Store::Sqlite(path) => (format!("jdbc:sqlite:{}", path.display()), String::new()),
    };
    let mut config = serde_json::json!({
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
        "tasks.max": "1",
        "topics": topic,
        "connection.url": url,
        "table.name.format": "orders",
        "insert.mode": "insert",
        "pk.mode": "kafka",
        "pk.fields": "topic,partition,offset",
        "auto.create": "true",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        // The JDBC sink needs values with a schema. Plain JSON has none, and JsonConverter with
        // schemas.enable=true wants a schema/payload envelope in every message, which the tills
        // do not write; Confluent's JSON Schema converter reads the schema from a registry.
        "value.converter": "io.confluent.connect.json.JsonSchemaConverter",
        "value.converter.schema.registry.url": "http://SCHEMA-REGISTRY:8081",
    });
    if !user.is_empty() {
        config["connection.user"] = serde_json::json!(user);
        // Connect reads it from the worker's environment; it is never written here.
        config["connection.password"] = serde_json::json!("${env:PGPASSWORD}");
    }
    let connector = serde_json::json!({ "name": format!("{name}-jdbc-sink"), "config": config });
    vec![
        Outcome::Text(serde_json::to_string_pretty(&connector).unwrap_or_default()),
        Outcome::Note(
            "POST it to a Kafka Connect cluster (curl -X POST -H 'Content-Type: application/json' --data @sink.json http://CONNECT:8083/connectors). \
             Connect would add distributed workers that share the topic's partitions, offsets Connect commits for you, \
             and converters. This config works once the tills write their orders with Confluent's JSON Schema serializer and a \
             schema registry (lesson 12), as flat fields: the JDBC sink needs values with a schema (the tills' plain JSON has none) \
             and writes only simple fields, so `parts` must become cod and chips counts first"
                .into(),
        ),
    ]
}
