"""Versions (PublishVersion, ListVersionsByFunction) and aliases (Create/Get/Update/Delete/ListAliases,
RoutingConfig)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from helpers import (
    code_zip,
    create_function,
    expect_error,
    function_arn,
    http_get,
    sha256_b64,
    status_of,
    unique,
    wait_ready,
)


@pytest.fixture
def fn_v2(lam, cleanup):
    """A function with versions 1 and 2 published (different code); $LATEST equals 2."""
    name = unique()
    cleanup.append(name)
    create_function(lam, name, code_zip("v1"))
    wait_ready(lam, name)
    lam.publish_version(FunctionName=name)
    lam.update_function_code(FunctionName=name, ZipFile=code_zip("v2"))
    wait_ready(lam, name)
    lam.publish_version(FunctionName=name)
    return name


# -- PublishVersion --------------------------------------------------------------------------------

def test_publish_version_shape(lam, cleanup):
    name = unique()
    cleanup.append(name)
    zb = code_zip("pub")
    create_function(lam, name, zb, Description="fn description")
    wait_ready(lam, name)
    resp = lam.publish_version(FunctionName=name, Description="first release")
    assert status_of(resp) == 201
    assert resp["Version"] == "1"
    assert resp["FunctionArn"] == function_arn(name, "1")
    assert resp["FunctionName"] == name
    assert resp["CodeSha256"] == sha256_b64(zb)
    assert resp["CodeSize"] == len(zb)
    assert resp["Description"] == "first release"
    assert resp["State"] in ("Pending", "Active")
    got = lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]
    assert got["Version"] == "1"
    assert got["FunctionArn"] == function_arn(name, "1")
    assert got["Description"] == "first release"


def test_publish_unchanged_returns_same_version(lam, fn):
    v1 = lam.publish_version(FunctionName=fn)
    again = lam.publish_version(FunctionName=fn)
    assert v1["Version"] == "1"
    assert again["Version"] == "1"
    assert again["RevisionId"] == v1["RevisionId"]
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=fn)["Versions"]]
    assert versions == ["$LATEST", "1"]


def test_publish_after_config_change_makes_new_version(lam, fn):
    lam.publish_version(FunctionName=fn)
    lam.update_function_configuration(FunctionName=fn, Timeout=20)
    wait_ready(lam, fn)
    v2 = lam.publish_version(FunctionName=fn)
    assert v2["Version"] == "2"
    assert v2["Timeout"] == 20


def test_published_version_is_immutable(lam, cleanup):
    name = unique()
    cleanup.append(name)
    z1 = code_zip("immutable-1")
    create_function(lam, name, z1, Timeout=7, Environment={"Variables": {"STAGE": "one"}})
    wait_ready(lam, name)
    lam.publish_version(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, Timeout=30, Environment={"Variables": {"STAGE": "two"}})
    wait_ready(lam, name)
    z2 = code_zip("immutable-2")
    lam.update_function_code(FunctionName=name, ZipFile=z2)
    wait_ready(lam, name)

    v1 = lam.get_function(FunctionName=name, Qualifier="1")
    assert v1["Configuration"]["Timeout"] == 7
    assert v1["Configuration"]["Environment"] == {"Variables": {"STAGE": "one"}}
    assert v1["Configuration"]["CodeSha256"] == sha256_b64(z1)
    assert http_get(v1["Code"]["Location"]) == (200, z1)
    latest = lam.get_function(FunctionName=name)
    assert latest["Configuration"]["Timeout"] == 30
    assert latest["Configuration"]["CodeSha256"] == sha256_b64(z2)
    assert http_get(latest["Code"]["Location"]) == (200, z2)


def test_update_on_a_version_qualifier_is_refused(lam, fn):
    lam.publish_version(FunctionName=fn)
    with pytest.raises(ClientError) as ei:
        lam.update_function_configuration(FunctionName=f"{fn}:1", Timeout=9)
    status = ei.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert 400 <= status < 500, ei.value.response["Error"]
    assert lam.get_function_configuration(FunctionName=fn, Qualifier="1")["Timeout"] == 3


def test_publish_version_code_sha_precondition(lam, fn):
    cur = lam.get_function_configuration(FunctionName=fn)["CodeSha256"]
    expect_error(lambda: lam.publish_version(FunctionName=fn, CodeSha256="somenonexistentsha256"),
                 "InvalidParameterValueException", 400,
                 "CodeSHA256 (somenonexistentsha256) is different from current CodeSHA256 in $LATEST")
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=fn)["Versions"]]
    assert versions == ["$LATEST"], "a refused publish must not create a version"
    ok = lam.publish_version(FunctionName=fn, CodeSha256=cur)
    assert ok["Version"] == "1"


def test_publish_version_revision_precondition(lam, fn):
    expect_error(lambda: lam.publish_version(FunctionName=fn, RevisionId="wrong"),
                 "PreconditionFailedException", 412,
                 "The Revision Id provided does not match the latest Revision Id")
    rev = lam.get_function_configuration(FunctionName=fn)["RevisionId"]
    assert lam.publish_version(FunctionName=fn, RevisionId=rev)["Version"] == "1"


def test_publish_version_missing_function(lam):
    name = unique("missing")
    expect_error(lambda: lam.publish_version(FunctionName=name), "ResourceNotFoundException", 404,
                 function_arn(name))


def test_version_numbers_are_not_reused(lam, fn_v2):
    lam.delete_function(FunctionName=fn_v2, Qualifier="2")
    lam.update_function_configuration(FunctionName=fn_v2, Description="new")
    wait_ready(lam, fn_v2)
    assert lam.publish_version(FunctionName=fn_v2)["Version"] == "3"


# -- ListVersionsByFunction ------------------------------------------------------------------------

def test_list_versions_by_function(lam, fn_v2):
    resp = lam.list_versions_by_function(FunctionName=fn_v2)
    vs = resp["Versions"]
    assert [v["Version"] for v in vs] == ["$LATEST", "1", "2"]
    assert [v["FunctionArn"] for v in vs] == [
        function_arn(fn_v2, "$LATEST"), function_arn(fn_v2, "1"), function_arn(fn_v2, "2")]
    assert vs[1]["CodeSha256"] == sha256_b64(code_zip("v1"))
    assert vs[2]["CodeSha256"] == sha256_b64(code_zip("v2"))
    assert vs[0]["CodeSha256"] == vs[2]["CodeSha256"]


def test_list_versions_pagination(lam, fn_v2):
    got, marker = [], None
    for _ in range(10):
        kw = {"FunctionName": fn_v2, "MaxItems": 1}
        if marker:
            kw["Marker"] = marker
        page = lam.list_versions_by_function(**kw)
        assert len(page["Versions"]) == 1
        got.append(page["Versions"][0]["Version"])
        marker = page.get("NextMarker")
        if not marker:
            break
    assert got == ["$LATEST", "1", "2"]


def test_list_versions_missing_function(lam):
    name = unique("missing")
    expect_error(lambda: lam.list_versions_by_function(FunctionName=name), "ResourceNotFoundException", 404,
                 function_arn(name))


# -- Aliases ---------------------------------------------------------------------------------------

def test_alias_lifecycle(lam, fn_v2):
    created = lam.create_alias(FunctionName=fn_v2, Name="live", FunctionVersion="1", Description="prod")
    assert status_of(created) == 201
    assert created["AliasArn"] == function_arn(fn_v2, "live")
    assert created["Name"] == "live"
    assert created["FunctionVersion"] == "1"
    assert created["Description"] == "prod"
    assert created["RevisionId"]
    assert "RoutingConfig" not in created or created["RoutingConfig"] in ({}, {"AdditionalVersionWeights": {}})

    got = lam.get_alias(FunctionName=fn_v2, Name="live")
    assert status_of(got) == 200
    for k in ("AliasArn", "Name", "FunctionVersion", "Description", "RevisionId"):
        assert got[k] == created[k], k

    upd = lam.update_alias(FunctionName=fn_v2, Name="live", FunctionVersion="2", Description="moved")
    assert status_of(upd) == 200
    assert upd["FunctionVersion"] == "2"
    assert upd["Description"] == "moved"
    assert upd["RevisionId"] != created["RevisionId"]
    assert lam.get_alias(FunctionName=fn_v2, Name="live")["FunctionVersion"] == "2"

    resp = lam.delete_alias(FunctionName=fn_v2, Name="live")
    assert status_of(resp) == 204
    expect_error(lambda: lam.get_alias(FunctionName=fn_v2, Name="live"), "ResourceNotFoundException", 404,
                 f"Cannot find alias arn: {function_arn(fn_v2, 'live')}")


def test_alias_on_latest(lam, fn):
    a = lam.create_alias(FunctionName=fn, Name="head", FunctionVersion="$LATEST")
    assert a["FunctionVersion"] == "$LATEST"
    assert a["AliasArn"] == function_arn(fn, "head")


def test_list_aliases(lam, fn_v2):
    lam.create_alias(FunctionName=fn_v2, Name="a-one", FunctionVersion="1")
    lam.create_alias(FunctionName=fn_v2, Name="b-two", FunctionVersion="2")
    lam.create_alias(FunctionName=fn_v2, Name="c-one", FunctionVersion="1")
    all_ = lam.list_aliases(FunctionName=fn_v2)["Aliases"]
    assert sorted(a["Name"] for a in all_) == ["a-one", "b-two", "c-one"]
    for a in all_:
        assert a["AliasArn"] == function_arn(fn_v2, a["Name"])
    only1 = lam.list_aliases(FunctionName=fn_v2, FunctionVersion="1")["Aliases"]
    assert sorted(a["Name"] for a in only1) == ["a-one", "c-one"]
    # pagination
    names, marker = [], None
    for _ in range(10):
        kw = {"FunctionName": fn_v2, "MaxItems": 2}
        if marker:
            kw["Marker"] = marker
        page = lam.list_aliases(**kw)
        assert len(page["Aliases"]) <= 2
        names += [a["Name"] for a in page["Aliases"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert sorted(names) == ["a-one", "b-two", "c-one"]


def test_get_function_through_alias(lam, fn_v2):
    lam.create_alias(FunctionName=fn_v2, Name="stable", FunctionVersion="1")
    for kw in ({"FunctionName": fn_v2, "Qualifier": "stable"},
               {"FunctionName": f"{fn_v2}:stable"},
               {"FunctionName": function_arn(fn_v2, "stable")}):
        resp = lam.get_function(**kw)
        assert resp["Configuration"]["Version"] == "1", kw
        assert resp["Configuration"]["FunctionArn"] == function_arn(fn_v2, "stable"), kw
        assert resp["Configuration"]["CodeSha256"] == sha256_b64(code_zip("v1")), kw
        assert http_get(resp["Code"]["Location"]) == (200, code_zip("v1"))


def test_alias_routing_config(lam, fn_v2):
    a = lam.create_alias(FunctionName=fn_v2, Name="canary", FunctionVersion="1",
                         RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}})
    assert a["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.2}}
    assert lam.get_alias(FunctionName=fn_v2, Name="canary")["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.2}}
    u = lam.update_alias(FunctionName=fn_v2, Name="canary", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    assert u["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    assert u["FunctionVersion"] == "1"
    listed = {x["Name"]: x for x in lam.list_aliases(FunctionName=fn_v2)["Aliases"]}
    assert listed["canary"]["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}


def test_alias_routing_config_errors(lam, lam_noval, fn_v2):
    expect_error(lambda: lam.create_alias(FunctionName=fn_v2, Name="r1", FunctionVersion="1",
                                          RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}}),
                 "InvalidParameterValueException", 400,
                 "Invalid function version 1. Function version 1 is already included in routing configuration.")
    expect_error(lambda: lam.create_alias(FunctionName=fn_v2, Name="r2", FunctionVersion="1",
                                          RoutingConfig={"AdditionalVersionWeights": {"2": 0.1, "3": 0.1}}),
                 "InvalidParameterValueException", 400,
                 "Number of items in AdditionalVersionWeights cannot be greater than 1")
    expect_error(lambda: lam.create_alias(FunctionName=fn_v2, Name="r3", FunctionVersion="1",
                                          RoutingConfig={"AdditionalVersionWeights": {"2": 2.0}}),
                 "ValidationException", 400)
    expect_error(lambda: lam_noval.create_alias(FunctionName=fn_v2, Name="r4", FunctionVersion="1",
                                                RoutingConfig={"AdditionalVersionWeights": {"2": -1.0}}),
                 "ValidationException", 400)
    expect_error(lambda: lam.create_alias(FunctionName=fn_v2, Name="r5", FunctionVersion="1",
                                          RoutingConfig={"AdditionalVersionWeights": {"10": 0.5}}),
                 "ResourceNotFoundException", 404, f"Function not found: {function_arn(fn_v2, '10')}")
    expect_error(lambda: lam.create_alias(FunctionName=fn_v2, Name="r6", FunctionVersion="$LATEST",
                                          RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}}),
                 "InvalidParameterValueException", 400,
                 "$LATEST is not supported for an alias pointing to more than 1 version")
    names = [a["Name"] for a in lam.list_aliases(FunctionName=fn_v2)["Aliases"]]
    assert names == [], f"refused aliases were created: {names}"


def test_create_alias_errors(lam, fn_v2):
    lam.create_alias(FunctionName=fn_v2, Name="dup", FunctionVersion="1")
    expect_error(lambda: lam.create_alias(FunctionName=fn_v2, Name="dup", FunctionVersion="2"),
                 "ResourceConflictException", 409, f"Alias already exists: {function_arn(fn_v2, 'dup')}")
    expect_error(lambda: lam.create_alias(FunctionName=fn_v2, Name="nover", FunctionVersion="10"),
                 "ResourceNotFoundException", 404, f"Function not found: {function_arn(fn_v2, '10')}")
    missing = unique("missing")
    expect_error(lambda: lam.create_alias(FunctionName=missing, Name="x", FunctionVersion="1"),
                 "ResourceNotFoundException", 404)
    # an all-digit alias name would be ambiguous with a version number
    expect_error(lambda: lam.create_alias(FunctionName=fn_v2, Name="123", FunctionVersion="1"),
                 "ValidationException", 400)


def test_alias_not_found_operations(lam, fn):
    arn = function_arn(fn, "ghost")
    expect_error(lambda: lam.get_alias(FunctionName=fn, Name="ghost"), "ResourceNotFoundException", 404,
                 f"Cannot find alias arn: {arn}")
    expect_error(lambda: lam.update_alias(FunctionName=fn, Name="ghost", Description="x"),
                 "ResourceNotFoundException", 404, f"Cannot find alias arn: {arn}")


def test_update_alias_revision_precondition(lam, fn_v2):
    a = lam.create_alias(FunctionName=fn_v2, Name="guarded", FunctionVersion="1")
    expect_error(lambda: lam.update_alias(FunctionName=fn_v2, Name="guarded", FunctionVersion="2",
                                          RevisionId="stale"),
                 "PreconditionFailedException", 412,
                 "The Revision Id provided does not match the latest Revision Id")
    assert lam.get_alias(FunctionName=fn_v2, Name="guarded")["FunctionVersion"] == "1"
    ok = lam.update_alias(FunctionName=fn_v2, Name="guarded", FunctionVersion="2", RevisionId=a["RevisionId"])
    assert ok["FunctionVersion"] == "2"


def test_update_alias_to_missing_version(lam, fn_v2):
    lam.create_alias(FunctionName=fn_v2, Name="pointing", FunctionVersion="1")
    expect_error(lambda: lam.update_alias(FunctionName=fn_v2, Name="pointing", FunctionVersion="99"),
                 "ResourceNotFoundException", 404, function_arn(fn_v2, "99"))
