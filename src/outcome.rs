//! What a command returns: data, never text with colours or borders. `view` turns an `Outcome` into
//! what the user sees; tests and `expect` read the data directly.

use crate::error::Error;

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
    /// A lesson's task for the learner.
    Goal(String),
    /// The shop's participants side by side (`shop`); front ends at a terminal keep it fresh.
    Board(crate::shop::Board),
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

    pub fn is_quit(&self) -> bool {
        matches!(self, Outcome::Quit)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub title: Option<String>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<I, S>(columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Table { title: None, columns: columns.into_iter().map(Into::into).collect(), rows: Vec::new() }
    }

    pub fn titled(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
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
}

/// One message as the tool shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
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
pub type Partitions = std::collections::BTreeMap<String, std::collections::BTreeSet<i32>>;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Assigned { actor: String, partitions: Partitions },
    Revoked { actor: String, partitions: Partitions },
    Message { actor: String, record: Record },
    /// Anything else worth a line: joined, stopped, lost the cluster, an error.
    Said { actor: String, text: String, warning: bool },
}
