//! The commands about the tool itself that are not lessons: `record`, `learner` and `help`.

use std::path::PathBuf;

use super::{Namespace, Session};
use crate::command;
use crate::error::{Error, Result, Thing};
use crate::outcome::{Outcome, Table};

/// `record FILE`: the commands typed since, to be written as a lesson that replays.
pub(super) struct Recording {
    path: PathBuf,
    pub(super) lines: Vec<String>,
}

impl Session {
    pub(super) fn set_learner(&mut self, name: &str) -> Result<Outcome> {
        let namespace = Namespace::new(name)?;
        let said = format!(
            "you are learner '{name}': your topics and groups are {name}.NAME on the cluster, shown with their short names"
        );
        self.namespace = Some(namespace);
        self.join_room();
        Ok(Outcome::Done(said))
    }

    pub(super) fn record(&mut self, file: &str) -> Result<Outcome> {
        if file == "stop" {
            let recording = self.recording.take().ok_or_else(|| Error::input("not recording; start with: record FILE.md"))?;
            let count = recording.lines.len();
            std::fs::write(&recording.path, recorded_lesson(&recording.lines))
                .map_err(|e| Error::io(format!("cannot write {}", recording.path.display()), e))?;
            return Ok(Outcome::Done(format!(
                "wrote {count} command(s) to {}; replay it with: kafka-workshop replay {}",
                recording.path.display(),
                recording.path.display()
            )));
        }
        if self.recording.is_some() {
            return Err(Error::input("already recording; finish with: record stop"));
        }
        let path = PathBuf::from(file);
        std::fs::write(&path, "").map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        self.recording = Some(Recording { path, lines: Vec::new() });
        Ok(Outcome::Done(format!("recording the commands you type into {file}; `record stop` writes it")))
    }
}

/// A recording as a lesson file: front matter, and the commands in one `kafka` block.
fn recorded_lesson(lines: &[String]) -> String {
    let when = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    format!(
        "---\ntitle: Recorded session\nminutes: 5\n---\n\n# Recorded session\n\nRecorded with kafka-workshop at {when}.\n\n```kafka\n{}\n```\n",
        lines.join("\n")
    )
}

/// `help`: every command, or one command's flags.
pub(super) fn help(command: Option<&str>) -> Result<Outcome> {
    match command {
        None => {
            let about: std::collections::HashMap<String, String> = command::command_list().into_iter().collect();
            let mut parts = Vec::new();
            for (group, names) in command::HELP_GROUPS {
                let mut table = Table::new(["COMMAND", "WHAT IT DOES"]).titled(*group);
                for name in *names {
                    table.push([name.to_string(), about.get(*name).cloned().unwrap_or_default()]);
                }
                parts.push(Outcome::Table(table));
            }
            parts.push(Outcome::Note("`help COMMAND` or `COMMAND --help` shows a command's flags".into()));
            Ok(Outcome::Many(parts))
        }
        Some(name) => command::command_help(name).map(Outcome::Text).ok_or_else(|| Error::NotFound {
            thing: Thing::Command,
            name: name.to_string(),
            hint: command::suggest(name).map(|s| format!("did you mean `{s}`?")),
        }),
    }
}
