//! The trail end to end on real files: chain, digests, verification of every kind of tampering,
//! crash recovery and LookupEvents.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ignis_audit::{lookup, verify, AuditEvent, AuditTrail, Resource, TrailConfig, UserIdentity};
use ignis_crypto::RootKey;
use serde_json::json;

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "ignis-audit-{tag}-{}",
        ignis_crypto::ids::uuid_v4().expect("uuid")
    ));
    std::fs::create_dir_all(&d).expect("mkdir");
    d
}

fn event(i: usize, name: &str) -> AuditEvent {
    AuditEvent {
        event_version: "1.08".into(),
        user_identity: UserIdentity {
            kind: "IAMUser".into(),
            user_name: if i.is_multiple_of(2) { "alice" } else { "bob" }.into(),
            access_key_id: format!("AKIA{i:016}"),
            ..Default::default()
        },
        event_time: ignis_audit::now_rfc3339(),
        event_source: "lambda.amazonaws.com".into(),
        event_name: name.into(),
        aws_region: "us-east-1".into(),
        request_id: format!("req-{i}"),
        event_id: format!("evt-{i}"),
        read_only: name.starts_with("Get"),
        resources: vec![Resource {
            arn: format!("arn:aws:lambda:us-east-1:123456789012:function:f{i}"),
            kind: "AWS::Lambda::Function".into(),
        }],
        event_type: "AwsApiCall".into(),
        management_event: true,
        recipient_account_id: "123456789012".into(),
        event_category: "Management".into(),
        request_parameters: Some(json!({"FunctionName": format!("f{i}")})),
        ..Default::default()
    }
}

async fn write_trail(dir: &Path, root: &RootKey, n: usize, digest_every: usize) {
    let trail = AuditTrail::open(
        TrailConfig {
            dir: dir.to_path_buf(),
            digest_interval: Duration::from_secs(3600),
        },
        root,
    )
    .expect("open");
    for i in 0..n {
        trail.record(event(
            i,
            if i % 3 == 0 {
                "GetFunction"
            } else {
                "CreateFunction"
            },
        ));
        if (i + 1).is_multiple_of(digest_every) {
            trail.digest_now().await;
        }
    }
    trail.close().await;
}

fn segment(dir: &Path) -> PathBuf {
    let records = dir.join("records");
    let name = std::fs::read_dir(&records)
        .expect("records")
        .next()
        .expect("one segment")
        .expect("entry")
        .file_name();
    records.join(name)
}

fn rewrite_lines(path: &Path, f: impl FnOnce(&mut Vec<String>)) {
    let text = std::fs::read_to_string(path).expect("read");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    f(&mut lines);
    std::fs::write(path, lines.join("\n") + "\n").expect("write");
}

#[tokio::test]
async fn intact_trail_verifies() {
    let dir = temp_dir("ok");
    let root = RootKey::generate().expect("root");
    write_trail(&dir, &root, 30, 10).await;
    let report = verify(&dir, None).expect("verify");
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(
        (report.records, report.digests, report.undigested),
        (30, 3, 0)
    );

    // Reopening continues the same chain.
    write_trail(&dir, &root, 5, 100).await;
    let report = verify(&dir, None).expect("verify");
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!((report.records, report.digests), (35, 4));
}

#[tokio::test]
async fn altered_record_is_reported_first() {
    let dir = temp_dir("alter");
    let root = RootKey::generate().expect("root");
    write_trail(&dir, &root, 12, 4).await;
    rewrite_lines(&segment(&dir), |lines| {
        lines[6] = lines[6].replace("\"f6\"", "\"evil\"");
    });
    let report = verify(&dir, None).expect("verify");
    assert!(!report.ok());
    assert!(
        report.problems[0].contains("line 7"),
        "{:?}",
        report.problems
    );
    assert!(
        report.problems[0].contains("evt-6"),
        "{:?}",
        report.problems
    );
}

