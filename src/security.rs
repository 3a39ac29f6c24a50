//! How the tool authenticates to a real cluster: mutual TLS from a `certs/` folder (Aiven's
//! layout), SASL with a password that only ever comes from the environment or a no-echo prompt,
//! and masking of anything secret wherever settings or typed lines are shown or kept.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::error::{Error, Result};

/// The environment variable a SASL password is read from.
pub const PASSWORD_ENV: &str = "KAFKA_SASL_PASSWORD";

/// The files `--certs DIR` expects, as Aiven's console names them.
pub const CA_FILE: &str = "ca.pem";
pub const CERT_FILE: &str = "service.cert";
pub const KEY_FILE: &str = "service.key";

/// The security flags, shared by the command line and the REPL's `connect`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct SecurityArgs {
    /// Mutual TLS with DIR/ca.pem, DIR/service.cert and DIR/service.key (Aiven's layout)
    #[arg(long, value_name = "DIR")]
    pub certs: Option<PathBuf>,

    /// How to talk to the brokers (default: ssl with --certs, sasl_ssl with --sasl-username)
    #[arg(long, value_enum, ignore_case = true, value_name = "PROTOCOL")]
    pub security_protocol: Option<Protocol>,

    /// The SASL mechanism (default PLAIN)
    #[arg(long, value_enum, ignore_case = true, value_name = "MECHANISM")]
    pub sasl_mechanism: Option<Mechanism>,

    /// The SASL user name; the password comes from $KAFKA_SASL_PASSWORD or a prompt, never a flag
    #[arg(long, value_name = "USER")]
    pub sasl_username: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    Plaintext,
    Ssl,
    #[value(name = "sasl_plaintext", alias = "sasl-plaintext")]
    SaslPlaintext,
    #[value(name = "sasl_ssl", alias = "sasl-ssl")]
    SaslSsl,
}

