//! The REPL: rustyline at a terminal, and plain line-by-line reading for pipes and `--script`.
//! Both hand each line to `Session::run_line` and show what the view makes of the result.

use std::borrow::Cow;
use std::io::{BufRead, IsTerminal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, ExternalPrinter, Helper};
use tokio::runtime::Runtime;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::cli::Cli;
use crate::command;
use crate::error::{Error, Result};
use crate::outcome::Outcome;
use crate::report::{Quiet, Reporter};
use crate::session::{GoalWatch, Session};
use crate::view::{Bars, View};

/// The REPL or the script runner, on the cluster the command line names. Returns the exit code.
pub fn run(runtime: &Runtime, cli: &Cli) -> i32 {
    let interactive = cli.script.is_none() && !cli.json && std::io::stdin().is_terminal();
    let view = View { json: cli.json, ..View::for_stdout(interactive) };
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
        if cli.lesson.is_none() {
            if let Some(begin) = session.where_to_begin() {
                view.show(&Outcome::Note(begin));
            }
        }
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
            Ok(file) => script(runtime, &mut session, view, move || Box::new(std::io::BufReader::new(file))),
            Err(err) => view.fail(&Error::input(format!("cannot open script {}: {err}", path.display())), None),
        },
        (Ok(()), None, true) => interactive_loop(runtime, &mut session, view),
        (Ok(()), None, false) => script(runtime, &mut session, view, || Box::new(std::io::stdin().lock())),
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

/// What waiting for the next line gave.
enum Waited<T> {
    Line(Option<T>),
    Said(Outcome),
}

/// Wait for the next line from `lines` while the lesson's goal is watched; what the watch
/// announces meanwhile goes to `say`. None when the input has ended.
fn next_line<T>(
    runtime: &Runtime,
    session: &mut Session,
    watch: &mut GoalWatch,
    lines: &mut UnboundedReceiver<T>,
    mut say: impl FnMut(&Session, &Outcome),
) -> Option<T> {
    let line = runtime.block_on(async {
        loop {
            let waited = tokio::select! {
                biased;
                line = lines.recv() => Waited::Line(line),
                said = watch.next(session) => Waited::Said(said),
            };
            match waited {
                Waited::Line(line) => return line,
                Waited::Said(said) => say(session, &said),
            }
        }
    });
    watch.input_arrived();
    line
}

/// Straight after a learner's command has shown its output: whether it reached the goal.
fn look_at_goal(runtime: &Runtime, session: &mut Session, view: View) {
    if let Some(said) = runtime.block_on(session.look_at_goal(Duration::ZERO)) {
        view.show(&said);
    }
}

