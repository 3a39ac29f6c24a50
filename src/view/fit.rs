//! A table made to fit a terminal before comfy-table wraps it, each step only while it is still
//! too wide: columns with nothing in them go; a column with one value in every row is said
//! once under the table; long identifiers (member and client ids) are shortened; titles break
//! at their hyphens. What still must wrap wraps between words, never inside a word that fits.

use crate::outcome::Table;

/// A shortened identifier keeps this many characters and an ellipsis.
const ID_KEEP: usize = 12;
/// No column is kept narrower than this by its longest word, so a long value may still wrap.
const WORD_CAP: usize = 24;

/// What was done to fit: the table to draw, each column's narrowest width, and a note.
pub(super) struct Fitted {
    pub table: Table,
    pub narrowest: Vec<u16>,
    pub note: Option<String>,
    /// It fits as it is now: nothing needs to wrap.
    pub fits: bool,
}

fn chars(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// The width the table takes drawn with one space either side of each cell and a border
/// between columns.
fn natural(table: &Table) -> usize {
    let widths = (0..table.columns.len()).map(|c| {
        table.rows.iter().map(|r| r.get(c).map_or(0, |v| chars(v))).max().unwrap_or(0).max(chars(&table.columns[c]))
    });
    widths.map(|w| w + 3).sum::<usize>() + 1
}

/// How many leading characters every one of two or more values shares.
fn shared_prefix<'a>(values: impl Iterator<Item = &'a String>) -> usize {
    let values: Vec<Vec<char>> = values.map(|v| v.chars().collect()).collect();
    let Some((first, rest)) = values.split_first() else { return 0 };
    if rest.is_empty() {
        return 0;
    }
    (0..first.len()).take_while(|&i| rest.iter().all(|v| v.get(i) == Some(&first[i]))).count()
}

