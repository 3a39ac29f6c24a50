//! kafka-workshop against Apache Kafka itself: the commands a learner types, on a real
//! one-node Kafka 4.x started by the tests (`kafka.rs`).

use crate::harness::{says, table, unique};
use crate::kafka::shared;

#[test]
fn topics_messages_and_a_group_on_apache_kafka() {
    let kafka = shared();
    let mut shop = kafka.client(None);
    let topic = unique("orders");
    let group = unique("preparers");
    shop.ok(&format!("create-topic {topic} --partitions 3"));
    shop.ok(&format!("produce {topic} 'order {{n}}' --count 30 --key till-{{n}}"));
    let described = shop.ok(&format!("describe-topic {topic}"));
    let rows = &table(&described, &["PARTITION", "LEADER", "REPLICAS", "ISR", "START-OFFSET", "END-OFFSET", "MESSAGES"]).rows;
    assert_eq!(rows.len(), 3);
    let total: i64 = rows.iter().map(|r| r[6].parse::<i64>().unwrap()).sum();
    assert_eq!(total, 30);
    shop.ok(&format!("start-consumer a --group {group} --topic {topic} --from earliest"));
    shop.ok(&format!("start-consumer b --group {group} --topic {topic} --from earliest"));
    shop.ok(&format!("expect group {group} members 2 --within 30s"));
    shop.ok("poll a 5 --wait 10s");
    shop.ok("commit a");
    let group_table = shop.ok(&format!("describe-group {group}"));
    assert!(!group_table.parts().is_empty());
}

/// The whole curriculum on Apache Kafka, as thirty learners would take it on one cluster: each
/// replay is its own learner, so its topics and groups are its own.
#[test]
fn every_lesson_and_demo_replays_on_apache_kafka() {
    replay_curriculum_on(shared(), true);
}

/// The whole curriculum on an Apache Kafka with Kafka's own broker defaults, as a managed
/// cluster runs it, with no Kafka tools on the learner's side (no `KAFKA_HOME`).
#[test]
fn every_lesson_and_demo_replays_on_apache_kafka_with_its_defaults() {
    replay_curriculum_on(crate::kafka::defaults(), false);
}

fn replay_curriculum_on(kafka: &crate::kafka::Kafka, with_tools: bool) {
    let jars = crate::kafka::jars();
    let files = crate::lessons::curriculum();
    let homes: Vec<_> = (0..files.len()).map(|_| crate::harness::temp_dir("home")).collect();
    let replays = crate::lessons::replay_each(files, 3, |_, n| {
        let mut command = crate::harness::command(homes[n].path());
        let learner = format!("k{n:02}");
        if with_tools {
            command.env("KAFKA_HOME", &jars);
        } else {
            command.env_remove("KAFKA_HOME");
        }
        command.args(["-b", &kafka.bootstrap, "--learner", &learner, "--private"]);
        command
    });
    for (path, out) in &replays {
        // Schemas are shown only by tansu's built-in schema check; on Kafka the lesson says so.
        if path.ends_with("15-schemas.md") {
            assert_eq!(out.code, 0, "{path}\n{}\n{}", out.stdout, out.stderr);
            let said = format!("{}{}", out.stdout, out.stderr);
            assert!(said.contains("needs the embedded broker"), "{path}: {said}");
            continue;
        }
        crate::lessons::assert_replayed(path, out);
        // On Kafka's defaults, lesson 10 reads how often this cluster checks retention, and
        // tells the learner, before it waits for it.
        if path.ends_with("10-retention-and-compaction.md") {
            let interval = if with_tools { "1000" } else { "300000 (5m)" };
            assert!(
                out.stdout.lines().any(|l| l.contains("log.retention.check.interval.ms") && l.contains(interval)),
                "{path}: the retention check interval is not shown\n{}",
                out.stdout
            );
        }
    }
}

/// A Kafka with an SSL listener that requires client certificates (from PEM files, in Aiven's
/// `certs/` layout) and a SASL_SSL listener with SCRAM-SHA-256 and PLAIN, as Confluent Cloud
/// has. Its private key and passwords live only in the test's temporary folders.
struct SecureKafka {
    kafka: crate::kafka::Kafka,
    ca: crate::tls::Ca,
    _dir: tempfile::TempDir,
}

