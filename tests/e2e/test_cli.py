"""The real aws CLI (v1) against the server: a handful of calls covering the main flow."""

from __future__ import annotations

import base64
import json

from helpers import ACCOUNT, HANDLER, ROLE, RUNTIME, code_zip, function_arn, http_get, run_aws, sha256_b64, unique


def ok(proc) -> dict:
    assert proc.returncode == 0, f"aws exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    return json.loads(proc.stdout) if proc.stdout.strip() else {}


def test_cli_function_flow(server, tmp_path):
    name = unique("cli")
    zb = code_zip("cli")
    zpath = tmp_path / "function.zip"
    zpath.write_bytes(zb)

    created = ok(run_aws(server, "create-function", "--function-name", name, "--runtime", RUNTIME,
                         "--role", ROLE, "--handler", HANDLER, "--zip-file", f"fileb://{zpath}",
                         "--timeout", "15", "--tags", "origin=cli"))
    assert created["FunctionName"] == name
    assert created["FunctionArn"] == function_arn(name)
    assert created["CodeSha256"] == sha256_b64(zb)
    assert created["Timeout"] == 15

    got = ok(run_aws(server, "get-function", "--function-name", name))
    assert got["Configuration"]["CodeSha256"] == sha256_b64(zb)
    assert got["Tags"] == {"origin": "cli"}
    assert http_get(got["Code"]["Location"]) == (200, zb)

    listed = ok(run_aws(server, "list-functions"))
    assert name in [f["FunctionName"] for f in listed["Functions"]]

    ver = ok(run_aws(server, "publish-version", "--function-name", name, "--description", "from cli"))
    assert ver["Version"] == "1"
    assert ver["Description"] == "from cli"

    alias = ok(run_aws(server, "create-alias", "--function-name", name, "--name", "live",
                       "--function-version", "1"))
    assert alias["AliasArn"] == function_arn(name, "live")

    # an ARN as --function-name (the CLI's path encoding of ':' must verify)
    cfg = ok(run_aws(server, "get-function-configuration", "--function-name", f"{ACCOUNT}:function:{name}:live"))
    assert cfg["Version"] == "1"

    # invoke through the alias (CLI v1 sends --payload as is; v2 needs --cli-binary-format raw-in-base64-out)
    out = tmp_path / "out.json"
    inv = ok(run_aws(server, "invoke", "--function-name", f"{name}:live", "--payload", '{"x": 1}',
                     "--log-type", "Tail", str(out)))
    assert inv["StatusCode"] == 200 and inv["ExecutedVersion"] == "1"
    assert json.loads(out.read_text()) == "cli"
    assert "REPORT RequestId: " in base64.b64decode(inv["LogResult"]).decode()

    deleted = run_aws(server, "delete-function", "--function-name", name)
    assert deleted.returncode == 0, deleted.stderr

    gone = run_aws(server, "get-function", "--function-name", name)
    assert gone.returncode in (254, 255), (gone.returncode, gone.stderr)
    assert "ResourceNotFoundException" in gone.stderr
    assert "GetFunction" in gone.stderr


def test_cli_error_exit_code(server):
    proc = run_aws(server, "publish-version", "--function-name", unique("missing"))
    assert proc.returncode in (254, 255), (proc.returncode, proc.stderr)
    assert "An error occurred (ResourceNotFoundException) when calling the PublishVersion operation" in proc.stderr