impl Protocol {
    pub fn as_config(self) -> &'static str {
        match self {
            Protocol::Plaintext => "plaintext",
            Protocol::Ssl => "ssl",
            Protocol::SaslPlaintext => "sasl_plaintext",
            Protocol::SaslSsl => "sasl_ssl",
        }
    }

    fn uses_sasl(self) -> bool {
        matches!(self, Protocol::SaslPlaintext | Protocol::SaslSsl)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mechanism {
    #[value(name = "PLAIN")]
    Plain,
    #[value(name = "SCRAM-SHA-256")]
    ScramSha256,
    #[value(name = "SCRAM-SHA-512")]
    ScramSha512,
}

impl Mechanism {
    pub fn as_config(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// A password, and where it came from. It has no Display, and its Debug never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String, SecretFrom);

/// Where a password came from, for `cluster` to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretFrom {
    Environment,
    Prompt,
    /// `-X sasl.password=…`
    Setting,
}

impl SecretFrom {
    pub fn describe(self) -> String {
        match self {
            SecretFrom::Environment => format!("password from ${PASSWORD_ENV}"),
            SecretFrom::Prompt => "password typed at the prompt".into(),
            SecretFrom::Setting => "password from -X sasl.password".into(),
        }
    }
}

impl Secret {
    pub fn new(value: String, from: SecretFrom) -> Self {
        Secret(value, from)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn from(&self) -> SecretFrom {
        self.1
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl SecurityArgs {
    pub fn is_empty(&self) -> bool {
        *self == SecurityArgs::default()
    }

    /// The protocol these flags amount to, if they say anything.
    pub fn protocol(&self) -> Option<Protocol> {
        self.security_protocol.or(match (&self.sasl_username, &self.certs) {
            (Some(_), _) => Some(Protocol::SaslSsl),
            (None, Some(_)) => Some(Protocol::Ssl),
            (None, None) => None,
        })
    }

    pub fn needs_password(&self) -> bool {
        self.protocol().is_some_and(Protocol::uses_sasl)
    }

    /// librdkafka properties for these flags, checking every named file before any connection
    /// is attempted. `password` is needed when SASL is on.
    pub fn properties(&self, password: Option<&Secret>) -> Result<Vec<(String, String)>> {
        let mut properties = Vec::new();
        let Some(protocol) = self.protocol() else { return Ok(properties) };
        properties.push(("security.protocol".to_string(), protocol.as_config().to_string()));
        if let Some(dir) = &self.certs {
            if !matches!(protocol, Protocol::Ssl | Protocol::SaslSsl) {
                return Err(Error::input(format!(
                    "--certs needs a TLS protocol (ssl or sasl_ssl), not {}",
                    protocol.as_config()
                )));
            }
            if !dir.is_dir() {
                return Err(Error::input(format!(
                    "--certs {}: no such folder (it should hold {CA_FILE}, {CERT_FILE} and {KEY_FILE})",
                    dir.display()
                )));
            }
            // With SASL the password says who you are, so the folder may hold the CA alone (as
            // Aiven gives it for SASL); a client certificate, when there, goes with its key.
            let files = if protocol.uses_sasl() && !dir.join(CERT_FILE).exists() && !dir.join(KEY_FILE).exists() {
                vec![(CA_FILE, "ssl.ca.location")]
            } else {
                vec![(CA_FILE, "ssl.ca.location"), (CERT_FILE, "ssl.certificate.location"), (KEY_FILE, "ssl.key.location")]
            };
            for (file, key) in files {
                let path = dir.join(file);
                readable(&path)?;
                properties.push((key.to_string(), path.display().to_string()));
            }
        }
        if protocol.uses_sasl() {
            let Some(username) = &self.sasl_username else {
                return Err(Error::input(format!("{} needs --sasl-username", protocol.as_config())));
            };
            let Some(password) = password else {
                return Err(Error::input(format!(
                    "SASL needs a password: set {PASSWORD_ENV} (a password is never taken from the command line)"
                )));
            };
            let mechanism = self.sasl_mechanism.unwrap_or(Mechanism::Plain);
            properties.push(("sasl.mechanism".to_string(), mechanism.as_config().to_string()));
            properties.push(("sasl.username".to_string(), username.clone()));
            properties.push(("sasl.password".to_string(), password.expose().to_string()));
        } else if self.sasl_username.is_some() || self.sasl_mechanism.is_some() {
            return Err(Error::input(format!(
                "--sasl-username and --sasl-mechanism need --security-protocol sasl_ssl or sasl_plaintext, not {}",
                protocol.as_config()
            )));
        }
        Ok(properties)
    }
}

/// A file the tool is about to hand to librdkafka must exist and be readable, or the error names it.
fn readable(path: &Path) -> Result<()> {
    std::fs::File::open(path).map(drop).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "it does not exist".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        Error::input(format!("cannot read {}: {why}", path.display()))
    })
}

/// Whether a librdkafka property holds a secret.
pub fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.contains("password") || key.contains("secret") || key.starts_with("sasl.oauthbearer.") || key == "ssl.key.pem"
}

/// The values of the secret settings among `settings`, to mask wherever text is shown.
pub fn secret_values<'a>(settings: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    settings.into_iter().filter(|(k, v)| is_secret(k) && !v.is_empty()).map(|(_, v)| v.to_string()).collect()
}

/// `text` with every one of `secrets` masked.
pub fn mask(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_string(), |text, secret| text.replace(secret.as_str(), "***"))
}

/// A property as it may be shown.
pub fn shown(key: &str, value: &str) -> String {
    if is_secret(key) {
        "***".to_string()
    } else {
        value.to_string()
    }
}

/// A typed line with every secret masked, for history, recordings and what is echoed: the
/// values of secret settings (`-X sasl.password=…`, `-X sasl.password …`, libpq's
/// `password=…`) and the passwords in URLs. It reads the raw text, not the parsed words, so a
/// line that does not tokenize or parse (an unclosed quote, say) is masked just the same.
pub fn redact_line(line: &str) -> String {
    redact(line, true)
}