const SCRAM_PASSWORD: &str = "scram-pw-41d7-never-printed";
const PLAIN_PASSWORD: &str = "plain-pw-93ab-never-printed";

impl SecureKafka {
    fn start() -> SecureKafka {
        let ca = crate::tls::Ca::new("workshop CA");
        let server = ca.server();
        let dir = crate::harness::temp_dir("kafka-tls");
        // Kafka's PEM key store: the private key, then its certificate.
        let keystore = dir.path().join("server.pem");
        std::fs::write(&keystore, format!("{}{}", server.key.serialize_pem(), server.cert.pem())).unwrap();
        let truststore = dir.path().join("ca.pem");
        std::fs::write(&truststore, ca.pem()).unwrap();
        let mut spec = kafka_workshop::cluster::ApacheSpec::new(crate::kafka::jars(), 1);
        spec.listeners = vec![("SSL".into(), "SSL".into()), ("SASL_SSL".into(), "SASL_SSL".into())];
        spec.scram = vec![("SCRAM-SHA-256".into(), "ann".into(), SCRAM_PASSWORD.into())];
        let mut settings = vec![
            ("sasl.enabled.mechanisms".to_string(), "SCRAM-SHA-256,PLAIN".to_string()),
            ("listener.name.ssl.ssl.client.auth".into(), "required".into()),
            ("listener.name.sasl_ssl.ssl.client.auth".into(), "none".into()),
            (
                "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config".into(),
                "org.apache.kafka.common.security.scram.ScramLoginModule required;".into(),
            ),
            (
                "listener.name.sasl_ssl.plain.sasl.jaas.config".into(),
                format!("org.apache.kafka.common.security.plain.PlainLoginModule required user_bob=\"{PLAIN_PASSWORD}\";"),
            ),
        ];
        for listener in ["ssl", "sasl_ssl"] {
            for (key, value) in [
                ("ssl.keystore.type", "PEM".to_string()),
                ("ssl.keystore.location", keystore.display().to_string()),
                ("ssl.truststore.type", "PEM".to_string()),
                ("ssl.truststore.location", truststore.display().to_string()),
            ] {
                settings.push((format!("listener.name.{listener}.{key}"), value));
            }
        }
        spec.settings = settings;
        SecureKafka { kafka: crate::kafka::Kafka::with(spec), ca, _dir: dir }
    }
}

/// The binary on `bootstrap` with `flags` and `$KAFKA_SASL_PASSWORD` set to `password`.
/// A refused handshake ends the session on its own, long before the harness's 90 s. The tool
/// gives up after 10 s of trying, but here the session's own start and the handshakes share two
/// cores with the other tests' JVMs: a clean-checkout CI run failed this test once, with no
/// line kept, and a 15 s bound here is the only thing in it that load alone can break.
const GIVES_UP: std::time::Duration = std::time::Duration::from_secs(40);

fn secure_run(bootstrap: &str, flags: &[&str], password: Option<&str>, script: &str) -> crate::harness::Run {
    let home = crate::harness::temp_dir("home");
    let mut command = crate::harness::command(home.path());
    command.args(["-b", bootstrap]).args(flags).env_remove("KAFKA_SASL_PASSWORD");
    if let Some(password) = password {
        command.env("KAFKA_SASL_PASSWORD", password);
    }
    crate::harness::run_command(command, script, std::time::Duration::from_secs(90))
}

