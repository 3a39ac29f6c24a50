//! Turns data into what people see: tables, colours, one-line errors, progress bars. Nothing in
//! here talks to Kafka, and nothing outside it draws.

use comfy_table::{presets, Attribute, Cell, ContentArrangement, Table as Grid};
use owo_colors::OwoColorize;

use crate::error::Error;
use crate::outcome::{format_partitions, Event, Outcome, Table};
use crate::session::{Progress, Reporter, Target};
use crate::shop::{Board, Panel, Role};

/// How output is drawn: a person at a terminal gets colour and box tables; a pipe gets plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    pub color: bool,
    pub interactive: bool,
}

/// The terminal's width; one that reports no size (some multiplexers, a bare pty) gets a usual width.
fn terminal_width() -> u16 {
    crossterm::terminal::size().ok().map(|(w, _)| w).filter(|w| *w >= 40).unwrap_or(120)
}

impl View {
    pub fn plain() -> Self {
        View { color: false, interactive: false }
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
                if self.color {
                    out.push_str(&text.dimmed().to_string());
                } else {
                    out.push_str(text);
                }
                out.push('\n');
            }
            Outcome::Warning(text) => self.line(out, "warning", text, |s| s.yellow().to_string()),
            Outcome::Table(table) => out.push_str(&self.table(table)),
            Outcome::Text(text) => {
                out.push_str(text.trim_end());
                out.push('\n');
            }
            Outcome::Narration(markdown) => {
                out.push('\n');
                out.push_str(&render_markdown(markdown, self.color, 80));
                out.push('\n');
            }
            Outcome::Typed(command) => {
                if self.color {
                    out.push_str(&format!("{} {}\n", "kafka ›".dimmed(), command.bold()));
                } else {
                    out.push_str(&format!("kafka › {command}\n"));
                }
            }
            Outcome::Goal(goal) => {
                if self.color {
                    out.push_str(&format!("{} {}\n", "▶ your turn:".magenta().bold(), render_markdown(goal, true, 200).trim()));
                } else {
                    out.push_str(&format!("▶ your turn: {}\n", render_markdown(goal, false, 200).trim()));
                }
            }
            Outcome::Board(board) => out.push_str(&self.board(board)),
            Outcome::Many(parts) => parts.iter().for_each(|part| self.render_into(part, out)),
            Outcome::Failure(err) => out.push_str(&self.error(err, None)),
        }
    }

    fn line(&self, out: &mut String, label: &str, text: &str, paint: impl Fn(&str) -> String) {
        let label = format!("{label}:");
        if self.color {
            out.push_str(&paint(&label));
        } else {
            out.push_str(&label);
        }
        out.push(' ');
        out.push_str(text);
        out.push('\n');
    }

    pub fn table(&self, table: &Table) -> String {
        let mut grid = Grid::new();
        if self.interactive {
            grid.load_preset(presets::UTF8_FULL_CONDENSED)
                .apply_modifier(comfy_table::modifiers::UTF8_ROUND_CORNERS)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(terminal_width());
        } else {
            grid.load_preset(presets::ASCII_MARKDOWN).force_no_tty();
        }
        if !self.color {
            grid.force_no_tty();
        }
        let header = table.columns.iter().map(|c| {
            let cell = Cell::new(c);
            if self.color {
                cell.add_attribute(Attribute::Bold)
            } else {
                cell
            }
        });
        grid.set_header(header);
        for row in &table.rows {
            grid.add_row(row.iter().map(Cell::new));
        }
        let mut out = String::new();
        if let Some(title) = &table.title {
            if self.color {
                out.push_str(&title.bold().to_string());
            } else {
                out.push_str(title);
            }
            out.push('\n');
        }
        if table.rows.is_empty() {
            out.push_str("(none)\n");
            return out;
        }
        out.push_str(&grid.to_string());
        out.push('\n');
        out
    }

    /// The shop, like the talk's demo screen: one panel per participant, side by side at a
    /// terminal (four to a row), one after another in plain text.
    pub fn board(&self, board: &Board) -> String {
        let heading = |panel: &Panel| {
            let counted = match panel.role {
                Role::Till => "orders",
                Role::Preparer => "served",
                Role::Cook => "cooked",
                Role::Analyst => "stored",
            };
            let state = if panel.running { "" } else { " · closed" };
            let name = panel.name.strip_prefix("till-").unwrap_or(&panel.name);
            format!("{} {name} · {} {counted}{state}", panel.role.as_str(), panel.done)
        };
        let mut out = String::new();
        if let Some(cabinet) = &board.cabinet {
            let line = format!("hot cabinet: {cabinet}");
            out.push_str(&if self.color { line.bold().to_string() } else { line });
            out.push('\n');
        }
        if !self.interactive {
            for panel in &board.panels {
                out.push_str(&format!("== {} ==\n", heading(panel)));
                for line in &panel.lines {
                    out.push_str(&format!("   {line}\n"));
                }
            }
            return out;
        }
        let width = terminal_width();
        for row in board.panels.chunks(4) {
            let mut grid = Grid::new();
            grid.load_preset(presets::UTF8_FULL_CONDENSED)
                .apply_modifier(comfy_table::modifiers::UTF8_ROUND_CORNERS)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(width);
            if !self.color {
                grid.force_no_tty();
            }
            grid.set_header(row.iter().map(|panel| {
                let cell = Cell::new(heading(panel));
                if self.color {
                    cell.add_attribute(Attribute::Bold)
                } else {
                    cell
                }
            }));
            let lines: Vec<String> = row
                .iter()
                .map(|panel| {
                    let mut text: Vec<&str> = panel.lines.iter().map(String::as_str).collect();
                    text.resize(crate::shop::PANEL_LINES.max(text.len()), "");
                    text.join("\n")
                })
                .collect();
            grid.add_row(lines);
            out.push_str(&grid.to_string());
            out.push('\n');
        }
        out
    }

    /// One line of error, and one of hint where there is one. `line` is the script line number.
    pub fn error(&self, err: &Error, line: Option<usize>) -> String {
        let place = line.map(|n| format!("line {n}: ")).unwrap_or_default();
        let label = if self.color { "error:".red().bold().to_string() } else { "error:".into() };
        let mut out = format!("{label} {place}{err}\n");
        if let Some(hint) = err.hint() {
            let hint = format!("hint: {hint}");
            if self.color {
                out.push_str(&format!("  {}\n", hint.dimmed()));
            } else {
                out.push_str(&format!("  {hint}\n"));
            }
        }
        out
    }

    /// One line for something a live actor did.
    pub fn event(&self, event: &Event) -> String {
        let (actor, text, warning) = match event {
            Event::Assigned { actor, partitions } => (actor, format!("← assigned {}", format_partitions(partitions)), false),
            Event::Revoked { actor, partitions } => (actor, format!("→ revoked {}", format_partitions(partitions)), false),
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
        };
        if !self.color {
            return format!("{actor} {text}\n");
        }
        let text = if warning { text.yellow().to_string() } else { text };
        format!("{} {text}\n", actor.cyan().bold())
    }

    /// The one-line banner shown when the REPL starts.
    pub fn banner(&self, target: &Target) -> String {
        let what = match target {
            Target::Embedded { bootstrap, storage } => {
                format!("embedded broker (tansu 0.6.0, {storage} storage) at {bootstrap}")
            }
            Target::External { bootstrap } => format!("cluster at {bootstrap}"),
        };
        let text = format!("kafka-workshop {} · connected to {what} · type `help`", env!("CARGO_PKG_VERSION"));
        if self.color {
            format!("{}\n", text.bold())
        } else {
            format!("{text}\n")
        }
    }
}

