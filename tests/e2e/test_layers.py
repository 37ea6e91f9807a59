"""Layers: PublishLayerVersion, GetLayerVersion(+ByArn), ListLayers, ListLayerVersions, DeleteLayerVersion,
layer permissions, and functions that reference layers."""

from __future__ import annotations

import json

import pytest

from helpers import (
    LAST_MODIFIED_RE,
    create_function,
    expect_error,
    http_get,
    layer_arn,
    make_zip,
    sha256_b64,
    status_of,
    unique,
    wait_ready,
)


def layer_zip(tag: str = "1") -> bytes:
    return make_zip({"python/helper.py": f"TAG = {tag!r}\n"})


@pytest.fixture
def layer(lam):
    """A layer with versions 1 and 2; deleted afterwards."""
    name = unique("layer")
    lam.publish_layer_version(LayerName=name, Content={"ZipFile": layer_zip("1")},
                              CompatibleRuntimes=["python3.12"], Description="first")
    lam.publish_layer_version(LayerName=name, Content={"ZipFile": layer_zip("2")},
                              CompatibleRuntimes=["python3.12", "python3.11"], Description="second")
    yield name
    for v in (1, 2, 3, 4):
        try:
            lam.delete_layer_version(LayerName=name, VersionNumber=v)
        except Exception:
            pass


def test_publish_layer_version_shape(lam):
    name = unique("layer")
    zb = layer_zip("shape")
    resp = lam.publish_layer_version(
        LayerName=name,
        Content={"ZipFile": zb},
        Description="shared helpers",
        LicenseInfo="MIT",
        CompatibleRuntimes=["python3.12"],
        CompatibleArchitectures=["x86_64"],
    )
    try:
        assert status_of(resp) == 201
        assert resp["LayerArn"] == f"arn:aws:lambda:us-east-1:000000000000:layer:{name}"
        assert resp["LayerVersionArn"] == f"arn:aws:lambda:us-east-1:000000000000:layer:{name}:1"
        assert resp["Version"] == 1
        assert resp["Description"] == "shared helpers"
        assert resp["LicenseInfo"] == "MIT"
        assert resp["CompatibleRuntimes"] == ["python3.12"]
        assert resp["CompatibleArchitectures"] == ["x86_64"]
        assert LAST_MODIFIED_RE.match(resp["CreatedDate"]), resp["CreatedDate"]
        assert resp["Content"]["CodeSha256"] == sha256_b64(zb)
        assert resp["Content"]["CodeSize"] == len(zb)
        assert http_get(resp["Content"]["Location"]) == (200, zb)
    finally:
        lam.delete_layer_version(LayerName=name, VersionNumber=1)


def test_layer_versions_increment(lam, layer):
    v3 = lam.publish_layer_version(LayerName=layer, Content={"ZipFile": layer_zip("3")})
    assert v3["Version"] == 3
    assert v3["LayerVersionArn"] == layer_arn(layer, 3)


def test_get_layer_version_and_by_arn(lam, layer):
    got = lam.get_layer_version(LayerName=layer, VersionNumber=2)
    assert status_of(got) == 200
    assert got["Version"] == 2
    assert got["LayerVersionArn"] == layer_arn(layer, 2)
    assert got["LayerArn"] == layer_arn(layer)
    assert got["Description"] == "second"
    assert got["Content"]["CodeSha256"] == sha256_b64(layer_zip("2"))
    assert http_get(got["Content"]["Location"]) == (200, layer_zip("2"))

    by_arn = lam.get_layer_version_by_arn(Arn=layer_arn(layer, 1))
    assert by_arn["Version"] == 1
    assert by_arn["Description"] == "first"
    assert by_arn["Content"]["CodeSha256"] == sha256_b64(layer_zip("1"))

    # the layer name may also be given as the layer ARN
    via_arn_name = lam.get_layer_version(LayerName=layer_arn(layer), VersionNumber=1)
    assert via_arn_name["LayerVersionArn"] == layer_arn(layer, 1)


def test_list_layer_versions_newest_first(lam, layer):
    resp = lam.list_layer_versions(LayerName=layer)
    vs = resp["LayerVersions"]
    assert [v["Version"] for v in vs] == [2, 1]
    assert [v["LayerVersionArn"] for v in vs] == [layer_arn(layer, 2), layer_arn(layer, 1)]
    assert vs[0]["Description"] == "second"
    assert vs[0]["CompatibleRuntimes"] == ["python3.12", "python3.11"]
    only311 = lam.list_layer_versions(LayerName=layer, CompatibleRuntime="python3.11")["LayerVersions"]
    assert [v["Version"] for v in only311] == [2]


