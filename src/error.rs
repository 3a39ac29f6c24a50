//! The library's one error type. Each kind says what happened and carries its fields; a source
//! error rides along where there is one. Every kind renders as a single line; `hint()` adds an
//! optional second line that tells the user what to do next, and `exit_code()` is what a script
//! run ends with. Nothing here ever carries a secret.

use std::sync::Arc;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An underlying error, kept for `source()`; shared so an `Error` can be cloned into an outcome.
pub type Source = Arc<dyn std::error::Error + Send + Sync>;

/// What a `NotFound` error could not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thing {
    Topic,
    Group,
    Consumer,
    Producer,
    Preparer,
    Cook,
    Analyst,
    Lesson,
    Command,
    Material,
}

impl Thing {
    fn missing(self, name: &str) -> String {
        match self {
            Thing::Topic => format!("topic '{name}' does not exist"),
            Thing::Group => format!("group '{name}' does not exist"),
            Thing::Preparer => format!("no preparer named '{name}' in the shop"),
            Thing::Cook => format!("no cook named '{name}' in the shop"),
            Thing::Lesson => format!("no lesson '{name}'"),
            Thing::Material => format!("no file, lesson or demo named '{name}'"),
            Thing::Consumer => format!("no consumer named '{name}'"),
            Thing::Producer => format!("no producer named '{name}'"),
            Thing::Analyst => format!("no analyst named '{name}'"),
            Thing::Command => format!("no command named '{name}'"),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The line does not fit the command grammar.
    #[error("{message}")]
    Usage { message: String, hint: Option<String> },
    /// A value the user gave is wrong: bad JSON, an out-of-range offset, a name already taken.
    #[error("{message}")]
    Input { message: String, hint: Option<String> },
    /// Something the command names does not exist.
    #[error("{}", thing.missing(name))]
    NotFound { thing: Thing, name: String, hint: Option<String> },
    /// The cluster could not be reached at all.
    #[error("cannot reach the cluster at {servers}: {reason}")]
    Unreachable { servers: String, reason: String },
    /// The cluster (often the embedded broker) cannot do this; `fix` says where it can be done.
    #[error("{message}")]
    Unsupported { message: String, fix: Option<String> },
    /// The cluster answered, but said no.
    #[error("{message}")]
    Kafka {
        message: String,
        #[source]
        source: Option<Source>,
    },
    /// A check (`expect`, a lesson's goal) did not hold in time; says what was found.
    #[error("{found}")]
    Unmet { found: String },
    /// Local files: history, scripts, progress, databases.
    #[error("{message}")]
    Io {
        message: String,
        #[source]
        source: Option<Source>,
    },
    /// The embedded broker could not start or stop.
    #[error("{message}")]
    Broker {
        message: String,
        #[source]
        source: Option<Source>,
    },
    /// The user pressed Ctrl-C while the command ran.
    #[error("cancelled")]
    Cancelled,
}

impl PartialEq for Error {
    /// Two errors are equal when they are the same kind and say the same thing.
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            && self.to_string() == other.to_string()
            && self.hint() == other.hint()
    }
}

impl Eq for Error {}

impl Error {
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage { message: message.into(), hint: None }
    }

    pub fn input(message: impl Into<String>) -> Self {
        Error::Input { message: message.into(), hint: None }
    }

    pub fn input_with_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Input { message: message.into(), hint: Some(hint.into()) }
    }

    pub fn not_found(thing: Thing, name: impl Into<String>) -> Self {
        Error::NotFound { thing, name: name.into(), hint: None }
    }

    pub fn kafka(message: impl Into<String>) -> Self {
        Error::Kafka { message: message.into(), source: None }
    }

    pub fn unsupported(message: impl Into<String>, fix: impl Into<String>) -> Self {
        Error::Unsupported { message: message.into(), fix: Some(fix.into()) }
    }

    pub fn broker(message: impl Into<String>) -> Self {
        Error::Broker { message: message.into(), source: None }
    }

    pub fn io(message: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { message: format!("{}: {source}", message.into()), source: Some(Arc::new(source)) }
    }

    pub fn io_message(message: impl Into<String>) -> Self {
        Error::Io { message: message.into(), source: None }
    }

    pub fn unmet(found: impl Into<String>) -> Self {
        Error::Unmet { found: found.into() }
    }

    /// The same error with a hint added (or replaced) where the kind carries one.
    pub fn with_hint(self, hint: impl Into<String>) -> Self {
        let hint = Some(hint.into());
        match self {
            Error::Usage { message, .. } => Error::Usage { message, hint },
            Error::Input { message, .. } => Error::Input { message, hint },
            Error::NotFound { thing, name, .. } => Error::NotFound { thing, name, hint },
            other => other,
        }
    }

    /// What to do about it, when there is something useful to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Usage { hint, .. } | Error::Input { hint, .. } => hint.clone(),
            Error::NotFound { hint: Some(hint), .. } => Some(hint.clone()),
            Error::NotFound { thing: Thing::Topic, name, hint: None } => Some(format!("create it first: create-topic {name}")),
            Error::NotFound { .. } => None,
            Error::Unsupported { fix, .. } => fix.clone(),
            Error::Cancelled => Some("anything already handed to the cluster stays there".into()),
            Error::Unreachable { .. } => {
                Some("check the address and that the cluster is running; `cluster` retries the connection".into())
            }
            Error::Kafka { .. } | Error::Unmet { .. } | Error::Io { .. } | Error::Broker { .. } => None,
        }
    }

    /// Whether the user can fix this by typing something else.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Error::Usage { .. } | Error::Input { .. } | Error::NotFound { .. })
    }

    /// Whether the cluster or the tool cannot do this here (a feature, a tool that is missing).
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Error::Unsupported { .. })
    }

    /// Process exit code in script mode: 2 for input the user can fix, 130 for Ctrl-C, and 1 for
    /// everything on the cluster's side (unreachable, refused, unsupported, a check not met) and
    /// for local I/O.
    pub fn exit_code(&self) -> i32 {
        match self {
            _ if self.is_bad_input() => 2,
            Error::Cancelled => 130,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_exit_code() {
        assert_eq!(Error::usage("x").exit_code(), 2);
        assert_eq!(Error::input("x").exit_code(), 2);
        assert_eq!(Error::not_found(Thing::Consumer, "c").exit_code(), 2);
        assert_eq!(Error::Unreachable { servers: "h:1".into(), reason: "refused".into() }.exit_code(), 1);
        assert_eq!(Error::unsupported("no EndTxn", "use Kafka").exit_code(), 1);
        assert_eq!(Error::kafka("refused").exit_code(), 1);
        assert_eq!(Error::unmet("found 2").exit_code(), 1);
        assert_eq!(Error::io_message("disk full").exit_code(), 1);
        assert_eq!(Error::Cancelled.exit_code(), 130);
    }

    #[test]
    fn not_found_says_what_and_hints_for_topics() {
        let err = Error::not_found(Thing::Topic, "ordrs");
        assert_eq!(err.to_string(), "topic 'ordrs' does not exist");
        assert_eq!(err.hint().as_deref(), Some("create it first: create-topic ordrs"));
        assert_eq!(Error::not_found(Thing::Consumer, "c").to_string(), "no consumer named 'c'");
    }

    #[test]
    fn a_source_is_kept() {
        use std::error::Error as _;
        let err = Error::io("cannot write x.md", std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied"));
        assert_eq!(err.to_string(), "cannot write x.md: denied");
        assert!(err.source().is_some());
    }
}
