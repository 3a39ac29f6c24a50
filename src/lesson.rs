//! Lessons are data: Markdown files, parsed with a real Markdown parser into steps.
//!
//! A lesson is split at its fenced code blocks. Each step is the narration since the previous
//! block, followed by at most one action: a ```` ```kafka ```` block of commands the lesson
//! runs, or a ```` ```try ```` block where the learner must act until its checks pass. The format
//! is documented in `lessons/README.md`. The lesson engine that steps through them is the
//! session's tutor.

mod library;
mod parse;
pub mod placeholders;

use std::time::Duration;

pub use library::Library;
pub use parse::{parse, parse_all};

use crate::command::{self, Command, Parsed};
use crate::error::{Error, Result};
use crate::expect::{parse_condition, Condition};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lesson {
    pub number: u32,
    /// Short name used in `lesson NAME` (the file name without `.md` and its number prefix).
    pub name: String,
    pub title: String,
    pub minutes: u32,
    /// `storage: persistent` in the front matter: on the embedded broker the lesson needs
    /// SQLite storage (compaction and retention only run there), so a replay starts one.
    pub persistent: bool,
    /// `needs:` in the front matter: what a cluster must have for the lesson to be true there.
    pub needs: Needs,
    pub steps: Vec<Step>,
    /// Where it came from, for error messages.
    pub source: String,
}

/// What a lesson needs of the cluster, declared in its front matter (`needs: embedded broker`,
/// `needs: 3 brokers`). The tool says in one line what is missing instead of running a lesson
/// that would be false on the cluster at hand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    /// Something only the embedded broker does (its broker-side schema checks).
    pub embedded: bool,
    /// At least this many brokers (0: any).
    pub brokers: u32,
}

impl Lesson {
    /// `lesson 3: Keys and partitioning`, or the title alone for a demo.
    pub fn heading(&self) -> String {
        if self.number > 0 {
            format!("lesson {}: {}", self.number, self.title)
        } else {
            self.title.clone()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Markdown to show before the action.
    pub narration: String,
    pub action: Option<Action>,
    /// A block marked ```` ```try apache-kafka ```` (or `embedded`) runs only on that kind of
    /// cluster; elsewhere the step is narration with a line saying why.
    pub only: Option<Only>,
}

/// Where a block is true: the words after its language (```` ```try apache-kafka ````).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Only {
    /// `apache-kafka`: what the embedded tansu broker lacks (transactions, adding partitions,
    /// the consumer group protocol of KIP-848).
    ApacheKafka,
    /// `embedded`: what only the embedded broker does (its broker-side schema checks).
    Embedded,
    /// `local`: a cluster this session started, whose brokers it can stop and start.
    Local,
    /// `brokers-N`: at least N brokers.
    Brokers(u32),
    /// `single-broker`: one broker this session started, so stopping it stops the cluster.
    SingleBroker,
    /// `local-brokers-N`: at least N brokers this session started, so it can stop and kill
    /// them (never a shared or managed cluster's).
    LocalBrokers(u32),
}

/// What a lesson's blocks may ask of the cluster at hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterFacts {
    pub embedded: bool,
    /// Started by this session (the embedded broker, or `--apache-kafka`).
    pub local: bool,
    pub brokers: usize,
}

impl Only {
    /// The tag as written after a block's language.
    pub fn parse(word: &str) -> Option<Only> {
        match word {
            "apache-kafka" => Some(Only::ApacheKafka),
            "embedded" => Some(Only::Embedded),
            "local" => Some(Only::Local),
            "single-broker" => Some(Only::SingleBroker),
            other if other.starts_with("local-brokers-") => {
                other.strip_prefix("local-brokers-").and_then(|n| n.parse().ok()).map(Only::LocalBrokers)
            }
            other => other.strip_prefix("brokers-").and_then(|n| n.parse().ok()).map(Only::Brokers),
        }
    }

