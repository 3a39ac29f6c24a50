//! Turns data into what people see: tables, colours, one-line errors, progress bars, and the
//! questions only a person can answer. Nothing in here talks to Kafka; nothing outside the view
//! and the front ends prints.

mod board;
mod fit;
mod json;
mod markdown;
mod picture;
pub mod terminal;

use std::io::Write;

use comfy_table::{presets, Attribute, Cell, ContentArrangement, Table as Grid};
use owo_colors::OwoColorize;

pub use markdown::render_markdown;
pub use terminal::Bars;

use crate::error::Error;
use crate::format::visible;
use crate::outcome::{format_partitions, Event, Outcome, Partitions, Table, Target};

/// Text of many lines, each line made `visible`: line breaks stay, every other control
/// character is written out.
fn visible_lines(text: &str) -> String {
    text.split('\n').map(visible).collect::<Vec<_>>().join("\n")
}

/// `text` wrapped at word boundaries to `width` columns, each line after a break indented by
/// `indent` spaces; the first line has `first` columns already taken (a label). A word longer
/// than a line stays whole. Line breaks in `text` are kept.
fn wrap_words(text: &str, width: usize, first: usize, indent: usize) -> String {
    let mut out = String::new();
    for (n, paragraph) in text.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
        }
        let mut used = if n == 0 { first } else { indent };
        // Whether the line so far holds a word (not only its label or indent).
        let mut worded = false;
        for word in paragraph.split(' ') {
            let len = word.chars().count();
            if worded && used + 1 + len > width {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
                used = indent;
            } else if worded {
                out.push(' ');
                used += 1;
            }
            out.push_str(word);
            used += len;
            worded = true;
        }
    }
    out
}

/// How output is drawn: a person at a terminal gets colour and box tables; a pipe gets plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    pub color: bool,
    pub interactive: bool,
    /// `--json`: one JSON object a command, for scripts.
    pub json: bool,
}

impl View {
    pub fn plain() -> Self {
        View { color: false, interactive: false, json: false }
    }

    /// Colour and box tables when stdout is a terminal (and NO_COLOR is not set).
    pub fn for_stdout(interactive: bool) -> Self {
        use std::io::IsTerminal;
        let color = interactive && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        View { color, interactive, json: false }
    }

    /// A replay: colour, box tables and pacing when a person watches it at a terminal; plain
    /// text into a pipe.
    pub fn for_replay() -> Self {
        use std::io::IsTerminal;
        let watched = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        View { color: watched, interactive: watched, json: false }
    }

    /// The process's own arguments did not parse: clap's message (or the help asked for).
    /// Returns the exit code.
    pub fn bad_arguments(&self, err: &clap::Error) -> i32 {
        if self.json && err.use_stderr() {
            let message = err.render().to_string();
            let first = message.lines().next().unwrap_or("bad arguments").trim_start_matches("error: ");
            let failed = Error::Usage { message: crate::format::clip_quotes(first), hint: Some("--help lists the flags".into()) };
            eprintln!("{}", json::error(&failed, None));
            return 2;
        }
        let _ = err.print();
        if err.use_stderr() {
            2
        } else {
            0
        }
    }

    /// Whether a person at a terminal can watch a frame redrawn in place (and press a key).
    pub fn can_redraw(&self) -> bool {
        use std::io::IsTerminal;
        self.interactive && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
    }

    /// Print an outcome on stdout.
    pub fn show(&self, outcome: &Outcome) {
        let mut out = std::io::stdout().lock();
        if self.json {
            if !matches!(outcome, Outcome::Nothing) {
                let _ = writeln!(out, "{}", json::outcome(outcome));
                let _ = out.flush();
            }
            return;
        }
        let _ = out.write_all(self.render(outcome).as_bytes());
        let _ = out.flush();
    }

    /// Print events: what actors said on stdout, --verbose logs on stderr.
    pub fn show_events(&self, events: impl Iterator<Item = Event>) {
        let mut out = std::io::stdout().lock();
        for event in events {
            if self.json {
                if !matches!(event, Event::Log { .. }) {
                    let _ = writeln!(out, "{}", json::event(&event));
                }
                continue;
            }
            if matches!(event, Event::Log { .. }) {
                eprint!("{}", self.event(&event));
            } else {
                let _ = out.write_all(self.event(&event).as_bytes());
            }
        }
        let _ = out.flush();
    }

