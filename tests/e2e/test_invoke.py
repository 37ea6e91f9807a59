"""Invoke (RequestResponse, DryRun) against real execution environments: results, function errors,
logs, warm reuse, limits, concurrency, aliases, code updates and basic isolation."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import zipfile

import pytest
from botocore.exceptions import ClientError

from helpers import ROLE, expect_error, unique

PY = "python3.11"


def zip_files(files: dict[str, str], executable: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if name in executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content)
    return buf.getvalue()


def make_fn(lam, cleanup, code: str, *, runtime: str = PY, handler: str = "app.handler",
            filename: str = "app.py", **kw) -> str:
    name = unique("inv")
    cleanup.append(name)
    lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                        Code={"ZipFile": zip_files({filename: code})}, **kw)
    return name


def call(lam, name, payload=None, **kw):
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(payload if payload is not None else {}), **kw)
    body = resp["Payload"].read()
    return resp, body


ECHO = """
import os
COUNT = 0
def handler(event, context):
    global COUNT
    COUNT += 1
    print("hello from", context.function_name)
    return {"event": event, "count": COUNT, "request_id": context.aws_request_id,
            "memory": context.memory_limit_in_mb, "arn": context.invoked_function_arn,
            "remaining": context.get_remaining_time_in_millis(),
            "env": {k: os.environ.get(k) for k in ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION", "LAMBDA_TASK_ROOT", "_HANDLER",
                    "AWS_LAMBDA_RUNTIME_API", "MY_VAR", "AWS_EXECUTION_ENV"]}}
"""


def test_python_echo_result_logs_and_context(lam, cleanup):
    name = make_fn(lam, cleanup, ECHO, Environment={"Variables": {"MY_VAR": "mine"}}, MemorySize=256)
    resp, body = call(lam, name, {"x": 1}, LogType="Tail")
    assert resp["StatusCode"] == 200
    assert resp["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in resp
    out = json.loads(body)
    assert out["event"] == {"x": 1}
    assert str(out["memory"]) == "256"  # awslambdaric passes the env var string through
    assert out["arn"].endswith(f":function:{name}")
    assert 0 < out["remaining"] <= 3000
    env = out["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["LAMBDA_TASK_ROOT"] == "/var/task"
    assert env["_HANDLER"] == "app.handler"
    assert env["MY_VAR"] == "mine"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    log = base64.b64decode(resp["LogResult"]).decode()
    rid = out["request_id"]
    assert f"START RequestId: {rid} Version: $LATEST" in log
    assert f"hello from {name}" in log
    assert f"END RequestId: {rid}" in log
    assert f"REPORT RequestId: {rid}\tDuration: " in log
    assert "Billed Duration: " in log and "Memory Size: 256 MB" in log and "Max Memory Used: " in log
    assert "Init Duration: " in log  # first invoke is a cold start


def test_warm_reuse_keeps_globals_and_tmp(lam, cleanup):
    code = """
import os
N = 0
def handler(event, context):
    global N
    N += 1
    path = "/tmp/counter"
    old = open(path).read() if os.path.exists(path) else ""
    open(path, "a").write("x")
    return {"n": N, "tmp": old}
