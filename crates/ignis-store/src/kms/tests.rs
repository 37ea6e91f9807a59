//! Tests of the key service over a real SQLite database.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex as StdMutex;

use ignis_crypto::{KeyUseObserver, RootKey};

use super::*;

const CALLER: KeyUser<'static> = KeyUser {
    caller: "arn:aws:iam::000000000000:root",
    purpose: "test",
};

static N: AtomicUsize = AtomicUsize::new(0);

async fn service() -> (KeyService, MetaStore, PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "ignis-kms-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let root = Arc::new(RootKey::generate().unwrap());
    let meta = MetaStore::open_sqlite(&dir.join("meta.db"), root)
        .await
        .unwrap();
    (
        KeyService::new(&meta, "us-east-1", "000000000000"),
        meta,
        dir,
    )
}

fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn encrypt_decrypt_by_id_arn_alias_and_context() {
    let (kms, _meta, dir) = service().await;
    let key = kms.create_key(CreateKeyInput::default()).await.unwrap();
    assert_eq!(key.state, KeyState::Enabled);
    assert_eq!(
        key.arn,
        format!("arn:aws:kms:us-east-1:000000000000:key/{}", key.key_id)
    );
    kms.create_alias("alias/app", &key.key_id).await.unwrap();
    let c = ctx(&[("purpose", "unit")]);
    for r in [
        key.key_id.clone(),
        key.arn.clone(),
        "alias/app".to_string(),
        "arn:aws:kms:us-east-1:000000000000:alias/app".to_string(),
    ] {
        let (blob, arn) = kms.encrypt(&r, b"secret-42", &c, CALLER).await.unwrap();
        assert_eq!(arn, key.arn);
        let (plain, arn) = kms.decrypt(&blob, &c, None, CALLER).await.unwrap();
        assert_eq!(
            (plain.as_slice(), arn.as_str()),
            (&b"secret-42"[..], key.arn.as_str())
        );
        let (plain, _) = kms.decrypt(&blob, &c, Some(&r), CALLER).await.unwrap();
        assert_eq!(plain, b"secret-42");
        let err = kms
            .decrypt(&blob, &ctx(&[]), None, CALLER)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "InvalidCiphertextException");
    }
    // A different key named in Decrypt.
    let other = kms.create_key(CreateKeyInput::default()).await.unwrap();
    let (blob, _) = kms.encrypt(&key.key_id, b"x", &c, CALLER).await.unwrap();
    let err = kms
        .decrypt(&blob, &c, Some(&other.key_id), CALLER)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "IncorrectKeyException");
    // Unknown references.
    let e = kms
        .encrypt("alias/nope", b"x", &c, CALLER)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Alias arn:aws:kms:us-east-1:000000000000:alias/nope is not found."
    );
    let e = kms
        .describe_key("11111111-2222-3333-4444-555555555555")
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Key 'arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555' does not exist"
    );
    let e = kms.describe_key("garbage").await.unwrap_err();
    assert_eq!(
        (e.code(), e.to_string().as_str()),
        ("NotFoundException", "Invalid keyId garbage")
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn tampered_and_foreign_blobs_refused() {
    let (kms, _meta, dir) = service().await;
    let key = kms.create_key(CreateKeyInput::default()).await.unwrap();
    let c = ctx(&[]);
    let (blob, _) = kms
        .encrypt(&key.key_id, b"payload", &c, CALLER)
        .await
        .unwrap();
    let mut bad = blob.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x80;
    assert_eq!(
        kms.decrypt(&bad, &c, None, CALLER)
            .await
            .unwrap_err()
            .code(),
        "InvalidCiphertextException"
    );
    assert_eq!(
        kms.decrypt(b"not a blob at all, clearly", &c, None, CALLER)
            .await
            .unwrap_err()
            .code(),
        "InvalidCiphertextException"
    );
    // Unknown material version.
    let mut v9 = blob.clone();
    v9[23] = 9;
    assert_eq!(
        kms.decrypt(&v9, &c, None, CALLER).await.unwrap_err().code(),
        "InvalidCiphertextException"
    );
    // A blob of a key that does not exist here.
    let mut foreign = blob.clone();
    foreign[4] ^= 0xff;
    assert_eq!(
        kms.decrypt(&foreign, &c, None, CALLER)
            .await
            .unwrap_err()
            .code(),
        "AccessDeniedException"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn rotation_keeps_old_ciphertexts_readable() {
    let (kms, meta, dir) = service().await;
    let key = kms.create_key(CreateKeyInput::default()).await.unwrap();
    let c = ctx(&[("k", "v")]);
    let (old, _) = kms
        .encrypt(&key.key_id, b"v1 data", &c, CALLER)
        .await
        .unwrap();
    let rotated = kms.rotate_key_on_demand(&key.key_id).await.unwrap();
    assert_eq!(rotated.current_version, 2);
    let (new, _) = kms
        .encrypt(&key.key_id, b"v2 data", &c, CALLER)
        .await
        .unwrap();
    assert_eq!(parse_blob(&new).unwrap().version, 2);
    assert_eq!(parse_blob(&old).unwrap().version, 1);
    assert_eq!(
        kms.decrypt(&old, &c, None, CALLER).await.unwrap().0,
        b"v1 data"
    );
    assert_eq!(
        kms.decrypt(&new, &c, None, CALLER).await.unwrap().0,
        b"v2 data"
    );
    let rotations = kms.list_key_rotations(&key.key_id).await.unwrap();
    assert_eq!(rotations.len(), 1);
    assert_eq!(rotations[0].rotation_type, "ON_DEMAND");

    // Automatic rotation once due.
    kms.enable_key_rotation(&key.key_id, None).await.unwrap();
    let st = kms.get_key_rotation_status(&key.key_id).await.unwrap();
    assert!(st.rotation_enabled);
    assert_eq!(st.rotation_period_days, Some(365));
    sqlx::query("UPDATE kms_keys SET next_rotation_ms = 1 WHERE key_id = $1")
        .bind(&key.key_id)
        .execute(&meta.pool)
        .await
        .unwrap();
    let (v3, _) = kms.encrypt(&key.key_id, b"v3", &c, CALLER).await.unwrap();
    assert_eq!(parse_blob(&v3).unwrap().version, 3);
    assert_eq!(
        kms.decrypt(&old, &c, None, CALLER).await.unwrap().0,
        b"v1 data"
    );
    let st = kms.get_key_rotation_status(&key.key_id).await.unwrap();
    assert!(st.next_rotation_ms.unwrap() > now_ms());

    // Material is stored sealed, never in plaintext: the stored blobs are not 32 raw bytes and
    // differ per version.
    let sealed: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT sealed FROM kms_key_material WHERE key_id = $1")
            .bind(&key.key_id)
            .fetch_all(&meta.pool)
            .await
            .unwrap();
    assert_eq!(sealed.len(), 3);
    assert!(sealed.iter().all(|s| s.len() == 12 + 32 + 16));

    // Reopened with the same root key (new service), everything still decrypts.
    let kms2 = KeyService::new(&meta, "us-east-1", "000000000000");
    assert_eq!(
        kms2.decrypt(&old, &c, None, CALLER).await.unwrap().0,
        b"v1 data"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn disabled_and_pending_deletion_refuse_use() {
    let (kms, meta, dir) = service().await;
    let key = kms.create_key(CreateKeyInput::default()).await.unwrap();
    let c = ctx(&[]);
    let (blob, _) = kms.encrypt(&key.key_id, b"x", &c, CALLER).await.unwrap();
    kms.disable_key(&key.key_id).await.unwrap();
    for e in [
        kms.encrypt(&key.key_id, b"x", &c, CALLER)
            .await
            .unwrap_err(),
        kms.decrypt(&blob, &c, None, CALLER).await.unwrap_err(),
        kms.generate_data_key(&key.key_id, 32, &c, true, CALLER)
            .await
            .unwrap_err(),
    ] {
        assert_eq!(e.code(), "DisabledException");
        assert_eq!(e.to_string(), format!("{} is disabled.", key.arn));
    }
    kms.enable_key(&key.key_id).await.unwrap();
    assert!(kms.decrypt(&blob, &c, None, CALLER).await.is_ok());

    assert_eq!(
        kms.schedule_key_deletion(&key.key_id, Some(3))
            .await
            .unwrap_err()
            .code(),
        "ValidationException"
    );
    let k = kms.schedule_key_deletion(&key.key_id, None).await.unwrap();
    assert_eq!(k.state, KeyState::PendingDeletion);
    assert_eq!(k.pending_window_days, Some(30));
    let e = kms.decrypt(&blob, &c, None, CALLER).await.unwrap_err();
    assert_eq!(e.code(), "KMSInvalidStateException");
    assert_eq!(e.to_string(), format!("{} is pending deletion.", key.arn));
    assert_eq!(
        kms.enable_key(&key.key_id).await.unwrap_err().code(),
        "KMSInvalidStateException"
    );
    assert_eq!(
        kms.schedule_key_deletion(&key.key_id, Some(7))
            .await
            .unwrap_err()
            .code(),
        "KMSInvalidStateException"
    );
    let k = kms.cancel_key_deletion(&key.key_id).await.unwrap();
    assert_eq!(k.state, KeyState::Disabled);
    assert_eq!(
        kms.cancel_key_deletion(&key.key_id)
            .await
            .unwrap_err()
            .code(),
        "KMSInvalidStateException"
    );

    // Past its deletion date the key is gone, with its aliases, and its ciphertexts are orphans.
    kms.create_alias("alias/doomed", &key.key_id).await.unwrap();
    kms.schedule_key_deletion(&key.key_id, Some(7))
        .await
        .unwrap();
    sqlx::query("UPDATE kms_keys SET deletion_ms = 1 WHERE key_id = $1")
        .bind(&key.key_id)
        .execute(&meta.pool)
        .await
        .unwrap();
    assert_eq!(
        kms.describe_key(&key.key_id).await.unwrap_err().code(),
        "NotFoundException"
    );
    assert!(kms
        .list_aliases(None, 100, None)
        .await
        .unwrap()
        .items
        .is_empty());
    assert_eq!(
        kms.decrypt(&blob, &c, None, CALLER)
            .await
            .unwrap_err()
            .code(),
        "AccessDeniedException"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn aliases_listing_and_validation() {
    let (kms, _meta, dir) = service().await;
    let a = kms.create_key(CreateKeyInput::default()).await.unwrap();
    let b = kms.create_key(CreateKeyInput::default()).await.unwrap();
    kms.create_alias("alias/one", &a.key_id).await.unwrap();
    kms.create_alias("alias/two", &a.arn).await.unwrap();
    kms.create_alias("alias/three", &b.key_id).await.unwrap();
    let e = kms.create_alias("alias/one", &b.key_id).await.unwrap_err();
    assert_eq!(
        (e.code(), e.to_string()),
        (
            "AlreadyExistsException",
            "An alias with the name arn:aws:kms:us-east-1:000000000000:alias/one already exists"
                .to_string()
        )
    );
    for (name, code) in [
        ("one", "ValidationException"),
        ("alias/has space", "ValidationException"),
        ("alias/a:b", "ValidationException"),
        ("alias/aws/lambda", "NotAuthorizedException"),
    ] {
        assert_eq!(
            kms.create_alias(name, &a.key_id).await.unwrap_err().code(),
            code,
            "{name}"
        );
    }
    assert_eq!(
        kms.create_alias("alias/x", "alias/one")
            .await
            .unwrap_err()
            .code(),
        "ValidationException"
    );
    let page = kms.list_aliases(None, 2, None).await.unwrap();
    assert_eq!(page.items.len(), 2);
    let rest = kms
        .list_aliases(None, 2, page.next_marker.as_deref())
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert!(rest.next_marker.is_none());
    let of_a = kms.list_aliases(Some(&a.key_id), 100, None).await.unwrap();
    assert_eq!(of_a.items.len(), 2);
    kms.update_alias("alias/two", &b.key_id).await.unwrap();
    assert_eq!(
        kms.describe_key("alias/two").await.unwrap().key_id,
        b.key_id
    );
    kms.delete_alias("alias/two").await.unwrap();
    assert_eq!(
        kms.delete_alias("alias/two").await.unwrap_err().code(),
        "NotFoundException"
    );
    // ListKeys pagination in creation order.
    let p1 = kms.list_keys(1, None).await.unwrap();
    assert_eq!(p1.items[0].0, a.key_id);
    let p2 = kms.list_keys(1, p1.next_marker.as_deref()).await.unwrap();
    assert_eq!(p2.items[0].0, b.key_id);
    assert!(p2.next_marker.is_none());
    assert_eq!(
        kms.list_keys(1, Some("bogus")).await.unwrap_err().code(),
        "InvalidMarkerException"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn data_keys_and_key_use_events() {
    struct Log(StdMutex<Vec<String>>);
    impl KeyUseObserver for Log {
        fn key_used(&self, e: &KeyUse<'_>) {
            self.0.lock().unwrap().push(format!(
                "{} {} {} {}",
                e.operation.name(),
                e.key_id.unwrap_or("-"),
                e.purpose,
                e.error_code.unwrap_or("ok")
            ));
        }
    }
    let (kms, _meta, dir) = service().await;
    let log = Arc::new(Log(StdMutex::new(Vec::new())));
    kms.keyring().set_observer(log.clone());
    let key = kms.create_key(CreateKeyInput::default()).await.unwrap();
    let c = ctx(&[("fn", "f")]);
    let len = data_key_len(None, Some("AES_128")).unwrap();
    let dk = kms
        .generate_data_key(&key.key_id, len, &c, true, CALLER)
        .await
        .unwrap();
    assert_eq!(dk.key.plaintext.len(), 16);
    let (plain, _) = kms
        .decrypt(&dk.key.ciphertext_blob, &c, None, CALLER)
        .await
        .unwrap();
    assert_eq!(plain, dk.key.plaintext);
    assert_eq!(data_key_len(Some(64), None).unwrap(), 64);
    assert!(data_key_len(Some(0), None).is_err());
    assert!(data_key_len(Some(1025), None).is_err());
    assert!(data_key_len(None, None).is_err());
    assert!(data_key_len(Some(32), Some("AES_256")).is_err());
    assert!(data_key_len(None, Some("AES_512")).is_err());
    kms.disable_key(&key.key_id).await.unwrap();
    let _ = kms.encrypt(&key.key_id, b"x", &c, CALLER).await;
    let _ = kms.encrypt("alias/missing", b"x", &c, CALLER).await;
    let id = key.key_id.as_str();
    assert_eq!(
        *log.0.lock().unwrap(),
        vec![
            format!("GenerateDataKey {id} test ok"),
            format!("Decrypt {id} test ok"),
            format!("Encrypt {id} test DisabledException"),
            "Encrypt - test NotFoundException".to_string(),
        ]
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn policies_tags_and_re_encrypt() {
    let (kms, _meta, dir) = service().await;
    let a = kms
        .create_key(CreateKeyInput {
            tags: vec![("team".into(), "core".into())],
            ..Default::default()
        })
        .await
        .unwrap();
    let b = kms.create_key(CreateKeyInput::default()).await.unwrap();
    assert!(kms
        .get_key_policy(&a.key_id, None)
        .await
        .unwrap()
        .contains("arn:aws:iam::000000000000:root"));
    let doc = r#"{"Version":"2012-10-17","Statement":[]}"#;
    kms.put_key_policy(&a.key_id, Some("default"), doc)
        .await
        .unwrap();
    assert_eq!(kms.get_key_policy(&a.key_id, None).await.unwrap(), doc);
    assert_eq!(
        kms.put_key_policy(&a.key_id, None, "{")
            .await
            .unwrap_err()
            .code(),
        "MalformedPolicyDocumentException"
    );
    kms.tag_resource(&a.key_id, &[("env".into(), "prod".into())])
        .await
        .unwrap();
    kms.untag_resource(&a.key_id, &["team".into()])
        .await
        .unwrap();
    let tags = kms.list_resource_tags(&a.arn).await.unwrap();
    assert_eq!(
        tags.into_iter().collect::<Vec<_>>(),
        vec![("env".to_string(), "prod".to_string())]
    );
    assert_eq!(
        kms.tag_resource(&a.key_id, &[("aws:x".into(), "y".into())])
            .await
            .unwrap_err()
            .code(),
        "TagException"
    );

    let c1 = ctx(&[("from", "a")]);
    let c2 = ctx(&[("to", "b")]);
    let (blob, _) = kms
        .encrypt(&a.key_id, b"move me", &c1, CALLER)
        .await
        .unwrap();
    assert_eq!(
        kms.re_encrypt(&blob, &c1, None, "alias/none", &c2, CALLER)
            .await
            .unwrap_err()
            .code(),
        "NotFoundException"
    );
    let (moved, src, dst) = kms
        .re_encrypt(&blob, &c1, Some(&a.key_id), &b.arn, &c2, CALLER)
        .await
        .unwrap();
    assert_eq!((src, dst), (a.arn.clone(), b.arn.clone()));
    assert_eq!(parse_blob(&moved).unwrap().key_id, b.key_id);
    assert_eq!(
        kms.decrypt(&moved, &c2, None, CALLER).await.unwrap().0,
        b"move me"
    );
    assert_eq!(
        kms.re_encrypt(&blob, &c2, None, &b.key_id, &c2, CALLER)
            .await
            .unwrap_err()
            .code(),
        "InvalidCiphertextException"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// In-process latency of the key service (SQLite lookups + unseal + AES-GCM). Run with
/// `cargo nextest run -p ignis-store --release --run-ignored only bench_crypto_ops --no-capture`.
#[tokio::test]
#[ignore]
async fn bench_crypto_ops() {
    let (kms, _meta, dir) = service().await;
    let key = kms.create_key(CreateKeyInput::default()).await.unwrap();
    kms.create_alias("alias/bench", &key.key_id).await.unwrap();
    let c = ctx(&[("k", "v")]);
    let (blob, _) = kms
        .encrypt(&key.key_id, &[7u8; 1024], &c, CALLER)
        .await
        .unwrap();
    let n = 2000;
    let p50 = |mut v: Vec<u128>| {
        v.sort_unstable();
        (v[v.len() / 2], v[v.len() * 99 / 100])
    };
    let mut enc = Vec::new();
    let mut enc_alias = Vec::new();
    let mut dec = Vec::new();
    let mut gdk = Vec::new();
    for _ in 0..n {
        let t = std::time::Instant::now();
        kms.encrypt(&key.key_id, &[7u8; 1024], &c, CALLER)
            .await
            .unwrap();
        enc.push(t.elapsed().as_micros());
        let t = std::time::Instant::now();
        kms.encrypt("alias/bench", &[7u8; 1024], &c, CALLER)
            .await
            .unwrap();
        enc_alias.push(t.elapsed().as_micros());
        let t = std::time::Instant::now();
        kms.decrypt(&blob, &c, None, CALLER).await.unwrap();
        dec.push(t.elapsed().as_micros());
        let t = std::time::Instant::now();
        kms.generate_data_key(&key.key_id, 32, &c, true, CALLER)
            .await
            .unwrap();
        gdk.push(t.elapsed().as_micros());
    }
    for (name, v) in [
        ("Encrypt(key id, 1 KiB)", enc),
        ("Encrypt(alias, 1 KiB)", enc_alias),
        ("Decrypt(1 KiB)", dec),
        ("GenerateDataKey(AES_256)", gdk),
    ] {
        let (p50, p99) = p50(v);
        println!("{name}: p50 {p50} us, p99 {p99} us over {n}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