    fn holds(self, facts: ClusterFacts) -> bool {
        match self {
            Only::ApacheKafka => !facts.embedded,
            Only::Embedded => facts.embedded,
            Only::Local => facts.local,
            Only::Brokers(n) => facts.brokers >= usize::try_from(n).unwrap_or(usize::MAX),
            Only::SingleBroker => facts.local && facts.brokers == 1,
            Only::LocalBrokers(n) => facts.local && facts.brokers >= usize::try_from(n).unwrap_or(usize::MAX),
        }
    }

    /// The line that says why a block is left out on this cluster (`task`: it was the
    /// learner's to do).
    fn left_out(self, facts: ClusterFacts, task: bool) -> String {
        let what = if task { "this step is yours to do" } else { "the lesson runs these commands here" };
        match self {
            Only::ApacheKafka => format!(
                "*(On Apache Kafka {what}; the embedded broker cannot do it, so it is left out. Start kafka-workshop with \
                 `--apache-kafka DIR` or `--bootstrap-servers` to try it.)*"
            ),
            Only::Embedded => "*(This step uses what only the embedded broker does, so it is left out on this cluster.)*".into(),
            Only::Local => "*(This step stops and starts a broker, which kafka-workshop can do only to a cluster it started \
                 itself, so it is left out on this cluster.)*"
                .into(),
            Only::SingleBroker if facts.local => format!(
                "*(This step stops the only broker of a one-broker cluster; this one has {}, so it is left out: the \
                 steps on three brokers show what a cluster does when one fails.)*",
                facts.brokers
            ),
            Only::SingleBroker => "*(This step stops the only broker of a cluster kafka-workshop started, so it is left \
                 out on this cluster.)*"
                .into(),
            Only::LocalBrokers(n) => format!(
                "*(This step stops and kills brokers, so it needs {n} brokers that kafka-workshop started itself; \
                 never a shared cluster's. With Java 17+ and an unpacked Apache Kafka in DIR, \
                 `kafka-workshop --apache-kafka DIR --brokers {n}` gives you {n}.)*"
            ),
            Only::Brokers(n) => format!(
                "*(This step needs {n} brokers and this cluster has {}, so it is left out. With Java 17+ and an unpacked \
                 Apache Kafka in DIR, `kafka-workshop --apache-kafka DIR --brokers {n}` gives you {n}.)*",
                facts.brokers
            ),
        }
    }
}

impl Lesson {
    /// The lesson as it runs on this cluster: each step marked for another kind keeps its
    /// narration, says in one line why it is left out, and asks nothing; a ```` ```say TAG ````
    /// block in the narration is shown only where its tag holds.
    pub fn for_cluster(mut self, facts: ClusterFacts) -> Lesson {
        for step in &mut self.steps {
            step.narration = says_for(&step.narration, facts);
            let Some(only) = step.only.filter(|only| !only.holds(facts)) else { continue };
            let task = matches!(step.action, Some(Action::Try(_)));
            step.action = None;
            step.only = None;
            step.narration = format!("{}\n\n{}", step.narration, only.left_out(facts, task)).trim().to_string();
        }
        self
    }
}

/// Narration with each ```` ```say TAG ```` block unwrapped where TAG holds and dropped where it
/// does not.
fn says_for(narration: &str, facts: ClusterFacts) -> String {
    if !narration.contains("```say") {
        return narration.to_string();
    }
    let mut out = Vec::new();
    let mut inside: Option<bool> = None;
    for line in narration.lines() {
        let trimmed = line.trim();
        match inside {
            None if trimmed.starts_with("```say") => {
                let tag = trimmed.trim_start_matches("```say").trim();
                inside = Some(Only::parse(tag).is_none_or(|only| only.holds(facts)));
            }
            Some(_) if trimmed.starts_with("```") => inside = None,
            Some(false) => {}
            _ => out.push(line),
        }
    }
    out.join("\n")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Commands the lesson runs, one a line, each with its line number in the file. In a
    /// ```` ```kafka may-fail ```` block a command may fail on a cluster that lacks a feature
    /// (transactions on the embedded broker, say): the failure is shown and the lesson goes on.
    Run { lines: Vec<(usize, String)>, may_fail: bool },
    Try(TryBlock),
}