"""
    name = make_fn(lam, cleanup, code)
    first = json.loads(call(lam, name)[1])
    second_resp, second_body = call(lam, name, LogType="Tail")
    second = json.loads(second_body)
    assert first == {"n": 1, "tmp": ""}
    assert second == {"n": 2, "tmp": "x"}
    assert "Init Duration" not in base64.b64decode(second_resp["LogResult"]).decode()


def test_function_error_is_unhandled_with_aws_shape(lam, cleanup):
    name = make_fn(lam, cleanup, "def handler(e, c):\n    raise ValueError('boom')\n")
    resp, body = call(lam, name)
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    err = json.loads(body)
    assert err["errorType"] == "ValueError"
    assert err["errorMessage"] == "boom"
    assert isinstance(err["stackTrace"], list)
    # the environment survives a handled exception
    resp, body = call(lam, name)
    assert resp["FunctionError"] == "Unhandled"


def test_import_error(lam, cleanup):
    name = make_fn(lam, cleanup, "x = 1\n", handler="missing.handler")
    resp, body = call(lam, name)
    assert resp["FunctionError"] == "Unhandled"
    err = json.loads(body)
    assert err["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'missing'" in err["errorMessage"]


def test_timeout_kills_and_replaces_env(lam, cleanup):
    code = "import time\nN = 0\ndef handler(e, c):\n    global N\n    N += 1\n    if e.get('sleep'):\n        time.sleep(5)\n    return N\n"
    name = make_fn(lam, cleanup, code, Timeout=1)
    assert json.loads(call(lam, name)[1]) == 1
    t = time.monotonic()
    resp, body = call(lam, name, {"sleep": True})
    assert time.monotonic() - t < 4
    assert resp["FunctionError"] == "Unhandled"
    err = json.loads(body)
    assert err["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in err["errorMessage"]
    # a new environment serves the next invoke: globals start over
    assert json.loads(call(lam, name)[1]) == 1


def test_crash_mid_invoke_is_exit_error_and_recovers(lam, cleanup):
    code = "import os\ndef handler(e, c):\n    if e.get('crash'):\n        os._exit(3)\n    return 'ok'\n"
    name = make_fn(lam, cleanup, code)
    resp, body = call(lam, name, {"crash": True})
    assert resp["FunctionError"] == "Unhandled"
    err = json.loads(body)
    assert err["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in err["errorMessage"]
    assert json.loads(call(lam, name)[1]) == "ok"


def test_out_of_memory(lam, cleanup):
    code = "def handler(e, c):\n    blocks = []\n    while True:\n        blocks.append(bytearray(16 * 1024 * 1024))\n"
    name = make_fn(lam, cleanup, code, MemorySize=128, Timeout=20)
    resp, body = call(lam, name)
    assert resp["FunctionError"] == "Unhandled"
    assert json.loads(body)["errorType"] == "Runtime.OutOfMemory"


def test_code_update_runs_new_code(lam, cleanup):
    name = make_fn(lam, cleanup, "def handler(e, c):\n    return 'v1'\n")
    assert json.loads(call(lam, name)[1]) == "v1"
    lam.update_function_code(FunctionName=name, ZipFile=zip_files({"app.py": "def handler(e, c):\n    return 'v2'\n"}))
    assert json.loads(call(lam, name)[1]) == "v2"
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"GREETING": "hi"}})
    lam.update_function_code(FunctionName=name, ZipFile=zip_files(
        {"app.py": "import os\ndef handler(e, c):\n    return os.environ['GREETING']\n"}))
    assert json.loads(call(lam, name)[1]) == "hi"


def test_versions_aliases_and_weights(lam, cleanup):
    name = make_fn(lam, cleanup, "def handler(e, c):\n    return 'one'\n")
    lam.publish_version(FunctionName=name)
    lam.update_function_code(FunctionName=name, ZipFile=zip_files({"app.py": "def handler(e, c):\n    return 'two'\n"}))
    lam.publish_version(FunctionName=name)
    resp, body = call(lam, name, Qualifier="1")
    assert resp["ExecutedVersion"] == "1" and json.loads(body) == "one"
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    seen = {}
    for _ in range(40):
        resp, body = call(lam, f"{name}:live")
        seen[resp["ExecutedVersion"]] = json.loads(body)
    assert seen == {"1": "one", "2": "two"}, seen


def test_reserved_concurrency_zero_throttles(lam, cleanup):
    name = make_fn(lam, cleanup, "def handler(e, c):\n    return 1\n")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    try:
        lam.invoke(FunctionName=name, Payload=b"{}")
        pytest.fail("expected TooManyRequestsException")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "TooManyRequestsException"
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert e.response.get("Reason") == "ReservedFunctionConcurrentInvocationLimitExceeded"
    lam.delete_function_concurrency(FunctionName=name)
    assert json.loads(call(lam, name)[1]) == 1


def test_parallel_invokes_run_concurrently(lam, cleanup, server):
    name = make_fn(lam, cleanup, "import time\ndef handler(e, c):\n    time.sleep(1)\n    return e['i']\n")
    call(lam, name, {"i": -1})  # warm one environment
    results, errors = {}, []

    def worker(i):
        try:
            client = server.client()
            results[i] = json.loads(client.invoke(FunctionName=name, Payload=json.dumps({"i": i}))["Payload"].read())
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    t = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    elapsed = time.monotonic() - t
    assert not errors, errors
    assert results == {i: i for i in range(4)}
    assert elapsed < 3.5, f"4 parallel 1 s invokes took {elapsed:.2f} s"


def test_dry_run_and_bad_parameters(lam, cleanup, lam_noval):
    name = make_fn(lam, cleanup, "def handler(e, c):\n    return 1\n")
    resp = lam.invoke(FunctionName=name, InvocationType="DryRun")
    assert resp["StatusCode"] == 204
    expect_error(lambda: lam.invoke(FunctionName=name, Payload=b"x" * (6 * 1024 * 1024 + 1)),
                 "RequestEntityTooLargeException", 413)
    expect_error(lambda: lam.invoke(FunctionName=unique("nope"), Payload=b"{}"),
                 "ResourceNotFoundException", 404)


def test_node_echo(lam, cleanup):
    code = "exports.handler = async (event, context) => ({ echo: event, name: context.functionName });\n"
    name = make_fn(lam, cleanup, code, runtime="nodejs20.x", handler="index.handler", filename="index.js")
    resp, body = call(lam, name, {"a": [1, 2]})
    assert resp["StatusCode"] == 200 and "FunctionError" not in resp
    assert json.loads(body) == {"echo": {"a": [1, 2]}, "name": name}


def test_provided_runtime_custom_bootstrap(lam, cleanup):
    bootstrap = """#!/usr/bin/python3