/// Markdown for a terminal: headings and **bold** in bold, `code` in cyan, lists with bullets,
/// paragraphs wrapped to `width`. Without colour the same text comes out plain.
pub fn render_markdown(markdown: &str, color: bool, width: usize) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

    /// One line being filled word by word.
    struct Lines {
        out: String,
        line: String,
        len: usize,
        indent: usize,
        space: bool,
        width: usize,
    }

    impl Lines {
        fn word(&mut self, plain_len: usize, styled: &str) {
            if self.len > self.indent && self.space && self.len + 1 + plain_len > self.width {
                self.out.push_str(self.line.trim_end());
                self.out.push('\n');
                self.line = " ".repeat(self.indent);
                self.len = self.indent;
            } else if !self.space && self.len + plain_len > self.width {
                // Punctuation glued to a code span: carry the whole glued word to the next line.
                if let Some(at) = self.line.rfind(' ').filter(|at| *at > self.indent) {
                    let carried = self.line.split_off(at + 1);
                    self.out.push_str(self.line.trim_end());
                    self.out.push('\n');
                    self.len = self.indent + strip_ansi_len(&carried);
                    self.line = format!("{}{carried}", " ".repeat(self.indent));
                }
            } else if self.space && self.len > self.indent {
                self.line.push(' ');
                self.len += 1;
            }
            self.line.push_str(styled);
            self.len += plain_len;
            self.space = false;
        }

        fn text(&mut self, text: &str, style: impl Fn(&str) -> String) {
            if text.starts_with(char::is_whitespace) {
                self.space = true;
            }
            for (i, word) in text.split_whitespace().enumerate() {
                if i > 0 {
                    self.space = true;
                }
                self.word(word.chars().count(), &style(word));
            }
            if text.ends_with(char::is_whitespace) {
                self.space = true;
            }
        }

        fn flush(&mut self) {
            if !self.line.trim().is_empty() {
                self.out.push_str(self.line.trim_end());
                self.out.push('\n');
            }
            self.line.clear();
            self.len = 0;
            self.space = false;
        }

        fn blank(&mut self) {
            self.flush();
            if !self.out.is_empty() && !self.out.ends_with("\n\n") {
                self.out.push('\n');
            }
        }
    }

    let mut lines = Lines { out: String::new(), line: String::new(), len: 0, indent: 0, space: false, width };
    let mut bold = 0u32;
    let mut list_depth = 0usize;
    let mut in_code_block = false;
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { .. }) => {
                lines.blank();
                bold += 1;
            }
            Event::End(TagEnd::Heading(_)) => {
                bold = bold.saturating_sub(1);
                lines.blank();
            }
            Event::Start(Tag::Strong) => bold += 1,
            Event::End(TagEnd::Strong) => bold = bold.saturating_sub(1),
            Event::Start(Tag::List(_)) => {
                lines.flush();
                list_depth += 1;
            }
            Event::End(TagEnd::List(_)) => {
                list_depth = list_depth.saturating_sub(1);
                if list_depth == 0 {
                    lines.blank();
                }
            }
            Event::Start(Tag::Item) => {
                lines.flush();
                let pad = 2 * list_depth.saturating_sub(1);
                lines.line = format!("{}• ", " ".repeat(pad));
                lines.len = pad + 2;
                lines.indent = pad + 2;
            }
            Event::End(TagEnd::Item) => {
                lines.flush();
                lines.indent = 0;
            }
            Event::End(TagEnd::Paragraph) => {
                if list_depth == 0 {
                    lines.blank();
                } else {
                    lines.flush();
                }
            }
            Event::Start(Tag::CodeBlock(_)) => {
                lines.flush();
                in_code_block = true;
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code_block = false;
                lines.blank();
            }
            Event::Text(text) if in_code_block => {
                for code_line in text.lines() {
                    let shown = if color { code_line.cyan().to_string() } else { code_line.to_string() };
                    lines.out.push_str(&format!("    {shown}\n"));
                }
            }
            Event::Text(text) => {
                let strong = bold > 0 && color;
                lines.text(&text, |w| if strong { w.bold().to_string() } else { w.to_string() });
            }
            Event::Code(code) => {
                let (len, styled) =
                    if color { (code.chars().count(), code.cyan().to_string()) } else { (code.chars().count() + 2, format!("`{code}`")) };
                lines.word(len, &styled);
            }
            Event::SoftBreak => lines.space = true,
            Event::HardBreak => lines.flush(),
            _ => {}
        }
    }
    lines.flush();
    lines.out.trim_end().to_string()
}