def test_list_layers(lam, layer):
    entries = [e for p in lam.get_paginator("list_layers").paginate() for e in p["Layers"]]
    mine = [e for e in entries if e["LayerName"] == layer]
    assert len(mine) == 1
    e = mine[0]
    assert e["LayerArn"] == layer_arn(layer)
    assert e["LatestMatchingVersion"]["Version"] == 2
    assert e["LatestMatchingVersion"]["LayerVersionArn"] == layer_arn(layer, 2)
    assert e["LatestMatchingVersion"]["Description"] == "second"


def test_delete_layer_version(lam, layer):
    resp = lam.delete_layer_version(LayerName=layer, VersionNumber=2)
    assert status_of(resp) == 204
    expect_error(lambda: lam.get_layer_version(LayerName=layer, VersionNumber=2),
                 "ResourceNotFoundException", 404, "The resource you requested does not exist.")
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=layer)["LayerVersions"]] == [1]
    # deleting again (or something that never existed) is not an error
    assert status_of(lam.delete_layer_version(LayerName=layer, VersionNumber=2)) == 204
    assert status_of(lam.delete_layer_version(LayerName=unique("nolayer"), VersionNumber=1)) == 204
    # version numbers are never reused
    v = lam.publish_layer_version(LayerName=layer, Content={"ZipFile": layer_zip("again")})
    assert v["Version"] == 3


def test_layer_not_found(lam, layer):
    missing = unique("nolayer")
    expect_error(lambda: lam.get_layer_version(LayerName=missing, VersionNumber=1),
                 "ResourceNotFoundException", 404, "The resource you requested does not exist.")
    expect_error(lambda: lam.get_layer_version(LayerName=layer, VersionNumber=9),
                 "ResourceNotFoundException", 404, "The resource you requested does not exist.")
    expect_error(lambda: lam.get_layer_version_by_arn(Arn=layer_arn(layer, 9)),
                 "ResourceNotFoundException", 404)
    expect_error(lambda: lam.get_layer_version(LayerName=layer, VersionNumber=0),
                 "InvalidParameterValueException", 400, "Layer Version Cannot be less than 1")
    assert lam.list_layer_versions(LayerName=missing)["LayerVersions"] == []


def test_get_layer_version_by_arn_needs_version(lam, layer):
    expect_error(lambda: lam.get_layer_version_by_arn(Arn=layer_arn(layer)), "ValidationException", 400)


def test_publish_layer_bad_zip(lam):
    name = unique("layer")
    expect_error(lambda: lam.publish_layer_version(LayerName=name, Content={"ZipFile": b"not a zip"}),
                 "InvalidParameterValueException", 400)
    expect_error(lambda: lam.publish_layer_version(
        LayerName=name, Content={"ZipFile": make_zip({"../../evil.so": "x"})}),
        "InvalidParameterValueException", 400)
    assert lam.list_layer_versions(LayerName=name)["LayerVersions"] == []


def test_publish_layer_invalid_runtime(lam):
    expect_error(lambda: lam.publish_layer_version(LayerName=unique("layer"), Content={"ZipFile": layer_zip()},
                                                   CompatibleRuntimes=["invalidruntime"]),
                 "ValidationException", 400)


# -- functions using layers ------------------------------------------------------------------------

def test_function_with_layers(lam, layer, cleanup):
    name = unique()
    cleanup.append(name)
    resp = create_function(lam, name, Layers=[layer_arn(layer, 1)])
    assert resp["Layers"] == [{"Arn": layer_arn(layer, 1), "CodeSize": len(layer_zip("1"))}]
    wait_ready(lam, name)
    upd = lam.update_function_configuration(FunctionName=name, Layers=[layer_arn(layer, 2)])
    assert upd["Layers"] == [{"Arn": layer_arn(layer, 2), "CodeSize": len(layer_zip("2"))}]
    wait_ready(lam, name)
    cleared = lam.update_function_configuration(FunctionName=name, Layers=[])
    assert cleared.get("Layers", []) == []


def test_function_layer_errors(lam, layer, cleanup):
    missing = layer_arn(unique("nolayer"), 1)
    expect_error(lambda: create_function(lam, unique(), Layers=[missing]),
                 "InvalidParameterValueException", 400, f"Layer version {missing} does not exist.")
    expect_error(lambda: create_function(lam, unique(), Layers=[layer_arn(layer, 9)]),
                 "InvalidParameterValueException", 400, f"Layer version {layer_arn(layer, 9)} does not exist.")
    expect_error(lambda: create_function(lam, unique(), Layers=[layer_arn(layer, 1), layer_arn(layer, 2)]),
                 "InvalidParameterValueException", 400,
                 "Two different versions of the same layer are not allowed to be referenced in the same function.")


