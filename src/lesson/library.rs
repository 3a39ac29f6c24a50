//! Where lessons come from: the built-in set (embedded in the binary, so `cargo install` needs no
//! files beside it), or an instructor's folder.

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

use super::{parse, Lesson, Problem};
use crate::error::{Error, Result};

/// Problems found in lesson files, each with the file it is in.
pub type Problems = Vec<(String, Problem)>;

/// The lessons shipped inside the binary.
static BUILT_IN: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/lessons");

/// Where lessons come from: the built-in set, or an instructor's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Library {
    BuiltIn,
    Folder(PathBuf),
}

impl Library {
    /// `--lessons DIR`, else `KAFKA_WORKSHOP_LESSONS`, else the built-in lessons.
    pub fn choose(folder: Option<PathBuf>) -> Self {
        folder
            .or_else(|| std::env::var_os("KAFKA_WORKSHOP_LESSONS").map(PathBuf::from))
            .map_or(Library::BuiltIn, Library::Folder)
    }

    /// Every lesson file as (name, text), sorted by name, and a problem for each one that cannot
    /// be read (not UTF-8, unreadable, or not a regular file: a FIFO named `x.md` is never
    /// opened). README.md is not a lesson.
    pub fn files(&self) -> Result<(Vec<(String, String)>, Problems)> {
        let mut problems = Problems::new();
        let mut files = match self {
            Library::BuiltIn => BUILT_IN
                .files()
                .filter(|f| is_lesson_file(f.path()))
                .filter_map(|f| Some((f.path().display().to_string(), f.contents_utf8()?.to_string())))
                .collect::<Vec<_>>(),
            Library::Folder(dir) => {
                let entries = std::fs::read_dir(dir).map_err(|e| Error::input(format!("cannot read lessons folder {}: {e}", dir.display())))?;
                let mut files = Vec::new();
                for entry in entries.flatten() {
                    let path = entry.path();
                    if !is_lesson_file(&path) {
                        continue;
                    }
                    let source = path.display().to_string();
                    match read_lesson_file(&path) {
                        Ok(text) => files.push((source, text)),
                        Err(message) => problems.push((source, Problem { line: 1, message })),
                    }
                }
                files
            }
        };
        files.sort();
        problems.sort_by(|a, b| a.0.cmp(&b.0));
        Ok((files, problems))
    }

    /// Every lesson that parses, in number order, and the problems (with their file) of those
    /// that do not. Of two lessons with the same number, the first file keeps it.
    pub fn load(&self) -> Result<(Vec<Lesson>, Problems)> {
        let mut lessons: Vec<Lesson> = Vec::new();
        let (files, mut problems) = self.files()?;
        for (source, text) in files {
            match parse(&source, &text) {
                Ok(lesson) => match lessons.iter().find(|l| l.number == lesson.number) {
                    Some(first) => problems.push((
                        source.clone(),
                        Problem { line: 1, message: format!("lesson number {} is also used by {}", lesson.number, first.source) },
                    )),
                    None => lessons.push(lesson),
                },
                Err(found) => problems.extend(found.into_iter().map(|p| (source.clone(), p))),
            }
        }
        lessons.sort_by_key(|l| l.number);
        Ok((lessons, problems))
    }
}

/// A lesson file's text, or why it cannot be had.
fn read_lesson_file(path: &Path) -> std::result::Result<String, String> {
    let kind = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if !kind.is_file() {
        return Err("not a regular file (a folder, a pipe or a device): a lesson is a Markdown file".into());
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        format!("not UTF-8 text (line {line}, byte {at}): save it as UTF-8")
    })
}

fn is_lesson_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "md")
        && path.file_name().is_some_and(|n| n != "README.md")
        && path.parent().is_none_or(|p| !p.ends_with("demos"))
}

impl Library {
    /// A built-in demo (`lessons/demos/NAME.md`) as (source, text), when there is one.
    pub fn demo(&self, name: &str) -> Option<(String, String)> {
        let path = format!("demos/{name}.md");
        match self {
            Library::BuiltIn => BUILT_IN.get_file(&path).and_then(|f| Some((path.clone(), f.contents_utf8()?.to_string()))),
            Library::Folder(dir) => {
                let file = dir.join(&path);
                std::fs::read_to_string(&file).ok().map(|text| (file.display().to_string(), text))
            }
        }
    }

    /// Names of the demos shipped with the lessons.
    pub fn demo_names(&self) -> Vec<String> {
        let mut names: Vec<String> = match self {
            Library::BuiltIn => BUILT_IN
                .get_dir("demos")
                .map(|d| d.files().filter_map(|f| f.path().file_stem().map(|s| s.to_string_lossy().into_owned())).collect())
                .unwrap_or_default(),
            Library::Folder(dir) => std::fs::read_dir(dir.join("demos"))
                .map(|entries| {
                    entries
                        .flatten()
                        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
                        .filter_map(|e| e.path().file_stem().map(|s| s.to_string_lossy().into_owned()))
                        .collect()
                })
                .unwrap_or_default(),
        };
        names.sort();
        names
    }
}

