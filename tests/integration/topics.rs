//! Topics, producing and reading, in a session in this process against its own embedded broker.

use kafka_workshop::error::Error;
use kafka_workshop::outcome::Outcome;
use kafka_workshop::session::ConnectOptions;

use crate::harness::{says, table, temp_dir, Workshop};

const TOPICS: [&str; 4] = ["NAME", "PARTITIONS", "REPLICATION", "MESSAGES"];
const READ: [&str; 6] = ["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"];
const DESCRIBE: [&str; 7] = ["PARTITION", "LEADER", "REPLICAS", "ISR", "START-OFFSET", "END-OFFSET", "MESSAGES"];

#[test]
fn create_describe_list_and_delete_a_topic() {
    let mut shop = Workshop::start();
    let created = shop.ok("create-topic orders --partitions 3");
    assert_eq!(created, Outcome::Done("created topic 'orders' with 3 partition(s), replication factor 1".into()));
    let described = shop.ok("describe-topic orders");
    let partitions = table(&described, &DESCRIBE);
    assert_eq!(partitions.column("PARTITION"), ["0", "1", "2"]);
    assert!(partitions.rows.iter().all(|r| r[4] == "0" && r[5] == "0" && r[6] == "0"), "{partitions:?}");
    let listed = shop.ok("topics");
    assert_eq!(table(&listed, &TOPICS).rows, [["orders", "3", "1", "0"]]);
    assert_eq!(shop.ok("delete-topic orders"), Outcome::Done("deleted topic 'orders'".into()));
    assert_eq!(shop.ok("topics"), Outcome::Note("no topics yet; create one with: create-topic NAME --partitions 3".into()));
}