#[test]
fn mutual_tls_and_sasl_ssl_work_against_apache_kafka_itself_and_fail_plainly() {
    use crate::tls::{certs_dir, path};
    let secure = SecureKafka::start();
    let ssl = secure.kafka.listener("SSL");
    let sasl = secure.kafka.listener("SASL_SSL");
    let certs = certs_dir(&secure.ca.pem(), &secure.ca.client("learner-7"));
    let script = |topic: &str| {
        format!(
            "create-topic {topic} --partitions 2\nproduce {topic} '{{\"order\": 1}}' --key till-1\n\
             start-consumer c --group g-{topic} --topic {topic} --from earliest\nexpect consumer c assigned {topic}[0,1] --within 30s\n\
             poll c 1 --wait 20s\ncluster\n"
        )
    };
    let mut seen = String::new();
    let polled = |out: &crate::harness::Run| out.table(&["TOPIC", "PARTITION", "OFFSET", "KEY", "VALUE"])[0][4].clone();

    // Mutual TLS, as Aiven gives it: --certs with ca.pem, service.cert and service.key.
    let out = secure_run(&ssl, &["--certs", path(certs.path())], None, &script("tls-orders"));
    seen.push_str(&format!("{}{}", out.stdout, out.stderr));
    out.assert_ok();
    assert_eq!(polled(&out), r#"{"order":1}"#);
    assert!(out.stdout.contains("security: ssl, mutual TLS with the certificates in"), "{}", out.stdout);

    // SASL_SSL with SCRAM-SHA-256 and with PLAIN; the folder holds only the CA.
    let ca_only = crate::harness::temp_dir("ca-only");
    std::fs::write(ca_only.path().join("ca.pem"), secure.ca.pem()).unwrap();
    for (mechanism, user, password, topic) in
        [("SCRAM-SHA-256", "ann", SCRAM_PASSWORD, "scram-orders"), ("PLAIN", "bob", PLAIN_PASSWORD, "plain-orders")]
    {
        let flags = ["--security-protocol", "sasl_ssl", "--sasl-mechanism", mechanism, "--sasl-username", user, "--certs", path(ca_only.path())];
        let out = secure_run(&sasl, &flags, Some(password), &script(topic));
        seen.push_str(&format!("{}{}", out.stdout, out.stderr));
        out.assert_ok();
        assert_eq!(polled(&out), r#"{"order":1}"#, "{mechanism}");
        assert!(out.stdout.contains(&format!("SASL {mechanism} as {user} (password from $KAFKA_SASL_PASSWORD)")), "{}", out.stdout);
        assert!(out.stdout.contains("TLS trusting the CA in"), "{}", out.stdout);
        assert!(!out.stdout.contains(password) && !out.stderr.contains(password), "{mechanism}: the password showed");

        // The wrong password: one line, soon, naming authentication and never either password.
        let out = secure_run(&sasl, &flags, Some("not-the-password-5e2f"), "topics\n");
        seen.push_str(&format!("{}{}", out.stdout, out.stderr));
        assert_eq!(out.code, 1, "{mechanism}: {}\n{}", out.stdout, out.stderr);
        assert!(out.elapsed < GIVES_UP, "{mechanism}: took {:?}\n{}", out.elapsed, out.stderr);
        let errors: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{}", out.stderr);
        assert!(errors[0].contains("uthentication"), "{mechanism}: {}", errors[0]);
        for secret in ["not-the-password-5e2f", password] {
            assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret), "{mechanism}: a password showed");
        }
    }

    // A CA that did not sign the broker's certificate is named, soon, in one line.
    let stranger = crate::tls::Ca::new("some other CA");
    let wrong_ca = certs_dir(&stranger.pem(), &secure.ca.client("learner-8"));
    let out = secure_run(&ssl, &["--certs", path(wrong_ca.path())], None, "topics\n");
    seen.push_str(&format!("{}{}", out.stdout, out.stderr));
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.elapsed < GIVES_UP, "took {:?}\n{}", out.elapsed, out.stderr);
    let ca_file = wrong_ca.path().join("ca.pem").display().to_string();
    assert!(out.stderr.contains(&format!("not signed by the CA in {ca_file}")), "{}", out.stderr);
    assert_eq!(out.stderr.lines().filter(|l| l.starts_with("error:")).count(), 1, "{}", out.stderr);

    // A client certificate from another CA: Kafka itself refuses the handshake.
    let strangers_client = certs_dir(&secure.ca.pem(), &stranger.client("intruder"));
    let out = secure_run(&ssl, &["--certs", path(strangers_client.path())], None, "topics\n");
    seen.push_str(&format!("{}{}", out.stdout, out.stderr));
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.elapsed < GIVES_UP, "took {:?}\n{}", out.elapsed, out.stderr);
    assert_eq!(out.stderr.lines().filter(|l| l.starts_with("error:")).count(), 1, "{}", out.stderr);

    // A missing key is named before anything connects.
    let no_key = certs_dir(&secure.ca.pem(), &secure.ca.client("learner-9"));
    std::fs::remove_file(no_key.path().join("service.key")).unwrap();
    let out = secure_run(&ssl, &["--certs", path(no_key.path())], None, "topics\n");
    seen.push_str(&format!("{}{}", out.stdout, out.stderr));
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.stderr.trim(), format!("error: cannot read {}: it does not exist", no_key.path().join("service.key").display()));

    // And no private key or password ever showed, in anything any of these runs printed.
    for key in [certs.path(), wrong_ca.path(), strangers_client.path()].map(|dir| std::fs::read_to_string(dir.join("service.key")).unwrap()) {
        let body = key.lines().nth(1).unwrap();
        assert!(!seen.contains(body), "a private key showed");
    }
    assert!(!seen.contains(SCRAM_PASSWORD) && !seen.contains(PLAIN_PASSWORD), "a password showed");
}

