//! The two front ends of a session: rustyline at a terminal, and plain line-by-line reading for
//! pipes and `--script`. Both hand each line to `Session::run_line` and print what `View` makes.

use std::borrow::Cow;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use tokio::runtime::Runtime;

use crate::command;
use crate::error::{Error, Result};
use crate::outcome::Outcome;
use crate::session::Session;
use crate::view::View;

/// Where kafka-workshop keeps history and progress: `KAFKA_WORKSHOP_HOME`, else the user's data dir.
pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("KAFKA_WORKSHOP_HOME") {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "kafka-workshop").map(|dirs| dirs.data_dir().to_path_buf())
}

/// Run one line, cancelling it (not the REPL) on Ctrl-C.
fn run_cancellable(runtime: &Runtime, session: &mut Session, line: &str) -> Result<Outcome> {
    runtime.block_on(async {
        tokio::select! {
            result = session.run_line(line) => result,
            _ = tokio::signal::ctrl_c() => Err(Error::Cancelled),
        }
    })
}

/// The interactive REPL. Returns the process exit code.
pub fn interactive(runtime: &Runtime, session: &mut Session, view: View) -> i32 {
    let mut editor: Editor<LineHelper, DefaultHistory> = match Editor::new() {
        Ok(editor) => editor,
        Err(err) => {
            eprint!("{}", view.error(&Error::Io(format!("cannot open the terminal: {err}")), None));
            return 1;
        }
    };
    let words = std::sync::Arc::new(std::sync::Mutex::new(session.completion_words()));
    editor.set_helper(Some(LineHelper { names: command::command_names(), words: std::sync::Arc::clone(&words) }));
    // Live actors' events appear above the prompt without garbling what is being typed. While
    // the shop board is up they are on it instead, so the printer stays quiet.
    let board_up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if let (Some(events), Ok(mut printer)) = (session.take_events(), editor.create_external_printer()) {
        let board_up = std::sync::Arc::clone(&board_up);
        std::thread::spawn(move || {
            use rustyline::ExternalPrinter;
            for event in events {
                if board_up.load(std::sync::atomic::Ordering::Relaxed) {
                    continue;
                }
                if printer.print(view.event(&event)).is_err() {
                    break;
                }
            }
        });
    }
    let history = data_dir().map(|dir| dir.join("history.txt"));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    loop {
        match editor.readline(&session.prompt()) {
            Ok(line) => {
                // In a lesson, Enter on an empty line is `next`.
                let line = if line.trim().is_empty() && session.in_lesson() { "next".to_string() } else { line };
                if line.trim().is_empty() {
                    continue;
                }
                // History never keeps a secret typed in a -X setting.
                let _ = editor.add_history_entry(crate::security::redact_line(&line));
                let result = run_cancellable(runtime, session, &line);
                if let Ok(mut known) = words.lock() {
                    *known = session.completion_words();
                }
                match result {
                    Ok(mut outcome) => {
                        if matches!(outcome, Outcome::Board(_)) {
                            board_up.store(true, std::sync::atomic::Ordering::Relaxed);
                            let shown = live_board(session, view);
                            board_up.store(false, std::sync::atomic::Ordering::Relaxed);
                            if let Err(err) = shown {
                                eprint!("{}", view.error(&Error::Io(format!("cannot draw the shop: {err}")), None));
                            }
                            // The board as it was when the key was pressed stays on screen.
                            outcome = session.shop_board();
                        }
                        print!("{}", view.render(&outcome));
                        let _ = std::io::stdout().flush();
                        if outcome.is_quit() {
                            break;
                        }
                    }
                    Err(err) => eprint!("{}", view.error(&err, None)),
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(err) => {
                eprint!("{}", view.error(&Error::Io(format!("cannot read the terminal: {err}")), None));
                break;
            }
        }
    }
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(path);
    }
    0
}

/// The shop board on the whole screen, redrawn a few times a second until a key is pressed.
/// The terminal is put back as it was whatever happens.
pub fn live_board(session: &Session, view: View) -> std::io::Result<()> {
    use crossterm::{cursor, event, execute, terminal};
    let mut out = std::io::stdout();
    terminal::enable_raw_mode()?;
    let shown = execute!(out, terminal::EnterAlternateScreen, cursor::Hide).and_then(|()| loop {
        let mut text = view.render(&session.shop_board());
        text.push_str("\n(press any key to go back to the prompt)\n");
        execute!(out, cursor::MoveTo(0, 0), terminal::Clear(terminal::ClearType::All))?;
        // Raw mode does not turn a newline into a carriage return.
        out.write_all(text.replace('\n', "\r\n").as_bytes())?;
        out.flush()?;
        if event::poll(std::time::Duration::from_millis(300))? && matches!(event::read()?, event::Event::Key(_)) {
            break Ok(());
        }
    });
    let _ = execute!(out, cursor::Show, terminal::LeaveAlternateScreen);
    let _ = terminal::disable_raw_mode();
    shown
}

/// Run every line of `input` in order; stop at the first failure, naming its line number.
/// Returns the process exit code.
pub fn script(runtime: &Runtime, session: &mut Session, view: View, input: impl BufRead) -> i32 {
    let stdout = std::io::stdout();
    let events = session.take_events();
    // Events are printed between commands, so they never split a table.
    let flush_events = || {
        if let Some(events) = &events {
            let mut out = stdout.lock();
            for event in events.try_iter() {
                let _ = out.write_all(view.event(&event).as_bytes());
            }
        }
    };
    for (index, bytes) in input.split(b'\n').enumerate() {
        let number = index + 1;
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(err) => {
                eprint!("{}", view.error(&Error::Io(format!("cannot read input: {err}")), Some(number)));
                return 1;
            }
        };
        let line = match String::from_utf8(bytes) {
            Ok(line) => line,
            Err(_) => {
                eprint!("{}", view.error(&Error::input("the line is not valid UTF-8"), Some(number)));
                return 2;
            }
        };
        let line = line.trim_end_matches('\r');
        let result = runtime.block_on(session.run_line(line));
        flush_events();
        match result {
            Ok(outcome) => {
                let mut out = stdout.lock();
                let _ = out.write_all(view.render(&outcome).as_bytes());
                let _ = out.flush();
                if let Some(err) = outcome.failure() {
                    eprint!("{}", view.error(err, Some(number)));
                    return err.exit_code();
                }
                if outcome.is_quit() {
                    return 0;
                }
            }
            Err(err) => {
                eprint!("{}", view.error(&err, Some(number)));
                return err.exit_code();
            }
        }
    }
    0
}

/// Tab completion: command names first, then topics, groups, consumers and producers.
struct LineHelper {
    names: Vec<String>,
    words: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Completer for LineHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let partial = &before[start..];
        let candidates: Vec<String> = if start == 0 {
            self.names.clone()
        } else {
            self.words.lock().map(|w| w.clone()).unwrap_or_default()
        };
        let matches = candidates
            .into_iter()
            .filter(|word| word.starts_with(partial))
            .map(|word| Pair { display: word.clone(), replacement: format!("{word} ") })
            .collect();
        Ok((start, matches))
    }
}

impl Hinter for LineHelper {
    type Hint = String;
}

impl Highlighter for LineHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(&'s self, prompt: &'p str, _default: bool) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }
}

impl Validator for LineHelper {}

impl Helper for LineHelper {}
