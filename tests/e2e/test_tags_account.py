"""Tags (TagResource, UntagResource, ListTags) and GetAccountSettings."""

from __future__ import annotations

from helpers import code_zip, create_function, expect_error, function_arn, status_of, unique, wait_ready


def test_tags_from_create(lam, cleanup):
    name = unique()
    cleanup.append(name)
    create_function(lam, name, Tags={"team": "core", "env": "test"})
    resp = lam.list_tags(Resource=function_arn(name))
    assert status_of(resp) == 200
    assert resp["Tags"] == {"team": "core", "env": "test"}
    assert lam.get_function(FunctionName=name)["Tags"] == {"team": "core", "env": "test"}


def test_tag_lifecycle(lam, fn):
    arn = function_arn(fn)
    assert lam.list_tags(Resource=arn)["Tags"] == {}
    r = lam.tag_resource(Resource=arn, Tags={"A": "tag-a"})
    assert status_of(r) == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"A": "tag-a"}
    lam.tag_resource(Resource=arn, Tags={"B": "tag-b", "C": "tag-c"})
    lam.tag_resource(Resource=arn, Tags={"C": "tag-c-new", "D": "tag-d"})
    assert lam.list_tags(Resource=arn)["Tags"] == {"A": "tag-a", "B": "tag-b", "C": "tag-c-new", "D": "tag-d"}
    u = lam.untag_resource(Resource=arn, TagKeys=["A", "C"])
    assert status_of(u) == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"B": "tag-b", "D": "tag-d"}
    lam.untag_resource(Resource=arn, TagKeys=["not-there"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"B": "tag-b", "D": "tag-d"}
    assert lam.get_function(FunctionName=fn)["Tags"] == {"B": "tag-b", "D": "tag-d"}


def test_tagging_changes_revision_id(lam, fn):
    before = lam.get_function_configuration(FunctionName=fn)["RevisionId"]
    lam.tag_resource(Resource=function_arn(fn), Tags={"k": "v"})
    after = lam.get_function_configuration(FunctionName=fn)["RevisionId"]
    assert after != before


def test_tags_on_missing_function(lam):
    arn = function_arn(unique("missing"))
    for call in (lambda: lam.list_tags(Resource=arn),
                 lambda: lam.tag_resource(Resource=arn, Tags={"a": "b"}),
                 lambda: lam.untag_resource(Resource=arn, TagKeys=["a"])):
        expect_error(call, "ResourceNotFoundException", 404, f"Function not found: {arn}")


def test_tags_on_version_or_alias_are_refused(lam, fn):
    lam.publish_version(FunctionName=fn)
    for q in ("1", "$LATEST"):
        expect_error(lambda: lam.tag_resource(Resource=function_arn(fn, q), Tags={"a": "b"}),
                     "InvalidParameterValueException", 400,
                     "Tags on function aliases and versions are not supported. Please specify a function ARN.")


def test_tag_invalid_arn(lam):
    expect_error(lambda: lam.tag_resource(Resource="arn:aws:something", Tags={"a": "b"}),
                 "ValidationException", 400, "at 'resource' failed to satisfy constraint")


def test_too_many_tags(lam, fn):
    expect_error(lambda: lam.tag_resource(Resource=function_arn(fn), Tags={f"k{i}": "v" for i in range(51)}),
                 "InvalidParameterValueException", 400, "Number of tags exceeds resource tag limit.")
    ok = {f"{i}_key": f"{i}_value" for i in range(50)}
    lam.tag_resource(Resource=function_arn(fn), Tags=ok)
    assert lam.list_tags(Resource=function_arn(fn))["Tags"] == ok


# -- GetAccountSettings (private server so the counts are exact) ------------------------------------

def test_account_settings(fresh_server):
    srv = fresh_server()
    lam = srv.client()
    s = lam.get_account_settings()
    assert status_of(s) == 200
    assert s["AccountLimit"] == {
        "TotalCodeSize": 80530636800,
        "CodeSizeUnzipped": 262144000,
        "CodeSizeZipped": 52428800,
        "ConcurrentExecutions": 1000,
        "UnreservedConcurrentExecutions": 1000,
    }
    assert s["AccountUsage"] == {"TotalCodeSize": 0, "FunctionCount": 0}

    z1, z2 = code_zip("acct-1"), code_zip("acct-two")
    create_function(lam, "acct-a", z1)
    create_function(lam, "acct-b", z2)
    wait_ready(lam, "acct-a")
    lam.put_function_concurrency(FunctionName="acct-a", ReservedConcurrentExecutions=100)
    s = lam.get_account_settings()
    assert s["AccountUsage"]["FunctionCount"] == 2
    assert s["AccountUsage"]["TotalCodeSize"] == len(z1) + len(z2)
    assert s["AccountLimit"]["UnreservedConcurrentExecutions"] == 900

    lam.delete_function(FunctionName="acct-a")
    s = lam.get_account_settings()
    assert s["AccountUsage"]["FunctionCount"] == 1
    assert s["AccountUsage"]["TotalCodeSize"] == len(z2)
    assert s["AccountLimit"]["UnreservedConcurrentExecutions"] == 1000
    assert srv.stop() == 0
