//! `--json`, for scripts, like `kcat -J` or `rpk --format json`: each command's outcome as one
//! JSON object on one line of stdout, each error as one on stderr, each live event as one on
//! stdout. The field names are stable; the README documents them.
//!
//! - an outcome: `{"ok", "done", "notes", "warnings", "tables", "text"}` and, when the command
//!   draws one, `"picture"`. A table is `{"title", "columns", "rows"}` with each row an object
//!   keyed by column, every cell a string as the table shows it.
//! - an error: `{"error", "hint", "line", "exit_code"}`.
//! - an event: `{"event": {…}}`, the same object the web page receives.

use serde_json::{json, Map, Value};

use crate::error::Error;
use crate::outcome::{Event, Outcome, Table};

pub fn outcome(outcome: &Outcome) -> Value {
    let (mut done, mut notes, mut warnings, mut tables, mut text) = (vec![], vec![], vec![], vec![], vec![]);
    let mut picture = None;
    for part in outcome.parts() {
        match part {
            Outcome::Done(line) => done.push(line.clone()),
            Outcome::Note(line) => notes.push(line.clone()),
            Outcome::Warning(line) => warnings.push(line.clone()),
            Outcome::Failure(err) => warnings.push(err.to_string()),
            Outcome::Table(table) => tables.push(table_json(table)),
            Outcome::Text(t) | Outcome::Narration(t) | Outcome::Goal(t) => text.push(t.clone()),
            Outcome::Typed(line) => text.push(format!("› {line}")),
            Outcome::Preview(line) => text.push(format!("next ▸ {line}")),
            Outcome::Picture(p) => picture = serde_json::to_value(p).ok(),
            Outcome::Board(board) => tables.extend(board_tables(board)),
            Outcome::Nothing | Outcome::Quit | Outcome::Serve(_) | Outcome::Live(_) | Outcome::Many(_) => {}
        }
    }
    let mut object = Map::new();
    object.insert("ok".into(), Value::Bool(outcome.failure().is_none()));
    object.insert("done".into(), json!(done));
    object.insert("notes".into(), json!(notes));
    object.insert("warnings".into(), json!(warnings));
    object.insert("tables".into(), Value::Array(tables));
    object.insert("text".into(), json!(text));
    if let Some(picture) = picture {
        object.insert("picture".into(), picture);
    }
    Value::Object(object)
}

fn table_json(table: &Table) -> Value {
    let rows: Vec<Value> = table
        .rows
        .iter()
        .map(|row| Value::Object(table.columns.iter().cloned().zip(row.iter().map(|c| Value::String(c.clone()))).collect()))
        .collect();
    json!({ "title": table.title, "columns": table.columns, "rows": rows })
}

/// The shop board as tables: one per participant, titled with its role and name, and the
/// cabinet's stock as a note-like table of one row.
fn board_tables(board: &crate::shop::Board) -> Vec<Value> {
    let mut tables: Vec<Value> = board
        .panels
        .iter()
        .map(|panel| {
            let mut table = Table::new(["LINE"]).titled(format!("{} {} ({} done)", panel.role.as_str(), panel.name, panel.done));
            for line in &panel.lines {
                table.push([line.clone()]);
            }
            table_json(&table)
        })
        .collect();
    if let Some(cabinet) = &board.cabinet {
        let mut table = Table::new(["STOCK"]).titled("cabinet");
        table.push([cabinet.clone()]);
        tables.push(table_json(&table));
    }
    tables
}

pub fn error(err: &Error, line: Option<usize>) -> Value {
    let said = crate::security::redact_text(&crate::format::clip_quotes(&err.to_string()));
    let hint = err.hint().map(|hint| crate::security::redact_text(&hint));
    json!({ "error": said, "hint": hint, "line": line, "exit_code": err.exit_code() })
}

pub fn event(event: &Event) -> Value {
    json!({ "event": event })
}