def test_function_at_most_five_layers(lam, cleanup):
    names = [unique("layer") for _ in range(6)]
    arns = []
    try:
        for n in names:
            arns.append(lam.publish_layer_version(LayerName=n, Content={"ZipFile": layer_zip(n)})["LayerVersionArn"])
        fname = unique()
        cleanup.append(fname)
        ok = create_function(lam, fname, Layers=arns[:5])
        assert [entry["Arn"] for entry in ok["Layers"]] == arns[:5]
        expect_error(lambda: create_function(lam, unique(), Layers=arns),
                     "InvalidParameterValueException", 400, "Cannot reference more than 5 layers.")
    finally:
        for n in names:
            lam.delete_layer_version(LayerName=n, VersionNumber=1)


# -- layer permissions -----------------------------------------------------------------------------

def test_layer_permission_lifecycle(lam, layer):
    expect_error(lambda: lam.get_layer_version_policy(LayerName=layer, VersionNumber=1),
                 "ResourceNotFoundException", 404, "No policy is associated with the given resource.")
    r1 = lam.add_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="everyone",
                                          Action="lambda:GetLayerVersion", Principal="*")
    assert status_of(r1) == 201
    assert r1["RevisionId"]
    assert json.loads(r1["Statement"]) == {
        "Sid": "everyone",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "lambda:GetLayerVersion",
        "Resource": layer_arn(layer, 1),
    }
    r2 = lam.add_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="acct",
                                          Action="lambda:GetLayerVersion", Principal="111122223333")
    st2 = json.loads(r2["Statement"])
    assert st2["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert r2["RevisionId"] != r1["RevisionId"]

    pol = lam.get_layer_version_policy(LayerName=layer, VersionNumber=1)
    doc = json.loads(pol["Policy"])
    assert doc["Version"] == "2012-10-17"
    assert doc["Id"] == "default"
    assert [s["Sid"] for s in doc["Statement"]] == ["everyone", "acct"]
    assert pol["RevisionId"] == r2["RevisionId"]

    # version 2 has its own (empty) policy
    expect_error(lambda: lam.get_layer_version_policy(LayerName=layer, VersionNumber=2),
                 "ResourceNotFoundException", 404)

    rm = lam.remove_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="acct")
    assert status_of(rm) == 204
    doc = json.loads(lam.get_layer_version_policy(LayerName=layer, VersionNumber=1)["Policy"])
    assert [s["Sid"] for s in doc["Statement"]] == ["everyone"]


def test_layer_permission_errors(lam, layer):
    lam.add_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="s1",
                                     Action="lambda:GetLayerVersion", Principal="*")
    expect_error(lambda: lam.add_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="s1",
                                                          Action="lambda:GetLayerVersion", Principal="*"),
                 "ResourceConflictException", 409,
                 "The statement id (s1) provided already exists. Please provide a new statement id, "
                 "or remove the existing statement.")
    expect_error(lambda: lam.add_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="s2",
                                                          Action="lambda:GetLayerVersion", Principal="*",
                                                          RevisionId="stale"),
                 "PreconditionFailedException", 412,
                 "The Revision Id provided does not match the latest Revision Id. "
                 "Call the GetLayerPolicy API to retrieve the latest Revision Id")
    expect_error(lambda: lam.add_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="s3",
                                                          Action="*", Principal="*"),
                 "ValidationException", 400)
    expect_error(lambda: lam.add_layer_version_permission(LayerName=layer, VersionNumber=9, StatementId="s4",
                                                          Action="lambda:GetLayerVersion", Principal="*"),
                 "ResourceNotFoundException", 404, f"Layer version {layer_arn(layer, 9)} does not exist.")
    expect_error(lambda: lam.get_layer_version_policy(LayerName=layer, VersionNumber=9),
                 "ResourceNotFoundException", 404, f"Layer version {layer_arn(layer, 9)} does not exist.")
    expect_error(lambda: lam.remove_layer_version_permission(LayerName=layer, VersionNumber=9, StatementId="s1"),
                 "ResourceNotFoundException", 404, f"Layer version {layer_arn(layer, 9)} does not exist.")
    expect_error(lambda: lam.remove_layer_version_permission(LayerName=layer, VersionNumber=1,
                                                             StatementId="doesnotexist"),
                 "ResourceNotFoundException", 404, "Statement doesnotexist is not found in resource policy.")
    expect_error(lambda: lam.remove_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="s1",
                                                             RevisionId="stale"),
                 "PreconditionFailedException", 412)
    # nothing above changed the policy
    doc = json.loads(lam.get_layer_version_policy(LayerName=layer, VersionNumber=1)["Policy"])
    assert [s["Sid"] for s in doc["Statement"]] == ["s1"]
