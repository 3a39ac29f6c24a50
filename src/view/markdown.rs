//! Lesson narration for a terminal: headings and **bold** in bold, `code` in cyan, lists with
//! bullets, paragraphs wrapped to a width. Without colour the same text comes out plain.

use owo_colors::OwoColorize;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Markdown as wrapped terminal text.
pub fn render_markdown(markdown: &str, color: bool, width: usize) -> String {
    let mut writer = Writer { lines: Lines::new(width), color, bold: 0, list_depth: 0, in_code_block: false };
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        writer.event(event);
    }
    writer.lines.flush();
    writer.lines.out.trim_end().to_string()
}

/// Where the text is in the Markdown's structure.
struct Writer {
    lines: Lines,
    color: bool,
    bold: u32,
    list_depth: usize,
    in_code_block: bool,
}

impl Writer {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(&tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) if self.in_code_block => {
                for code_line in text.lines() {
                    let shown = if self.color { code_line.cyan().to_string() } else { code_line.to_string() };
                    self.lines.out.push_str(&format!("    {shown}\n"));
                }
            }
            Event::Text(text) => {
                let strong = self.bold > 0 && self.color;
                self.lines.text(&text, |w| if strong { w.bold().to_string() } else { w.to_string() });
            }
            Event::Code(code) => {
                let (len, styled) = if self.color {
                    (code.chars().count(), code.cyan().to_string())
                } else {
                    (code.chars().count() + 2, format!("`{code}`"))
                };
                self.lines.word(len, &styled);
            }
            Event::SoftBreak => self.lines.space = true,
            Event::HardBreak => self.lines.flush(),
            _ => {}
        }
    }

    fn start(&mut self, tag: &Tag<'_>) {
        match tag {
            Tag::Heading { .. } => {
                self.lines.blank();
                self.bold += 1;
            }
            Tag::Strong => self.bold += 1,
            Tag::List(_) => {
                self.lines.flush();
                self.list_depth += 1;
            }
            Tag::Item => {
                self.lines.flush();
                let pad = 2 * self.list_depth.saturating_sub(1);
                self.lines.line = format!("{}• ", " ".repeat(pad));
                self.lines.len = pad + 2;
                self.lines.indent = pad + 2;
            }
            Tag::CodeBlock(_) => {
                self.lines.flush();
                self.in_code_block = true;
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Heading(_) => {
                self.bold = self.bold.saturating_sub(1);
                self.lines.blank();
            }
            TagEnd::Strong => self.bold = self.bold.saturating_sub(1),
            TagEnd::List(_) => {
                self.list_depth = self.list_depth.saturating_sub(1);
                if self.list_depth == 0 {
                    self.lines.blank();
                }
            }
            TagEnd::Item => {
                self.lines.flush();
                self.lines.indent = 0;
            }
            TagEnd::Paragraph if self.list_depth == 0 => self.lines.blank(),
            TagEnd::Paragraph => self.lines.flush(),
            TagEnd::CodeBlock => {
                self.in_code_block = false;
                self.lines.blank();
            }
            _ => {}
        }
    }
}

/// The text so far, and one line being filled word by word.
struct Lines {
    out: String,
    line: String,
    len: usize,
    indent: usize,
    space: bool,
    width: usize,
}

impl Lines {
    fn new(width: usize) -> Self {
        Lines { out: String::new(), line: String::new(), len: 0, indent: 0, space: false, width }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
