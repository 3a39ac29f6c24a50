//! Schemas on the embedded broker: tansu's registry refuses a value that breaks its topic's
//! JSON Schema, the produce table says why, and a schema can change while producers run.

use kafka_workshop::view::View;

use crate::harness::{says, table, BackgroundBroker, Workshop};

const ORDER: &str = r#"'{"type": "object", "properties": {"order": {"type": "integer"}, "fish": {"type": "string", "enum": ["cod", "plaice"]}}, "required": ["order", "fish"], "additionalProperties": false}'"#;
const REFUSED: [&str; 4] = ["MESSAGE", "KEY", "ERROR", "WHY (CHECKED AGAINST THE TOPIC'S SCHEMA)"];

fn end_offset(shop: &mut Workshop, topic: &str) -> String {
    let described = shop.ok(&format!("describe-topic {topic}"));
    let partitions = table(&described, &["PARTITION", "LEADER", "REPLICAS", "ISR", "START-OFFSET", "END-OFFSET", "MESSAGES"]);
    partitions.rows[0][5].clone()
}

#[test]
fn the_broker_refuses_a_value_that_breaks_the_schema_and_says_why() {
    let mut shop = Workshop::start();
    let created = shop.ok(&format!("create-topic tickets --schema {ORDER}"));
    let fields = table(&created, &["FIELD", "TYPE", "REQUIRED"]);
    assert_eq!(fields.rows[1], ["fish", "string, one of \"cod\", \"plaice\"", "yes"]);
    shop.ok(r#"produce tickets '{"order": 1, "fish": "cod"}'"#);

    let refused = shop.run(r#"produce tickets '{"order": 2, "fish": "salmon"}'"#).expect("an outcome");
    let failure = refused.failure().expect("refused").to_string();
    assert!(failure.contains("failed to validate record"), "{failure}");
    let why = &table(&refused, &REFUSED).rows[0][3];
    assert!(why.contains("/fish") && why.contains("salmon"), "{why}");
    let missing = shop.run(r#"produce tickets '{"order": 3}'"#).expect("an outcome");
    assert!(table(&missing, &REFUSED).rows[0][3].contains("\"fish\" is a required property"));
    // Nothing refused was written.
    assert_eq!(end_offset(&mut shop, "tickets"), "1");
    shop.ok("expect partition tickets[0] end-offset 1");
}

#[test]
fn a_schema_changes_and_goes_with_its_topic() {
    let mut shop = Workshop::start();
    shop.ok(&format!("create-topic evolving --schema {ORDER}"));
    let noted = r#"produce evolving '{"order": 1, "fish": "cod", "notes": "no salt"}'"#;
    assert!(shop.run(noted).expect("an outcome").failure().is_some());
    assert!(shop.fails("expect topic evolving schema-field notes").to_string().contains("found order, fish"));

    let evolved = r#"schema evolving '{"type": "object", "properties": {"order": {"type": "integer"}, "fish": {"type": "string"}, "notes": {"type": "string"}}, "required": ["order", "fish"], "additionalProperties": false}'"#;
    assert!(says(&shop.ok(evolved), "replaced the schema of 'evolving'"));
    shop.ok(noted);
    shop.ok("expect topic evolving schema-field notes");
    shop.ok("expect partition evolving[0] end-offset 1");

    let shown = shop.ok("schema evolving");
    assert_eq!(table(&shown, &["FIELD", "TYPE", "REQUIRED"]).rows[2], ["notes", "string", "no"]);
    assert!(says(&shop.ok("schema evolving --remove"), "accepts any value"));
    shop.ok("produce evolving 'not json at all'");
    shop.ok("expect partition evolving[0] end-offset 2");

    // A topic made again under the same name starts without the old schema.
    shop.ok(&format!("schema evolving {ORDER}"));
    shop.ok("delete-topic evolving");
    shop.ok("create-topic evolving");
    shop.ok("produce evolving 'anything'");
    assert!(says(&shop.ok("schema evolving"), "has no schema"));
}

#[test]
fn a_bad_schema_is_one_line_and_makes_no_topic() {
    let mut shop = Workshop::start();
    let err = shop.fails(r#"create-topic broken --schema '{"type": 12}'"#);
    assert!(err.to_string().contains("not a valid JSON Schema"), "{err}");
    assert!(!err.to_string().contains('\n'), "{err}");
    let err = shop.fails("create-topic broken --schema /no/such/schema.json");
    assert!(err.to_string().starts_with("cannot read the schema file /no/such/schema.json"), "{err}");
    assert!(shop.fails("describe-topic broken").to_string().contains("broken"));
}

#[test]
fn a_learners_schema_follows_their_prefix_and_other_clusters_say_what_to_use() {
    let mut shop = Workshop::start();
    shop.ok("learner ana");
    shop.ok(&format!("create-topic tickets --schema {ORDER}"));
    assert!(shop.run(r#"produce tickets '{"order": 1}'"#).expect("an outcome").failure().is_some());
    shop.ok("expect topic tickets schema-field fish");

    let broker = BackgroundBroker::start(&[]);
    let mut remote = broker.client(None);
    let err = remote.fails(&format!("create-topic tickets --schema {ORDER}"));
    assert!(err.to_string().contains("needs the embedded broker"), "{err}");
    assert!(View::plain().error(&err, None).contains("schema registry"), "{}", View::plain().error(&err, None));
}

#[test]
fn acks_0_never_hears_a_refusal_and_acks_all_reports_it() {
    let mut shop = Workshop::start();
    shop.ok("create-topic checks");
    shop.ok(r#"schema checks '{"type": "object", "required": ["paid"]}'"#);
    let unheard = shop.ok(r#"produce checks '{"order": 4}' --acks 0"#);
    assert_eq!(table(&unheard, &["PARTITION", "OFFSET", "KEY", "TIMESTAMP"]).rows[0][1], "unknown");
    assert_eq!(end_offset(&mut shop, "checks"), "0", "the refused message was written");
    let heard = shop.run(r#"produce checks '{"order": 4}' --acks all"#).expect("an outcome");
    assert!(heard.failure().is_some(), "acks=all did not report the refusal");
    shop.ok(r#"produce checks '{"order": 5, "paid": 2.5}' --acks 0"#);
    shop.ok("expect partition checks[0] end-offset 1 --within 5s");
}
