//! The REPL: rustyline at a terminal, and plain line-by-line reading for pipes and `--script`.
//! Both hand each line to `Session::run_line` and show what the view makes of the result.

use std::borrow::Cow;
use std::io::{BufRead, IsTerminal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use tokio::runtime::Runtime;

use crate::cli::Cli;
use crate::command;
use crate::error::{Error, Result};
use crate::outcome::Outcome;
use crate::report::{Quiet, Reporter};
use crate::session::Session;
use crate::view::{Bars, View};

/// The REPL or the script runner, on the cluster the command line names. Returns the exit code.
pub fn run(runtime: &Runtime, cli: &Cli) -> i32 {
    let interactive = cli.script.is_none() && std::io::stdin().is_terminal();
    let view = View::for_stdout(interactive);
    let reporter: Arc<dyn Reporter> = if interactive { Arc::new(Bars) } else { Arc::new(Quiet) };
    let options = super::connect_options(cli, &cli.connect, reporter.as_ref(), view);
    let mut session = match runtime.block_on(Session::connect(&options, reporter)) {
        Ok(session) => session,
        Err(err) => return view.fail(&err, None),
    };
    if let Some(speed) = cli.shop_speed {
        session.set_shop_speedup(speed);
    }
    if let Some(seed) = cli.shop_seed {
        session.set_shop_seed(seed);
    }
    if interactive {
        view.show_banner(session.target());
    }
    if let Some(listen) = cli.web {
        let served = super::serve_web(runtime, &mut session, Some(listen));
        view.show(&served);
        if let Some(err) = served.failure() {
            let code = view.fail(err, None);
            runtime.block_on(session.shutdown());
            return code;
        }
    }
    let opened = match &cli.lesson {
        Some(lesson) => runtime.block_on(session.run_line(&format!("lesson {lesson}"))).map(|outcome| view.show(&outcome)),
        None => Ok(()),
    };
    let code = match (opened, &cli.script, interactive) {
        (Err(err), _, _) => view.fail(&err, None),
        (Ok(()), Some(path), _) => match std::fs::File::open(path) {
            Ok(file) => script(runtime, &mut session, view, std::io::BufReader::new(file)),
            Err(err) => view.fail(&Error::input(format!("cannot open script {}: {err}", path.display())), None),
        },
        (Ok(()), None, true) => interactive_loop(runtime, &mut session, view),
        (Ok(()), None, false) => script(runtime, &mut session, view, std::io::stdin().lock()),
    };
    runtime.block_on(session.shutdown());
    code
}

/// Run one line, cancelling it (not the REPL) on Ctrl-C. The Ctrl-C listener is in place
/// before the command starts, so no Ctrl-C pressed while it runs is missed.
fn run_cancellable(runtime: &Runtime, session: &mut Session, line: &str) -> Result<Outcome> {
    runtime.block_on(async {
        tokio::select! {
            biased;
            _ = tokio::signal::ctrl_c() => Err(Error::Cancelled),
            result = session.run_line(line) => result,
        }
    })
}

/// The interactive REPL. Returns the process exit code.
fn interactive_loop(runtime: &Runtime, session: &mut Session, view: View) -> i32 {
    let mut editor: Editor<LineHelper, DefaultHistory> = match Editor::new() {
        Ok(editor) => editor,
        Err(err) => return view.fail(&Error::io_message(format!("cannot open the terminal: {err}")), None),
    };
    let words = Arc::new(Mutex::new(session.completion_words()));
    editor.set_helper(Some(LineHelper { names: command::command_names(), words: Arc::clone(&words) }));
    // Live actors' events appear above the prompt without garbling what is being typed. While a
    // live view is up they are on it instead, so the printer stays quiet.
    let live_up = Arc::new(AtomicBool::new(false));
    if let (Some(events), Ok(mut printer)) = (session.take_events(), editor.create_external_printer()) {
        let live_up = Arc::clone(&live_up);
        std::thread::spawn(move || {
            use rustyline::ExternalPrinter;
            for event in events {
                if !live_up.load(Ordering::Relaxed) && printer.print(view.event(&event)).is_err() {
                    break;
                }
            }
        });
    }
    let history = crate::paths::data_dir().map(|dir| dir.join("history.txt"));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    loop {
        let line = match editor.readline(&session.prompt()) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(err) => {
                view.fail(&Error::io_message(format!("cannot read the terminal: {err}")), None);
                break;
            }
        };
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
            Ok(outcome) => {
                live_up.store(matches!(outcome, Outcome::Live(_)), Ordering::Relaxed);
                let shown = super::present(runtime, session, view, outcome);
                live_up.store(false, Ordering::Relaxed);
                if shown.is_quit() {
                    break;
                }
            }
            Err(err) => {
                view.fail(&err, None);
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

/// Run every line of `input` in order; stop at the first failure, naming its line number.
/// Returns the process exit code.
pub fn script(runtime: &Runtime, session: &mut Session, view: View, input: impl BufRead) -> i32 {
    let events = session.take_events();
    // Events are shown between commands, so they never split a table.
    let flush_events = || {
        if let Some(events) = &events {
            view.show_events(events.try_iter());
        }
    };
    for (index, bytes) in input.split(b'\n').enumerate() {
        let number = index + 1;
        let line = match bytes.map(String::from_utf8) {
            Ok(Ok(line)) => line,
            Ok(Err(_)) => return view.fail(&Error::input("the line is not valid UTF-8"), Some(number)),
            Err(err) => return view.fail(&Error::io("cannot read input", err), Some(number)),
        };
        let result = runtime.block_on(session.run_line(line.trim_end_matches('\r')));
        flush_events();
        match result {
            Ok(outcome) => {
                view.show(&outcome);
                if let Some(err) = outcome.failure() {
                    return view.fail(err, Some(number));
                }
                if outcome.is_quit() {
                    return 0;
                }
            }
            Err(err) => return view.fail(&err, Some(number)),
        }
    }
    0
}

/// Tab completion: command names first, then topics, groups, consumers and producers.
struct LineHelper {
    names: Vec<String>,
    words: Arc<Mutex<Vec<String>>>,
}

impl Completer for LineHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let partial = &before[start..];
        let candidates: Vec<String> =
            if start == 0 { self.names.clone() } else { self.words.lock().map(|w| w.clone()).unwrap_or_default() };
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