/// The interactive REPL. Returns the process exit code.
fn interactive_loop(runtime: &Runtime, session: &mut Session, view: View) -> i32 {
    let words = Arc::new(Mutex::new(session.completion_words()));
    let mut terminal = match Terminal::open(LineHelper::new(Arc::clone(&words))) {
        Ok(terminal) => terminal,
        Err(err) => return view.fail(&err, None),
    };
    // Live actors' events appear above the prompt without garbling what is being typed. While a
    // live view is up they are on it instead, so the printer stays quiet.
    let live_up = Arc::new(AtomicBool::new(false));
    // While a command runs, what it makes the actors say waits, and is printed under the
    // command's own output: an assignment never shows above the command that caused it.
    let held: Arc<Mutex<Option<Vec<crate::outcome::Event>>>> = Arc::new(Mutex::new(None));
    if let (Some(events), Some(mut printer)) = (session.take_events(), terminal.printer()) {
        let live_up = Arc::clone(&live_up);
        let held = Arc::clone(&held);
        std::thread::spawn(move || {
            for event in events {
                let event = match held.lock().as_deref_mut() {
                    Ok(Some(waiting)) => {
                        waiting.push(event);
                        continue;
                    }
                    _ => event,
                };
                if !live_up.load(Ordering::Relaxed) && printer.print(view.event(&event)).is_err() {
                    break;
                }
            }
        });
    }
    let release = |held: &Mutex<Option<Vec<crate::outcome::Event>>>| {
        let waiting = held.lock().ok().and_then(|mut h| h.take()).unwrap_or_default();
        view.show_events(waiting.into_iter());
    };
    let mut announcer = terminal.printer();
    let mut watch = GoalWatch::new(session);
    // What was typed while a live view was up: whole lines run next, in order, and the rest
    // starts the next line.
    let mut typed = String::new();
    loop {
        let read = if let Some((line, rest)) = typed.split_once('\n') {
            let line = line.to_string();
            typed = rest.to_string();
            view.show(&Outcome::Typed(crate::security::redact_line(&line)));
            Some(Ok(line))
        } else {
            terminal.ask(session.prompt(), std::mem::take(&mut typed));
            let shown = Arc::clone(&terminal.shown);
            next_line(runtime, session, &mut watch, &mut terminal.lines, |session, said| {
                // The prompt says the lesson's new step from the redraw after the announcement.
                if let Ok(mut shown) = shown.lock() {
                    *shown = session.prompt();
                }
                if let Some(printer) = announcer.as_mut() {
                    let _ = printer.print(view.render(said));
                }
            })
        };
        let line = match read {
            Some(Ok(line)) => line,
            Some(Err(ReadlineError::Interrupted)) => continue,
            None | Some(Err(ReadlineError::Eof)) => break,
            Some(Err(err)) => {
                view.fail(&Error::io_message(format!("cannot read the terminal: {err}")), None);
                break;
            }
        };
        // In a lesson, Enter on an empty line is `next`.
        let line = if line.trim().is_empty() && session.in_lesson() { "next".to_string() } else { line };
        if line.trim().is_empty() {
            continue;
        }
        // Enter on a step's commands runs them one at a time, each followed by its output and
        // what it made the actors say, as if typed.
        if line.trim() == "next" {
            if let Some((commands, may_fail)) = session.pending_commands() {
                let hold = || {
                    if let Ok(mut hold) = held.lock() {
                        *hold = Some(Vec::new());
                    }
                };
                view.show(&Outcome::Many(runtime.block_on(session.start_commands(&commands))));
                let mut all_ran = true;
                for command in &commands {
                    view.show(&Outcome::Typed(crate::security::redact_line(command)));
                    hold();
                    let result = runtime.block_on(async {
                        tokio::select! {
                            biased;
                            _ = tokio::signal::ctrl_c() => Err(Error::Cancelled),
                            result = session.run_step_line(command, may_fail) => result,
                        }
                    });
                    match result {
                        Ok(outcome) => {
                            let failed = outcome.failure().is_some();
                            super::present(runtime, session, view, outcome, &mut typed);
                            release(&held);
                            if failed {
                                all_ran = false;
                                break;
                            }
                        }
                        Err(err) => {
                            view.fail(&err, None);
                            release(&held);
                            all_ran = false;
                            break;
                        }
                    }
                }
                if all_ran {
                    view.show(&Outcome::Many(session.commands_ran()));
                }
                if let Ok(mut known) = words.lock() {
                    *known = session.completion_words();
                }
                look_at_goal(runtime, session, view);
                continue;
            }
        }
        if let Ok(mut hold) = held.lock() {
            *hold = Some(Vec::new());
        }
        let result = run_cancellable(runtime, session, &line);
        if let Ok(mut known) = words.lock() {
            *known = session.completion_words();
        }
        match result {
            Ok(outcome) => {
                let live = matches!(outcome, Outcome::Live(_));
                live_up.store(live, Ordering::Relaxed);
                // A live view shows what happens from now on itself.
                if live {
                    release(&held);
                }
                let shown = super::present(runtime, session, view, outcome, &mut typed);
                live_up.store(false, Ordering::Relaxed);
                release(&held);
                if shown.is_quit() {
                    break;
                }
            }
            Err(err) => {
                view.fail(&err, None);
                release(&held);
            }
        }
        look_at_goal(runtime, session, view);
    }
    terminal.close();
    0
}

/// rustyline on a thread of its own, reading one line each time it is asked, so that the
/// lesson's goal is watched while the learner types. Keys typed while a command runs wait in
/// the terminal and are read, in order, once the prompt is back (rustyline's `buffer-redux`
/// keeps what one read took in beyond its line for the next).
struct Terminal {
    /// The prompt for the next line, and what the line starts with.
    ask: Option<std::sync::mpsc::Sender<(String, String)>>,
    lines: UnboundedReceiver<rustyline::Result<String>>,
    /// The prompt drawn while a line is read; an announcement can move the lesson on meanwhile.
    shown: Arc<Mutex<String>>,
    /// Each prints above the prompt while a line is being typed.
    printers: Vec<Box<dyn ExternalPrinter + Send>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

type DefaultEditor = Editor<LineHelper, DefaultHistory>;

impl Terminal {
    fn open(helper: LineHelper) -> Result<Terminal> {
        // The helper adds no colour; it only redraws the prompt when the lesson moves on, and
        // rustyline skips it under NO_COLOR unless told otherwise.
        let config = rustyline::Config::builder().color_mode(rustyline::ColorMode::Forced).build();
        let mut editor: DefaultEditor =
            Editor::with_config(config).map_err(|e| Error::io_message(format!("cannot open the terminal: {e}")))?;
        let shown = Arc::clone(&helper.shown);
        editor.set_helper(Some(helper));
        let history = crate::paths::data_dir().map(|dir| dir.join("history.txt"));
        if let Some(path) = &history {
            let _ = editor.load_history(path);
        }
        let printers = (0..2)
            .filter_map(|_| editor.create_external_printer().ok())
            .map(|p| Box::new(p) as Box<dyn ExternalPrinter + Send>)
            .collect();
        let (ask, asked) = std::sync::mpsc::channel::<(String, String)>();
        let (send, lines) = tokio::sync::mpsc::unbounded_channel();
        let reader = std::thread::spawn(move || {
            while let Ok((prompt, start)) = asked.recv() {
                let read = editor.readline_with_initial(&prompt, (&start, ""));
                if let Ok(line) = &read {
                    if !line.trim().is_empty() {
                        // History never keeps a secret typed in a -X setting.
                        let _ = editor.add_history_entry(crate::security::redact_line(line));
                    }
                }
                let ended = matches!(&read, Err(e) if !matches!(e, ReadlineError::Interrupted));
                if send.send(read).is_err() || ended {
                    break;
                }
            }
            if let Some(path) = &history {
                if let Some(dir) = path.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                let _ = editor.save_history(path);
            }
        });
        Ok(Terminal { ask: Some(ask), lines, shown, printers, reader: Some(reader) })
    }