#[tokio::test]
async fn recomputed_chain_is_caught_by_the_signed_digest() {
    let dir = temp_dir("rechain");
    let root = RootKey::generate().expect("root");
    write_trail(&dir, &root, 8, 8).await;
    // An attacker alters record 3 and recomputes every hash after it.
    rewrite_lines(&segment(&dir), |lines| {
        let mut prev = "0".repeat(64);
        for (i, line) in lines.iter_mut().enumerate() {
            let v: serde_json::Value = serde_json::from_str(line).expect("json");
            let mut record = v["record"].to_string();
            if i == 2 {
                record = record.replace("\"f2\"", "\"evil\"");
            }
            let hash = ignis_crypto::sha256_hex(format!("{prev}{record}").as_bytes());
            *line = format!("{{\"prev\":\"{prev}\",\"hash\":\"{hash}\",\"record\":{record}}}");
            prev = hash;
        }
    });
    let report = verify(&dir, None).expect("verify");
    assert!(!report.ok());
    assert!(
        report.problems.iter().any(|p| p.contains("digest 1")),
        "{:?}",
        report.problems
    );
}

#[tokio::test]
async fn deleted_records_and_forged_digests_are_caught() {
    let dir = temp_dir("delete");
    let root = RootKey::generate().expect("root");
    write_trail(&dir, &root, 9, 3).await;
    rewrite_lines(&segment(&dir), |lines| {
        lines.remove(4);
    });
    let report = verify(&dir, None).expect("verify");
    assert!(
        report.problems[0].contains("chain broken"),
        "{:?}",
        report.problems
    );

    // A digest signed by another key.
    let dir2 = temp_dir("forge");
    write_trail(&dir2, &root, 3, 3).await;
    let other = temp_dir("other");
    write_trail(&other, &RootKey::generate().expect("root"), 1, 1).await;
    let report = verify(
        &dir2,
        Some(&std::fs::read_to_string(other.join("signing.pub")).expect("pub")),
    )
    .expect("verify");
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("signature invalid")),
        "{:?}",
        report.problems
    );
}

#[tokio::test]
async fn torn_last_line_is_cut_on_reopen() {
    let dir = temp_dir("torn");
    let root = RootKey::generate().expect("root");
    write_trail(&dir, &root, 4, 100).await;
    let seg = segment(&dir);
    let mut bytes = std::fs::read(&seg).expect("read");
    bytes.extend_from_slice(b"{\"prev\":\"abc\",\"ha");
    std::fs::write(&seg, bytes).expect("write");
    write_trail(&dir, &root, 2, 100).await;
    let report = verify(&dir, None).expect("verify");
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.records, 6);
}

#[tokio::test]
async fn lookup_events_filters_and_pages_newest_first() {
    let dir = temp_dir("lookup");
    let root = RootKey::generate().expect("root");
    write_trail(&dir, &root, 7, 100).await;
    let out = lookup::handle(
        &dir,
        "LookupEvents",
        &json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "GetFunction"}]}),
    )
    .expect("lookup");
    let ids: Vec<&str> = out["Events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["EventId"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, vec!["evt-6", "evt-3", "evt-0"]);

    let page1 = lookup::handle(&dir, "LookupEvents", &json!({"MaxResults": 4})).expect("page");
    assert_eq!(page1["Events"].as_array().expect("events").len(), 4);
    let token = page1["NextToken"].as_str().expect("token");
    let page2 = lookup::handle(
        &dir,
        "LookupEvents",
        &json!({"MaxResults": 4, "NextToken": token}),
    )
    .expect("page");
    let rest: Vec<&str> = page2["Events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["EventId"].as_str().expect("id"))
        .collect();
    assert_eq!(rest, vec!["evt-2", "evt-1", "evt-0"]);
    assert!(page2.get("NextToken").is_none());

    let by_user = lookup::handle(
        &dir,
        "LookupEvents",
        &json!({"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": "f5"}]}),
    )
    .expect("lookup");
    assert_eq!(by_user["Events"][0]["Username"], "bob");
    let raw: serde_json::Value = serde_json::from_str(
        by_user["Events"][0]["CloudTrailEvent"]
            .as_str()
            .expect("raw"),
    )
    .expect("json");
    assert_eq!(raw["eventID"], "evt-5");

    let bad = lookup::handle(&dir, "LookupEvents", &json!({"MaxResults": 51})).unwrap_err();
    assert_eq!(bad.kind.code(), "InvalidMaxResultsException");
    let bad = lookup::handle(
        &dir,
        "LookupEvents",
        &json!({"LookupAttributes": [{"AttributeKey": "Nope", "AttributeValue": "x"}]}),
    )
    .unwrap_err();
    assert_eq!(bad.kind.code(), "InvalidLookupAttributesException");
    let bad = lookup::handle(&dir, "LookupEvents", &json!({"NextToken": "garbage!"})).unwrap_err();
    assert_eq!(bad.kind.code(), "InvalidNextTokenException");
}