pub(super) fn fit(table: &Table, width: usize) -> Fitted {
    let mut table = table.clone();
    let mut left_out = Vec::new();
    if natural(&table) > width {
        // Columns with nothing in any row carry nothing.
        let empty: Vec<usize> = (0..table.columns.len())
            .filter(|&c| !table.rows.is_empty() && table.rows.iter().all(|r| r.get(c).is_none_or(|v| v.trim().is_empty())))
            .collect();
        for &c in empty.iter().rev() {
            left_out.push(table.columns.remove(c));
            for row in &mut table.rows {
                if c < row.len() {
                    row.remove(c);
                }
            }
            table.verbatim = table.verbatim.iter().filter(|&&v| v != c).map(|&v| if v > c { v - 1 } else { v }).collect();
        }
    }
    let mut same = Vec::new();
    if natural(&table) > width && table.rows.len() > 1 {
        let constant: Vec<usize> = (0..table.columns.len())
            .filter(|&c| !table.verbatim.contains(&c))
            .filter(|&c| table.rows.iter().all(|r| r.get(c) == table.rows[0].get(c)))
            .collect();
        for &c in constant.iter().rev() {
            let value = table.rows[0].get(c).cloned().unwrap_or_default();
            same.push(format!("{} {value}", table.columns.remove(c)));
            for row in &mut table.rows {
                if c < row.len() {
                    row.remove(c);
                }
            }
            table.verbatim = table.verbatim.iter().map(|&v| if v > c { v - 1 } else { v }).collect();
        }
        same.reverse();
    }
    let mut shortened = false;
    if natural(&table) > width {
        // Generated identifiers: what the rows share goes (`…alice`), then the rest is cut, so
        // what tells members apart stays.
        for c in 0..table.columns.len() {
            let title = &table.columns[c];
            if table.verbatim.contains(&c) || !(title.ends_with("-ID") || title == "MEMBER") {
                continue;
            }
            let shared = shared_prefix(table.rows.iter().filter_map(|r| r.get(c)).filter(|v| v.as_str() != "-"));
            for row in &mut table.rows {
                let Some(cell) = row.get_mut(c) else { continue };
                let mut short = cell.clone();
                if shared >= 4 && short.chars().count() > shared {
                    short = format!("…{}", short.chars().skip(shared).collect::<String>());
                }
                if short.chars().count() > ID_KEEP + 1 {
                    short = format!("{}…", short.chars().take(ID_KEEP).collect::<String>());
                }
                if short != *cell {
                    *cell = short;
                    shortened = true;
                }
            }
        }
    }
    if natural(&table) > width {
        for title in &mut table.columns {
            *title = title.replace('-', "-\n");
        }
    }
    // A column is never narrower than its title, nor than its longest word up to WORD_CAP.
    let narrowest = (0..table.columns.len())
        .map(|c| {
            let words = table.rows.iter().filter_map(|r| r.get(c)).flat_map(|v| v.split_whitespace()).map(|w| w.chars().count());
            let word = words.max().unwrap_or(0).min(WORD_CAP);
            u16::try_from(word.max(chars(&table.columns[c]))).unwrap_or(u16::MAX)
        })
        .collect();
    let mut said = Vec::new();
    if !same.is_empty() {
        said.push(format!("the same in every row: {}", same.join(", ")));
    }
    if !left_out.is_empty() {
        left_out.reverse();
        said.push(format!("{} left out, empty", left_out.join(", ")));
    }
    if shortened {
        said.push("ids shortened".to_string());
    }
    let note = (!said.is_empty()).then(|| format!("(to fit {width} columns: {})", said.join("; ")));
    let fits = natural(&table) <= width;
    Fitted { table, narrowest, note, fits }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members() -> Table {
        let mut table = Table::new(["MEMBER-ID", "CLIENT-ID", "HOST", "ASSIGNMENT", "HEADERS"]);
        table.rows.push(vec![
            "rdkafka-0b6f3c7e-8d2a-4c1e-9f55-2e7a1b9c4d3f".into(),
            "kafka-workshop-alice".into(),
            "/127.0.0.1".into(),
            "orders[0,1]".into(),
            String::new(),
        ]);
        table
    }

    /// describe-group's nine columns at 80: the group, topic and host are the same in every
    /// row and said once; the ids are shortened; the offsets' titles break at their hyphens.
    #[test]
    fn describe_group_fits_80_columns_without_breaking_a_word() {
        let mut table =
            Table::new(["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"]);
        for (p, who, at, end, lag) in [(0, "alice", "12", "15", "3"), (1, "alice", "7", "9", "2"), (2, "bob", "30", "30", "0")] {
            table.rows.push(
                ["preparers", "orders", &p.to_string(), at, end, lag, &format!("kafka-workshop-{who}-3f2a9c1d-77aa"), "/127.0.0.1", &format!("kafka-workshop-{who}")]
                    .map(String::from)
                    .to_vec(),
            );
        }
        let fitted = fit(&table, 80);
        assert_eq!(fitted.table.columns, ["PARTITION", "CURRENT-\nOFFSET", "LOG-\nEND-\nOFFSET", "LAG", "CONSUMER-\nID", "CLIENT-\nID"]);
        assert_eq!(fitted.table.rows[0], ["0", "12", "15", "3", "…alice-3f2a9…", "…alice"]);
        assert_eq!(fitted.table.rows[2], ["2", "30", "30", "0", "…bob-3f2a9c1…", "…bob"]);
        assert_eq!(
            fitted.note.as_deref(),
            Some("(to fit 80 columns: the same in every row: GROUP preparers, TOPIC orders, HOST /127.0.0.1; ids shortened)")
        );
        let narrowest: usize = fitted.narrowest.iter().map(|&w| usize::from(w) + 3).sum::<usize>() + 1;
        assert!(narrowest <= 80, "{narrowest}");
    }

    #[test]
    fn a_table_that_fits_is_left_as_it_is() {
        let fitted = fit(&members(), 200);
        assert_eq!(fitted.table, members());
        assert!(fitted.note.is_none());
    }

    #[test]
    fn empty_columns_go_then_ids_are_shortened_and_the_note_says_so() {
        let fitted = fit(&members(), 80);
        assert_eq!(fitted.table.columns, ["MEMBER-ID", "CLIENT-ID", "HOST", "ASSIGNMENT"]);
        assert_eq!(fitted.table.rows[0][0], "rdkafka-0b6f…");
        assert_eq!(fitted.table.rows[0][1], "kafka-worksh…");
        assert_eq!(fitted.note.as_deref(), Some("(to fit 80 columns: HEADERS left out, empty; ids shortened)"));
        assert!(natural(&fitted.table) <= 80, "{}", natural(&fitted.table));
        assert_eq!(fitted.narrowest, [13, 13, 10, 11]);
    }
}