/// The picture, the web page's state and the instructor's room on Apache Kafka, on a node of
/// this test's own: `class clean --execute` deletes every learner's topics.
#[test]
fn the_picture_the_page_and_the_room_work_on_apache_kafka() {
    use kafka_workshop::session::ConnectOptions;
    let kafka = crate::kafka::Kafka::start(1);
    let learner = |name: &str| {
        crate::harness::Workshop::with(ConnectOptions {
            bootstrap_servers: Some(kafka.bootstrap.clone()),
            learner: Some(name.to_string()),
            ..ConnectOptions::default()
        })
    };
    let mut instructor = kafka.client(None);
    let mut amy = learner("amy");
    let mut bob = learner("bob");
    amy.ok("lesson 2");
    amy.ok("next");
    bob.ok("lesson 3");
    bob.script(
        "create-topic menu --partitions 2
         produce menu 'cod {n}' --key till-1 --count 3
         start-consumer c1 --group fryers --topic menu --from earliest
         expect consumer c1 assigned menu[0,1] --within 30s
         poll c1 3 --wait 10s
         commit c1",
    );

    // The picture: bob's topic, his consumer and group, under his own names.
    let shown = bob.ok("show");
    let kafka_workshop::outcome::Outcome::Picture(picture) = &shown else { panic!("{shown:?}") };
    let menu = picture.topics.iter().find(|t| t.name == "menu").unwrap_or_else(|| panic!("{picture:?}"));
    assert_eq!(menu.partitions.len(), 2);
    assert!(picture.consumers.iter().any(|c| c.name == "c1"), "{picture:?}");
    assert!(picture.groups.iter().any(|g| g.name == "fryers"), "{picture:?}");

    // The page's state is the cluster's: the same end offsets as describe-topic.
    let address = crate::web::serve(&mut bob);
    let state = crate::web::state(&address);
    let described = bob.ok("describe-topic menu");
    let ends = table(&described, &["PARTITION", "LEADER", "REPLICAS", "ISR", "START-OFFSET", "END-OFFSET", "MESSAGES"]).column("END-OFFSET");
    let page: Vec<Option<i64>> = (0..2).map(|p| crate::web::end(&state["picture"], "menu", p)).collect();
    assert_eq!(page, ends.iter().map(|e| e.parse().ok()).collect::<Vec<_>>());
    assert_eq!(page.iter().flatten().sum::<i64>(), 3);

    // The room: both learners, where they are.
    crate::harness::wait_until("class shows amy on lesson 2 and bob on lesson 3", std::time::Duration::from_secs(15), || {
        let rows = crate::room::class_rows(&mut instructor);
        rows.iter().any(|r| r[0] == "amy" && r[1] == "2 Topics and partitions" && r[2] == "2/5")
            && rows.iter().any(|r| r[0] == "bob" && r[1] == "3 Keys and partitioning")
    });
    bob.ok("stop-consumer c1");
    let plan = instructor.ok("class clean");
    let planned: Vec<(String, String, String)> =
        table(&plan, &crate::room::PLAN).rows.iter().map(|r| (r[0].clone(), r[1].clone(), r[2].clone())).collect();
    let want = |l: &str, k: &str, n: &str| (l.to_string(), k.to_string(), n.to_string());
    assert_eq!(planned, [want("amy", "topic", "amy.till-orders"), want("bob", "group", "bob.fryers"), want("bob", "topic", "bob.menu")]);
    let cleaned = instructor.ok("class clean --execute");
    assert!(says(&cleaned, "deleted 3 of 3"), "{cleaned:?}");
    let topics = instructor.ok("topics");
    assert!(topics.table(&["NAME", "PARTITIONS", "REPLICATION", "MESSAGES"]).is_none_or(|t| t.rows.is_empty()), "{topics:?}");
    assert!(says(&instructor.ok("class clean"), "nothing to clean"));
}