    /// Problems found in files, one `file:line: message` a line, on stderr.
    pub fn show_problems(&self, problems: &[String]) {
        for problem in problems {
            eprintln!("{problem}");
        }
    }

    /// A note on stderr, such as a hint about how the session was started.
    pub fn note_err(&self, text: &str) {
        eprintln!("note: {text}");
    }

    /// The one place an error becomes what the user sees: its line (naming the script line if
    /// there is one) and its hint on stderr. Returns the exit code for a script run.
    pub fn fail(&self, err: &Error, line: Option<usize>) -> i32 {
        if self.json {
            eprintln!("{}", json::error(err, line));
            return err.exit_code();
        }
        eprint!("{}", self.error(err, line));
        err.exit_code()
    }

    /// The whole outcome as text, ending in a newline unless there is nothing to show.
    pub fn render(&self, outcome: &Outcome) -> String {
        let mut out = String::new();
        self.render_into(outcome, &mut out);
        out
    }

    fn render_into(&self, outcome: &Outcome, out: &mut String) {
        match outcome {
            Outcome::Nothing | Outcome::Quit => {}
            Outcome::Done(text) => self.line(out, "ok", text, |s| s.green().to_string()),
            Outcome::Note(text) => {
                let text = self.wrapped(&visible_lines(text), 0, 2);
                out.push_str(&if self.color { text.dimmed().to_string() } else { text });
                out.push('\n');
            }
            Outcome::Warning(text) => self.line(out, "warning", text, |s| s.yellow().to_string()),
            Outcome::Table(table) => out.push_str(&self.table(table)),
            Outcome::Text(text) => {
                // Each line wrapped on its own, under its own indent (help's descriptions).
                let lines = visible_lines(text.trim_end());
                let lines: Vec<String> = lines
                    .split('\n')
                    .map(|line| {
                        let indent = line.len() - line.trim_start().len();
                        format!("{}{}", &line[..indent], self.wrapped(line.trim_start(), indent, indent))
                    })
                    .collect();
                out.push_str(&lines.join("\n"));
                out.push('\n');
            }
            Outcome::Narration(markdown) => {
                out.push('\n');
                out.push_str(&render_markdown(markdown, self.color, self.width().min(81) - 1));
                out.push('\n');
            }
            Outcome::Typed(command) => {
                let command = self.wrapped(command, "kafka › ".chars().count(), 8);
                if self.color {
                    out.push_str(&format!("{} {}\n", "kafka ›".dimmed(), command.bold()));
                } else {
                    out.push_str(&format!("kafka › {command}\n"));
                }
            }
            Outcome::Preview(command) => {
                let command = self.wrapped(command, "  next ▸ ".chars().count(), 10);
                if self.color {
                    out.push_str(&format!("  {} {}\n", "next ▸".cyan(), command));
                } else {
                    out.push_str(&format!("  next ▸ {command}\n"));
                }
            }
            Outcome::Goal(goal) => {
                let label = "▶ your turn:";
                // Rendered to the room left of the label, then each further line under it.
                let room = if self.interactive { self.width().saturating_sub(label.chars().count() + 2).max(20) } else { 200 };
                let goal = render_markdown(goal, self.color, room);
                let goal = goal.trim().lines().map(str::trim_end).collect::<Vec<_>>().join(&format!("\n{}", " ".repeat(label.chars().count() + 1)));
                let label = if self.color { label.magenta().bold().to_string() } else { label.to_string() };
                out.push_str(&format!("{label} {goal}\n"));
            }
            Outcome::Board(board) => out.push_str(&self.board(board)),
            Outcome::Picture(picture) => out.push_str(&self.picture(picture)),
            // A request to the front end, which says what it did.
            Outcome::Serve(_) => {}
            Outcome::Live(live) => self.render_into(&live.frame, out),
            Outcome::Many(parts) => parts.iter().for_each(|part| self.render_into(part, out)),
            Outcome::Failure(err) => out.push_str(&self.error(err, None)),
        }
    }

    fn line(&self, out: &mut String, label: &str, text: &str, paint: impl Fn(&str) -> String) {
        let label = format!("{label}:");
        let text = self.wrapped(&visible_lines(text), label.chars().count() + 1, 2);
        out.push_str(&if self.color { paint(&label) } else { label });
        out.push(' ');
        out.push_str(&text);
        out.push('\n');
    }

