//! The library's one error type. Every variant renders as a single line; `hint()` adds an optional
//! second line that tells the user what to do next. Nothing here ever carries a secret.

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The line could not be parsed by the command grammar.
    #[error("{message}")]
    Usage { message: String, hint: Option<String> },
    /// A value the user gave is wrong (bad JSON, out-of-range partition, missing file …).
    #[error("{0}")]
    Input(String),
    /// A topic the command needs does not exist.
    #[error("topic '{0}' does not exist")]
    UnknownTopic(String),
    /// The cluster could not be reached at all.
    #[error("cannot reach the cluster at {servers}: {reason}")]
    Unreachable { servers: String, reason: String },
    /// The cluster answered, but said no.
    #[error("{0}")]
    Kafka(String),
    /// The embedded broker could not start or stop.
    #[error("{0}")]
    Broker(String),
    /// Local I/O: history, scripts, progress files.
    #[error("{0}")]
    Io(String),
    /// An `expect` (or a lesson check) did not hold in time; says what was found.
    #[error("{0}")]
    Unmet(String),
    /// The user pressed Ctrl-C while the command ran.
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage { message: message.into(), hint: None }
    }

    pub fn input(message: impl Into<String>) -> Self {
        Error::Input(message.into())
    }

    pub fn kafka(message: impl Into<String>) -> Self {
        Error::Kafka(message.into())
    }

    /// What to do about it, when there is something useful to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Usage { hint, .. } => hint.clone(),
            Error::UnknownTopic(topic) => Some(format!("create it first: create-topic {topic}")),
            Error::Cancelled => Some("anything already handed to the cluster stays there".into()),
            Error::Unreachable { .. } => Some(
                "check the address and that the cluster is running; `cluster` retries the connection".into(),
            ),
            _ => None,
        }
    }

    /// Process exit code in script mode: 2 for input the user can fix, 1 for the cluster's side.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage { .. } | Error::Input(_) | Error::UnknownTopic(_) => 2,
            Error::Cancelled => 130,
            _ => 1,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}
