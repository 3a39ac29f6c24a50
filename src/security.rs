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

/// A password. It has no Display, and its Debug never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
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
            for (file, key) in
                [(CA_FILE, "ssl.ca.location"), (CERT_FILE, "ssl.certificate.location"), (KEY_FILE, "ssl.key.location")]
            {
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

/// A typed line with the values of secret `-X key=value` settings masked, for history and
/// recordings.
pub fn redact_line(line: &str) -> String {
    let Ok(words) = crate::tokenize::tokenize(line) else { return line.to_string() };
    let mut masked = false;
    let mut out = Vec::with_capacity(words.len());
    for word in &words {
        let setting = word.strip_prefix("-X").unwrap_or(word);
        let url = mask_url_password(word);
        if url != *word {
            masked = true;
            out.push(quoted(&url));
            continue;
        }
        match setting.split_once('=') {
            Some((key, _)) if is_secret(key) => {
                masked = true;
                // The mask is shown as it is, not quoted like a word the shell would expand.
                out.push(format!("{}{}=***", if word.starts_with("-X") { "-X" } else { "" }, quoted(key)));
            }
            _ => out.push(quoted(word)),
        }
    }
    if !masked {
        return line.to_string();
    }
    out.join(" ")
}

/// `scheme://user:secret@host…` → `scheme://user:***@host…`; anything else as it is.
pub fn mask_url_password(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else { return text.to_string() };
    let Some((credentials, host)) = rest.split_once('@') else { return text.to_string() };
    match credentials.split_once(':') {
        Some((user, password)) if !password.is_empty() && !credentials.contains('/') => format!("{scheme}://{user}:***@{host}"),
        _ => text.to_string(),
    }
}

fn quoted(word: &str) -> String {
    shlex::try_quote(word).map_or_else(|_| word.to_string(), |q| q.into_owned())
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
        assert_eq!(line, "start-analyst a --topic orders --db 'postgres://kw:***@db/shop'");
        assert!(!line.contains("s3cret"));
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
        let secret = Secret::new("hunter2".into());
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
