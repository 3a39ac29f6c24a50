//! What only a person at a terminal gets: progress bars, questions answered at the keyboard
//! (a password without echo, yes or no), and a frame redrawn in place until a key is pressed.

use std::io::Write;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use super::View;
use crate::outcome::Outcome;
use crate::report::{Progress, Reporter, Signal};

/// The terminal's width; one that reports no size (some multiplexers, a bare pty) gets a usual width.
pub fn terminal_width() -> u16 {
    crossterm::terminal::size().ok().map(|(w, _)| w).filter(|w| *w >= 40).unwrap_or(120)
}

/// Progress bars and questions for a person at a terminal.
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
        // Drawn at once, so a wait shows before anything arrives.
        bar.tick();
        Box::new(Bar(bar))
    }
}

/// A frame on the whole screen until a key is pressed, drawn again by `frame` when `changes`
/// says something changed (at most every 100 ms) and at least every second. The terminal is
/// put back as it was whatever happens. Returns what was typed after the key that closed it
/// (a learner typing their next command straight away), so that nothing typed is lost.
pub fn live(view: View, mut frame: impl FnMut() -> Outcome, mut changes: broadcast::Receiver<Signal>) -> std::io::Result<String> {
    use crossterm::{cursor, execute, terminal};
    let mut out = std::io::stdout();
    terminal::enable_raw_mode()?;
    let mut last_change = None;
    let shown = execute!(out, terminal::EnterAlternateScreen, cursor::Hide).and_then(|()| loop {
        let mut text = view.render(&frame());
        let seen = last_change.map(|ms| format!(" · last change {}", clock(ms))).unwrap_or_default();
        text.push_str(&format!("\n(live{seen} · press any key to go back to the prompt)\n"));
        execute!(out, cursor::MoveTo(0, 0), terminal::Clear(terminal::ClearType::All))?;
        // Raw mode does not turn a newline into a carriage return.
        out.write_all(text.replace('\n', "\r\n").as_bytes())?;
        out.flush()?;
        match wait_for_change(&mut changes)? {
            Wait::Key => break typed_ahead(),
            Wait::Changed(at) => last_change = at.or(last_change),
        }
    });
    let _ = execute!(out, cursor::Show, terminal::LeaveAlternateScreen);
    let _ = terminal::disable_raw_mode();
    shown
}

/// The keys already typed, as text: what the terminal read beyond the key that closed the live
/// view would otherwise be dropped with the view's raw mode.
fn typed_ahead() -> std::io::Result<String> {
    use crossterm::event::{self, Event, KeyCode, KeyEventKind};
    let mut typed = String::new();
    while event::poll(Duration::ZERO)? {
        if let Event::Key(key) = event::read()? {
            match key.code {
                _ if key.kind == KeyEventKind::Release => {}
                KeyCode::Char(c) => typed.push(c),
                KeyCode::Enter => typed.push('\n'),
                KeyCode::Tab => typed.push('\t'),
                KeyCode::Backspace => {
                    typed.pop();
                }
                _ => {}
            }
        }
    }
    Ok(typed)
}

enum Wait {
    Key,
    /// Time to draw again; when a change was seen, when.
    Changed(Option<u64>),
}

/// Wait for a key, or for a change (drawn no sooner than 100 ms after the last frame), or a second.
fn wait_for_change(changes: &mut broadcast::Receiver<Signal>) -> std::io::Result<Wait> {
    use crossterm::event;
    let drawn = Instant::now();
    let mut seen = None;
    loop {
        if event::poll(Duration::from_millis(20))? && matches!(event::read()?, event::Event::Key(_)) {
            return Ok(Wait::Key);
        }
        loop {
            match changes.try_recv() {
                Ok(Signal::Changed { at_ms }) => seen = seen.or(Some(at_ms)),
                Ok(Signal::Event(_)) | Err(broadcast::error::TryRecvError::Lagged(_)) => {
                    seen = seen.or(Some(crate::report::now_ms()));
                }
                Err(_) => break,
            }
        }
        let elapsed = drawn.elapsed();
        if (seen.is_some() && elapsed >= Duration::from_millis(100)) || elapsed >= Duration::from_secs(1) {
            return Ok(Wait::Changed(seen));
        }
    }
}

/// `16:40:01.234 UTC` for milliseconds since the epoch.
fn clock(ms: u64) -> String {
    let text = humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + Duration::from_millis(ms)).to_string();
    format!("{} UTC", text.get(11..23).unwrap_or(&text))
}

/// Types a command at the prompt at a person's pace, with the small unevenness real typing has.
pub struct Typist {
    per_char: Duration,
    jitter: u64,
}

impl Typist {
    pub fn new(per_char: Duration) -> Self {
        Typist { per_char, jitter: 42 }
    }

    pub fn type_line(&mut self, line: &str) {
        let mut out = std::io::stdout();
        let _ = write!(out, "kafka › ");
        for c in line.chars() {
            let _ = write!(out, "{c}");
            let _ = out.flush();
            self.jitter = self.jitter.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            #[allow(clippy::cast_precision_loss)]
            let factor = 0.5 + ((self.jitter >> 33) % 100) as f64 / 100.0;
            std::thread::sleep(self.per_char.mul_f64(factor));
        }
        let _ = writeln!(out);
    }
}

impl View {
    /// Wait for Enter where a person can press it; elsewhere go straight on.
    pub fn pause(&self, what: &str) {
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() {
            return;
        }
        self.show(&Outcome::Note(format!("(paused: press Enter to {what})")));
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    }
}
