//! Real clusters, reached for real: mutual TLS through a TLS front with its own CA (as Aiven
//! does), SASL/PLAIN against the embedded broker with tansu's authentication on, and secrets
//! that never show.

use std::time::Duration;

use crate::harness::{command, run_command, run_with, temp_dir, BackgroundBroker};
use crate::tls::{certs_dir, path, Ca, TlsBroker};

#[test]
fn produce_and_consume_over_mutual_tls_with_a_certs_folder() {
    let ca = Ca::new("workshop CA");
    let broker = TlsBroker::start(&ca, &ca.server());
    let certs = certs_dir(&ca.pem(), &ca.client("learner-7"));
    let certs = certs.path();
    let script = "create-topic orders --partitions 2\n\
        produce orders '{\"order\": 1}' --key till-1\n\
        start-consumer c --group g --topic orders --from earliest\n\
        expect consumer c assigned orders[0,1] --within 30s\n\
        poll c 1\n\
        cluster\n";
    let out = run_with(&["-b", &broker.bootstrap, "--certs", path(certs)], script, Duration::from_secs(90));
    out.assert_ok();
    let polled = out.table(&["TOPIC", "PARTITION", "OFFSET", "KEY", "VALUE"]);
    assert_eq!(polled[0][4], r#"{"order":1}"#);
    assert!(out.stdout.contains("security: ssl, mutual TLS with the certificates in"), "{}", out.stdout);
    let certs_table = out.table(&["CERTIFICATE", "SUBJECT", "EXPIRES", "DAYS LEFT"]);
    assert!(certs_table.iter().any(|r| r[1].contains("CN=learner-7")), "{certs_table:?}");
    assert!(certs_table.iter().any(|r| r[1].contains("CN=workshop CA")), "{certs_table:?}");
    // The broker is reached only through TLS: plaintext to the same port gets no Kafka answer.
    let plain = run_with(&["-b", &broker.bootstrap], "topics\n", Duration::from_secs(60));
    assert_ne!(plain.code, 0);
}

/// `topics` through `broker` with `certs`, which must fail to connect.
fn refused(broker: &TlsBroker, certs: &std::path::Path) -> crate::harness::Run {
    let out = run_with(&["-b", &broker.bootstrap, "--certs", path(certs)], "topics\n", Duration::from_secs(60));
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    out
}

#[test]
fn a_wrong_ca_is_named_within_ten_seconds() {
    let ca = Ca::new("workshop CA");
    let broker = TlsBroker::start(&ca, &ca.server());
    let stranger = Ca::new("some other CA");
    let certs = certs_dir(&stranger.pem(), &ca.client("learner"));
    let certs = certs.path();
    let out = refused(&broker, certs);
    let ca_file = certs.join("ca.pem").display().to_string();
    assert!(out.stderr.contains(&format!("not signed by the CA in {ca_file}")), "{}", out.stderr);
    assert!(out.elapsed < Duration::from_secs(10), "took {:?}", out.elapsed);
    assert_eq!(out.stderr.lines().filter(|l| l.starts_with("error:")).count(), 1, "{}", out.stderr);
}

#[test]
fn a_missing_key_is_named_before_any_connection_is_tried() {
    let ca = Ca::new("workshop CA");
    let certs = certs_dir(&ca.pem(), &ca.client("learner"));
    let certs = certs.path();
    std::fs::remove_file(certs.join("service.key")).unwrap();
    // Anything connecting here would be seen.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let out = run_with(&["-b", &address, "--certs", path(certs)], "topics\n", Duration::from_secs(30));
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr.trim(), format!("error: cannot read {}: it does not exist", certs.join("service.key").display()));
    assert!(listener.accept().is_err(), "a connection was attempted");
}

#[test]
fn a_client_certificate_from_another_ca_is_refused() {
    let ca = Ca::new("workshop CA");
    let broker = TlsBroker::start(&ca, &ca.server());
    let impostor = Ca::new("impostor CA");
    let certs = certs_dir(&ca.pem(), &impostor.client("impostor"));
    let certs = certs.path();
    let out = refused(&broker, certs);
    assert!(out.stderr.contains(&format!("cannot reach the cluster at {}", broker.bootstrap)) || out.stderr.contains("SSL"), "{}", out.stderr);
}

