"""Input validation and the error wire format (status, x-amzn-ErrorType, JSON body), as AWS answers."""

from __future__ import annotations

import io
import json
import os
import zipfile

import pytest

from helpers import (
    ROLE,
    RUNTIME,
    code_zip,
    create_function,
    error_code_of,
    expect_error,
    expect_error_in,
    function_arn,
    signed_request,
    unique,
)


def assert_not_created(lam, name):
    expect_error(lambda: lam.get_function(FunctionName=name), "ResourceNotFoundException", 404)


# -- error wire format -----------------------------------------------------------------------------

def test_error_wire_format(server):
    name = unique("missing")
    status, headers, body = signed_request(server, "GET", f"/2015-03-31/functions/{name}")
    assert status == 404
    assert headers.get("x-amzn-errortype", "").split(":")[0] == "ResourceNotFoundException", headers
    assert headers.get("content-type", "").startswith("application/json"), headers
    assert headers.get("x-amzn-requestid"), "every response carries x-amzn-RequestId"
    doc = json.loads(body)
    assert doc.get("Type") == "User", doc
    msg = doc.get("Message", doc.get("message"))
    assert msg == f"Function not found: {function_arn(name)}", doc


def test_success_carries_request_id(server):
    status, headers, _ = signed_request(server, "GET", "/2016-08-19/account-settings")
    assert status == 200
    assert headers.get("x-amzn-requestid")


def test_unknown_route(server):
    status, headers, body = signed_request(server, "GET", "/2015-03-31/no-such-thing")
    assert status == 404, body
    assert error_code_of(headers, body) == "UnknownOperationException", (headers, body)


def test_malformed_json_body(server):
    status, headers, body = signed_request(server, "POST", "/2015-03-31/functions", b"{not json")
    assert status == 400, body
    assert error_code_of(headers, body) == "InvalidRequestContentException", (headers, body)


# -- CreateFunction field validation ---------------------------------------------------------------

def test_invalid_role(lam):
    name = unique()
    expect_error(lambda: create_function(lam, name, Role="r1"), "ValidationException", 400,
                 "1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: "
                 "Member must satisfy regular expression pattern")
    assert_not_created(lam, name)


def test_invalid_runtime(lam):
    name = unique()
    expect_error(lambda: create_function(lam, name, Runtime="non-existent-runtime"),
                 "InvalidParameterValueException", 400,
                 "Value non-existent-runtime at 'runtime' failed to satisfy constraint: "
                 "Member must satisfy enum value set")
    expect_error(lambda: create_function(lam, name, Runtime="PYTHON3.12"), "InvalidParameterValueException", 400)
    assert_not_created(lam, name)


def test_runtime_and_handler_required_for_zip(lam):
    name = unique()
    expect_error(lambda: lam.create_function(FunctionName=name, Role=ROLE, Code={"ZipFile": code_zip()}),
                 "InvalidParameterValueException", 400)
    expect_error(lambda: lam.create_function(FunctionName=name, Role=ROLE, Runtime=RUNTIME,
                                             Code={"ZipFile": code_zip()}),
                 "InvalidParameterValueException", 400)
    assert_not_created(lam, name)


def test_memory_size_bounds(lam, lam_noval):
    name = unique()
    expect_error(lambda: create_function(lam_noval, name, MemorySize=64), "ValidationException", 400,
                 "Value '64' at 'memorySize' failed to satisfy constraint: "
                 "Member must have value greater than or equal to 128")
    expect_error_in(lambda: create_function(lam, name, MemorySize=10241),
                    ("ValidationException", "InvalidParameterValueException"), 400)
    expect_error(lambda: create_function(lam, name, MemorySize=40000), "ValidationException", 400,
                 "at 'memorySize' failed to satisfy constraint")
    assert_not_created(lam, name)


def test_memory_size_limits_accepted(lam, cleanup):
    lo, hi = unique(), unique()
    cleanup.extend([lo, hi])
    assert create_function(lam, lo, MemorySize=128)["MemorySize"] == 128
    assert create_function(lam, hi, MemorySize=10240)["MemorySize"] == 10240


def test_timeout_bounds(lam, lam_noval, cleanup):
    name = unique()
    expect_error(lambda: create_function(lam_noval, name, Timeout=0), "ValidationException", 400,
                 "Value '0' at 'timeout' failed to satisfy constraint: "
                 "Member must have value greater than or equal to 1")
    expect_error_in(lambda: create_function(lam, name, Timeout=901),
                    ("ValidationException", "InvalidParameterValueException"), 400)
    assert_not_created(lam, name)
    ok = unique()
    cleanup.append(ok)
    assert create_function(lam, ok, Timeout=900)["Timeout"] == 900


def test_ephemeral_storage_bounds(lam, lam_noval):
    name = unique()
    expect_error(lambda: create_function(lam_noval, name, EphemeralStorage={"Size": 256}),
                 "ValidationException", 400, "failed to satisfy constraint")
    expect_error_in(lambda: create_function(lam, name, EphemeralStorage={"Size": 10241}),
                    ("ValidationException", "InvalidParameterValueException"), 400)
    assert_not_created(lam, name)


def test_update_configuration_validation(lam, fn):
    expect_error(lambda: lam.update_function_configuration(FunctionName=fn, Role="r1"),
                 "ValidationException", 400, "Value 'r1' at 'role' failed to satisfy constraint")
    expect_error(lambda: lam.update_function_configuration(FunctionName=fn, Runtime="non-existent-runtime"),
                 "InvalidParameterValueException", 400)
    expect_error_in(lambda: lam.update_function_configuration(FunctionName=fn, MemorySize=10241),
                    ("ValidationException", "InvalidParameterValueException"), 400)
    cfg = lam.get_function_configuration(FunctionName=fn)
    assert (cfg["Role"], cfg["Runtime"], cfg["MemorySize"]) == (ROLE, RUNTIME, 128)


