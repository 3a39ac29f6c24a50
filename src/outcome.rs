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