/// Any text (an error, say) with the secrets it holds masked: the values of `key=value`
/// settings whose key names a secret, and the passwords in URLs.
pub fn redact_text(text: &str) -> String {
    redact(text, false)
}

/// `typed`: the text is a command line, where a secret setting's value may be the next word.
fn redact(text: &str, typed: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // After a word that names a secret setting with no value (`-X sasl.password`), the next
    // word is its value.
    let mut value_next = false;
    while !rest.is_empty() {
        let space = rest.len() - rest.trim_start().len();
        out.push_str(&rest[..space]);
        rest = &rest[space..];
        if rest.is_empty() {
            break;
        }
        let end = word_end(rest);
        let word = &rest[..end];
        rest = &rest[end..];
        if value_next {
            value_next = false;
            out.push_str("***");
            continue;
        }
        // A quoted word of several words (libpq's "host=db password=… dbname=shop"): each of them.
        let open = word.chars().next().filter(|c| matches!(c, '\'' | '"'));
        if let (Some(quote), true) = (open, word.contains(char::is_whitespace)) {
            let inner = word[1..].strip_suffix(quote).unwrap_or(&word[1..]);
            let close = (word.len() > 1 && word.ends_with(quote)).then_some(quote);
            out.push(quote);
            out.push_str(&redact(inner, typed));
            out.extend(close);
            continue;
        }
        let bare = word.trim_start_matches(['\'', '"']);
        let setting = bare.strip_prefix("-X").unwrap_or(bare).trim_start_matches(['\'', '"']);
        match setting.split_once('=') {
            Some((key, value)) if is_secret(key.trim_matches(['\'', '"'])) && !value.is_empty() => {
                let keep = word.len() - value.len();
                out.push_str(&word[..keep]);
                out.push_str("***");
            }
            Some(_) => out.push_str(&mask_url_password(word)),
            None if typed && is_secret(setting.trim_matches(['\'', '"'])) && setting.contains('.') => {
                out.push_str(word);
                value_next = true;
            }
            None => out.push_str(&mask_url_password(word)),
        }
    }
    out
}

/// Where the word at the start of `text` ends: at whitespace outside quotes, or at the end of
/// the text when a quote is never closed.
fn word_end(text: &str) -> usize {
    let mut quote: Option<char> = None;
    for (at, c) in text.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => return at,
            _ => {}
        }
    }
    text.len()
}

/// `scheme://user:secret@host…` → `scheme://user:***@host…`, wherever it is in `text`.
pub fn mask_url_password(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else { return text.to_string() };
    let Some((credentials, host)) = rest.split_once('@') else { return text.to_string() };
    match credentials.split_once(':') {
        Some((user, password)) if !password.is_empty() && !credentials.contains('/') => format!("{scheme}://{user}:***@{host}"),
        _ => text.to_string(),
    }
}


/// What a certificate says about itself, for `cluster`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    pub file: String,
    pub subject: String,
    pub expires: String,
    pub days_left: i32,
}

