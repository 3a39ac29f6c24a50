//! The layers in `src/` only point down, only the Kafka layer touches librdkafka, and only the
//! view (and the front ends, for the terminal's input) print or read the terminal. These read the
//! source, so a change that breaks a rule fails here with the file and line.

use std::path::{Path, PathBuf};

/// Each top-level module's layer: a module may use only modules of a lower layer (or itself).
const LAYERS: &[(&str, u32)] = &[
    ("main", 90),
    ("lib", 90),
    // Front ends and what they show.
    ("front", 80),
    ("session", 70),
    ("view", 70),
    // The Kafka layer, the embedded broker, lessons.
    ("actors", 60),
    ("cluster", 62),
    ("broker", 60),
    ("lesson", 60),
    ("kafka", 55),
    ("progress", 55),
    // The grammar.
    ("cli", 42),
    ("command", 41),
    ("expect", 40),
    // Small shared modules.
    ("security", 30),
    ("room", 26),
    ("report", 25),
    ("outcome", 24),
    ("shop", 22),
    ("format", 20),
    ("paths", 21),
    ("tokenize", 20),
    ("murmur2", 20),
    ("error", 10),
];

fn sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
    found.sort();
    found
}

/// `src/session/tutor.rs` → `session`.
fn module_of(path: &Path) -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let relative = path.strip_prefix(&src).unwrap();
    let first = relative.components().next().unwrap().as_os_str().to_string_lossy().to_string();
    first.trim_end_matches(".rs").to_string()
}

fn layer(module: &str) -> u32 {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l).unwrap_or_else(|| panic!("module `{module}` has no layer in this test"))
}

/// The code lines of a file (comments left out), with their numbers.
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split("//").next().unwrap_or("").to_string()))
        .filter(|(_, l)| !l.trim().is_empty())
        .collect()
}

/// Every `crate::MODULE` a line names.
fn crate_modules(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if !name.is_empty() {
            found.push(name);
        }
        rest = after;
    }
    // `use crate::{a, b}`
    if let Some(group) = line.split("crate::{").nth(1) {
        for part in group.split([',', '}']) {
            let name: String = part.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
    }
    found
}

#[test]
fn every_layer_only_uses_the_layers_below_it() {
    let mut upward = Vec::new();
    for path in sources() {
        let module = module_of(&path);
        let own = layer(&module);
        for (number, line) in code_lines(&path) {
            for used in crate_modules(&line) {
                if used != module && layer(&used) >= own {
                    upward.push(format!("{}:{number}: {module} uses {used}", path.display()));
                }
            }
        }
    }
    assert!(upward.is_empty(), "imports that do not point down:\n{}", upward.join("\n"));
}

#[test]
fn only_the_kafka_layer_touches_librdkafka() {
    let mut leaks = Vec::new();
    for path in sources() {
        let module = module_of(&path);
        if module == "kafka" || module == "actors" {
            continue;
        }
        for (number, line) in code_lines(&path) {
            if line.contains("rdkafka::") || line.contains("rdkafka_sys::") || line.contains("use rdkafka") {
                leaks.push(format!("{}:{number}", path.display()));
            }
        }
    }
    assert!(leaks.is_empty(), "librdkafka used outside the Kafka layer:\n{}", leaks.join("\n"));
}

#[test]
fn only_the_view_prints_and_only_the_front_ends_and_view_read_the_terminal() {
    let mut found = Vec::new();
    for path in sources() {
        let module = module_of(&path);
        for (number, line) in code_lines(&path) {
            let prints = ["print!(", "println!(", "eprint!(", "eprintln!(", "io::stdout()", "io::stderr()", ".print()"]
                .iter()
                .any(|p| line.contains(p));
            let reads = line.contains("stdin()");
            if (prints && module != "view") || (reads && module != "view" && module != "front") {
                found.push(format!("{}:{number}: {}", path.display(), line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "terminal input or output outside the view and the front ends:\n{}", found.join("\n"));
}

#[test]
fn no_file_in_src_is_over_600_lines() {
    let long: Vec<String> = sources()
        .into_iter()
        .map(|path| (std::fs::read_to_string(&path).unwrap().lines().count(), path))
        .filter(|(lines, _)| *lines > 600)
        .map(|(lines, path)| format!("{}: {lines} lines", path.display()))
        .collect();
    assert!(long.is_empty(), "{}", long.join("\n"));
}