import json, os, urllib.request
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
while True:
    with urllib.request.urlopen(f"http://{api}/2018-06-01/runtime/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    body = json.dumps({"custom": event}).encode()
    urllib.request.urlopen(urllib.request.Request(
        f"http://{api}/2018-06-01/runtime/invocation/{rid}/response", data=body, method="POST")).read()
"""
    name = unique("inv")
    cleanup.append(name)
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="unused",
                        Code={"ZipFile": zip_files({"bootstrap": bootstrap}, executable=("bootstrap",))})
    resp, body = call(lam, name, {"k": "v"})
    assert resp["StatusCode"] == 200 and "FunctionError" not in resp, body
    assert json.loads(body) == {"custom": {"k": "v"}}


def test_isolation_basics(lam, cleanup):
    code = """
import os
def handler(e, c):
    out = {"uid": os.getuid(), "pids": sorted(int(p) for p in os.listdir('/proc') if p.isdigit())}
    for path in ["/work", "/root", "/etc/shadow"]:
        out[path] = os.path.exists(path)
    try:
        open("/var/task/x", "w")
        out["task_writable"] = True
    except OSError:
        out["task_writable"] = False
    return out
"""
    name = make_fn(lam, cleanup, code)
    out = json.loads(call(lam, name)[1])
    assert out["uid"] != 0
    assert len(out["pids"]) < 10, out["pids"]
    assert out["/work"] is False and out["/root"] is False and out["/etc/shadow"] is False
    assert out["task_writable"] is False


def test_runtime_not_on_this_host_is_refused(lam):
    expect_error(lambda: lam.create_function(FunctionName=unique(), Runtime="java21", Role=ROLE,
                                             Handler="a.B::handle", Code={"ZipFile": zip_files({"a": "b"})}),
                 "InvalidParameterValueException", 400, "not available on this Ignis server")


def test_provided_without_bootstrap_is_invalid_entrypoint(lam, cleanup):
    name = unique("inv")
    cleanup.append(name)
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="unused",
                        Code={"ZipFile": zip_files({"README": "no bootstrap here"})})
    resp, body = call(lam, name)
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    err = json.loads(body)
    assert err["errorType"] == "Runtime.InvalidEntrypoint"
    assert "/var/task/bootstrap" in err["errorMessage"]


def test_provisioned_concurrency_prewarms_environments(lam, cleanup):
    code = "import os\ndef handler(e, c):\n    return os.environ['AWS_LAMBDA_INITIALIZATION_TYPE']\n"
    name = make_fn(lam, cleanup, code)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    put = lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="live",
                                                 ProvisionedConcurrentExecutions=2)
    assert put["Status"] == "IN_PROGRESS"
    deadline = time.monotonic() + 30
    while True:
        got = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
        if got["Status"] != "IN_PROGRESS" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert got["Status"] == "READY", got
    assert got["AvailableProvisionedConcurrentExecutions"] == 2
    assert got["AllocatedProvisionedConcurrentExecutions"] == 2
    resp, body = call(lam, f"{name}:live", LogType="Tail")
    assert json.loads(body) == "provisioned-concurrency"
    assert "Init Duration" not in base64.b64decode(resp["LogResult"]).decode()
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="live")


def wait_status(lam, name, qualifier, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        got = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
        if got["Status"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def test_provisioned_environments_come_back_after_restart(fresh_server):
    srv = fresh_server()
    lam = srv.client()
    name = unique("inv")
    lam.create_function(FunctionName=name, Runtime=PY, Role=ROLE, Handler="app.handler", Code={"ZipFile": zip_files(
        {"app.py": "import os\ndef handler(e, c):\n    return os.environ['AWS_LAMBDA_INITIALIZATION_TYPE']\n"})})
    lam.publish_version(FunctionName=name)
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1)
    assert wait_status(lam, name, "1")["Status"] == "READY"
    srv.restart()
    lam = srv.client()
    got = wait_status(lam, name, "1")
    assert got["Status"] == "READY" and got["AvailableProvisionedConcurrentExecutions"] == 1, got
    resp, body = call(lam, name, Qualifier="1")
    assert json.loads(body) == "provisioned-concurrency"


def test_invoke_without_payload_passes_an_empty_object(lam, cleanup):
    name = make_fn(lam, cleanup, "def handler(event, context):\n    return {'event': event}\n")
    resp = lam.invoke(FunctionName=name)
    assert "FunctionError" not in resp
    assert json.loads(resp["Payload"].read()) == {"event": {}}