#[test]
fn sasl_plain_against_the_embedded_broker_never_shows_the_password() {
    let broker = BackgroundBroker::start(&["--sasl"]);
    let password = "pw-7c1e9a-never-printed";
    let home_dir = temp_dir("sasl-home");
    let home = home_dir.path();
    let recording = home.join("recorded.md");
    let script = format!(
        "record {}\ncreate-topic orders\nproduce orders hello\nread orders\nstart-consumer c --group g --topic orders --from earliest\npoll c 1 --wait 30s\ncluster\nconnect {} --security-protocol sasl_plaintext --sasl-username ann -X sasl.password={password}\ncluster\nrecord stop\n",
        recording.display(),
        broker.bootstrap
    );
    let mut cmd = command(home);
    cmd.args(["-v", "-b", &broker.bootstrap, "--security-protocol", "sasl_plaintext", "--sasl-username", "ann"])
        .env("KAFKA_SASL_PASSWORD", password);
    let out = run_command(cmd, &script, Duration::from_secs(90));
    out.assert_ok();
    assert_eq!(out.table(&["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"])[0][4], "hello");
    assert!(out.stdout.contains("SASL PLAIN as ann (password from $KAFKA_SASL_PASSWORD)"), "{}", out.stdout);
    // After `connect … -X sasl.password=…` the password came from the setting, and nobody was asked.
    assert!(out.stdout.contains("SASL PLAIN as ann (password from -X sasl.password)"), "{}", out.stdout);
    assert!(out.table(&["SETTING (-X)", "VALUE"]).contains(&vec!["sasl.password".to_string(), "***".to_string()]));
    let kept = std::fs::read_to_string(&recording).unwrap();
    assert!(kept.contains("sasl.password=***"), "{kept}");
    for (what, text) in [("stdout", &out.stdout), ("stderr", &out.stderr), ("recording", &kept)] {
        assert!(!text.contains(password), "the password appeared in {what}");
    }
    // Authentication really is on: without SASL the broker does not serve.
    let refused = run_with(&["-b", &broker.bootstrap], "topics\n", Duration::from_secs(60));
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    // And no password, no connection.
    let mut cmd = command(home);
    cmd.args(["-b", &broker.bootstrap, "--sasl-username", "ann", "--security-protocol", "sasl_plaintext"]).env_remove("KAFKA_SASL_PASSWORD");
    let missing = run_command(cmd, "topics\n", Duration::from_secs(30));
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("SASL needs a password: set KAFKA_SASL_PASSWORD"), "{}", missing.stderr);
}