/// Three nodes with a static quorum: every broker in the metadata, a topic replicated to all
/// three, and a killed node leaving the ISR and its leaderships, then coming back.
#[test]
fn three_nodes_form_one_cluster_and_a_killed_node_leaves_the_isr() {
    let kafka = crate::kafka::Kafka::start(3);
    let mut shop = kafka.client(None);
    let cluster = shop.ok("cluster");
    let nodes = ["NODE", "HOST:PORT", "STATE", "ROLE", "LEADS"];
    let roles = |listed: &kafka_workshop::outcome::Outcome| -> Vec<(String, String)> {
        table(listed, &nodes).rows.iter().map(|r| (r[0].clone(), r[3].clone())).collect()
    };
    // Combined nodes: each a broker and a voter, one of them the active controller.
    let listed = roles(&cluster);
    assert_eq!(listed.len(), 3, "{cluster:?}");
    assert!(listed.iter().all(|(_, role)| role.starts_with("broker + ")), "{listed:?}");
    assert_eq!(listed.iter().filter(|(_, role)| role == "broker + active controller").count(), 1, "{listed:?}");
    shop.ok("create-topic ledger --partitions 3 --replication-factor 3");
    let columns = ["PARTITION", "LEADER", "REPLICAS", "ISR", "START-OFFSET", "END-OFFSET", "MESSAGES"];
    // While a dead node's leaderships move (it is fenced after 3 s), a look may time out: that
    // counts as not yet.
    let isr = |shop: &mut crate::harness::Workshop| -> Vec<(String, String)> {
        let Ok(described) = shop.run("describe-topic ledger") else { return vec![("?".into(), String::new())] };
        let Some(partitions) = described.table(&columns) else { return vec![("?".into(), String::new())] };
        partitions.rows.iter().map(|r| (r[1].clone(), r[3].clone())).collect()
    };
    let full = isr(&mut shop);
    assert!(full.iter().all(|(_, isr)| isr.split(',').count() == 3), "{full:?}");
    kafka.on(|cluster, runtime| runtime.block_on(cluster.kill(3))).unwrap();
    // Never blind: a look right after the kill answers from the nodes that are up, and names
    // the one it could not reach if its partitions are still waiting for a new leader.
    let described = shop.ok("describe-topic ledger");
    let unknown = crate::harness::table(&described, &columns).rows.iter().any(|r| r[4] == "?");
    assert_eq!(unknown, crate::harness::says(&described, "broker 3 did not answer"), "{described:?}");
    let shown = kafka_workshop::view::View::plain().render(&shop.ok("show ledger"));
    assert!(shown.contains("topic ledger"), "{shown}");
    crate::harness::wait_until("node 3 leaves every ISR and leads nothing", std::time::Duration::from_secs(60), || {
        isr(&mut shop).iter().all(|(leader, isr)| leader != "3" && leader != "?" && !isr.split(',').any(|id| id.trim() == "3"))
    });
    shop.ok("expect broker 3 down --within 30s");
    shop.ok("expect partition ledger[0] under-replicated");
    // The picture draws it: broker 3 down, every partition without it in its ISR and flagged;
    // the page's state says the same.
    let shown = shop.ok("show ledger");
    let kafka_workshop::outcome::Outcome::Picture(picture) = &shown else { panic!("{shown:?}") };
    assert!(picture.brokers.iter().any(|b| b.id == 3 && !b.up), "{:?}", picture.brokers);
    let ledger = &picture.topics[0];
    for partition in &ledger.partitions {
        let copies = &partition.replication;
        assert_eq!(copies.replicas.len(), 3, "{copies:?}");
        assert!(!copies.isr.contains(&3) && copies.leader != 3 && copies.leader > 0, "{copies:?}");
        assert!(copies.flags.contains(&kafka_workshop::outcome::picture::Flag::UnderReplicated), "{copies:?}");
    }
    let plain = kafka_workshop::view::View::plain().render(&shown);
    assert!(plain.contains("3 down") && plain.contains("under-replicated") && plain.contains("3(down)"), "{plain}");
    let address = crate::web::serve(&mut shop);
    let state = crate::web::state(&address);
    let brokers = state["picture"]["brokers"].as_array().unwrap_or_else(|| panic!("{state}"));
    assert!(brokers.iter().any(|b| b["id"] == 3 && b["up"] == false), "{state}");
    let zero = &state["picture"]["topics"][0]["partitions"][0]["replication"];
    assert!(zero["isr"].as_array().is_some_and(|isr| isr.len() == 2 && !isr.contains(&serde_json::json!(3))), "{zero}");
    assert!(zero["flags"].as_array().is_some_and(|f| f.contains(&serde_json::json!("under-replicated"))), "{zero}");
    // The page in a real browser: node 3 greyed in the brokers strip, struck through in every
    // partition's replicas, and the partitions flagged.
    {
        use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
        let browser = crate::web::browser(1400, 900);
        let tab = browser.new_tab().unwrap();
        tab.navigate_to(&format!("http://{address}/")).unwrap();
        let read = |js: &str| tab.evaluate(js, false).ok().and_then(|r| r.value).and_then(|v| v.as_str().map(str::to_string));
        let wait = |what: &str, js: &str, wanted: &str| {
            crate::harness::wait_until(what, std::time::Duration::from_secs(20), || read(js).as_deref() == Some(wanted));
        };
        wait("the brokers strip shows node 3 down", r#"[...document.querySelectorAll('#brokers .broker.down')].map((b) => b.textContent.split(' · ')[0]).join()"#, "broker 3");
        let struck = r#"String(document.querySelectorAll('[data-topic="ledger"] .replicas .down').length)"#;
        wait("node 3 struck through in each partition", struck, "3");
        let flagged = r#"String(document.querySelectorAll('[data-topic="ledger"] .replicas .flag.under-replicated').length)"#;
        wait("each partition flagged under-replicated", flagged, "3");
        wait("the page at rest", "document.getAnimations().length === 0 ? \"still\" : \"moving\"", "still");
        let png = tab.capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true).unwrap();
        let file = crate::harness::temp_dir("node-down-screenshot").keep().join("page.png");
        std::fs::write(&file, png).unwrap();
        println!("screenshot of the page with node 3 down: {}", file.display());
    }
    shop.fails("expect partition ledger[0] isr 1,2,3");
    shop.ok("produce ledger 'still taking orders' --acks all");
    kafka.on(|cluster, runtime| runtime.block_on(cluster.start_node(3))).unwrap();
    crate::harness::wait_until("node 3 is back in every ISR", std::time::Duration::from_secs(90), || {
        isr(&mut shop).iter().all(|(_, isr)| isr.split(',').count() == 3)
    });
    shop.ok("expect partition ledger[0] isr 3,2,1");
    shop.fails("expect broker 3 down");
    // The active controller comes from the quorum (DescribeQuorum), not from Metadata: kill
    // it, and another voter takes over with a higher epoch.
    let active = |shop: &mut crate::harness::Workshop| -> Option<(i32, i32)> {
        let cluster = shop.run("cluster").ok()?;
        let line = cluster.said().into_iter().find(|l| l.starts_with("controller quorum (DescribeQuorum): active controller "))?.to_string();
        let rest = line.strip_prefix("controller quorum (DescribeQuorum): active controller ")?;
        let (id, rest) = rest.split_once(", epoch ")?;
        let epoch = rest.split(',').next()?;
        Some((id.parse().ok()?, epoch.parse().ok()?))
    };
    let (first, epoch) = active(&mut shop).expect("the quorum names an active controller");
    kafka.on(|cluster, runtime| runtime.block_on(cluster.kill(first))).unwrap();
    crate::harness::wait_until("another voter is the active controller", std::time::Duration::from_secs(60), || {
        active(&mut shop).is_some_and(|(id, now)| id != first && now > epoch)
    });
    let (now, _) = active(&mut shop).unwrap();
    shop.ok(&format!("expect controller {now}"));
    shop.fails(&format!("expect controller {first}"));
    // `brokers` says the same: the new active controller, and the dead one no broker now.
    let listed = roles(&shop.ok("brokers"));
    assert!(listed.contains(&(now.to_string(), "broker + active controller".into())), "{listed:?}");
    assert!(listed.contains(&(first.to_string(), "controller".into())), "{listed:?}");
}