    /// Something that prints above the prompt while a line is being typed.
    fn printer(&mut self) -> Option<Box<dyn ExternalPrinter + Send>> {
        self.printers.pop()
    }

    /// Read the next line, with this prompt, starting with `start`.
    fn ask(&mut self, prompt: String, start: String) {
        if let Ok(mut shown) = self.shown.lock() {
            shown.clone_from(&prompt);
        }
        if let Some(ask) = &self.ask {
            let _ = ask.send((prompt, start));
        }
    }

    /// Stop reading and save the history.
    fn close(mut self) {
        self.ask.take();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// Run every line of `input` in order; stop at the first failure, naming its line number.
/// Returns the process exit code.
pub fn script(runtime: &Runtime, session: &mut Session, view: View, input: impl FnOnce() -> Box<dyn BufRead> + Send + 'static) -> i32 {
    let events = session.take_events();
    // Events are shown between commands, so they never split a table.
    let flush_events = || {
        if let Some(events) = &events {
            view.show_events(events.try_iter());
        }
    };
    // Lines are read on a thread of their own, so a lesson's goal is watched while the next
    // one is awaited.
    let (send, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in input().split(b'\n') {
            let stop = line.is_err();
            if send.send(line).is_err() || stop {
                break;
            }
        }
    });
    let mut watch = GoalWatch::new(session);
    let mut number = 0;
    while let Some(bytes) = next_line(runtime, session, &mut watch, &mut lines, |_, said| {
        flush_events();
        view.show(said);
    }) {
        number += 1;
        let line = match bytes.map(String::from_utf8) {
            Ok(Ok(line)) => line,
            Ok(Err(_)) => return view.fail(&Error::input("the line is not valid UTF-8"), Some(number)),
            Err(err) => return view.fail(&Error::io("cannot read input", err), Some(number)),
        };
        let result = runtime.block_on(session.run_line(line.trim_end_matches('\r')));
        flush_events();
        match result {
            Ok(outcome) => {
                // A request to serve the page is carried out here, as at the prompt.
                let outcome = super::present(runtime, session, view, outcome, &mut String::new());
                if let Some(err) = outcome.failure() {
                    return view.fail(err, Some(number));
                }
                if outcome.is_quit() {
                    return 0;
                }
            }
            Err(err) => return view.fail(&err, Some(number)),
        }
        look_at_goal(runtime, session, view);
    }
    0
}

/// Tab completion (command names first, then topics, groups, consumers and producers), and the
/// prompt as it is now.
struct LineHelper {
    names: Vec<String>,
    words: Arc<Mutex<Vec<String>>>,
    shown: Arc<Mutex<String>>,
}

impl LineHelper {
    fn new(words: Arc<Mutex<Vec<String>>>) -> LineHelper {
        LineHelper { names: command::command_names(), words, shown: Arc::default() }
    }
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
    /// The prompt a line is read with stays the same while it is typed; when the lesson moves
    /// on meanwhile, the prompt drawn says so, padded to the same width so the cursor stays put.
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(&'s self, prompt: &'p str, _default: bool) -> Cow<'b, str> {
        let Ok(shown) = self.shown.lock() else { return Cow::Borrowed(prompt) };
        let (width, now) = (prompt.chars().count(), shown.chars().count());
        if *shown == prompt || now > width {
            Cow::Borrowed(prompt)
        } else {
            Cow::Owned(format!("{shown:<width$}"))
        }
    }
}

impl Validator for LineHelper {}

impl Helper for LineHelper {}