/// Visible length of text that may hold ANSI colour codes.
fn strip_ansi_len(text: &str) -> usize {
    let mut len = 0;
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\u{1b}') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => len += 1,
        }
    }
    len
}

/// Progress bars for a person at a terminal.
pub struct Bars;

struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn advance(&self, by: u64) {
        self.0.inc(by);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Reporter for Bars {
    fn secret(&self, prompt: &str) -> Option<String> {
        rpassword::prompt_password(prompt).ok().filter(|p| !p.is_empty())
    }

    fn confirm(&self, question: &str) -> bool {
        use std::io::Write;
        print!("{question}");
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        if std::io::stdin().read_line(&mut answer).is_err() {
            return false;
        }
        matches!(answer.trim().to_lowercase().as_str(), "" | "y" | "yes")
    }

    fn progress(&self, total: u64, label: &str) -> Box<dyn Progress> {
        let bar = indicatif::ProgressBar::new(total);
        // A countdown (in milliseconds) reads better as time left than as a count.
        let template = if label.contains("timeout") {
            "{msg} {wide_bar} {eta} left"
        } else {
            "{msg} {wide_bar} {human_pos}/{human_len} ({eta} left)"
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_message(label.to_string());
        Box::new(Bar(bar))
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
    fn markdown_is_wrapped_with_bullets_and_code_marks() {
        let text = render_markdown("# Title\n\nA **log** is `orders`, kept in order. It never changes.\n\n- one\n- two\n", false, 24);
        assert_eq!(text, "Title\n\nA log is `orders`, kept\nin order. It never\nchanges.\n\n• one\n• two");
    }

    #[test]
    fn punctuation_glued_to_code_wraps_with_it() {
        let text = render_markdown("Run it against a cluster (`--bootstrap-servers`) today.", false, 30);
        assert!(text.lines().all(|l| l.chars().count() <= 30), "{text}");
        assert!(text.contains("(`--bootstrap-servers`)"), "{text}");
    }

    #[test]
    fn errors_are_one_line_plus_hint() {
        let err = Error::Usage { message: "unknown command 'x'".into(), hint: Some("`help`".into()) };
        let text = View::plain().error(&err, Some(3));
        assert_eq!(text, "error: line 3: unknown command 'x'\n  hint: `help`\n");
    }
}
