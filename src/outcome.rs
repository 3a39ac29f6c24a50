//! What a command returns: data, never text with colours or borders. `view` turns an `Outcome` into
//! what the user sees; tests and `expect` read the data directly.

pub mod picture;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::error::Error;
use picture::{Picture, Selection};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to show.
    Nothing,
    /// Something changed on the cluster, said in one line ("created topic orders with 3 partitions").
    Done(String),
    /// A neutral remark ("nothing to read: ...").
    Note(String),
    /// Something the user should notice but that did not fail.
    Warning(String),
    /// Rows and columns.
    Table(Table),
    /// Preformatted text, such as help.
    Text(String),
    /// Lesson narration, as Markdown for the view to render for the terminal.
    Narration(String),
    /// A command shown as if typed at the prompt (lessons and replays).
    Typed(String),
    /// A command a lesson step will run when the learner presses Enter: shown apart from the
    /// prompt, so that it does not look as if it already ran.
    Preview(String),
    /// A lesson's task for the learner.
    Goal(String),
    /// The shop's participants side by side (`shop`).
    Board(crate::shop::Board),
    /// Topics as logs with their markers, and groups with their members (`show`).
    Picture(Picture),
    /// A request to the front end: serve the picture as a web page, on this address or a free
    /// port on 127.0.0.1.
    Serve(Option<std::net::SocketAddr>),
    /// A frame that a front end at a terminal keeps fresh until a key is pressed; elsewhere the
    /// frame is shown once.
    Live(Live),
    /// Several outcomes, shown in order.
    Many(Vec<Outcome>),
    /// Part of the command failed after something was shown (a failed delivery in a batch, say).
    /// The whole command counts as failed.
    Failure(Error),
    /// The user asked to leave.
    Quit,
}

impl Outcome {
    /// The first failure inside this outcome, if any part of the command failed.
    pub fn failure(&self) -> Option<&Error> {
        match self {
            Outcome::Failure(err) => Some(err),
            Outcome::Many(parts) => parts.iter().find_map(Outcome::failure),
            _ => None,
        }
    }

    /// The same outcome with each failed part shown as a warning: for a command that a lesson
    /// expects may fail, whose failure is the point.
    pub fn forgiven(self) -> Outcome {
        match self {
            Outcome::Failure(err) => Outcome::Warning(err.to_string()),
            Outcome::Many(parts) => Outcome::Many(parts.into_iter().map(Outcome::forgiven).collect()),
            other => other,
        }
    }

    pub fn is_quit(&self) -> bool {
        matches!(self, Outcome::Quit)
    }

    /// Several parts as one outcome; one part as itself.
    pub fn many(mut parts: Vec<Outcome>) -> Outcome {
        if parts.len() == 1 {
            parts.remove(0)
        } else {
            Outcome::Many(parts)
        }
    }

    /// Every part, flattened, in order.
    pub fn parts(&self) -> Vec<&Outcome> {
        match self {
            Outcome::Many(parts) => parts.iter().flat_map(Outcome::parts).collect(),
            Outcome::Live(live) => live.frame.parts(),
            other => vec![other],
        }
    }

    /// The first table whose columns are exactly `columns`, for checks and tests.
    pub fn table(&self, columns: &[&str]) -> Option<&Table> {
        self.parts().into_iter().find_map(|part| match part {
            Outcome::Table(table) if table.columns.iter().map(String::as_str).eq(columns.iter().copied()) => Some(table),
            _ => None,
        })
    }