/// A pause: the learner acts until every check holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryBlock {
    /// The line of the block's opening fence, for problems found in it.
    pub line: usize,
    pub goal: String,
    pub checks: Vec<Check>,
    pub hints: Vec<String>,
    pub solution: Vec<String>,
    /// The solution lines (by index) written `solution may-fail:`: a command the broker is
    /// meant to refuse on the way to the goal (a record that breaks a schema, say).
    pub may_fail: Vec<usize>,
    /// The plausible mistakes a learner makes here, never shown: `replay --check` plays each
    /// on a fresh learner and fails if it reaches the goal.
    pub wrong: Vec<WrongWay>,
    /// `show: TOPIC [group G]…`: what the picture draws when the goal is reached, so the
    /// learner sees the state they made at the moment it is announced.
    pub show: Option<String>,
}

/// One `wrong:` line of a try block: commands separated by ` ; `, as a learner who half
/// understood would type them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongWay {
    pub line: usize,
    pub commands: Vec<String>,
}

impl WrongWay {
    /// The commands of a `wrong:` line.
    pub fn parse(line: usize, text: &str) -> WrongWay {
        WrongWay { line, commands: text.split(" ; ").map(str::trim).filter(|c| !c.is_empty()).map(str::to_string).collect() }
    }
}

/// One `expect` line of a try block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub line: usize,
    /// As written after `expect`, such as `group preparers members 2 --within 20s`.
    pub text: String,
}

impl Check {
    /// The condition and how long `expect` would wait for it, through the one grammar.
    pub fn parse(&self) -> Result<(Condition, Option<Duration>)> {
        match command::parse(&format!("expect {}", self.text))? {
            Parsed::Command(Command::Expect(args)) => {
                let within = self.text.contains("--within").then_some(args.within);
                Ok((parse_condition(&args.condition)?, within))
            }
            _ => Err(Error::usage(format!("`expect {}` is not a check", self.text))),
        }
    }
}

/// A problem in a lesson file, with the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

/// Everything `lessons check` looks at beyond parsing: commands that the grammar rejects and
/// checks that are not conditions.
pub fn validate(lesson: &Lesson) -> Vec<Problem> {
    let mut problems = Vec::new();
    for step in &lesson.steps {
        match &step.action {
            Some(Action::Run { lines, .. }) => problems.extend(lines.iter().filter_map(|(line, text)| command_problem(*line, text))),
            Some(Action::Try(block)) => {
                problems.extend(block.solution.iter().filter_map(|text| command_problem(block.line, text)));
                for wrong in &block.wrong {
                    problems.extend(wrong.commands.iter().filter_map(|text| command_problem(wrong.line, text)));
                }
                if block.wrong.is_empty() {
                    problems.push(Problem {
                        line: block.line,
                        message: "this try block has no wrong: line: write down a plausible mistake, which `replay --check` proves does not reach the goal".into(),
                    });
                }
                for check in &block.checks {
                    if let Err(err) = check.parse() {
                        problems.push(Problem { line: check.line, message: format!("`expect {}`: {err}", check.text) });
                    }
                }
            }
            None => {}
        }
    }
    problems
}

fn command_problem(line: usize, text: &str) -> Option<Problem> {
    // A placeholder (`{leader T[P]}`) stands for a broker id, filled in when the line runs.
    match command::parse(&placeholders::sample(text)) {
        Ok(Parsed::Command(_) | Parsed::Empty | Parsed::Help(_)) => None,
        Err(err) => Some(Problem { line, message: format!("`{text}`: {err}") }),
    }
}

