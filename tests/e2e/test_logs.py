"""Function logs through the CloudWatch Logs API, and /metrics, against the real server.

boto3's `logs` client and the aws CLI read what real invocations printed: log groups
`/aws/lambda/NAME`, a stream per execution environment, START/END/REPORT and user lines, pagination,
filter patterns, retention, and the error shapes of botocore's logs model. `aws logs tail --follow`
is a CLI v2 command (the suite pins CLI v1): its polling protocol (FilterLogEvents with
`interleaved`, `startTime` moved to the newest timestamp, de-duplication by `eventId`) is replayed
here call for call.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections import defaultdict

import pytest
from botocore.exceptions import ClientError

from helpers import (
    REGION,
    create_function,
    expect_error,
    http_get,
    make_zip,
    run_aws,
    unique,
    wait_ready,
)

PRINTER = """
import json

def handler(event, context):
    for line in event.get("lines", []):
        print(line)
    if event.get("fail"):
        raise RuntimeError("boom " + event.get("tag", ""))
    return {"ok": True}
"""

STREAM_RE = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")


@pytest.fixture(scope="module")
def logs(server):
    return server.client("logs")


@pytest.fixture
def printer(lam, cleanup):
    name = unique("logs")
    create_function(lam, name, zip_bytes=make_zip({"index.py": PRINTER}))
    wait_ready(lam, name)
    cleanup.append(name)
    return name


def invoke(lam, name, payload, **kw):
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(payload).encode(), **kw)
    body = resp["Payload"].read()
    return resp, body


def all_events(logs, group, **kw):
    out = []
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group, **kw):
        out.extend(page["events"])
    return out


def test_group_stream_and_lines_after_invokes(lam, logs, printer):
    marker = f"MARK-{uuid.uuid4().hex}"
    resp, _ = invoke(lam, printer, {"lines": [f"hello {marker}", "second line"]}, LogType="Tail")
    tail = base64.b64decode(resp["LogResult"]).decode()
    assert marker in tail and "REPORT RequestId:" in tail, tail
    group = f"/aws/lambda/{printer}"

    groups = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [group]
    g = groups[0]
    assert g["arn"] == f"arn:aws:logs:{REGION}:000000000000:log-group:{group}:*"
    assert g["storedBytes"] > 0 and "retentionInDays" not in g
    assert abs(g["creationTime"] / 1000 - time.time()) < 120

    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert len(streams) == 1, streams
    stream = streams[0]["logStreamName"]
    assert STREAM_RE.match(stream), stream
    assert streams[0]["lastEventTimestamp"] >= streams[0]["firstEventTimestamp"]

    events = all_events(logs, group)
    messages = [e["message"] for e in events]
    assert messages[0].startswith("START RequestId: ") and messages[0].endswith(" Version: $LATEST\n")
    assert f"hello {marker}\n" in messages and "second line\n" in messages
    assert any(m.startswith("END RequestId: ") for m in messages)
    report = [m for m in messages if m.startswith("REPORT RequestId: ")]
    assert len(report) == 1 and "Billed Duration:" in report[0] and "Init Duration:" in report[0]
    assert all(e["logStreamName"] == stream for e in events)
    assert len({e["eventId"] for e in events}) == len(events)
    # The stored START line is the one the Invoke response's log tail showed.
    assert messages[0] in tail

    found = logs.filter_log_events(logGroupName=group, filterPattern=marker)["events"]
    assert [e["message"] for e in found] == [f"hello {marker}\n"]
    phrase = logs.filter_log_events(logGroupName=group, filterPattern='"second line"')["events"]
    assert [e["message"] for e in phrase] == ["second line\n"]
    either = logs.filter_log_events(logGroupName=group, filterPattern="?START ?END")["events"]
    assert len(either) == 2
    assert logs.filter_log_events(logGroupName=group, filterPattern=f"{marker} nothere")["events"] == []


def test_warm_invokes_share_a_stream_and_errors_are_logged(lam, logs, printer):
    for i in range(3):
        invoke(lam, printer, {"lines": [f"warm-{i}"]})
    _, body = invoke(lam, printer, {"fail": True, "tag": "T1"})
    assert b"boom T1" in body
    group = f"/aws/lambda/{printer}"
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert len(streams) == 1
    messages = [e["message"] for e in all_events(logs, group)]
    assert [m for m in messages if m.startswith("warm-")] == ["warm-0\n", "warm-1\n", "warm-2\n"]
    assert sum(m.startswith("START ") for m in messages) == 4
    assert sum(m.startswith("REPORT ") for m in messages) == 4
    assert any("boom T1" in m for m in messages), messages


def test_get_log_events_pagination(lam, logs, printer):
    lines = [f"line-{i:02d}" for i in range(7)]
    invoke(lam, printer, {"lines": lines})
    group = f"/aws/lambda/{printer}"
    stream = logs.describe_log_streams(logGroupName=group)["logStreams"][0]["logStreamName"]

    seen, token = [], None
    for _ in range(50):
        kw = {"nextToken": token} if token else {}
        page = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True, limit=3, **kw)
        assert len(page["events"]) <= 3
        seen.extend(e["message"] for e in page["events"])
        if page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    else:
        raise AssertionError("GetLogEvents pagination did not end")
    assert [m for m in seen if m.startswith("line-")] == [f"{line}\n" for line in lines]
    assert seen[0].startswith("START ") and seen[-1].startswith("REPORT ")

    # Default direction: the newest events; the backward token walks to older ones.
    newest = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=2)
    assert [e["message"][:4] for e in newest["events"]] == ["END ", "REPO"]
    older = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=2,
                                nextToken=newest["nextBackwardToken"])
    assert [e["message"] for e in older["events"]] == ["line-05\n", "line-06\n"]

    # FilterLogEvents pages through nextToken.
    pages = list(logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, filterPattern="line", PaginationConfig={"PageSize": 2}))
    assert len(pages) == 4
    assert [e["message"] for p in pages for e in p["events"]] == [f"{line}\n" for line in lines]


def test_tail_follow_protocol(lam, logs, printer):
    """The calls `aws logs tail GROUP --follow` (CLI v2, customizations/logs/tail.py) makes."""
    group = f"/aws/lambda/{printer}"
    first, second = f"FIRST-{uuid.uuid4().hex}", f"SECOND-{uuid.uuid4().hex}"
    invoke(lam, printer, {"lines": [first]})
    kwargs = {"logGroupName": group, "interleaved": True,
              "startTime": int((time.time() - 600) * 1000)}
    seen_ids: dict[int, set] = defaultdict(set)
    yielded: list[dict] = []
    polls = 0
    while polls < 8:
        resp = logs.filter_log_events(**kwargs)
        for event in resp["events"]:
            if event["eventId"] not in seen_ids[event["timestamp"]]:
                seen_ids[event["timestamp"]].add(event["eventId"])
                yielded.append(event)
        if seen_ids:
            newest = max(seen_ids)
            seen_ids = defaultdict(set, {newest: seen_ids[newest]})
        if "nextToken" in resp:
            kwargs["nextToken"] = resp["nextToken"]
            continue
        if seen_ids:
            kwargs["startTime"] = max(seen_ids)
        kwargs.pop("nextToken", None)
        polls += 1
        if polls == 2:
            invoke(lam, printer, {"lines": [second]})
        if any(second in e["message"] for e in yielded):
            break
        time.sleep(0.2)
    messages = [e["message"] for e in yielded]
    assert f"{first}\n" in messages and f"{second}\n" in messages, messages
    assert messages.index(f"{first}\n") < messages.index(f"{second}\n")
    assert len(messages) == len({(e["timestamp"], e["eventId"]) for e in yielded}), "duplicates"
    assert sum(m.startswith("START ") for m in messages) == 2


def run_aws_logs(srv, *args, timeout=60.0):
    return run_aws(srv, *args, timeout=timeout, service="logs")


def test_aws_cli_filter_log_events_and_describe(server, lam, printer):
    marker = f"CLI-{uuid.uuid4().hex}"
    invoke(lam, printer, {"lines": [f"from cli test {marker}"]})
    group = f"/aws/lambda/{printer}"
    out = run_aws_logs(server, "filter-log-events", "--log-group-name", group, "--interleaved",
                       "--start-time", str(int((time.time() - 600) * 1000)))
    assert out.returncode == 0, out.stderr
    messages = [e["message"] for e in json.loads(out.stdout)["events"]]
    assert f"from cli test {marker}\n" in messages
    assert any(m.startswith("START RequestId:") for m in messages)
    assert any(m.startswith("END RequestId:") for m in messages)
    assert any(m.startswith("REPORT RequestId:") for m in messages)
    out = run_aws_logs(server, "filter-log-events", "--log-group-name", group, "--filter-pattern", marker)
    assert out.returncode == 0, out.stderr
    assert [e["message"] for e in json.loads(out.stdout)["events"]] == [f"from cli test {marker}\n"]
    out = run_aws_logs(server, "describe-log-groups", "--log-group-name-prefix", group)
    assert out.returncode == 0, out.stderr
    assert [g["logGroupName"] for g in json.loads(out.stdout)["logGroups"]] == [group]
    out = run_aws_logs(server, "describe-log-groups", "--log-group-name-prefix", "/aws/lambda/none-such")
    assert out.returncode == 0 and json.loads(out.stdout)["logGroups"] == []
    out = run_aws_logs(server, "filter-log-events", "--log-group-name", "/aws/lambda/none-such")
    assert out.returncode != 0 and "ResourceNotFoundException" in out.stderr, out.stderr


def test_retention_delete_and_errors(server, lam, logs, printer):
    invoke(lam, printer, {"lines": ["x"]})
    group = f"/aws/lambda/{printer}"
    logs.put_retention_policy(logGroupName=group, retentionInDays=7)
    g = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert g["retentionInDays"] == 7
    expect_error(lambda: logs.put_retention_policy(logGroupName=group, retentionInDays=2),
                 "InvalidParameterException", 400, "retentionInDays", "enum value set")
    logs.delete_retention_policy(logGroupName=group)
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]

    missing = "/aws/lambda/none-such"
    for call in (
        lambda: logs.put_retention_policy(logGroupName=missing, retentionInDays=1),
        lambda: logs.describe_log_streams(logGroupName=missing),
        lambda: logs.filter_log_events(logGroupName=missing),
        lambda: logs.delete_log_group(logGroupName=missing),
    ):
        expect_error(call, "ResourceNotFoundException", 400, "The specified log group does not exist.")
    expect_error(lambda: logs.get_log_events(logGroupName=group, logStreamName="nope"),
                 "ResourceNotFoundException", 400, "The specified log stream does not exist.")
    expect_error(lambda: logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime",
                                                   logStreamNamePrefix="2"),
                 "InvalidParameterException", 400)
    expect_error(lambda: logs.filter_log_events(logGroupName=group, filterPattern='"unterminated'),
                 "InvalidParameterException", 400)
    expect_error(lambda: logs.create_log_group(logGroupName=group),
                 "ResourceAlreadyExistsException", 400)

    # Deleting the function keeps its log group (as AWS); DeleteLogGroup removes it.
    lam.delete_function(FunctionName=printer)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    logs.delete_log_group(logGroupName=group)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []

    made = f"/custom/{unique()}"
    logs.create_log_group(logGroupName=made)
    assert logs.describe_log_groups(logGroupNamePrefix=made)["logGroups"][0]["storedBytes"] == 0
    logs.create_log_stream(logGroupName=made, logStreamName="s1")
    expect_error(lambda: logs.create_log_stream(logGroupName=made, logStreamName="s1"),
                 "ResourceAlreadyExistsException", 400)
    assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=made)["logStreams"]] == ["s1"]
    assert logs.get_log_events(logGroupName=made, logStreamName="s1")["events"] == []
    logs.delete_log_stream(logGroupName=made, logStreamName="s1")
    expect_error(lambda: logs.delete_log_stream(logGroupName=made, logStreamName="s1"),
                 "ResourceNotFoundException", 400, "The specified log stream does not exist.")
    logs.delete_log_group(logGroupName=made)


def test_unknown_logs_operation(server):
    from helpers import signed_request, error_code_of

    status, headers, body = signed_request(
        server, "POST", "/", b"{}", service="logs",
        headers={"X-Amz-Target": "Logs_20140328.PutSubscriptionFilterX",
                 "Content-Type": "application/x-amz-json-1.1"})
    assert status == 400 and error_code_of(headers, body) == "UnknownOperationException", body


def metric(text: str, name: str, **labels) -> float | None:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{want}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_count_invokes_exactly(fresh_server):
    srv = fresh_server()
    lam = srv.client()
    name = unique("metrics")
    create_function(lam, name, zip_bytes=make_zip({"index.py": PRINTER}))
    wait_ready(lam, name)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    for _ in range(5):
        invoke(lam, name, {})
    for _ in range(2):
        invoke(lam, name, {"fail": True})
    for _ in range(3):
        invoke(lam, f"{name}:live", {})
    status, body = http_get(f"{srv.endpoint}/metrics")
    assert status == 200, body
    text = body.decode()
    assert text.rstrip().endswith("# EOF")
    assert metric(text, "ignis_function_invocations_total", function=name, resource=name) == 7
    assert metric(text, "ignis_function_errors_total", function=name, resource=name) == 2
    assert metric(text, "ignis_function_invocations_total", function=name, resource=f"{name}:live") == 3
    assert metric(text, "ignis_function_duration_milliseconds_count", function=name, resource=name) == 7
    assert metric(text, "ignis_function_inits_total", function=name, resource=name) == 1
    assert metric(text, "ignis_function_concurrent_executions", function=name, resource=name) == 0
    invokes = metric(text, "ignis_api_requests_total",
                     operation="POST /2015-03-31/functions/{name}/invocations", status="200")
    assert invokes == 10
    # Two environments: $LATEST and version 1 (behind the alias).
    assert metric(text, "ignis_sandbox_creates_total") == 2
    assert metric(text, "ignis_environments", state="live") == 2
    assert metric(text, "ignis_async_events_total", outcome="enqueued") in (None, 0)

    resp = lam.invoke(FunctionName=f"{name}:live", InvocationType="Event", Payload=b"{}")
    assert resp["StatusCode"] == 202
    _, body = http_get(f"{srv.endpoint}/metrics")
    assert metric(body.decode(), "ignis_async_events_total", outcome="enqueued") == 1
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        _, body = http_get(f"{srv.endpoint}/metrics")
        text = body.decode()
        if metric(text, "ignis_async_events_total", outcome="succeeded") == 1:
            break
        time.sleep(0.1)
    assert metric(text, "ignis_async_events_total", outcome="succeeded") == 1
    assert metric(text, "ignis_async_queue_events") == 0
    assert metric(text, "ignis_function_invocations_total", function=name, resource=f"{name}:live") == 4

    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    expect_error(lambda: invoke(lam, name, {}), "TooManyRequestsException", 429)
    _, body = http_get(f"{srv.endpoint}/metrics")
    text = body.decode()
    assert metric(text, "ignis_function_throttles_total", function=name, resource=name) == 1
    assert metric(text, "ignis_function_invocations_total", function=name, resource=name) == 7
    assert metric(text, "ignis_api_requests_total",
                  operation="POST /2015-03-31/functions/{name}/invocations", status="429") == 1

    # Provisioned concurrency: its environments and their (idle) utilization, per NAME:VERSION.
    lam.delete_function_concurrency(FunctionName=name)
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="live",
                                           ProvisionedConcurrentExecutions=1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        cfg = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
        if cfg["Status"] != "IN_PROGRESS":
            break
        time.sleep(0.2)
    assert cfg["Status"] == "READY", cfg
    _, body = http_get(f"{srv.endpoint}/metrics")
    text = body.decode()
    labels = {"function": name, "resource": f"{name}:1"}
    assert metric(text, "ignis_function_provisioned_environments", **labels) == 1
    assert metric(text, "ignis_function_provisioned_concurrency_utilization", **labels) == 0


JSON_LOGGER = """
import json
import logging