/// Lessons 9 and 11 on three nodes that the replay starts itself, so its `broker kill`, `broker
/// stop` and `broker start` act on them: every task with its wrong ways, through a leader's
/// failover, a refused `acks=all` below `min.insync.replicas`, and the active controller's death.
/// Every Java process goes with the replay.
#[test]
fn lessons_9_and_11_replay_on_three_brokers() {
    let jars = crate::kafka::jars();
    let lessons = concat!(env!("CARGO_MANIFEST_DIR"), "/lessons");
    let files: Vec<std::path::PathBuf> = ["09-delivery-guarantees.md", "11-brokers-and-replication.md"]
        .iter()
        .map(|f| std::path::Path::new(lessons).join(f))
        .collect();
    let homes: Vec<_> = (0..files.len()).map(|_| crate::harness::temp_dir("home")).collect();
    let replays = crate::lessons::replay_each(files, 2, |_, n| {
        let mut command = crate::harness::command(homes[n].path());
        command.env("KAFKA_HOME", &jars);
        command.args(["--apache-kafka", jars.to_str().unwrap(), "--brokers", "3"]);
        command
    });
    for (path, out) in &replays {
        crate::lessons::assert_replayed(path, out);
        let said = |text: &str| out.stdout.contains(text);
        if path.ends_with("11-brokers-and-replication.md") {
            assert!(said("failed over: its leader, broker"), "{path}: no failover\n{}", out.stdout);
            assert!(said("took over as active controller from node"), "{path}: no new controller\n{}", out.stdout);
            assert!(said("did not lead it"), "{path}: killing a follower was not caught\n{}", out.stdout);
            assert!(said("under-replicated"), "{path}: the picture drew no failure\n{}", out.stdout);
            assert!(said("topic ledger-rf3 · 3 partition(s)"), "{path}: the failover was not drawn\n{}", out.stdout);
        } else {
            assert!(said("the broker refused your latest produce to vault with acks=all: NOT_ENOUGH_REPLICAS"), "{path}\n{}", out.stdout);
            assert!(said("Broker: Not enough in-sync replicas"), "{path}: the refusal was not shown\n{}", out.stdout);
            assert!(said("under min ISR"), "{path}: the picture drew no floor\n{}", out.stdout);
        }
    }
}