/// Find a lesson by number ("3") or by name ("consumer-groups").
pub fn find<'a>(lessons: &'a [Lesson], wanted: &str) -> Option<&'a Lesson> {
    match wanted.parse::<u32>() {
        Ok(number) => lessons.iter().find(|l| l.number == number),
        Err(_) => lessons.iter().find(|l| l.name == wanted || l.title.eq_ignore_ascii_case(wanted)),
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "---\nnumber: 9\ntitle: Sample\nminutes: 4\n---\n\nIntro with **bold**.\n\n```kafka\ncreate-topic t\n# a comment\nproduce t x\n```\n\nNow you.\n\n```try\ngoal: Send one more.\nexpect partition t[0] end-offset 2\nhint: use produce\nsolution: produce t y\nwrong: read t ; topics\n```\n\n## Recap\n\nDone.\n";

    #[test]
    fn splits_at_code_blocks() {
        let lesson = parse("lessons/09-sample.md", SAMPLE).unwrap();
        assert_eq!((lesson.number, lesson.title.as_str(), lesson.minutes, lesson.name.as_str()), (9, "Sample", 4, "sample"));
        assert_eq!(lesson.steps.len(), 3);
        assert_eq!(lesson.steps[0].narration, "Intro with **bold**.");
        assert_eq!(
            lesson.steps[0].action,
            Some(Action::Run { lines: vec![(10, "create-topic t".into()), (12, "produce t x".into())], may_fail: false })
        );
        let Some(Action::Try(block)) = &lesson.steps[1].action else { panic!("no try") };
        assert_eq!(block.checks, [Check { line: 19, text: "partition t[0] end-offset 2".into() }]);
        assert_eq!(block.solution, ["produce t y"]);
        assert_eq!(block.wrong, [WrongWay { line: 22, commands: vec!["read t".into(), "topics".into()] }]);
        assert!(lesson.steps[2].narration.starts_with("## Recap"));
        assert!(validate(&lesson).is_empty());
    }

    #[test]
    fn problems_name_their_line() {
        let broken = SAMPLE.replace("hint: use produce\n", "").replace("expect partition", "expext partition");
        let problems = parse("x.md", &broken).unwrap_err();
        assert!(problems.iter().any(|p| p.line == 19 && p.message.contains("expext")), "{problems:?}");
        assert!(problems.iter().any(|p| p.message.contains("no hint")), "{problems:?}");
    }

    #[test]
    fn validation_catches_unknown_commands_and_bad_checks() {
        let lesson = parse("x.md", &SAMPLE.replace("produce t x", "prodce t x").replace("end-offset 2", "end-offset two")).unwrap();
        let problems = validate(&lesson);
        assert!(problems.iter().any(|p| p.line == 12 && p.message.contains("unknown command 'prodce'")), "{problems:?}");
        assert!(problems.iter().any(|p| p.message.contains("'two'")), "{problems:?}");
    }

    #[test]
    fn every_try_needs_a_wrong_way_that_parses() {
        let lesson = parse("x.md", &SAMPLE.replace("wrong: read t ; topics\n", "")).unwrap();
        let problems = validate(&lesson);
        assert!(problems.iter().any(|p| p.line == 17 && p.message.contains("no wrong: line")), "{problems:?}");
        let lesson = parse("x.md", &SAMPLE.replace("wrong: read t ; topics", "wrong: read t ; prodce t z")).unwrap();
        let problems = validate(&lesson);
        assert!(problems.iter().any(|p| p.line == 22 && p.message.contains("unknown command 'prodce'")), "{problems:?}");
    }

    #[test]
    fn a_check_keeps_its_wait() {
        let check = Check { line: 1, text: "group g members 2 --within 20s".into() };
        let (condition, within) = check.parse().unwrap();
        assert_eq!(condition, Condition::GroupMembers { group: "g".into(), count: 2 });
        assert_eq!(within, Some(Duration::from_secs(20)));
        assert_eq!(Check { line: 1, text: "group g members 2".into() }.parse().unwrap().1, None);
    }

    #[test]
    fn built_in_lessons_parse_and_validate() {
        let (lessons, problems) = Library::BuiltIn.load().unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert!(!lessons.is_empty());
        for lesson in &lessons {
            assert!(validate(lesson).is_empty(), "{}: {:?}", lesson.source, validate(lesson));
        }
    }
}