    /// The terminal's width for a person at one; no limit for a pipe, whose lines scripts read.
    fn width(&self) -> usize {
        if self.interactive {
            usize::from(terminal::terminal_width())
        } else {
            usize::MAX / 2
        }
    }

    /// Text wrapped at word boundaries to the terminal, for a person at one; as it is otherwise.
    fn wrapped(&self, text: &str, first: usize, indent: usize) -> String {
        if self.interactive {
            wrap_words(text, self.width().saturating_sub(1), first, indent)
        } else {
            text.to_string()
        }
    }

    pub fn table(&self, table: &Table) -> String {
        let mut grid = Grid::new();
        // At a terminal, made to fit its width first (a pipe gets every column, whole).
        let fitted = self.interactive.then(|| fit::fit(table, usize::from(terminal::terminal_width())));
        let table = fitted.as_ref().map_or(table, |f| &f.table);
        if self.interactive {
            // A table that fits is drawn as it is: comfy-table's arrangement may wrap one that
            // need not.
            let arrangement = if fitted.as_ref().is_some_and(|f| f.fits) { ContentArrangement::Disabled } else { ContentArrangement::Dynamic };
            grid.load_preset(presets::UTF8_FULL_CONDENSED)
                .apply_modifier(comfy_table::modifiers::UTF8_ROUND_CORNERS)
                .set_content_arrangement(arrangement)
                .set_width(terminal::terminal_width());
        } else {
            grid.load_preset(presets::ASCII_MARKDOWN).force_no_tty();
        }
        if !self.color {
            grid.force_no_tty();
        }
        grid.set_header(table.columns.iter().map(|c| {
            let cell = Cell::new(visible(c));
            if self.color {
                cell.add_attribute(Attribute::Bold)
            } else {
                cell
            }
        }));
        for row in &table.rows {
            grid.add_row(row.iter().map(|cell| Cell::new(visible(cell))));
        }
        if let Some(fitted) = &fitted {
            for (column, &narrowest) in grid.column_iter_mut().zip(&fitted.narrowest) {
                column.set_constraint(comfy_table::ColumnConstraint::LowerBoundary(comfy_table::Width::Fixed(narrowest)));
            }
        }
        let mut out = String::new();
        if let Some(title) = &table.title {
            let title = visible(title).into_owned();
            out.push_str(&if self.color { title.bold().to_string() } else { title });
            out.push('\n');
        }
        if table.rows.is_empty() {
            out.push_str("(none)\n");
            return out;
        }
        out.push_str(&grid.to_string());
        out.push('\n');
        if let Some(note) = fitted.and_then(|f| f.note) {
            let note = self.wrapped(&note, 0, 1);
            out.push_str(&if self.color { note.dimmed().to_string() } else { note });
            out.push('\n');
        }
        out
    }

    /// One line of error, and one of hint where there is one. `line` is the script line number.
    pub fn error(&self, err: &Error, line: Option<usize>) -> String {
        let place = line.map(|n| format!("line {n}: ")).unwrap_or_default();
        let label = if self.color { "error:".red().bold().to_string() } else { "error:".into() };
        let said = crate::security::redact_text(&crate::format::clip_quotes(&err.to_string()));
        let said = self.wrapped(&format!("{place}{}", visible_lines(&said)), "error: ".len(), 2);
        let mut out = format!("{label} {said}\n");
        if let Some(hint) = err.hint() {
            let hint = self.wrapped(&format!("hint: {}", visible_lines(&crate::security::redact_text(&hint))), 2, 4);
            out.push_str(&format!("  {}\n", if self.color { hint.dimmed().to_string() } else { hint }));
        }
        out
    }

    /// One line for something a live actor did.
    pub fn event(&self, event: &Event) -> String {
        let (actor, text, warning) = match event {
            Event::Assigned { actor, partitions, holds } => (actor, assigned_text(partitions, holds), false),
            Event::Revoked { actor, partitions, keeps } => (actor, revoked_text(partitions, keeps), false),
            Event::Message { actor, record } => (
                actor,
                format!(
                    "▸ {}[{}]@{} key={} {}",
                    record.topic,
                    record.partition,
                    record.offset,
                    record.key.as_deref().unwrap_or("(null)"),
                    record.value.as_deref().unwrap_or("(null)")
                ),
                false,
            ),
            Event::Said { actor, text, warning } => (actor, text.clone(), *warning),
            Event::Log { source, text } => return format!("{} {}\n", visible(source), visible(text)),
            Event::Announcement { from, text, age } => {
                let age = age.as_ref().map(|a| format!(" ({a})")).unwrap_or_default();
                let line = format!("📣 {}{age}: {}", visible(from), visible(text));
                return if self.color { format!("{}\n", line.magenta().bold()) } else { format!("{line}\n") };
            }
        };
        let (actor, text) = (visible(actor), visible(&text).into_owned());
        let text = self.wrapped(&text, actor.chars().count() + 1, 2);
        if !self.color {
            return format!("{actor} {text}\n");
        }
        let text = if warning { text.yellow().to_string() } else { text };
        format!("{} {text}\n", actor.cyan().bold())
    }

