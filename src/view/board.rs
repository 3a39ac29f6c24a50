//! The shop board, like the talk's demo screen: one panel per participant, side by side at a
//! terminal (four to a row), one after another in plain text.

use comfy_table::{presets, Attribute, Cell, ContentArrangement, Table as Grid};
use owo_colors::OwoColorize;

use super::terminal::terminal_width;
use super::View;
use crate::shop::{Board, Panel, Role};

impl View {
    pub fn board(&self, board: &Board) -> String {
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
                    out.push_str(&format!("   {}\n", crate::format::visible(line)));
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
            grid.add_row(row.iter().map(|panel| {
                let mut text: Vec<std::borrow::Cow<'_, str>> = panel.lines.iter().map(|l| crate::format::visible(l)).collect();
                text.resize(crate::shop::PANEL_LINES.max(text.len()), std::borrow::Cow::Borrowed(""));
                text.join("\n")
            }));
            out.push_str(&grid.to_string());
            out.push('\n');
        }
        out
    }
}

/// `PREPARER alice · 12 served`, with `· closed` once it stopped.
fn heading(panel: &Panel) -> String {
    let counted = match panel.role {
        Role::Till => "orders",
        Role::Preparer => "served",
        Role::Cook => "cooked",
        Role::Analyst => "stored",
    };
    let state = if panel.running { "" } else { " · closed" };
    let name = panel.name.strip_prefix("till-").unwrap_or(&panel.name);
    format!("{} {name} · {} {counted}{state}", panel.role.as_str(), panel.done)
}