#[test]
fn more_replicas_than_brokers_is_refused_rather_than_faked() {
    let mut shop = Workshop::start();
    let err = shop.fails("create-topic ledger --replication-factor 3");
    assert!(matches!(err, Error::Input { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("replication factor 3 needs at least 3 brokers: the embedded broker is a single broker"),
        "{err}"
    );
    // The topic must not exist.
    assert!(says(&shop.ok("topics"), "no topics yet"));
}

#[test]
fn creating_an_existing_topic_is_a_warning_not_a_failure() {
    let mut shop = Workshop::start();
    shop.ok("create-topic dup --partitions 2");
    let again = shop.ok("create-topic dup");
    assert_eq!(again, Outcome::Warning("topic 'dup' already exists with 2 partition(s); nothing changed".into()));
    assert_eq!(table(&shop.ok("topics"), &TOPICS).cell(0, "PARTITIONS"), Some("2"));
}

#[test]
fn keyed_messages_land_in_the_partition_partition_for_predicts() {
    let mut shop = Workshop::start();
    shop.ok("create-topic keyed --partitions 3");
    let keys = ["till-1", "till-2", "till-3", "cod", "plaice", "chips", "21", "foobar"];
    let mut predicted = Vec::new();
    for key in keys {
        let prediction = shop.ok(&format!("partition-for {key} --topic keyed"));
        predicted.push(table(&prediction, &["KEY", "MURMUR2", "POSITIVE", "PARTITIONS", "PARTITION"]).rows[0].clone());
        shop.ok(&format!("produce keyed value-of-{key} --key {key}"));
    }
    let read = shop.ok("read keyed");
    let read = table(&read, &READ);
    assert_eq!(read.rows.len(), keys.len(), "{read:?}");
    for prediction in &predicted {
        let (key, partition) = (&prediction[0], &prediction[4]);
        let landed = read.rows.iter().find(|r| &r[3] == key).unwrap_or_else(|| panic!("{key} not read back"));
        assert_eq!(&landed[0], partition, "key {key} predicted partition {partition}, landed in {}", landed[0]);
        assert_eq!(landed[4], format!("value-of-{key}"));
    }
    // Kafka's own test vector: murmur2("foobar") = -790332482.
    let foobar = predicted.iter().find(|p| p[0] == "foobar").unwrap();
    assert_eq!(foobar[1..4], ["-790332482", "1357151166", "3"]);
}

#[test]
fn read_from_beginning_end_offset_and_tail_in_memory() {
    read_from_beginning_end_offset_and_tail(ConnectOptions::default());
}

#[test]
fn read_from_beginning_end_offset_and_tail_in_sqlite() {
    let data = temp_dir("read-sqlite");
    read_from_beginning_end_offset_and_tail(ConnectOptions { data: Some(data.path().to_path_buf()), ..ConnectOptions::default() });
}

/// Five messages go in one batch, so `--from 3` and `--from -2` start inside a batch.
fn read_from_beginning_end_offset_and_tail(options: ConnectOptions) {
    let mut shop = Workshop::with(options);
    shop.ok("create-topic log");
    shop.ok("produce log 'event {n}' --count 5");
    let values = |outcome: &Outcome| table(outcome, &READ).column("VALUE").iter().map(|v| v.to_string()).collect::<Vec<_>>();
    assert_eq!(values(&shop.ok("read log --from beginning")), ["event 1", "event 2", "event 3", "event 4", "event 5"]);
    assert_eq!(values(&shop.ok("read log --from -2")), ["event 4", "event 5"]);
    let from_three = shop.ok("read log --from 3");
    assert_eq!(values(&from_three), ["event 4", "event 5"]);
    assert_eq!(table(&from_three, &READ).cell(0, "OFFSET"), Some("3"));
    assert!(says(&shop.ok("read log --from end"), "nothing to read: no messages in any partition of 'log' from the end"));
    let two = shop.ok("read log --max 2");
    assert_eq!(values(&two), ["event 1", "event 2"]);
    assert!(says(&two, "showing the first 2; more remain"));
}

#[test]
fn json_values_are_sent_compact_and_read_back_unchanged() {
    let mut shop = Workshop::start();
    shop.ok("create-topic json");
    shop.ok(r#"produce json '{"order": 271, "till": 3, "parts": [["cod", "chips"], ["plaice", "chips"]]}' --key till-3 --header source=till-3"#);
    let read = shop.ok("read json");
    let read = table(&read, &READ);
    assert_eq!(read.rows.len(), 1);
    assert_eq!(read.cell(0, "VALUE"), Some(r#"{"order":271,"till":3,"parts":[["cod","chips"],["plaice","chips"]]}"#));
    assert_eq!(read.cell(0, "KEY"), Some("till-3"));
    assert_eq!(read.cell(0, "HEADERS"), Some("source=till-3"));
}

#[test]
fn produce_reports_every_delivery_and_summarises_large_batches() {
    let mut shop = Workshop::start();
    shop.ok("create-topic batch --partitions 2");
    let one = shop.ok("produce batch one --key a");
    let single = table(&one, &["PARTITION", "OFFSET", "KEY", "TIMESTAMP"]);
    assert_eq!((single.rows.len(), single.cell(0, "KEY")), (1, Some("a")));
    let many = shop.ok("produce batch 'order {n}' --count 50 --acks 1");
    assert!(says(&many, "sent 50 message(s) to 'batch'"), "{many:?}");
    let summary = table(&many, &["PARTITION", "MESSAGES", "FIRST-OFFSET", "LAST-OFFSET"]);
    let total: u64 = summary.column("MESSAGES").iter().map(|m| m.parse::<u64>().unwrap()).sum();
    assert_eq!(total, 50);
    assert_eq!(table(&shop.ok("topics"), &TOPICS).cell(0, "MESSAGES"), Some("51"));
}

#[test]
fn unknown_commands_and_bad_values_are_bad_input_with_a_hint() {
    let mut shop = Workshop::start();
    let err = shop.fails("descibe-topic x");
    assert_eq!((err.to_string().as_str(), err.exit_code()), ("unknown command 'descibe-topic'", 2));
    assert!(err.hint().unwrap().contains("did you mean `describe-topic`?"), "{:?}", err.hint());
    let err = shop.fails("read nowhere");
    assert_eq!(err.to_string(), "topic 'nowhere' does not exist");
    assert_eq!(err.hint().as_deref(), Some("create it first: create-topic nowhere"));
    let err = shop.fails("help nothing");
    assert_eq!(err.to_string(), "no command named 'nothing'");
}

#[test]
fn help_lists_every_command_in_groups_and_explains_one() {
    let mut shop = Workshop::start();
    let help = shop.ok("help");
    let Outcome::Many(parts) = &help else { panic!("help is not a set of tables: {help:?}") };
    let tables: Vec<&kafka_workshop::outcome::Table> =
        parts.iter().filter_map(|part| if let Outcome::Table(t) = part { Some(t) } else { None }).collect();
    let titles: Vec<&str> = tables.iter().filter_map(|t| t.title.as_deref()).collect();
    assert_eq!(titles.len(), tables.len(), "every group has a title: {titles:?}");
    for group in ["topics", "consumers and groups", "lessons", "the fish-and-chip shop"] {
        assert!(titles.contains(&group), "no group {group}: {titles:?}");
    }
    let consumers = tables.iter().find(|t| t.title.as_deref() == Some("consumers and groups")).unwrap();
    assert!(consumers.rows.iter().any(|row| row[0] == "seek-to-end" && !row[1].is_empty()), "{consumers:?}");
    let names: Vec<&str> = tables.iter().flat_map(|t| t.rows.iter().map(|row| row[0].as_str())).collect();
    for name in ["cluster", "topics", "create-topic", "describe-topic", "delete-topic", "produce", "read", "partition-for", "help", "quit"] {
        assert!(names.contains(&name), "help lacks {name}: {names:?}");
    }
    for line in ["help produce", "produce --help"] {
        let Outcome::Text(text) = shop.ok(line) else { panic!("{line} is not help text") };
        assert!(text.contains("--idempotent"), "{text}");
    }
}

#[test]
fn cluster_shows_the_embedded_broker() {
    let mut shop = Workshop::start();
    let cluster = shop.ok("cluster");
    assert!(says(&cluster, "cluster id kafka-workshop"), "{cluster:?}");
    assert!(says(&cluster, "the embedded broker (tansu 0.6.0, memory storage)"), "{cluster:?}");
    let brokers = table(&cluster, &["NODE", "HOST:PORT", "STATE", "ROLE", "LEADS"]);
    assert_eq!(brokers.rows.len(), 1);
    assert!(brokers.rows[0][1].starts_with("127.0.0.1:"), "{brokers:?}");
    assert_eq!(brokers.rows[0][2..4], ["up".to_string(), "broker".to_string()], "{brokers:?}");
    // `brokers` is the same command; with the broker stopped it says so, and for how long.
    shop.ok("broker stop");
    let stopped = shop.ok("brokers");
    let row = &table(&stopped, &["NODE", "HOST:PORT", "STATE", "ROLE", "LEADS"]).rows[0];
    assert!(row[2].starts_with("down ") && row[2].ends_with(" s"), "{row:?}");
    shop.ok("broker start");
}

#[test]
fn data_in_sqlite_survives_a_restart_with_an_absolute_path() {
    let data = temp_dir("data");
    let options = || ConnectOptions { data: Some(data.path().to_path_buf()), ..ConnectOptions::default() };
    {
        let mut first = Workshop::with(options());
        first.ok("create-topic kept --partitions 2");
        first.ok("produce kept hello --key k");
    }
    assert!(data.path().join("tansu.db").exists(), "the database is not where --data said");
    let mut second = Workshop::with(options());
    assert_eq!(table(&second.ok("topics"), &TOPICS).rows, [["kept", "2", "1", "1"]]);
    assert_eq!(table(&second.ok("read kept"), &READ).cell(0, "VALUE"), Some("hello"));
}

/// `expect message T[P] N key K|header k=v` looks inside one stored message, so a lesson can
/// check that a flag was really typed.
#[test]
fn expect_message_checks_a_stored_key_and_header() {
    let mut shop = Workshop::start();
    shop.script("create-topic labelled\nproduce labelled plain\nproduce labelled tagged --key till-1 --header source=till-1");
    shop.ok("expect message labelled[0] 1 key till-1");
    shop.ok("expect message labelled[0] 1 header source=till-1");
    let unkeyed = shop.fails("expect message labelled[0] 0 key till-1 --within 50ms").to_string();
    assert!(unkeyed.contains("to have the key till-1, found (null)"), "{unkeyed}");
    let bare = shop.fails("expect message labelled[0] 0 header source=till-1 --within 50ms").to_string();
    assert!(bare.contains("found no headers"), "{bare}");
    let missing = shop.fails("expect message labelled[0] 7 key till-1 --within 50ms").to_string();
    assert!(missing.contains("no message at labelled[0] offset 7"), "{missing}");
}

/// The producer id each stored batch carries is read back from the broker's storage: a plain
/// producer writes -1, an idempotent one the id the broker gave it.
#[test]
fn idempotent_writes_are_told_apart_by_the_stored_producer_id() {
    let mut shop = Workshop::start();
    shop.ok("create-topic pays");
    shop.ok(r#"produce pays '{"paid": {n}}' --count 2 --acks all"#);
    let plain = shop.fails("expect partition pays[0] idempotent 1 --within 1s");
    assert!(plain.to_string().contains("found 0 of 2"), "{plain}");
    shop.ok(r#"produce pays '{"paid": {n}}' --count 3 --acks all --idempotent"#);
    let counted = shop.ok("expect partition pays[0] idempotent 3 --within 5s");
    assert!(says(&counted, "3 message(s) in pays[0] carry an idempotent producer's id"), "{counted:?}");
    let more = shop.fails("expect partition pays[0] idempotent 4 --within 1s");
    assert!(more.to_string().contains("found 3 of 5"), "{more}");
}

/// SQLite storage drops the producer id outside a transaction, so the check says it cannot
/// tell rather than reporting every write as not idempotent.
#[test]
fn idempotent_check_on_sqlite_says_the_storage_cannot_tell() {
    let data = temp_dir("idempotent-sqlite");
    let mut shop = Workshop::with(ConnectOptions { data: Some(data.path().to_path_buf()), ..ConnectOptions::default() });
    shop.ok("create-topic pays");
    shop.ok(r#"produce pays '{"paid": {n}}' --count 3 --acks all --idempotent"#);
    let unknown = shop.fails("expect partition pays[0] idempotent 3 --within 1s");
    assert!(unknown.to_string().contains("SQLite storage keeps a batch's producer id only inside a transaction"), "{unknown}");
}
