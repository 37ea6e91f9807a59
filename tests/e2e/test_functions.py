"""Functions: CreateFunction, GetFunction(+Configuration), ListFunctions, UpdateFunctionCode,
UpdateFunctionConfiguration, DeleteFunction, code download through Code.Location, ARN name forms."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from helpers import (
    ACCOUNT,
    HANDLER,
    LAST_MODIFIED_RE,
    REGION,
    ROLE,
    RUNTIME,
    code_zip,
    create_function,
    expect_error,
    function_arn,
    http_get,
    make_zip,
    sha256_b64,
    status_of,
    unique,
    wait_ready,
)


def parse_last_modified(s: str) -> dt.datetime:
    assert LAST_MODIFIED_RE.match(s), f"LastModified {s!r} is not like 2024-01-01T00:00:00.000+0000"
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z")


# -- CreateFunction ------------------------------------------------------------------------------

def test_create_function_response_shape(lam, cleanup):
    name = unique()
    cleanup.append(name)
    zb = code_zip("shape")
    before = dt.datetime.now(dt.timezone.utc)
    resp = create_function(
        lam,
        name,
        zb,
        Description="a test function",
        Timeout=10,
        MemorySize=256,
        Environment={"Variables": {"GREETING": "hello", "LEVEL": "3"}},
        Tags={"team": "ignis"},
    )
    assert status_of(resp) == 201
    assert resp["FunctionName"] == name
    assert resp["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert resp["Runtime"] == RUNTIME
    assert resp["Role"] == ROLE
    assert resp["Handler"] == HANDLER
    assert resp["CodeSize"] == len(zb)
    assert resp["CodeSha256"] == sha256_b64(zb)
    assert resp["Description"] == "a test function"
    assert resp["Timeout"] == 10
    assert resp["MemorySize"] == 256
    assert resp["Version"] == "$LATEST"
    assert resp["Environment"] == {"Variables": {"GREETING": "hello", "LEVEL": "3"}}
    assert resp["PackageType"] == "Zip"
    assert resp["Architectures"] == ["x86_64"]
    assert resp["State"] in ("Pending", "Active")
    assert isinstance(resp["RevisionId"], str) and resp["RevisionId"]
    lm = parse_last_modified(resp["LastModified"])
    assert abs((lm - before).total_seconds()) < 300, f"LastModified {lm} far from now {before}"


def test_create_function_defaults(lam, cleanup):
    name = unique()
    cleanup.append(name)
    resp = create_function(lam, name)
    assert resp["Timeout"] == 3
    assert resp["MemorySize"] == 128
    assert resp["Description"] == ""
    assert resp["Architectures"] == ["x86_64"]
    assert resp["EphemeralStorage"] == {"Size": 512}
    assert resp["PackageType"] == "Zip"
    assert resp["TracingConfig"] == {"Mode": "PassThrough"}


def test_create_function_logging_config_default(lam, cleanup):
    name = unique()
    cleanup.append(name)
    resp = create_function(lam, name)
    assert resp["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}


def test_create_function_arm64_and_ephemeral_storage(lam, cleanup):
    name = unique()
    cleanup.append(name)
    resp = create_function(lam, name, Architectures=["arm64"], EphemeralStorage={"Size": 1024})
    assert resp["Architectures"] == ["arm64"]
    assert resp["EphemeralStorage"] == {"Size": 1024}


def test_function_becomes_active(lam, fn):
    cfg = wait_ready(lam, fn)
    assert cfg["State"] == "Active"
    assert cfg["LastUpdateStatus"] == "Successful"


def test_create_duplicate_is_conflict(lam, fn):
    expect_error(lambda: create_function(lam, fn), "ResourceConflictException", 409, "already exist", fn)


def test_create_function_publish_true(lam, cleanup):
    name = unique()
    cleanup.append(name)
    resp = create_function(lam, name, Publish=True)
    assert resp["Version"] == "1"
    assert resp["FunctionArn"] == function_arn(name, "1")
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "1"]


# -- GetFunction / GetFunctionConfiguration ------------------------------------------------------

def test_get_function_shape(server, lam, cleanup):
    name = unique()
    cleanup.append(name)
    zb = code_zip("get")
    create_function(lam, name, zb, Tags={"k1": "v1", "k2": "v2"})
    wait_ready(lam, name)
    resp = lam.get_function(FunctionName=name)
    assert status_of(resp) == 200
    cfg = resp["Configuration"]
    assert cfg["FunctionName"] == name
    assert cfg["FunctionArn"] == function_arn(name)
    assert cfg["CodeSha256"] == sha256_b64(zb)
    assert cfg["CodeSize"] == len(zb)
    assert cfg["Version"] == "$LATEST"
    assert cfg["State"] == "Active"
    assert cfg["LastUpdateStatus"] == "Successful"
    assert resp["Code"]["RepositoryType"] == "S3"
    assert resp["Code"]["Location"].startswith(server.endpoint + "/"), resp["Code"]["Location"]
    assert resp["Tags"] == {"k1": "v1", "k2": "v2"}

    conf = lam.get_function_configuration(FunctionName=name)
    for key in ("FunctionName", "FunctionArn", "CodeSha256", "CodeSize", "RevisionId", "LastModified",
                "Runtime", "Role", "Handler", "Timeout", "MemorySize", "Version"):
        assert conf[key] == cfg[key], key


def test_get_function_configuration_qualified_latest(lam, fn):
    conf = lam.get_function_configuration(FunctionName=fn, Qualifier="$LATEST")
    assert conf["FunctionArn"] == function_arn(fn, "$LATEST")
    assert conf["Version"] == "$LATEST"


def test_get_missing_function(lam):
    name = unique("missing")
    for call in (lambda: lam.get_function(FunctionName=name),
                 lambda: lam.get_function_configuration(FunctionName=name)):
        expect_error(call, "ResourceNotFoundException", 404, f"Function not found: {function_arn(name)}")


def test_get_missing_version_and_alias(lam, fn):
    expect_error(lambda: lam.get_function(FunctionName=fn, Qualifier="42"),
                 "ResourceNotFoundException", 404, f"Function not found: {function_arn(fn, '42')}")
    expect_error(lambda: lam.get_function_configuration(FunctionName=fn, Qualifier="42"),
                 "ResourceNotFoundException", 404, f"Function not found: {function_arn(fn, '42')}")
    expect_error(lambda: lam.get_function(FunctionName=fn, Qualifier="noalias"),
                 "ResourceNotFoundException", 404, function_arn(fn, "noalias"))


# -- Code.Location ---------------------------------------------------------------------------------

def test_code_location_downloads_the_zip(lam, cleanup):
    name = unique()
    cleanup.append(name)
    zb = code_zip("download")
    create_function(lam, name, zb)
    loc = lam.get_function(FunctionName=name)["Code"]["Location"]
    status, body = http_get(loc)
    assert status == 200
    assert body == zb


def _tamper(url: str) -> str:
    """Flip one character of the signature-like query parameter (or the longest value)."""
    parts = urllib.parse.urlsplit(url)
    q = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    assert q, f"Code.Location has no query string to authorize it: {url}"
    idx = next((i for i, (k, _) in enumerate(q) if "signature" in k.lower()), None)
    if idx is None:
        idx = max(range(len(q)), key=lambda i: len(q[i][1]))
    k, v = q[idx]
    assert v, f"empty authorization value in {url}"
    flipped = ("0" if v[-1] != "0" else "1")
    q[idx] = (k, v[:-1] + flipped)
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(q)))


def test_code_location_tampered_is_refused(lam, fn):
    loc = lam.get_function(FunctionName=fn)["Code"]["Location"]
    status, _ = http_get(_tamper(loc))
    assert status == 403, f"tampered Code.Location answered {status}"


def test_code_location_without_query_is_refused(lam, fn):
    loc = lam.get_function(FunctionName=fn)["Code"]["Location"]
    bare = urllib.parse.urlsplit(loc)._replace(query="").geturl()
    status, _ = http_get(bare)
    assert status in (400, 403), f"unsigned artifact URL answered {status}"


def test_code_location_is_function_specific(lam, cleanup):
    """A URL authorized for one function's code must not open another's."""
    a, b = unique(), unique()
    cleanup.extend([a, b])
    create_function(lam, a, code_zip("a"))
    create_function(lam, b, code_zip("b"))
    loc_a = lam.get_function(FunctionName=a)["Code"]["Location"]
    loc_b = lam.get_function(FunctionName=b)["Code"]["Location"]
    pa, pb = urllib.parse.urlsplit(loc_a), urllib.parse.urlsplit(loc_b)
    if pa.path == pb.path:
        pytest.skip("artifact URLs differ only in the query string")
    mixed = pa._replace(query=pb.query).geturl()
    status, _ = http_get(mixed)
    assert status == 403, f"URL with another function's authorization answered {status}"


LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")


def test_code_location_expired_is_refused(fresh_server, tmp_path):
    """Code.Location is valid for 10 minutes (as AWS's presigned URLs): move the server's wall clock
    20 minutes ahead (libfaketime, offset read from a file on every call) and the URL must be refused."""
    if not LIBFAKETIME.exists():
        pytest.skip("libfaketime is not installed (Debian package libfaketime; .ci/run installs it)")
    offset = tmp_path / "faketime"
    offset.write_text("+0\n")
    srv = fresh_server(env={
        "LD_PRELOAD": str(LIBFAKETIME),
        "FAKETIME_TIMESTAMP_FILE": str(offset),
        "FAKETIME_NO_CACHE": "1",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    })
    lam = srv.client()
    zb = code_zip("expiring")
    create_function(lam, "expiring", zb)
    loc = lam.get_function(FunctionName="expiring")["Code"]["Location"]
    assert http_get(loc) == (200, zb)
    offset.write_text("+20m\n")
    status, _ = http_get(loc)
    assert status == 403, f"Code.Location still answered {status} 20 minutes after it was issued"
    offset.write_text("+0\n")
    assert srv.stop() == 0


# -- ListFunctions ---------------------------------------------------------------------------------

def test_list_functions_contains_created(lam, fn):
    found = None
    for page in lam.get_paginator("list_functions").paginate():
        for f in page["Functions"]:
            if f["FunctionName"] == fn:
                found = f
    assert found is not None, f"{fn} not listed"
    assert found["FunctionArn"] == function_arn(fn)
    assert found["Version"] == "$LATEST"
    assert LAST_MODIFIED_RE.match(found["LastModified"])


def test_list_functions_pagination(lam, cleanup):
    prefix = unique("page")
    names = {f"{prefix}-{i:02d}" for i in range(25)}
    for n in sorted(names):
        cleanup.append(n)
        create_function(lam, n)

    seen: list[str] = []
    marker = None
    pages = 0
    while True:
        kw = {"MaxItems": 10}
        if marker:
            kw["Marker"] = marker
        page = lam.list_functions(**kw)
        pages += 1
        assert len(page["Functions"]) <= 10
        seen.extend(f["FunctionName"] for f in page["Functions"])
        marker = page.get("NextMarker")
        if not marker:
            break
        assert len(page["Functions"]) == 10, "a non-final page must be full"
        assert pages < 1000
    assert len(seen) == len(set(seen)), "a function was listed twice across pages"
    assert names <= set(seen), f"missing from pagination: {sorted(names - set(seen))}"
    assert pages >= 3

    via_paginator = [
        f["FunctionName"]
        for p in lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 7})
        for f in p["Functions"]
    ]
    assert names <= set(via_paginator)
    assert len(via_paginator) == len(set(via_paginator))


def test_list_functions_function_version_all(lam, cleanup):
    name = unique()
    cleanup.append(name)
    create_function(lam, name)
    lam.publish_version(FunctionName=name)

    def entries(**kw):
        out = []
        for p in lam.get_paginator("list_functions").paginate(**kw):
            out.extend(f for f in p["Functions"] if f["FunctionName"] == name)
        return out

    default = entries()
    assert [(f["Version"], f["FunctionArn"]) for f in default] == [("$LATEST", function_arn(name))]
    every = sorted((f["Version"], f["FunctionArn"]) for f in entries(FunctionVersion="ALL"))
    assert every == sorted([("$LATEST", function_arn(name, "$LATEST")), ("1", function_arn(name, "1"))])


# -- UpdateFunctionCode ----------------------------------------------------------------------------

def test_update_function_code(lam, cleanup):
    name = unique()
    cleanup.append(name)
    z1, z2 = code_zip("one"), code_zip("two-longer-content")
    created = create_function(lam, name, z1)
    wait_ready(lam, name)
    resp = lam.update_function_code(FunctionName=name, ZipFile=z2)
    assert status_of(resp) == 200
    assert resp["CodeSha256"] == sha256_b64(z2)
    assert resp["CodeSize"] == len(z2)
    assert resp["RevisionId"] != created["RevisionId"]
    assert resp["Version"] == "$LATEST"
    assert resp["LastUpdateStatus"] in ("InProgress", "Successful")
    assert parse_last_modified(resp["LastModified"]) >= parse_last_modified(created["LastModified"])
    cfg = wait_ready(lam, name)
    assert cfg["CodeSha256"] == sha256_b64(z2)
    status, body = http_get(lam.get_function(FunctionName=name)["Code"]["Location"])
    assert (status, body) == (200, z2)


def test_update_function_code_publish(lam, cleanup):
    name = unique()
    cleanup.append(name)
    create_function(lam, name, code_zip("p1"))
    wait_ready(lam, name)
    z2 = code_zip("p2")
    resp = lam.update_function_code(FunctionName=name, ZipFile=z2, Publish=True)
    assert resp["Version"] == "1"
    assert resp["FunctionArn"] == function_arn(name, "1")
    assert resp["CodeSha256"] == sha256_b64(z2)
    v1 = lam.get_function_configuration(FunctionName=name, Qualifier="1")
    assert v1["CodeSha256"] == sha256_b64(z2)


def test_update_function_code_revision_precondition(lam, fn):
    cur = lam.get_function_configuration(FunctionName=fn)["RevisionId"]
    expect_error(
        lambda: lam.update_function_code(FunctionName=fn, ZipFile=code_zip("x"), RevisionId="not-the-revision"),
        "PreconditionFailedException", 412,
        "The Revision Id provided does not match the latest Revision Id",
    )
    # unchanged by the refused call
    assert lam.get_function_configuration(FunctionName=fn)["RevisionId"] == cur
    ok = lam.update_function_code(FunctionName=fn, ZipFile=code_zip("y"), RevisionId=cur)
    assert ok["RevisionId"] != cur


def test_update_function_code_missing_function(lam):
    name = unique("missing")
    expect_error(lambda: lam.update_function_code(FunctionName=name, ZipFile=code_zip()),
                 "ResourceNotFoundException", 404, function_arn(name))


# -- UpdateFunctionConfiguration -------------------------------------------------------------------

def test_update_function_configuration(lam, cleanup):
    name = unique()
    cleanup.append(name)
    zb = code_zip("cfg")
    created = create_function(lam, name, zb)
    wait_ready(lam, name)
    resp = lam.update_function_configuration(
        FunctionName=name,
        Description="changed",
        Timeout=42,
        MemorySize=512,
        Handler="main.handle",
        Environment={"Variables": {"AB": "1"}},
        EphemeralStorage={"Size": 2048},
    )
    assert status_of(resp) == 200
    assert resp["Description"] == "changed"
    assert resp["Timeout"] == 42
    assert resp["MemorySize"] == 512
    assert resp["Handler"] == "main.handle"
    assert resp["Environment"] == {"Variables": {"AB": "1"}}
    assert resp["EphemeralStorage"] == {"Size": 2048}
    assert resp["CodeSha256"] == sha256_b64(zb)
    assert resp["RevisionId"] != created["RevisionId"]
    cfg = wait_ready(lam, name)
    assert (cfg["Description"], cfg["Timeout"], cfg["MemorySize"], cfg["Handler"]) == ("changed", 42, 512, "main.handle")
    assert cfg["Environment"] == {"Variables": {"AB": "1"}}


def test_update_configuration_keeps_unspecified_fields(lam, cleanup):
    name = unique()
    cleanup.append(name)
    create_function(lam, name, Description="keep me", Timeout=9, Environment={"Variables": {"KEY": "V"}})
    wait_ready(lam, name)
    lam.update_function_configuration(FunctionName=name, MemorySize=1024)
    cfg = wait_ready(lam, name)
    assert (cfg["Description"], cfg["Timeout"], cfg["MemorySize"]) == ("keep me", 9, 1024)
    assert cfg["Environment"] == {"Variables": {"KEY": "V"}}


def test_update_configuration_revision_precondition(lam, fn):
    expect_error(
        lambda: lam.update_function_configuration(FunctionName=fn, Timeout=5, RevisionId="stale"),
        "PreconditionFailedException", 412,
        "The Revision Id provided does not match the latest Revision Id",
    )
    cur = lam.get_function_configuration(FunctionName=fn)
    assert cur["Timeout"] == 3


def test_revision_id_changes_on_every_update(lam, fn):
    seen = {lam.get_function_configuration(FunctionName=fn)["RevisionId"]}
    for i in range(3):
        r = lam.update_function_configuration(FunctionName=fn, Description=f"d{i}")
        wait_ready(lam, fn)
        assert r["RevisionId"] not in seen
        seen.add(r["RevisionId"])
        cur = lam.get_function_configuration(FunctionName=fn)["RevisionId"]
        seen.add(cur)


# -- DeleteFunction --------------------------------------------------------------------------------

def test_delete_function(lam):
    name = unique()
    create_function(lam, name)
    resp = lam.delete_function(FunctionName=name)
    assert status_of(resp) == 204
    expect_error(lambda: lam.get_function(FunctionName=name),
                 "ResourceNotFoundException", 404, f"Function not found: {function_arn(name)}")
    expect_error(lambda: lam.delete_function(FunctionName=name),
                 "ResourceNotFoundException", 404, f"Function not found: {function_arn(name)}")


def test_delete_function_removes_versions_and_aliases(lam):
    name = unique()
    create_function(lam, name)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.delete_function(FunctionName=name)
    try:
        create_function(lam, name)
        versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
        assert versions == ["$LATEST"]
        assert lam.list_aliases(FunctionName=name)["Aliases"] == []
    finally:
        lam.delete_function(FunctionName=name)


def test_delete_one_version(lam, cleanup):
    name = unique()
    cleanup.append(name)
    create_function(lam, name, code_zip("d1"))
    lam.publish_version(FunctionName=name)
    lam.update_function_code(FunctionName=name, ZipFile=code_zip("d2"))
    wait_ready(lam, name)
    lam.publish_version(FunctionName=name)
    resp = lam.delete_function(FunctionName=name, Qualifier="1")
    assert status_of(resp) == 204
    expect_error(lambda: lam.get_function(FunctionName=name, Qualifier="1"),
                 "ResourceNotFoundException", 404, function_arn(name, "1"))
    assert lam.get_function(FunctionName=name, Qualifier="2")["Configuration"]["Version"] == "2"
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "2"]


def test_delete_latest_qualifier_is_refused(lam, fn):
    expect_error(lambda: lam.delete_function(FunctionName=fn, Qualifier="$LATEST"),
                 "InvalidParameterValueException", 400,
                 "$LATEST version cannot be deleted without deleting the function.")
    assert lam.get_function(FunctionName=fn)["Configuration"]["FunctionName"] == fn


def test_delete_version_referenced_by_alias_is_conflict(lam, cleanup):
    name = unique()
    cleanup.append(name)
    create_function(lam, name)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    expect_error(lambda: lam.delete_function(FunctionName=name, Qualifier="1"),
                 "ResourceConflictException", 409,
                 "Unable to delete version because the following aliases reference it: [live]")
    assert lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]["Version"] == "1"


# -- zip handling ----------------------------------------------------------------------------------

def test_not_a_zip_is_refused(lam):
    name = unique()
    expect_error(lambda: create_function(lam, name, b"this is not a zip archive"),
                 "InvalidParameterValueException", 400,
                 "Could not unzip uploaded file. Please check your file, then try to upload again.")
    expect_error(lambda: lam.get_function(FunctionName=name), "ResourceNotFoundException", 404)


def test_update_with_not_a_zip_is_refused(lam, fn):
    before = lam.get_function_configuration(FunctionName=fn)
    expect_error(lambda: lam.update_function_code(FunctionName=fn, ZipFile=b"PK\x03\x04garbage"),
                 "InvalidParameterValueException", 400, "Could not unzip uploaded file")
    after = lam.get_function_configuration(FunctionName=fn)
    assert after["CodeSha256"] == before["CodeSha256"]


@pytest.mark.parametrize("entry", ["../evil.py", "lib/../../evil.py"])
def test_zip_with_escaping_path_is_refused(lam, entry):
    name = unique()
    zb = make_zip({"index.py": "def handler(e, c):\n    return 1\n", entry: "boom"})
    expect_error(lambda: create_function(lam, name, zb), "InvalidParameterValueException", 400)
    expect_error(lambda: lam.get_function(FunctionName=name), "ResourceNotFoundException", 404)


def test_s3_code_source_is_refused_for_now(lam):
    name = unique()
    expect_error(
        lambda: lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler=HANDLER,
                                    Code={"S3Bucket": "no-such-bucket", "S3Key": "code.zip"}),
        "InvalidParameterValueException", 400,
    )


# -- FunctionName forms (ARNs; botocore double-encodes ':' in the signed path) ---------------------

def test_function_name_arn_forms(lam, cleanup):
    name = unique()
    cleanup.append(name)
    create_function(lam, name)
    lam.publish_version(FunctionName=name)
    forms = {
        "name": name,
        "full-arn": function_arn(name),
        "partial-arn": f"{ACCOUNT}:function:{name}",
    }
    for label, fname in forms.items():
        cfg = lam.get_function(FunctionName=fname)["Configuration"]
        assert cfg["FunctionName"] == name, label
        assert cfg["Version"] == "$LATEST", label

    for label, fname in {"name:1": f"{name}:1", "arn:1": function_arn(name, "1"),
                         "partial:1": f"{ACCOUNT}:function:{name}:1"}.items():
        cfg = lam.get_function_configuration(FunctionName=fname)
        assert cfg["Version"] == "1", label
        assert cfg["FunctionArn"] == function_arn(name, "1"), label

    cfg = lam.get_function_configuration(FunctionName=f"{name}:$LATEST")
    assert cfg["Version"] == "$LATEST"

    # writes through an ARN, too
    r = lam.update_function_configuration(FunctionName=function_arn(name), Description="via arn")
    assert r["Description"] == "via arn"
    wait_ready(lam, name)
    v = lam.publish_version(FunctionName=f"{ACCOUNT}:function:{name}")
    assert v["Version"] == "2"


def test_function_name_qualifier_mismatch(lam, cleanup):
    name = unique()
    cleanup.append(name)
    create_function(lam, name)
    lam.publish_version(FunctionName=name)
    expect_error(lambda: lam.get_function(FunctionName=f"{name}:1", Qualifier="2"),
                 "InvalidParameterValueException", 400,
                 "The derived qualifier from the function name does not match the specified qualifier.")
    # a matching explicit qualifier is fine
    assert lam.get_function(FunctionName=f"{name}:1", Qualifier="1")["Configuration"]["Version"] == "1"


def test_function_arn_of_other_region(lam, fn):
    other = f"arn:aws:lambda:ap-southeast-1:{ACCOUNT}:function:{fn}"
    expect_error(lambda: lam.get_function(FunctionName=other), "ResourceNotFoundException", 404,
                 "Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')")


def test_function_arn_of_other_account(lam, fn):
    other = f"arn:aws:lambda:{REGION}:111122223333:function:{fn}"
    expect_error(lambda: lam.get_function(FunctionName=other), "AccessDeniedException", 403)


# -- concurrency of the control plane --------------------------------------------------------------

def test_concurrent_creates_of_distinct_functions(server, cleanup):
    from concurrent.futures import ThreadPoolExecutor

    prefix = unique("par")
    names = [f"{prefix}-{i:02d}" for i in range(24)]
    cleanup.extend(names)

    def make(n):
        c = server.client()  # one client per thread, as boto3 recommends
        return create_function(c, n, code_zip(n))["CodeSha256"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        shas = list(pool.map(make, names))
    assert shas == [sha256_b64(code_zip(n)) for n in names]
    lam = server.client()
    listed = {f["FunctionName"] for p in lam.get_paginator("list_functions").paginate() for f in p["Functions"]}
    assert set(names) <= listed


def test_concurrent_create_same_name_exactly_one_wins(server, cleanup):
    from concurrent.futures import ThreadPoolExecutor

    name = unique("race")
    cleanup.append(name)

    def attempt(i):
        try:
            create_function(server.client(), name, code_zip(f"racer-{i}"))
            return "created"
        except ClientError as e:
            return e.response["Error"]["Code"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert outcomes.count("created") == 1, outcomes
    assert set(outcomes) == {"created", "ResourceConflictException"}, outcomes


def test_concurrent_publish_of_unchanged_code_makes_one_version(server, fn):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=6) as pool:
        versions = list(pool.map(lambda _: server.client().publish_version(FunctionName=fn)["Version"], range(6)))
    assert versions == ["1"] * 6, versions
    lam = server.client()
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=fn)["Versions"]] == ["$LATEST", "1"]


def test_concurrent_updates_and_publishes_number_versions_uniquely(server, fn):
    from concurrent.futures import ThreadPoolExecutor

    def step(i):
        c = server.client()
        c.update_function_code(FunctionName=fn, ZipFile=code_zip(f"round-{i}"), Publish=True)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(step, range(8)))
    lam = server.client()
    vs = [v["Version"] for v in lam.list_versions_by_function(FunctionName=fn)["Versions"]]
    assert vs == ["$LATEST"] + [str(i) for i in range(1, 9)], vs
    shas = {v["CodeSha256"] for v in lam.list_versions_by_function(FunctionName=fn)["Versions"][1:]}
    assert shas == {sha256_b64(code_zip(f"round-{i}")) for i in range(8)}


def test_large_zip_round_trip(lam, cleanup):
    import os as _os

    name = unique()
    cleanup.append(name)
    zb = make_zip({"index.py": "def handler(e, c):\n    return 1\n", "blob.bin": _os.urandom(8 << 20)}, stored=True)
    resp = create_function(lam, name, zb)
    assert resp["CodeSize"] == len(zb)
    assert resp["CodeSha256"] == sha256_b64(zb)
    assert http_get(lam.get_function(FunctionName=name)["Code"]["Location"], timeout=30) == (200, zb)


def test_unicode_round_trip(lam, cleanup):
    name = unique()
    cleanup.append(name)
    text = "Grüße — 関数 ✓"
    create_function(lam, name, Description=text, Environment={"Variables": {"GREETING": text}},
                    Tags={"owner": "zoë"})
    got = lam.get_function(FunctionName=name)
    assert got["Configuration"]["Description"] == text
    assert got["Configuration"]["Environment"]["Variables"]["GREETING"] == text
    assert got["Tags"] == {"owner": "zoë"}