#[test]
fn connect_switches_cluster_stopping_what_runs_first() {
    let other = BackgroundBroker::start(&[]);
    let script = format!(
        "create-topic here\nstart-consumer c --group g --topic here\nconnect {}\ntopics\ncreate-topic there\nconnect embedded\ntopics\nconnect 127.0.0.1:1\ntopics\n",
        other.bootstrap
    );
    let out = run_with(&[], &script, Duration::from_secs(90));
    assert_eq!(out.code, 1, "the unreachable cluster ends the script\n{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("warning: stopping consumer c before switching cluster"), "{}", out.stdout);
    assert!(out.stdout.contains(&format!("ok: connected to {} (1 broker(s), plaintext)", other.bootstrap)), "{}", out.stdout);
    let lists = out.tables_with(&["NAME", "PARTITIONS", "REPLICATION", "MESSAGES"]);
    assert_eq!(lists.len(), 1, "the other cluster had no topics; the embedded one still has 'here'");
    assert_eq!(lists[0][0][0], "here");
    assert!(out.stdout.contains("no topics yet"), "{}", out.stdout);
    assert!(out.stderr.contains("cannot reach the cluster at 127.0.0.1:1"), "{}", out.stderr);
}

#[test]
fn a_certificate_about_to_expire_is_warned_about() {
    let ca = Ca::new("workshop CA");
    let broker = TlsBroker::start(&ca, &ca.server());
    let certs = certs_dir(&ca.pem(), &ca.client_expiring_in("learner", 3));
    let certs = certs.path();
    let out = run_with(&["-b", &broker.bootstrap, "--certs", path(certs)], "cluster\n", Duration::from_secs(60));
    out.assert_ok();
    let cert = certs.join("service.cert").display().to_string();
    assert!(out.stdout.contains(&format!("warning: {cert} expires in ")), "{}", out.stdout);
    assert!(!out.stdout.contains("warning: ") || !out.stdout.contains(&format!("warning: {} expires", certs.join("ca.pem").display())));
}

#[test]
fn a_certs_folder_beside_the_user_is_pointed_out() {
    let dir_dir = temp_dir("cwd-with-certs");
    let dir = dir_dir.path();
    std::fs::create_dir_all(dir.join("certs")).unwrap();
    std::fs::write(dir.join("certs/ca.pem"), "not used").unwrap();
    let mut cmd = command(dir);
    cmd.current_dir(dir).args(["-b", "127.0.0.1:1"]);
    let out = run_command(cmd, "topics\n", Duration::from_secs(30));
    assert!(out.stderr.contains("note: found certs/ca.pem; add --certs certs to connect with it"), "{}", out.stderr);
}

#[test]
fn a_replayed_lesson_runs_a_secret_setting_without_showing_it() {
    let broker = BackgroundBroker::start(&["--sasl"]);
    let secret = "pw-replayed-4b2f";
    let dir_dir = temp_dir("secret-lesson");
    let dir = dir_dir.path();
    let lesson = dir.join("secret.md");
    std::fs::write(
        &lesson,
        format!(
            "---\ntitle: Secret\n---\n\n# Secret\n\nConnect.\n\n```kafka\nconnect {} --security-protocol sasl_plaintext --sasl-username ann -X sasl.password={secret}\ncreate-topic t\ncluster\n```\n",
            broker.bootstrap
        ),
    )
    .unwrap();
    let mut cmd = command(dir);
    cmd.args(["replay", lesson.to_str().unwrap(), "--no-pause", "--speed", "max"]).env_remove("KAFKA_SASL_PASSWORD");
    let out = run_command(cmd, "", Duration::from_secs(60));
    out.assert_ok();
    assert!(out.stdout.contains("-X sasl.password=***"), "{}", out.stdout);
    assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret));
}

#[test]
fn a_secret_never_shows_in_an_error_whatever_went_wrong() {
    let secret = "s3cretPW-4d2b";
    let dir = temp_dir("secret-errors");
    for line in [
        format!("connect 127.0.0.1:1 -X sasl.oauthbearer.client.secret={secret}"),
        // Misspelt: librdkafka does not know the key, and says so, quoting it.
        format!("connect 127.0.0.1:1 -X ssl_key_password={secret}"),
        // libpq's key=value form is PostgreSQL, not a SQLite file called that.
        format!("create-topic o\nstart-analyst a --topic o --db \"host=127.0.0.1 port=1 user=kw password={secret} dbname=shop\""),
        // A line that does not even tokenize.
        format!("connect 127.0.0.1:1 -X sasl.password {secret} 'unclosed"),
    ] {
        for json in [false, true] {
            let mut cmd = command(dir.path());
            cmd.current_dir(dir.path());
            if json {
                cmd.arg("--json");
            }
            let out = run_command(cmd, &format!("{line}\n"), Duration::from_secs(60));
            assert_ne!(out.code, 0, "{line}: {}", out.stdout);
            for text in [&out.stdout, &out.stderr] {
                assert!(!text.contains(secret), "{line} (json {json}) showed the secret:\n{text}");
            }
        }
    }
    let made: Vec<String> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(made.iter().all(|name| !name.contains(secret)), "a file was named after the connection string: {made:?}");
}