    /// Every line of text the outcome says (done, note, warning), for checks and tests.
    pub fn said(&self) -> Vec<&str> {
        self.parts()
            .into_iter()
            .filter_map(|part| match part {
                Outcome::Done(text) | Outcome::Note(text) | Outcome::Warning(text) => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// What a live frame shows, so a front end can draw it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveSource {
    /// The shop board.
    Shop,
    /// The picture of these topics and groups (`watch`), by their names on the cluster.
    Picture(Selection),
    /// The workshop's learners (`class --watch`).
    Class,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    pub source: LiveSource,
    pub frame: Box<Outcome>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub title: Option<String>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Columns that hold message contents (keys, values, headers, query results): shown exactly
    /// as stored, never rewritten (a learner's prefix is stripped from names, not from data).
    pub verbatim: BTreeSet<usize>,
}

impl Table {
    pub fn new<I, S>(columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Table { columns: columns.into_iter().map(Into::into).collect(), ..Table::default() }
    }

    pub fn titled(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Mark the named columns as message contents.
    pub fn verbatim(mut self, columns: &[&str]) -> Self {
        for (index, column) in self.columns.iter().enumerate() {
            if columns.contains(&column.as_str()) {
                self.verbatim.insert(index);
            }
        }
        self
    }

    /// Every column holds contents (a database's rows).
    pub fn all_verbatim(mut self) -> Self {
        self.verbatim = (0..self.columns.len()).collect();
        self
    }

    pub fn push<I, S>(&mut self, row: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(row.into_iter().map(Into::into).collect());
    }

    /// The cell under `column` in `row`, for checks and tests.
    pub fn cell(&self, row: usize, column: &str) -> Option<&str> {
        let index = self.columns.iter().position(|c| c == column)?;
        self.rows.get(row)?.get(index).map(String::as_str)
    }

    /// Every cell of one column, top to bottom.
    pub fn column(&self, column: &str) -> Vec<&str> {
        let Some(index) = self.columns.iter().position(|c| c == column) else { return Vec::new() };
        self.rows.iter().filter_map(|row| row.get(index).map(String::as_str)).collect()
    }
}

/// One message as the tool shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: String,
    /// Milliseconds since the epoch, when the message has a timestamp.
    pub timestamp_ms: Option<i64>,
    pub key: Option<String>,
    pub value: Option<String>,
    pub headers: String,
}

/// Partitions of one or more topics, shown as `orders[0,2]`.
pub type Partitions = BTreeMap<String, BTreeSet<i32>>;

/// `orders[0,2] payments[1]`, or `none`.
pub fn format_partitions(partitions: &Partitions) -> String {
    let parts: Vec<String> = partitions
        .iter()
        .filter(|(_, ids)| !ids.is_empty())
        .map(|(topic, ids)| {
            let ids: Vec<String> = ids.iter().map(i32::to_string).collect();
            format!("{topic}[{}]", ids.join(","))
        })
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(" ")
    }
}

/// Something a live actor (a consumer, producer, till or cook) did, reported as it happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// `partitions` were added; `holds` is the whole assignment after. The two differ only with
    /// cooperative-sticky, which adds and takes away partitions a few at a time.
    Assigned { actor: String, partitions: Partitions, holds: Partitions },
    /// `partitions` were taken away; `keeps` is what the consumer still holds. Eager assignors
    /// take everything away, so `keeps` is empty; cooperative-sticky takes only what moves.
    Revoked { actor: String, partitions: Partitions, keeps: Partitions },
    Message { actor: String, record: Record },
    /// Anything else worth a line: joined, stopped, lost the cluster, an error.
    Said { actor: String, text: String, warning: bool },
    /// What librdkafka says with --verbose (secrets already masked); shown on stderr.
    Log { source: String, text: String },
    /// The workshop's instructor tells the room something (`announce`); `age` is set for one
    /// made before this learner joined ("4 min ago").
    Announcement { from: String, text: String, age: Option<String> },
}

/// What the session is connected to, for the banner and `cluster`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Embedded { bootstrap: String, storage: String },
    /// Apache Kafka nodes this session started (`--apache-kafka DIR`): `what` says which.
    /// `settings` says, in a line, which teaching settings they run with.
    Local { bootstrap: String, what: String, settings: Option<String> },
    External { bootstrap: String },
}

impl Target {
    pub fn bootstrap(&self) -> &str {
        match self {
            Target::Embedded { bootstrap, .. } | Target::Local { bootstrap, .. } | Target::External { bootstrap } => bootstrap,
        }
    }

    /// Whether this session started the cluster itself (the embedded broker or local nodes).
    pub fn is_local(&self) -> bool {
        !matches!(self, Target::External { .. })
    }

    pub fn is_embedded(&self) -> bool {
        matches!(self, Target::Embedded { .. })
    }
}
