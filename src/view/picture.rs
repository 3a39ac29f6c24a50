//! The picture in a terminal. Each partition is a row of cells, one per offset: a letter for the
//! message's key (the same key, the same letter and colour), `·` for no key, `x` where
//! compaction removed the message. Under the row, a `^` marks each group's committed offset and
//! each consumer's position, with the lag. Groups follow, each member with an arrow to its
//! partitions. With more than one broker, a line of brokers (a node that is down greyed, with
//! how long) heads the frame, and a line under each partition names its leader, its replicas,
//! which are in sync and eligible, and what is wrong. Plain text (no colour, 80 columns) is the
//! same for the same state.

use owo_colors::{AnsiColors, OwoColorize};

use super::View;
use crate::format::visible;
use crate::outcome::format_partitions;
use crate::outcome::picture::{BrokerView, Cell, Flag, GroupView, PartitionView, Picture, Replication, TopicView, KEY_TAGS};

/// The width of a plain frame: what tests and lessons read.
const PLAIN_WIDTH: usize = 80;
/// Colours that keys cycle through at a terminal.
const KEY_COLOURS: [AnsiColors; 6] =
    [AnsiColors::Cyan, AnsiColors::Magenta, AnsiColors::Yellow, AnsiColors::Green, AnsiColors::Blue, AnsiColors::Red];

impl View {
    pub fn picture(&self, picture: &Picture) -> String {
        let width = if self.interactive { usize::from(super::terminal::terminal_width()) } else { PLAIN_WIDTH };
        let mut out = String::new();
        if let Some(lesson) = &picture.lesson {
            let goal = lesson.goal.as_deref().map(|g| format!(" · your turn: {g}")).unwrap_or_default();
            out.push_str(&format!("{} · step {}/{}{goal}\n", lesson.heading, lesson.step, lesson.steps));
        }
        if picture.replicated() {
            self.brokers(&picture.brokers, &mut out);
        }
        if !picture.topics.is_empty() {
            let legend = "one cell per offset, oldest left · a letter per key · · no key · x compacted";
            out.push_str(&if self.color { legend.dimmed().to_string() } else { legend.to_string() });
            out.push('\n');
        }
        // The tags of the cells drawn: the legend names those keys only.
        let mut drawn = std::collections::BTreeSet::new();
        for topic in &picture.topics {
            self.topic(topic, picture, width, &mut drawn, &mut out);
        }
        let mut legend: Vec<String> = drawn
            .iter()
            .filter_map(|&tag| picture.keys.get(tag).map(|key| format!("{}={}", self.tag(tag), visible(key))))
            .collect();
        if drawn.contains(&KEY_TAGS) {
            legend.push(format!("*=any other key (more than {KEY_TAGS} on screen)"));
        }
        if !legend.is_empty() {
            out.push_str(&entries("keys:", &legend, width));
        }
        for group in &picture.groups {
            self.group(group, &mut out);
        }
        for note in &picture.notes {
            out.push_str(&format!("({note})\n"));
        }
        out
    }

    /// `brokers: 1 down 12 s · 2 up, leads 2 · 3 up, leads 1`
    fn brokers(&self, brokers: &[BrokerView], out: &mut String) {
        let each: Vec<String> = brokers
            .iter()
            .map(|b| match (b.up, b.down_seconds) {
                (true, _) => format!("{} up, leads {}", b.id, b.leads),
                (false, Some(seconds)) => self.grey(&format!("{} down {seconds} s", b.id)),
                (false, None) => self.grey(&format!("{} down", b.id)),
            })
            .collect();
        out.push_str(&format!("brokers: {}\n", each.join(" · ")));
    }

    /// `leader 2 · replicas 1(down) 2 3 · in sync 2 3 · eligible none · under-replicated`,
    /// broken between its parts (never inside one) where it would pass `width`.
    fn replication(&self, replication: &Replication, picture: &Picture, indent: usize, width: usize, out: &mut String) {
        // Each part as plain text, to measure, and as shown, greyed or coloured.
        let id = |id: &i32| {
            let plain = if picture.down(*id) { format!("{id}(down)") } else { id.to_string() };
            let shown = if picture.down(*id) { self.grey(&plain) } else { plain.clone() };
            (plain, shown)
        };
        let ids = |label: &str, ids: &[i32]| -> (String, String) {
            if ids.is_empty() {
                return (format!("{label} none"), format!("{label} none"));
            }
            let each: Vec<(String, String)> = ids.iter().map(id).collect();
            let join = |pick: fn(&(String, String)) -> &String| each.iter().map(pick).cloned().collect::<Vec<_>>().join(" ");
            (format!("{label} {}", join(|p| &p.0)), format!("{label} {}", join(|p| &p.1)))
        };
        let leader = if replication.leader < 0 {
            ("no leader".to_string(), "no leader".to_string())
        } else {
            let (plain, shown) = id(&replication.leader);
            (format!("leader {plain}"), format!("leader {shown}"))
        };
        let mut parts = vec![leader, ids("replicas", &replication.replicas), ids("in sync", &replication.isr)];
        parts.extend(replication.elr.as_ref().filter(|e| !e.is_empty()).map(|e| ids("eligible", e)));
        for flag in &replication.flags {
            let text = flag.as_str().to_string();
            let shown = match (self.color, flag) {
                (true, Flag::Offline | Flag::UnderMinIsr) => text.red().bold().to_string(),
                (true, Flag::UnderReplicated) => text.yellow().to_string(),
                (false, _) => text.clone(),
            };
            parts.push((text, shown));
        }
        let mut used = indent;
        out.push_str(&" ".repeat(indent));
        for (n, (plain, shown)) in parts.iter().enumerate() {
            let wide = plain.chars().count();
            if n > 0 && used + 3 + wide > width {
                out.push('\n');
                out.push_str(&" ".repeat(indent + 2));
                used = indent + 2;
            } else if n > 0 {
                out.push_str(" · ");
                used += 3;
            }
            out.push_str(shown);
            used += wide;
        }
        out.push('\n');
    }