logger = logging.getLogger()

def handler(event, context):
    print(json.dumps({"level": "DEBUG", "msg": "debug-" + event["tag"]}))
    print(json.dumps({"level": "ERROR", "msg": "error-" + event["tag"]}))
    logger.warning("warn-" + event["tag"])
    logger.error("logged-error-" + event["tag"])
    return "ok"
"""


def test_json_log_format_levels_and_custom_group(lam, logs, cleanup):
    name = unique("jsonlog")
    group = f"/custom/{name}"
    create_function(lam, name, zip_bytes=make_zip({"index.py": JSON_LOGGER}),
                    LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "ERROR",
                                   "SystemLogLevel": "INFO", "LogGroup": group})
    wait_ready(lam, name)
    cleanup.append(name)
    tag = uuid.uuid4().hex[:8]
    resp, body = invoke(lam, name, {"tag": tag})
    assert json.loads(body) == "ok"
    assert logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"] == []
    messages = [e["message"] for e in all_events(logs, group)]
    records = [json.loads(m) for m in messages if m.startswith('{"')]
    types = [r.get("type") for r in records if "type" in r]
    assert types == ["platform.start", "platform.runtimeDone", "platform.report"], messages
    report = [r for r in records if r.get("type") == "platform.report"][0]["record"]
    assert report["status"] == "success" and report["metrics"]["memorySizeMB"] == 128
    assert "initDurationMs" in report["metrics"]
    text = "".join(messages)
    assert f"error-{tag}" in text and f"logged-error-{tag}" in text, messages
    assert f"debug-{tag}" not in text and f"warn-{tag}" not in text, messages


def test_logs_survive_restart_and_crash(fresh_server):
    srv = fresh_server()
    lam = srv.client()
    name = unique("durable")
    create_function(lam, name, zip_bytes=make_zip({"index.py": PRINTER}))
    wait_ready(lam, name)
    group = f"/aws/lambda/{name}"
    invoke(lam, name, {"lines": ["before-restart"]})
    srv.restart()
    logs = srv.client("logs")
    messages = [e["message"] for e in all_events(logs, group)]
    assert "before-restart\n" in messages
    invoke(srv.client(), name, {"lines": ["before-crash"]})
    time.sleep(1.5)  # buffered writes reach the segment files within a second
    srv.restart(crash=True)
    logs = srv.client("logs")
    messages = [e["message"] for e in all_events(logs, group)]
    assert "before-restart\n" in messages and "before-crash\n" in messages, messages
    assert len(logs.describe_log_streams(logGroupName=group)["logStreams"]) == 2
