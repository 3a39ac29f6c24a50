//! A test-only TLS front for the embedded broker, as a managed service has: mutual TLS, with
//! certificates made here by a throwaway CA. The broker advertises the proxy's port, so clients
//! reach it only through TLS.

use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::harness::{temp_dir, BackgroundBroker};

/// A certificate authority that can sign server and client certificates.
pub struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// A signed certificate and its key, as PEM and DER.
pub struct Signed {
    pub cert: rcgen::Certificate,
    pub key: KeyPair,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    fn sign(&self, name: &str, server: bool) -> Signed {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        if server {
            params.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        }
        params.extended_key_usages =
            vec![if server { ExtendedKeyUsagePurpose::ServerAuth } else { ExtendedKeyUsagePurpose::ClientAuth }];
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Signed { cert, key }
    }

    /// A client certificate that stops being valid `days` days from now.
    pub fn client_expiring_in(&self, name: &str, days: u64) -> Signed {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        let (y, m, d) = civil_date_in(days);
        params.not_after = rcgen::date_time_ymd(y, m, d);
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Signed { cert, key }
    }

    pub fn server(&self) -> Signed {
        self.sign("kafka-workshop test broker", true)
    }

    pub fn client(&self, name: &str) -> Signed {
        self.sign(name, false)
    }
}

/// A certs folder in Aiven's layout: ca.pem, service.cert, service.key; removed when dropped.
pub fn certs_dir(ca_pem: &str, client: &Signed) -> tempfile::TempDir {
    let dir = temp_dir("certs");
    std::fs::write(dir.path().join("ca.pem"), ca_pem).unwrap();
    std::fs::write(dir.path().join("service.cert"), client.cert.pem()).unwrap();
    std::fs::write(dir.path().join("service.key"), client.key.serialize_pem()).unwrap();
    dir
}

/// The embedded broker behind a mutual-TLS proxy.
pub struct TlsBroker {
    pub bootstrap: String,
    _broker: BackgroundBroker,
    _runtime: tokio::runtime::Runtime,
}

impl TlsBroker {
    /// Serve TLS with `server`'s certificate, accepting only clients whose certificate `ca` signed.
    pub fn start(ca: &Ca, server: &Signed) -> TlsBroker {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let port = listener.local_addr().unwrap().port();
        let bootstrap = format!("127.0.0.1:{port}");
        let broker = BackgroundBroker::start(&["--advertise", &bootstrap]);
        let backend = broker.listening.clone();

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.cert.der().clone()).unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .build()
            .unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server.key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![CertificateDer::from(server.cert.der().to_vec())], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let acceptor = acceptor.clone();
                let backend = backend.clone();
                tokio::spawn(async move {
                    // A client the CA did not sign fails the handshake here and is dropped.
                    let Ok(mut tls) = acceptor.accept(stream).await else { return };
                    let Ok(mut plain) = tokio::net::TcpStream::connect(&backend).await else { return };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        TlsBroker { bootstrap, _broker: broker, _runtime: runtime }
    }
}

pub fn path(dir: &Path) -> &str {
    dir.to_str().unwrap()
}

/// The calendar date `days` days from now (UTC), without a date library.
fn civil_date_in(days: u64) -> (i32, u8, u8) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let z = (now / 86_400 + days) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as i32;
    (y, m, d)
}