    /// Greyed at a terminal; plain text as it is.
    fn grey(&self, text: &str) -> String {
        if self.color { text.dimmed().to_string() } else { text.to_string() }
    }

    fn topic(&self, topic: &TopicView, picture: &Picture, width: usize, drawn: &mut std::collections::BTreeSet<usize>, out: &mut String) {
        let min = topic.min_insync.filter(|_| picture.replicated()).map(|m| format!(" · min.insync.replicas {m}")).unwrap_or_default();
        let title = format!("topic {} · {} partition(s){min}", topic.name, topic.partitions.len());
        out.push_str(&if self.color { title.bold().to_string() } else { title });
        out.push('\n');
        // Every row of a topic starts its log in the same column, whatever it counts before it.
        let rows: Vec<Row> = topic.partitions.iter().map(|p| Row::of(p, width)).collect();
        let pad = rows.iter().map(|r| r.before.chars().count()).max().unwrap_or(0);
        for (partition, row) in topic.partitions.iter().zip(rows) {
            self.partition(partition, &row, pad, picture, width, drawn, out);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn partition(
        &self,
        partition: &PartitionView,
        row: &Row,
        pad: usize,
        picture: &Picture,
        width: usize,
        drawn: &mut std::collections::BTreeSet<usize>,
        out: &mut String,
    ) {
        let Row { label, after, cells, before } = row;
        let cells = &partition.cells[*cells..];
        let row_start = label.len() + pad + 1;
        out.push_str(label);
        out.push_str(&format!("{before:>pad$}"));
        out.push('│');
        drawn.extend(cells.iter().filter(|c| !c.gone).filter_map(|c| c.key));
        let shown: Vec<String> = cells.iter().map(|cell| self.cell(cell, picture)).collect();
        out.push_str(&shown.join(" "));
        out.push('│');
        out.push_str(after);
        out.push('\n');
        if picture.replicated() {
            self.replication(&partition.replication, picture, label.len(), width, out);
        }
        let first = cells.first().map_or(partition.end, |c| c.offset);
        let column = |offset: i64| row_start + 2 * usize::try_from((offset - first).max(0)).unwrap_or(0);
        for mark in &partition.committed {
            let line = match (mark.offset, mark.lag) {
                (Some(offset), Some(lag)) => marker(column(offset), offset < first, &format!("{} committed {offset} · lag {lag}", visible(&mark.group))),
                _ => format!("{}{}: no commit yet\n", " ".repeat(row_start), visible(&mark.group)),
            };
            out.push_str(&line);
        }
        for position in &partition.positions {
            let text = format!("{} reads {} next", visible(&position.consumer), position.offset);
            out.push_str(&marker(column(position.offset), position.offset < first, &text));
        }
    }

    fn cell(&self, cell: &Cell, picture: &Picture) -> String {
        match (cell.gone, cell.key) {
            (true, _) => "x".into(),
            (false, None) => "·".into(),
            (false, Some(key)) if self.color && key < picture.keys.len() => {
                self.tag(key).color(KEY_COLOURS[key % KEY_COLOURS.len()]).bold().to_string()
            }
            (false, Some(key)) => self.tag(key).to_string(),
        }
    }

    /// A key's letter: A–Z, then a–z, then `*`.
    fn tag(&self, index: usize) -> char {
        match u8::try_from(index) {
            Ok(i @ 0..=25) => char::from(b'A' + i),
            Ok(i @ 26..=51) => char::from(b'a' + i - 26),
            _ => '*',
        }
    }

    fn group(&self, group: &GroupView, out: &mut String) {
        let mut facts = vec![group.state.clone()];
        facts.extend(group.assignor.as_ref().map(|a| format!("assignor {a}")));
        facts.extend(group.generation.map(|g| format!("generation {g}")));
        facts.extend(group.lag.map(|l| format!("lag {l}")));
        facts.push(format!("{} member(s)", group.members.len()));
        let title = format!("group {} · {}", visible(&group.name), facts.join(" · "));
        out.push_str(&if self.color { title.bold().to_string() } else { title });
        out.push('\n');
        let width = group.members.iter().map(|m| visible(&m.label()).chars().count()).max().unwrap_or(0);
        for member in &group.members {
            let dying = group.dying.iter().find(|d| Some(&d.consumer) == member.name.as_ref());
            let target = match &member.assignment {
                Some(partitions) => format_partitions(partitions),
                None => "(the cluster does not say)".into(),
            };
            let line = format!("  {:<width$} ──▶ {target}\n", visible(&member.label()));
            out.push_str(&if self.color && dying.is_some() { line.dimmed().to_string() } else { line });
        }
        for dying in &group.dying {
            let line = format!(
                "  {} was killed: the group notices when its session times out, in {:.1} s\n",
                dying.consumer, dying.seconds_left
            );
            out.push_str(&if self.color { line.yellow().to_string() } else { line });
        }
    }
}

/// A partition's row, measured before it is drawn so that a topic's rows can line up.
struct Row {
    label: String,
    /// What follows the log: its end and its owners.
    after: String,
    /// The first of the partition's cells that fits.
    cells: usize,
    /// What goes before the log: how much retention deleted, and how many offsets are not drawn.
    before: String,
}

impl Row {
    fn of(partition: &PartitionView, width: usize) -> Row {
        let label = format!("  p{:<3}", partition.partition);
        let after = format!(" end {}{}", partition.end, owners(partition));
        // What fits: two columns a cell, after the label, the log's edges and what follows it.
        let room = width.saturating_sub(label.len() + 12 + after.chars().count().min(width / 3)) / 2;
        let cells = partition.cells.len().saturating_sub(room.max(4));
        let hidden = partition.before() + cells as i64;
        let mut before = String::new();
        if partition.start > 0 {
            before.push_str(&format!("{} deleted ", partition.start));
        }
        if hidden > 0 {
            before.push_str(&format!("+{hidden} "));
        }
        Row { label, after, cells, before }
    }
}

/// `keys: A=till-1  B=till-2`, broken between entries (never inside one) at `width`, the
/// next line starting under the first entry.
fn entries(title: &str, entries: &[String], width: usize) -> String {
    let indent = title.chars().count() + 1;
    let mut out = format!("{title} ");
    let mut used = indent;
    for entry in entries {
        let wide = entry.chars().count();
        if used > indent && used + 2 + wide > width {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            used = indent;
        } else if used > indent {
            out.push_str("  ");
            used += 2;
        }
        out.push_str(entry);
        used += wide;
    }
    out.push('\n');
    out
}

/// ` · preparers: alice · billing: c9…`
fn owners(partition: &PartitionView) -> String {
    partition
        .owners
        .iter()
        .map(|o| format!(" · {}: {}{}", visible(&o.group), visible(&o.owner), if o.killed { " (killed, nobody reads)" } else { "" }))
        .collect()
}

/// A `^` under column `at` with its text; one before the drawn cells points left.
fn marker(at: usize, before_cells: bool, text: &str) -> String {
    if before_cells {
        format!("{}◂ {text} (before the cells shown)\n", " ".repeat(at.saturating_sub(2)))
    } else {
        format!("{}^ {text}\n", " ".repeat(at))
    }
}

#[cfg(test)]
mod tests {
    use crate::outcome::picture::{BrokerView, Flag, PartitionView, Picture, Replication, TopicView};

    /// Two of three nodes down, with an ELR and both flags: the replica line is the longest a
    /// partition has, and a plain frame still keeps to 80 columns, broken between parts.
    #[test]
    fn a_replica_line_with_two_nodes_down_fits_80_columns() {
        let broker = |id, up| BrokerView { id, up, down_seconds: (!up).then_some(125), leads: usize::from(up) };
        let replication = Replication {
            leader: 2,
            replicas: vec![2, 3, 1],
            isr: vec![2],
            elr: Some(vec![1]),
            flags: vec![Flag::UnderReplicated, Flag::UnderMinIsr],
        };
        let partition = PartitionView {
            partition: 0,
            start: 0,
            end: 1,
            cells: vec![],
            committed: vec![],
            positions: vec![],
            owners: vec![],
            replication,
        };
        let picture = Picture {
            brokers: vec![broker(1, false), broker(2, true), broker(3, false)],
            topics: vec![TopicView { name: "vault".into(), min_insync: Some(2), partitions: vec![partition] }],
            ..Picture::default()
        };
        let frame = crate::view::View::plain().picture(&picture);
        for line in frame.lines() {
            assert!(line.chars().count() <= 80, "wider than 80 columns: {line:?}\n{frame}");
        }
        assert!(frame.contains("leader 2 · replicas 2 3(down) 1(down) · in sync 2 · eligible 1(down)"), "{frame}");
        assert!(frame.contains("\n        under-replicated · under min ISR\n"), "{frame}");
    }
}
