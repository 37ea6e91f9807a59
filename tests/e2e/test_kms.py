"""The key service (KMS, JSON 1.1 `TrentService.*`) against the real server: boto3's `kms` client and
the aws CLI. Covers keys, aliases, encrypt/decrypt with encryption context, data keys, rotation, key
states and their AWS errors, and that key material never reaches the data dir in plaintext."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
import uuid

import pytest

from helpers import ACCOUNT, REGION, UUID_RE, expect_error, run_aws

KEY_ARN_PREFIX = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/"


@pytest.fixture(scope="module")
def kms(server):
    return server.client("kms")


@pytest.fixture(scope="module")
def kms_noval(server):
    return server.client("kms", validate=False)


def run_kms(srv, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """`aws kms ...` (CLI from the venv) against `srv`."""
    return run_aws(srv, *args, timeout=timeout, service="kms")


def ok(proc) -> dict:
    assert proc.returncode == 0, f"aws exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    return json.loads(proc.stdout) if proc.stdout.strip() else {}


def new_key(kms, **kw) -> dict:
    return kms.create_key(**kw)["KeyMetadata"]


def test_create_and_describe_key_fields(kms):
    before = time.time()
    md = new_key(kms, Description="e2e key")
    assert UUID_RE.match(md["KeyId"])
    assert md["Arn"] == KEY_ARN_PREFIX + md["KeyId"]
    assert md["AWSAccountId"] == ACCOUNT
    assert md["Description"] == "e2e key"
    assert md["Enabled"] is True
    assert md["KeyState"] == "Enabled"
    assert md["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert md["Origin"] == "AWS_KMS"
    assert md["KeyManager"] == "CUSTOMER"
    assert md["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert md["CustomerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert md["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert md["MultiRegion"] is False
    assert "DeletionDate" not in md
    assert len(md["CurrentKeyMaterialId"]) == 64
    # botocore parsed the epoch-seconds CreationDate into a datetime
    assert before - 5 <= md["CreationDate"].timestamp() <= time.time() + 5

    for ref in (md["KeyId"], md["Arn"]):
        got = kms.describe_key(KeyId=ref)["KeyMetadata"]
        assert got == md

    missing = str(uuid.uuid4())
    expect_error(lambda: kms.describe_key(KeyId=missing), "NotFoundException", 400,
                 f"Key '{KEY_ARN_PREFIX}{missing}' does not exist")
    expect_error(lambda: kms.describe_key(KeyId="not-a-key"), "NotFoundException", 400,
                 "Invalid keyId not-a-key")
    expect_error(lambda: kms.create_key(KeySpec="RSA_2048"), "UnsupportedOperationException", 400)


def test_list_keys_pagination(kms):
    made = {new_key(kms)["KeyId"] for _ in range(3)}
    seen, marker, pages = [], None, 0
    while True:
        kw = {"Limit": 2}
        if marker:
            kw["Marker"] = marker
        page = kms.list_keys(**kw)
        pages += 1
        assert len(page["Keys"]) <= 2
        for k in page["Keys"]:
            assert k["KeyArn"] == KEY_ARN_PREFIX + k["KeyId"]
        seen += [k["KeyId"] for k in page["Keys"]]
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        marker = page["NextMarker"]
    assert made <= set(seen)
    assert len(seen) == len(set(seen))
    assert pages >= 2
    expect_error(lambda: kms.list_keys(Marker="garbage"), "InvalidMarkerException", 400)


def test_encrypt_decrypt_context_and_key_forms(kms):
    md = new_key(kms)
    alias = f"alias/e2e-{uuid.uuid4().hex[:8]}"
    kms.create_alias(AliasName=alias, TargetKeyId=md["KeyId"])
    ctx = {"purpose": "e2e", "tenant": "t1"}
    refs = [md["KeyId"], md["Arn"], alias, f"arn:aws:kms:{REGION}:{ACCOUNT}:{alias}"]
    for ref in refs:
        out = kms.encrypt(KeyId=ref, Plaintext=b"top secret \x00\xff", EncryptionContext=ctx)
        assert out["KeyId"] == md["Arn"]
        assert out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
        blob = out["CiphertextBlob"]
        assert b"top secret" not in blob
        dec = kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)
        assert dec["Plaintext"] == b"top secret \x00\xff"
        assert dec["KeyId"] == md["Arn"]
        assert dec["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
        assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx, KeyId=ref)["Plaintext"] == b"top secret \x00\xff"
        # the wrong or a missing context is refused
        expect_error(lambda: kms.decrypt(CiphertextBlob=blob, EncryptionContext={"purpose": "other", "tenant": "t1"}),
                     "InvalidCiphertextException", 400)
        expect_error(lambda: kms.decrypt(CiphertextBlob=blob), "InvalidCiphertextException", 400)

    # tampering one byte anywhere is refused
    blob = kms.encrypt(KeyId=md["KeyId"], Plaintext=b"x" * 100)["CiphertextBlob"]
    for i in (0, 22, 30, len(blob) // 2, len(blob) - 1):
        bad = bytearray(blob)
        bad[i] ^= 0x01
        expect_error(lambda: kms.decrypt(CiphertextBlob=bytes(bad)), "InvalidCiphertextException", 400)
    # a blob naming a key that does not exist here (bytes 4..20 carry the key id)
    bad = bytearray(blob)
    bad[10] ^= 0x01
    expect_error(lambda: kms.decrypt(CiphertextBlob=bytes(bad)), "AccessDeniedException", 400,
                 "The ciphertext refers to a customer master key that does not exist")
    expect_error(lambda: kms.decrypt(CiphertextBlob=b"not a ciphertext blob at all!!!!!!!!!!!!!!!!!!!"),
                 "InvalidCiphertextException", 400)

    # Decrypt naming another key
    other = new_key(kms)
    expect_error(lambda: kms.decrypt(CiphertextBlob=blob, KeyId=other["KeyId"]), "IncorrectKeyException", 400)
    # unknown alias
    expect_error(lambda: kms.encrypt(KeyId="alias/does-not-exist", Plaintext=b"x"), "NotFoundException", 400,
                 f"Alias arn:aws:kms:{REGION}:{ACCOUNT}:alias/does-not-exist is not found.")


def test_plaintext_limits(kms, kms_noval):
    md = new_key(kms)
    kms.encrypt(KeyId=md["KeyId"], Plaintext=b"a" * 4096)
    expect_error(lambda: kms_noval.encrypt(KeyId=md["KeyId"], Plaintext=b"a" * 4097), "ValidationException", 400,
                 "plaintext")
    expect_error(lambda: kms_noval.encrypt(KeyId=md["KeyId"], Plaintext=b""), "ValidationException", 400)


def test_generate_data_key(kms):
    md = new_key(kms)
    ctx = {"fn": "my-function"}
    dk = kms.generate_data_key(KeyId=md["KeyId"], KeySpec="AES_256", EncryptionContext=ctx)
    assert len(dk["Plaintext"]) == 32
    assert dk["KeyId"] == md["Arn"]
    assert len(dk["KeyMaterialId"]) == 64
    dec = kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext=ctx)
    assert dec["Plaintext"] == dk["Plaintext"]
    assert len(kms.generate_data_key(KeyId=md["KeyId"], KeySpec="AES_128")["Plaintext"]) == 16
    assert len(kms.generate_data_key(KeyId=md["KeyId"], NumberOfBytes=64)["Plaintext"]) == 64
    expect_error(lambda: kms.generate_data_key(KeyId=md["KeyId"]), "ValidationException", 400)
    expect_error(lambda: kms.generate_data_key(KeyId=md["KeyId"], KeySpec="AES_256", NumberOfBytes=32),
                 "ValidationException", 400)
    wp = kms.generate_data_key_without_plaintext(KeyId=md["KeyId"], KeySpec="AES_256")
    assert "Plaintext" not in wp
    assert len(kms.decrypt(CiphertextBlob=wp["CiphertextBlob"])["Plaintext"]) == 32


def test_aliases(kms):
    a, b = new_key(kms), new_key(kms)
    name = f"alias/e2e-{uuid.uuid4().hex[:8]}"
    kms.create_alias(AliasName=name, TargetKeyId=a["Arn"])
    expect_error(lambda: kms.create_alias(AliasName=name, TargetKeyId=b["KeyId"]), "AlreadyExistsException", 400,
                 f"An alias with the name arn:aws:kms:{REGION}:{ACCOUNT}:{name} already exists")
    expect_error(lambda: kms.create_alias(AliasName="no-prefix", TargetKeyId=a["KeyId"]), "ValidationException", 400,
                 'Alias must start with the prefix "alias/"')
    expect_error(lambda: kms.create_alias(AliasName="alias/aws/lambda", TargetKeyId=a["KeyId"]),
                 "NotAuthorizedException", 400)
    expect_error(lambda: kms.create_alias(AliasName=name + "-2", TargetKeyId=str(uuid.uuid4())),
                 "NotFoundException", 400)

    listed = kms.list_aliases(KeyId=a["KeyId"])["Aliases"]
    assert [x["AliasName"] for x in listed] == [name]
    entry = listed[0]
    assert entry["AliasArn"] == f"arn:aws:kms:{REGION}:{ACCOUNT}:{name}"
    assert entry["TargetKeyId"] == a["KeyId"]
    assert "CreationDate" in entry and "LastUpdatedDate" in entry
    assert name in [x["AliasName"] for x in kms.list_aliases()["Aliases"]]

    kms.update_alias(AliasName=name, TargetKeyId=b["KeyId"])
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == b["KeyId"]
    kms.delete_alias(AliasName=name)
    expect_error(lambda: kms.delete_alias(AliasName=name), "NotFoundException", 400)
    expect_error(lambda: kms.describe_key(KeyId=name), "NotFoundException", 400)


def test_disable_enable_and_errors(kms):
    md = new_key(kms)
    blob = kms.encrypt(KeyId=md["KeyId"], Plaintext=b"keep me")["CiphertextBlob"]
    kms.disable_key(KeyId=md["KeyId"])
    d = kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]
    assert (d["Enabled"], d["KeyState"]) == (False, "Disabled")
    msg = f"{md['Arn']} is disabled."
    expect_error(lambda: kms.encrypt(KeyId=md["KeyId"], Plaintext=b"x"), "DisabledException", 400, msg)
    expect_error(lambda: kms.decrypt(CiphertextBlob=blob), "DisabledException", 400, msg)
    expect_error(lambda: kms.generate_data_key(KeyId=md["KeyId"], KeySpec="AES_256"), "DisabledException", 400, msg)
    expect_error(lambda: kms.enable_key_rotation(KeyId=md["KeyId"]), "DisabledException", 400, msg)
    kms.enable_key(KeyId=md["KeyId"])
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"keep me"


def test_schedule_and_cancel_deletion(kms):
    md = new_key(kms)
    blob = kms.encrypt(KeyId=md["KeyId"], Plaintext=b"soon gone")["CiphertextBlob"]
    expect_error(lambda: kms.schedule_key_deletion(KeyId=md["KeyId"], PendingWindowInDays=5),
                 "ValidationException", 400, "pendingWindowInDays")
    expect_error(lambda: kms.schedule_key_deletion(KeyId=md["KeyId"], PendingWindowInDays=31),
                 "ValidationException", 400)
    now = time.time()
    out = kms.schedule_key_deletion(KeyId=md["KeyId"], PendingWindowInDays=7)
    assert out["KeyId"] == md["Arn"]
    assert out["KeyState"] == "PendingDeletion"
    assert out["PendingWindowInDays"] == 7
    assert abs(out["DeletionDate"].timestamp() - (now + 7 * 86400)) < 60
    d = kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]
    assert d["KeyState"] == "PendingDeletion" and d["Enabled"] is False
    assert "DeletionDate" in d and d["PendingDeletionWindowInDays"] == 7
    msg = f"{md['Arn']} is pending deletion."
    expect_error(lambda: kms.decrypt(CiphertextBlob=blob), "KMSInvalidStateException", 400, msg)
    expect_error(lambda: kms.encrypt(KeyId=md["KeyId"], Plaintext=b"x"), "KMSInvalidStateException", 400, msg)
    expect_error(lambda: kms.enable_key(KeyId=md["KeyId"]), "KMSInvalidStateException", 400, msg)
    expect_error(lambda: kms.schedule_key_deletion(KeyId=md["KeyId"]), "KMSInvalidStateException", 400, msg)

    assert kms.cancel_key_deletion(KeyId=md["KeyId"])["KeyId"] == md["Arn"]
    d = kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]
    assert d["KeyState"] == "Disabled" and "DeletionDate" not in d
    kms.enable_key(KeyId=md["KeyId"])
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"soon gone"

    # default window is 30 days
    out = kms.schedule_key_deletion(KeyId=md["KeyId"])
    assert out["PendingWindowInDays"] == 30


def test_rotation_keeps_old_ciphertexts(kms, kms_noval):
    md = new_key(kms)
    assert kms.get_key_rotation_status(KeyId=md["KeyId"])["KeyRotationEnabled"] is False
    old = kms.encrypt(KeyId=md["KeyId"], Plaintext=b"before rotation")["CiphertextBlob"]
    kms.enable_key_rotation(KeyId=md["KeyId"])
    st = kms.get_key_rotation_status(KeyId=md["KeyId"])
    assert st["KeyRotationEnabled"] is True
    assert st["RotationPeriodInDays"] == 365
    assert st["KeyId"] == md["KeyId"]
    assert abs(st["NextRotationDate"].timestamp() - (time.time() + 365 * 86400)) < 60

    kms.rotate_key_on_demand(KeyId=md["KeyId"])
    after = kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]
    assert after["CurrentKeyMaterialId"] != md["CurrentKeyMaterialId"]
    new = kms.encrypt(KeyId=md["KeyId"], Plaintext=b"after rotation")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"before rotation"
    assert kms.decrypt(CiphertextBlob=new)["Plaintext"] == b"after rotation"
    assert kms.decrypt(CiphertextBlob=old)["KeyMaterialId"] == md["CurrentKeyMaterialId"]
    rot = kms.list_key_rotations(KeyId=md["KeyId"])["Rotations"]
    assert [r["RotationType"] for r in rot] == ["ON_DEMAND"]

    kms.disable_key_rotation(KeyId=md["KeyId"])
    assert kms.get_key_rotation_status(KeyId=md["KeyId"])["KeyRotationEnabled"] is False
    expect_error(lambda: kms_noval.enable_key_rotation(KeyId=md["KeyId"], RotationPeriodInDays=30),
                 "ValidationException", 400)


def test_missing_required_member(kms_noval):
    expect_error(lambda: kms_noval.describe_key(), "ValidationException", 400, "keyId")


def test_aws_cli_round_trip(server, tmp_path):
    md = ok(run_kms(server, "create-key", "--description", "from cli"))["KeyMetadata"]
    assert md["Description"] == "from cli"
    assert md["KeyState"] == "Enabled"
    alias = f"alias/cli-{uuid.uuid4().hex[:8]}"
    ok(run_kms(server, "create-alias", "--alias-name", alias, "--target-key-id", md["KeyId"]))
    aliases = ok(run_kms(server, "list-aliases", "--key-id", md["KeyId"]))["Aliases"]
    assert [a["AliasName"] for a in aliases] == [alias]

    plain = tmp_path / "plain.bin"
    data = b"cli secret \x00\x01\x02" + os.urandom(64)
    plain.write_bytes(data)
    enc = ok(run_kms(server, "encrypt", "--key-id", alias, "--plaintext", f"fileb://{plain}",
                     "--encryption-context", "app=cli"))
    assert enc["KeyId"] == md["Arn"]
    cipher = tmp_path / "cipher.bin"
    cipher.write_bytes(base64.b64decode(enc["CiphertextBlob"]))
    dec = ok(run_kms(server, "decrypt", "--ciphertext-blob", f"fileb://{cipher}",
                     "--encryption-context", "app=cli"))
    assert base64.b64decode(dec["Plaintext"]) == data
    bad = run_kms(server, "decrypt", "--ciphertext-blob", f"fileb://{cipher}", "--encryption-context", "app=other")
    assert bad.returncode != 0 and "InvalidCiphertextException" in bad.stderr

    described = ok(run_kms(server, "describe-key", "--key-id", alias))["KeyMetadata"]
    assert described["KeyId"] == md["KeyId"]
    assert described["Arn"] == md["Arn"]
    ok(run_kms(server, "enable-key-rotation", "--key-id", md["KeyId"]))
    assert ok(run_kms(server, "get-key-rotation-status", "--key-id", md["KeyId"]))["KeyRotationEnabled"] is True
    dk = ok(run_kms(server, "generate-data-key", "--key-id", md["KeyId"], "--key-spec", "AES_256"))
    assert len(base64.b64decode(dk["Plaintext"])) == 32

    ok(run_kms(server, "disable-key", "--key-id", md["KeyId"]))
    res = run_kms(server, "encrypt", "--key-id", md["KeyId"], "--plaintext", f"fileb://{plain}")
    assert res.returncode != 0 and "DisabledException" in res.stderr and "is disabled." in res.stderr
    ok(run_kms(server, "enable-key", "--key-id", md["KeyId"]))

    sched = ok(run_kms(server, "schedule-key-deletion", "--key-id", md["KeyId"], "--pending-window-in-days", "7"))
    assert sched["KeyState"] == "PendingDeletion"
    res = run_kms(server, "decrypt", "--ciphertext-blob", f"fileb://{cipher}", "--encryption-context", "app=cli")
    assert res.returncode != 0 and "KMSInvalidStateException" in res.stderr
    ok(run_kms(server, "cancel-key-deletion", "--key-id", md["KeyId"]))
    keys = ok(run_kms(server, "list-keys"))["Keys"]
    assert md["KeyId"] in [k["KeyId"] for k in keys]


def test_keys_survive_restart_and_material_is_sealed(fresh_server):
    srv = fresh_server()
    kms = srv.client("kms")
    md = new_key(kms)
    kms.create_alias(AliasName="alias/durable", TargetKeyId=md["KeyId"])
    blob = kms.encrypt(KeyId="alias/durable", Plaintext=b"durable")["CiphertextBlob"]
    dk = kms.generate_data_key(KeyId=md["KeyId"], KeySpec="AES_256")
    kms.rotate_key_on_demand(KeyId=md["KeyId"])
    srv.restart()
    kms = srv.client("kms")
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"durable"
    assert kms.describe_key(KeyId="alias/durable")["KeyMetadata"]["KeyId"] == md["KeyId"]
    # the plaintext data key never reached the data dir (database, WAL, logs)
    needle = dk["Plaintext"]
    for root, _, files in os.walk(srv.data_dir):
        for f in files:
            path = os.path.join(root, f)
            if os.path.islink(path) or not os.path.isfile(path):
                continue  # the sandbox's rootfs links and mount points
            with open(path, "rb") as fh:
                assert needle not in fh.read(), f"plaintext data key found in {path}"


def test_policies_tags_and_re_encrypt(kms):
    md = new_key(kms, Tags=[{"TagKey": "team", "TagValue": "core"}])
    other = new_key(kms)
    pol = json.loads(kms.get_key_policy(KeyId=md["KeyId"], PolicyName="default")["Policy"])
    assert pol["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert pol["Statement"][0]["Action"] == "kms:*"
    assert kms.list_key_policies(KeyId=md["KeyId"])["PolicyNames"] == ["default"]
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                               "Action": "kms:Decrypt", "Resource": "*"}]})
    kms.put_key_policy(KeyId=md["KeyId"], PolicyName="default", Policy=doc)
    assert kms.get_key_policy(KeyId=md["KeyId"], PolicyName="default")["Policy"] == doc
    expect_error(lambda: kms.put_key_policy(KeyId=md["KeyId"], PolicyName="default", Policy="{not json"),
                 "MalformedPolicyDocumentException", 400)

    kms.tag_resource(KeyId=md["KeyId"], Tags=[{"TagKey": "env", "TagValue": "prod"}])
    kms.untag_resource(KeyId=md["KeyId"], TagKeys=["team"])
    tags = kms.list_resource_tags(KeyId=md["Arn"])
    assert tags["Tags"] == [{"TagKey": "env", "TagValue": "prod"}] and tags["Truncated"] is False
    expect_error(lambda: kms.tag_resource(KeyId=md["KeyId"], Tags=[{"TagKey": "aws:x", "TagValue": "y"}]),
                 "TagException", 400)

    blob = kms.encrypt(KeyId=md["KeyId"], Plaintext=b"move me", EncryptionContext={"a": "1"})["CiphertextBlob"]
    out = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"a": "1"},
                         DestinationKeyId=other["Arn"], DestinationEncryptionContext={"b": "2"})
    assert out["SourceKeyId"] == md["Arn"] and out["KeyId"] == other["Arn"]
    assert out["SourceEncryptionAlgorithm"] == out["DestinationEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    dec = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"b": "2"})
    assert (dec["Plaintext"], dec["KeyId"]) == (b"move me", other["Arn"])
    expect_error(lambda: kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=other["KeyId"]),
                 "InvalidCiphertextException", 400)


ENV_ECHO = "import os\ndef handler(event, context):\n    return os.environ.get('SECRET')\n"


def test_function_with_customer_key_fails_while_the_key_is_disabled(server, kms, lam, cleanup):
    import io
    import zipfile
    from helpers import ROLE, unique

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", ENV_ECHO)
    key = kms.create_key(Description="function key")["KeyMetadata"]["Arn"]
    name = unique("kmsfn")
    cleanup.append(name)
    created = lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                                  Code={"ZipFile": buf.getvalue()}, KMSKeyArn=key,
                                  Environment={"Variables": {"SECRET": "v1"}})
    assert created["KMSKeyArn"] == key
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == "v1"

    kms.disable_key(KeyId=key)
    expect_error(lambda: lam.invoke(FunctionName=name), "KMSDisabledException", 502)
    kms.enable_key(KeyId=key)
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == "v1"

    # A key that does not exist is refused when configured, as Lambda's CreateGrant fails.
    missing = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{uuid.uuid4()}"
    expect_error(lambda: lam.update_function_configuration(FunctionName=name, KMSKeyArn=missing),
                 "InvalidParameterValueException", 400, "KMS key is invalid for CreateGrant")