/// Read a PEM certificate's subject and expiry.
pub fn certificate_info(path: &Path) -> Result<CertificateInfo> {
    let pem = std::fs::read(path).map_err(|e| Error::input(format!("cannot read {}: {e}", path.display())))?;
    let cert = openssl::x509::X509::from_pem(&pem)
        .map_err(|_| Error::input(format!("{} is not a PEM certificate", path.display())))?;
    let subject = cert
        .subject_name()
        .entries()
        .map(|entry| {
            let key = entry.object().nid().short_name().unwrap_or("?");
            let value = entry.data().to_string().unwrap_or_default();
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let now = openssl::asn1::Asn1Time::days_from_now(0).map_err(|e| Error::input(format!("no clock: {e}")))?;
    let left = now.diff(cert.not_after()).map_err(|e| Error::input(format!("{}: bad expiry: {e}", path.display())))?;
    Ok(CertificateInfo {
        file: path.display().to_string(),
        subject,
        expires: cert.not_after().to_string(),
        days_left: left.days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_a_url_is_masked_in_a_recorded_line() {
        assert_eq!(mask_url_password("postgres://kw:s3cret@db:5432/shop"), "postgres://kw:***@db:5432/shop");
        assert_eq!(mask_url_password("postgres://kw@db:5432/shop"), "postgres://kw@db:5432/shop");
        assert_eq!(mask_url_password("redis://:s3cret@cache:6379"), "redis://:***@cache:6379");
        let line = redact_line("start-analyst a --topic orders --db postgres://kw:s3cret@db/shop");
        assert_eq!(line, "start-analyst a --topic orders --db postgres://kw:***@db/shop");
        assert!(!line.contains("s3cret"));
    }

    #[test]
    fn secrets_are_masked_in_lines_that_do_not_parse() {
        for line in [
            "connect H -X sasl.password s3cretPW 'unclosed",
            "connect H -X 'sasl.password=s3cretPW",
            "start-analyst a --db 'postgres://u:s3cretPW@db/shop",
            "start-analyst a --topic o --db \"host=db password=s3cretPW dbname=shop\"",
            "connect H -X ssl_key_password=s3cretPW",
            "connect H -X sasl.oauthbearer.client.secret=s3cretPW",
        ] {
            let masked = redact_line(line);
            assert!(!masked.contains("s3cretPW"), "{line} → {masked}");
            assert!(masked.contains("***"), "{line} → {masked}");
        }
        assert_eq!(redact_line("produce t 'a b' --key k"), "produce t 'a b' --key k");
    }

    #[test]
    fn flags_become_librdkafka_properties_and_missing_files_are_named() {
        let dir = std::env::temp_dir().join(format!("kw-security-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for file in [CA_FILE, CERT_FILE] {
            std::fs::write(dir.join(file), "x").unwrap();
        }
        let args = SecurityArgs { certs: Some(dir.clone()), ..SecurityArgs::default() };
        let err = args.properties(None).unwrap_err().to_string();
        assert_eq!(err, format!("cannot read {}: it does not exist", dir.join(KEY_FILE).display()));
        std::fs::write(dir.join(KEY_FILE), "x").unwrap();
        let props = args.properties(None).unwrap();
        assert_eq!(props[0], ("security.protocol".to_string(), "ssl".to_string()));
        assert!(props.iter().any(|(k, v)| k == "ssl.key.location" && v.ends_with("service.key")));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn sasl_takes_the_password_only_from_outside_and_never_shows_it() {
        let args = SecurityArgs { sasl_username: Some("ann".into()), ..SecurityArgs::default() };
        assert!(args.needs_password());
        assert!(args.properties(None).unwrap_err().to_string().contains(PASSWORD_ENV));
        let secret = Secret::new("hunter2".into(), SecretFrom::Environment);
        assert!(!format!("{secret:?}").contains("hunter2"));
        let props = args.properties(Some(&secret)).unwrap();
        assert!(props.contains(&("security.protocol".into(), "sasl_ssl".into())));
        assert!(props.contains(&("sasl.mechanism".into(), "PLAIN".into())));
        let plain = SecurityArgs { security_protocol: Some(Protocol::Plaintext), sasl_username: Some("x".into()), ..SecurityArgs::default() };
        assert!(plain.properties(None).is_err());
    }

    #[test]
    fn secret_settings_are_masked_in_lines_and_displays() {
        assert!(is_secret("sasl.password") && is_secret("ssl.key.password") && is_secret("sasl.oauthbearer.client.secret"));
        assert!(!is_secret("ssl.key.location"));
        assert_eq!(shown("sasl.password", "hunter2"), "***");
        let line = "connect host:9092 -X sasl.password=hunter2 -X acks=all";
        let redacted = redact_line(line);
        assert!(!redacted.contains("hunter2") && redacted.contains("acks=all"), "{redacted}");
        assert_eq!(redact_line("produce t hello"), "produce t hello");
    }
}