def test_handler_and_description_constraints(lam):
    name = unique()
    expect_error(lambda: create_function(lam, name, Handler="bad handler"), "ValidationException", 400,
                 "at 'handler' failed to satisfy constraint")
    expect_error(lambda: create_function(lam, name, Handler="h" * 129), "ValidationException", 400,
                 "at 'handler' failed to satisfy constraint")
    expect_error(lambda: create_function(lam, name, Description="d" * 257), "ValidationException", 400,
                 "at 'description' failed to satisfy constraint: Member must have length less than or equal to 256")
    assert_not_created(lam, name)


def test_architectures(lam):
    name = unique()
    expect_error(lambda: create_function(lam, name, Architectures=["x86_64", "arm64"]),
                 "ValidationException", 400, "at 'architectures' failed to satisfy constraint")
    expect_error(lambda: create_function(lam, name, Architectures=["X86_64"]),
                 "ValidationException", 400, "at 'architectures' failed to satisfy constraint")
    assert_not_created(lam, name)


def test_function_name_constraints(lam):
    expect_error(lambda: create_function(lam, "invalid:function:name"), "ValidationException", 400,
                 "Value 'invalid:function:name' at 'functionName' failed to satisfy constraint")
    long_name = "a" * 65
    expect_error(lambda: create_function(lam, long_name), "InvalidParameterValueException", 400,
                 "Member must have length less than or equal to 64")


def test_environment_too_large(lam):
    name = unique()
    expect_error(lambda: create_function(lam, name, Environment={"Variables": {"LARGE_VAR": "x" * 4096}}),
                 "InvalidParameterValueException", 400,
                 "Lambda was unable to configure your environment variables because the environment variables "
                 "you have provided exceeded the 4KB limit.")
    assert_not_created(lam, name)


def test_environment_near_limit_accepted(lam, cleanup):
    name = unique()
    cleanup.append(name)
    # AWS measures the variables as JSON ({"LARGE_VAR":"xxx..."}); stay a little under 4 KB
    value = "x" * (4096 - len('{"LARGE_VAR":""}') - 16)
    resp = create_function(lam, name, Environment={"Variables": {"LARGE_VAR": value}})
    assert resp["Environment"]["Variables"]["LARGE_VAR"] == value


def test_environment_reserved_key(lam):
    name = unique()
    expect_error(lambda: create_function(lam, name, Environment={"Variables": {"AWS_REGION": "mars-1"}}),
                 "InvalidParameterValueException", 400, "reserved keys", "AWS_REGION")
    assert_not_created(lam, name)


@pytest.mark.parametrize("key", ["A", "1ABC", "BAD-KEY"])
def test_environment_key_pattern(lam, key):
    # keys start with a letter, are at least two characters, letters/digits/underscore only
    name = unique()
    expect_error(lambda: create_function(lam, name, Environment={"Variables": {key: "v"}}),
                 "ValidationException", 400, "failed to satisfy constraint")
    assert_not_created(lam, name)


def test_zipped_code_too_large(lam):
    name = unique()
    raw = os.urandom(52428800 - 100)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("index.py", "def handler(e, c):\n    return 1\n")
        zf.writestr("blob.bin", raw)
    zb = buf.getvalue()
    assert 52428800 < len(zb) < 52428800 + 4096
    expect_error(lambda: create_function(lam, name, zb), "RequestEntityTooLargeException", 413,
                 "Zipped size must be smaller than 52428800 bytes")
    assert_not_created(lam, name)


def test_unzipped_code_too_large(lam):
    name = unique()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("index.py", "def handler(e, c):\n    return 1\n")
        info = zipfile.ZipInfo("zeros.bin", date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as w:
            chunk = b"\0" * (1 << 20)
            for _ in range(251):  # 251 MiB > 262144000 bytes
                w.write(chunk)
    zb = buf.getvalue()
    assert len(zb) < 2_000_000
    expect_error(lambda: create_function(lam, name, zb), "InvalidParameterValueException", 400,
                 "Unzipped size must be smaller than 262144000 bytes")
    assert_not_created(lam, name)


# -- other operations ------------------------------------------------------------------------------

def test_list_functions_invalid_function_version(lam):
    expect_error(lambda: lam.list_functions(FunctionVersion="invalid"), "ValidationException", 400,
                 "Value 'invalid' at 'functionVersion' failed to satisfy constraint: "
                 "Member must satisfy enum value set: [ALL]")


def test_list_functions_invalid_max_items(lam_noval):
    expect_error(lambda: lam_noval.list_functions(MaxItems=0), "ValidationException", 400)


def test_invalid_qualifier_pattern(lam, fn):
    expect_error(lambda: lam.get_function(FunctionName=fn, Qualifier="bad?qualifier"),
                 "ValidationException", 400, "at 'qualifier' failed to satisfy constraint")


@pytest.mark.parametrize("op", ["get_function", "get_function_configuration", "delete_function",
                                "list_versions_by_function", "list_aliases", "get_policy",
                                "get_function_concurrency"])
def test_missing_function_everywhere(lam, op):
    name = unique("missing")
    expect_error(lambda: getattr(lam, op)(FunctionName=name), "ResourceNotFoundException", 404,
                 f"Function not found: {function_arn(name)}")


def test_missing_function_update_configuration(lam):
    name = unique("missing")
    expect_error(lambda: lam.update_function_configuration(FunctionName=name, Timeout=5),
                 "ResourceNotFoundException", 404, f"Function not found: {function_arn(name)}")
