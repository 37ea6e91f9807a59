"""Audit trail: every API call recorded CloudTrail-style (caller, source, operation, parameters with
secrets redacted, errors), queried with CloudTrail's LookupEvents (boto3 and the aws CLI), and
`ignis audit verify` detecting tampering."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from helpers import IGNIS_BIN, ROLE, RUNTIME, HANDLER, code_zip, function_arn, run_aws, unique

SECRET = "s3cr3t-value-never-logged"


def lookup(ct, key: str, value: str, **kw) -> list[dict]:
    return ct.lookup_events(LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}], **kw)["Events"]


def verify(srv) -> subprocess.CompletedProcess:
    return subprocess.run([str(IGNIS_BIN), "audit", "verify", "--data-dir", str(srv.data_dir)],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def audited(fresh_server):
    srv = fresh_server({"IGNIS_AUDIT_DIGEST_INTERVAL": "1"})
    lam = srv.client()
    name = unique("aud")
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler=HANDLER,
                        Code={"ZipFile": code_zip()}, Environment={"Variables": {"DB_PASSWORD": SECRET}})
    lam.get_function(FunctionName=name)
    with pytest.raises(ClientError):
        lam.get_function(FunctionName=name + "-missing")
    bad = srv.client(secret_key="not-the-secret-not-the-secret-000000")
    with pytest.raises(ClientError):
        bad.list_functions()
    return srv, name


def test_calls_are_recorded_and_looked_up(audited):
    srv, name = audited
    ct = srv.client("cloudtrail")
    created = lookup(ct, "EventName", "CreateFunction")
    assert len(created) == 1
    ev = created[0]
    assert ev["EventSource"] == "lambda.amazonaws.com"
    assert ev["ReadOnly"] == "false"
    assert ev["Username"] == "root"
    assert ev["AccessKeyId"] == srv.credentials[0]
    assert {"ResourceType": "AWS::Lambda::Function", "ResourceName": function_arn(name)} in ev["Resources"]
    record = json.loads(ev["CloudTrailEvent"])
    assert record["eventName"] == "CreateFunction"
    assert record["userIdentity"]["type"] == "Root"
    assert record["sourceIPAddress"] == "127.0.0.1"
    assert "Boto3" in record["userAgent"] or "boto" in record["userAgent"].lower()
    assert record["requestParameters"]["FunctionName"] == name
    assert record["responseElements"]["FunctionArn"] == function_arn(name)
    assert record["eventID"] == ev["EventId"]
    assert SECRET not in ev["CloudTrailEvent"]

    # The failed call is recorded with its error code; reads are ReadOnly.
    gets = lookup(ct, "EventName", "GetFunction")
    assert len(gets) == 2
    codes = sorted(json.loads(g["CloudTrailEvent"]).get("errorCode", "") for g in gets)
    assert codes == ["", "ResourceNotFoundException"]
    assert all(g["ReadOnly"] == "true" for g in gets)
    # Newest first.
    assert gets[0]["EventTime"] >= gets[1]["EventTime"]

    # A request with a bad signature is recorded too, without an identity.
    lists = lookup(ct, "EventName", "ListFunctions")
    assert any(json.loads(e["CloudTrailEvent"]).get("errorCode") == "InvalidSignatureException" for e in lists)

    # Time range and paging.
    now = time.time()
    assert lookup(ct, "EventName", "CreateFunction", StartTime=now + 3600) == []
    page = ct.lookup_events(MaxResults=1)
    assert len(page["Events"]) == 1 and page.get("NextToken")
    page2 = ct.lookup_events(MaxResults=1, NextToken=page["NextToken"])
    assert page2["Events"][0]["EventId"] != page["Events"][0]["EventId"]


def test_lookup_errors(audited):
    srv, _ = audited
    ct = srv.client("cloudtrail", validate=False)
    with pytest.raises(ClientError) as e:
        ct.lookup_events(MaxResults=100)
    assert e.value.response["Error"]["Code"] == "InvalidMaxResultsException"
    with pytest.raises(ClientError) as e:
        ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "a"},
                                           {"AttributeKey": "Username", "AttributeValue": "b"}])
    assert e.value.response["Error"]["Code"] == "InvalidLookupAttributesException"
    with pytest.raises(ClientError) as e:
        ct.lookup_events(StartTime=time.time(), EndTime=time.time() - 3600)
    assert e.value.response["Error"]["Code"] == "InvalidTimeRangeException"


def test_aws_cli_lookup_events(audited):
    srv, name = audited
    proc = run_aws(srv, "lookup-events", "--lookup-attributes",
                   "AttributeKey=EventName,AttributeValue=CreateFunction", service="cloudtrail")
    assert proc.returncode == 0, proc.stderr
    events = json.loads(proc.stdout)["Events"]
    assert [json.loads(e["CloudTrailEvent"])["requestParameters"]["FunctionName"] for e in events] == [name]


def test_no_secret_reaches_the_trail_files(audited):
    srv, _ = audited
    srv.stop()
    for path in (srv.data_dir / "audit").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_verify_detects_tampering(audited):
    srv, _ = audited
    assert srv.stop() == 0
    ok = verify(srv)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "intact" in ok.stdout
    assert len(list((srv.data_dir / "audit" / "digests").glob("*.json"))) >= 1

    segment = sorted((srv.data_dir / "audit" / "records").glob("*.jsonl"))[0]
    lines = segment.read_text().splitlines()
    victim = json.loads(lines[0])["record"]["eventID"]
    lines[0] = lines[0].replace('"readOnly":false', '"readOnly":true')
    assert lines[0] != segment.read_text().splitlines()[0]
    segment.write_text("\n".join(lines) + "\n")
    bad = verify(srv)
    assert bad.returncode == 1, bad.stdout
    assert "TAMPERED" in bad.stdout and victim in bad.stdout


def test_key_file_is_sealed_and_private(audited):
    srv, _ = audited
    key = srv.data_dir / "audit" / "signing.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert b"PRIVATE KEY" not in key.read_bytes()
    pub = (srv.data_dir / "audit" / "signing.pub").read_text().strip()
    assert pub in srv.log_tail(400)


def test_configuration_history_survives_deletion(audited):
    srv, name = audited
    lam = srv.client()
    lam.update_function_configuration(FunctionName=name, Timeout=7,
                                      Environment={"Variables": {"DB_PASSWORD": SECRET, "MODE": "x"}})
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.add_permission(FunctionName=name, StatementId="s1", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com")
    lam.delete_alias(FunctionName=name, Name="live")
    lam.delete_function(FunctionName=name)

    cfg = srv.client("config")
    items = cfg.get_resource_config_history(resourceType="AWS::Lambda::Function", resourceId=name,
                                            limit=100)["configurationItems"]
    statuses = [i["configurationItemStatus"] for i in items]
    assert statuses[0] == "ResourceDeleted" and statuses[-1] == "ResourceDiscovered", statuses
    assert len(items) == 7  # create, update, publish, alias, permission, alias delete, delete
    assert [int(i["configurationStateId"]) for i in items] == list(range(7, 0, -1))
    assert all(i["arn"] == function_arn(name) and i["resourceType"] == "AWS::Lambda::Function" for i in items)
    by_event = {json.loads(i["configuration"])["Timeout"] for i in items[1:] if "configuration" in i}
    assert by_event == {3, 7}
    with_alias = [i for i in items if "live" in i.get("supplementaryConfiguration", {}).get("Aliases", "")]
    assert with_alias, "an item records the alias"
    assert any("s3.amazonaws.com" in i.get("supplementaryConfiguration", {}).get("Policy", "") for i in items)
    for i in items:
        assert SECRET not in json.dumps(i, default=str)
    forward = cfg.get_resource_config_history(resourceType="AWS::Lambda::Function", resourceId=name,
                                              chronologicalOrder="Forward", limit=2)
    assert [i["configurationStateId"] for i in forward["configurationItems"]] == ["1", "2"]
    assert forward.get("nextToken")
    # Each item names the audit event that caused it.
    ct = srv.client("cloudtrail")
    event = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventId",
                                                "AttributeValue": items[0]["relatedEvents"][0]}])["Events"]
    assert event and event[0]["EventName"] == "DeleteFunction"

    with pytest.raises(ClientError) as e:
        cfg.get_resource_config_history(resourceType="AWS::Lambda::Function", resourceId="never-existed")
    assert e.value.response["Error"]["Code"] == "ResourceNotDiscoveredException"

    out = subprocess.run([str(IGNIS_BIN), "history", name, "--data-dir", str(srv.data_dir)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "ResourceDeleted" in out.stdout and "ResourceDiscovered" in out.stdout
    assert len(out.stdout.strip().splitlines()) == 8
