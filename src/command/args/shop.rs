//! The arguments of the fish-and-chip shop's commands: tills, preparers, the cook, the analyst.

use clap::Args;

use super::StartFrom;
use crate::shop::PartitionBy;

#[derive(Debug, Clone, PartialEq, Args)]
pub struct StartTillArgs {
    /// The till's number, from 1
    #[arg(value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub number: u32,
    /// The orders topic
    #[arg(long, short)]
    pub topic: String,
    /// How the till picks a partition: till N → partition N-1, the till number as key, or neither
    #[arg(long, value_enum, default_value_t = PartitionBy::Till)]
    pub partition_by: PartitionBy,
    /// Some customers order plaice, which must be cooked first (demo 4)
    #[arg(long)]
    pub plaice: bool,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct StopTillArgs {
    /// Till numbers, or `all`
    #[arg(required = true)]
    pub tills: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct StartPreparerArgs {
    /// A name for this preparer; it is also a consumer, so stop-consumer and kill-consumer work on it
    pub name: String,
    /// The preparers' consumer group
    #[arg(long, short)]
    pub group: String,
    /// The orders topic
    #[arg(long, short)]
    pub topic: String,
    /// Send orders with plaice to this topic, for the cook
    #[arg(long)]
    pub cook_topic: Option<String>,
    /// Make up orders from the hot cabinet, sending them to the cook when it is short (homework
    /// 1); `--cabinet redis://HOST:PORT` keeps it in Redis, shared with other sessions
    #[arg(long, requires = "cook_topic", num_args = 0..=1, default_missing_value = "here", value_name = "redis://HOST:PORT")]
    pub cabinet: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct StartCookArgs {
    /// A name for this cook
    pub name: String,
    /// The topic the preparers send orders to be cooked to
    #[arg(long, short)]
    pub topic: String,
    /// Where cooked orders go back to
    #[arg(long)]
    pub orders_topic: String,
    /// The cooks' consumer group
    #[arg(long, short, default_value = "cooks")]
    pub group: String,
    /// Stock the hot cabinet for each order instead of cooking just its plaice (homework 1);
    /// `--cabinet redis://HOST:PORT` keeps it in Redis, shared with other sessions
    #[arg(long, num_args = 0..=1, default_missing_value = "here", value_name = "redis://HOST:PORT")]
    pub cabinet: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct StartAnalystArgs {
    /// A name for this analyst
    pub name: String,
    /// The orders topic
    #[arg(long, short)]
    pub topic: String,
    /// The analysts' consumer group: a group of its own, so it gets every order too
    #[arg(long, short, default_value = "analysts")]
    pub group: String,
    /// A SQLite file (default: NAME.sqlite in kafka-workshop's data folder), or PostgreSQL:
    /// postgres://USER@HOST:PORT/DB[?sslmode=require] (password from PGPASSWORD or a prompt)
    #[arg(long, value_name = "FILE|URL")]
    pub db: Option<String>,
    /// Also print the Kafka Connect JDBC sink that would do this analyst's job, as JSON
    #[arg(long)]
    pub show_connect_config: bool,
    /// Store orders from the start of the topic, or only new ones
    #[arg(long, value_enum, default_value_t = StartFrom::Latest)]
    pub from: StartFrom,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct QueryArgs {
    /// The analyst whose database to query
    pub name: String,
    /// The SQL, in quotes: "SELECT till, count(*) FROM orders GROUP BY till"
    pub sql: String,
}