/// `kill -9` of kafka-workshop takes its three Java nodes with it: nothing to stop them, and
/// the kernel does it (`PR_SET_PDEATHSIG`).
#[test]
fn three_nodes_die_with_a_killed_session() {
    use std::io::BufRead;
    let jars = crate::kafka::jars();
    let home = crate::harness::temp_dir("home");
    let mut command = crate::harness::command(home.path());
    command.args(["--apache-kafka", jars.to_str().unwrap(), "--brokers", "3"]);
    let mut session = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start kafka-workshop");
    // Killed however the test ends.
    struct Reap(std::process::Child);
    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = session.stdout.take().unwrap();
    let mut stdin = session.stdin.take().unwrap();
    let pid = session.id();
    let session = Reap(session);
    // Through a pipe there is no banner: the first answer says the nodes are up.
    std::io::Write::write_all(&mut stdin, b"cluster\n").unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let ready = lines.by_ref().map_while(Result::ok).any(|line| line.starts_with("security:"));
    assert!(ready, "kafka-workshop did not start its three nodes");
    // Its children that run Java: the three nodes.
    let java_children = || -> Vec<u32> {
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .filter(|child| {
                let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
                let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
                let mut fields = after.split(' ');
                let (state, parent) = (fields.next(), fields.next());
                let cmdline = std::fs::read_to_string(format!("/proc/{child}/cmdline")).unwrap_or_default();
                state != Some("Z") && parent == Some(pid.to_string().as_str()) && cmdline.contains("java")
            })
            .collect()
    };
    let nodes = java_children();
    assert_eq!(nodes.len(), 3, "the three nodes are kafka-workshop's children: {nodes:?}");
    let alive = |id: &u32| {
        std::fs::read_to_string(format!("/proc/{id}/stat"))
            .is_ok_and(|stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
    };
    drop(session); // SIGKILL: no shutdown code runs
    crate::harness::wait_until("every node dies with kafka-workshop", std::time::Duration::from_secs(30), || {
        !nodes.iter().any(alive)
    });
}