    pub fn show_banner(&self, target: &Target) {
        print!("{}", self.banner(target));
    }

    /// The one-line banner shown when the REPL starts.
    pub fn banner(&self, target: &Target) -> String {
        let what = match target {
            Target::Embedded { bootstrap, storage } => format!("embedded broker (tansu 0.6.0, {storage} storage) at {bootstrap}"),
            Target::Local { bootstrap, what, .. } => format!("{what} at {bootstrap}"),
            Target::External { bootstrap } => format!("cluster at {bootstrap}"),
        };
        let text = format!("kafka-workshop {} · connected to {what} · type `help`", env!("CARGO_PKG_VERSION"));
        let settings = match target {
            Target::Local { settings: Some(settings), .. } => format!("{}\n", if self.color { settings.dimmed().to_string() } else { settings.clone() }),
            _ => String::new(),
        };
        if self.color {
            format!("{}\n{settings}", text.bold())
        } else {
            format!("{text}\n{settings}")
        }
    }
}

/// "← assigned j[2,3]"; with cooperative-sticky, which adds a few at a time, also what it now holds.
fn assigned_text(added: &Partitions, holds: &Partitions) -> String {
    if added == holds {
        format!("← assigned {}", format_partitions(added))
    } else {
        format!("← assigned {}, now holds {}", format_partitions(added), format_partitions(holds))
    }
}

/// "→ revoked j[0,1,2,3]" (eager: everything goes); with cooperative-sticky, also what it keeps.
fn revoked_text(revoked: &Partitions, keeps: &Partitions) -> String {
    if keeps.is_empty() {
        format!("→ revoked {}", format_partitions(revoked))
    } else {
        format!("→ revoked {}, keeps {}", format_partitions(revoked), format_partitions(keeps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_tables_are_markdown_without_colour() {
        let mut table = Table::new(["A", "B"]);
        table.push(["1", "two"]);
        let text = View::plain().table(&table);
        assert!(text.contains("| A | B   |"), "{text}");
        assert!(text.contains("| 1 | two |"), "{text}");
        assert!(!text.contains('\u{1b}'));
    }

    #[test]
    fn errors_are_one_line_plus_hint() {
        let err = Error::Usage { message: "unknown command 'x'".into(), hint: Some("`help`".into()) };
        let text = View::plain().error(&err, Some(3));
        assert_eq!(text, "error: line 3: unknown command 'x'\n  hint: `help`\n");
    }

    #[test]
    fn words_wrap_at_spaces_never_inside_a_word() {
        let text = "your turn: type commands; `hint` if stuck, `check` to check now, `skip` to move on";
        let wrapped = wrap_words(text, 30, 0, 2);
        for line in wrapped.lines() {
            assert!(line.chars().count() <= 30, "{line:?} in {wrapped}");
        }
        let words: Vec<&str> = wrapped.split_whitespace().collect();
        assert_eq!(words, text.split(' ').collect::<Vec<_>>(), "no word is cut: {wrapped}");
        assert!(wrapped.lines().skip(1).all(|l| l.starts_with("  ") && !l.starts_with("   ")), "{wrapped}");
        // A label already on the first line takes its room; a word longer than a line stays whole.
        let labelled = wrap_words("abc defghijklmnopqrstuvwxyz", 10, 8, 2);
        assert_eq!(labelled, "abc\n  defghijklmnopqrstuvwxyz");
        // After a break under a long label, words keep their spaces.
        let under = wrap_words("group 'preparers' finds out only when its session times out", 30, 9, 2);
        assert_eq!(under.split_whitespace().collect::<Vec<_>>().join(" "), "group 'preparers' finds out only when its session times out");
        assert!(under.contains("out only when"), "{under}");
    }
}
