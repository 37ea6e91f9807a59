"""Function resource policies: AddPermission, RemovePermission, GetPolicy."""

from __future__ import annotations

import json

from helpers import ACCOUNT, create_function, expect_error, function_arn, status_of, unique, wait_ready


def test_add_permission_service_principal(lam, fn):
    resp = lam.add_permission(
        FunctionName=fn,
        StatementId="s3-invoke",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::my-bucket",
        SourceAccount="111122223333",
    )
    assert status_of(resp) == 201
    assert json.loads(resp["Statement"]) == {
        "Sid": "s3-invoke",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": function_arn(fn),
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": "111122223333"},
            "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::my-bucket"},
        },
    }


def test_add_permission_account_principal(lam, fn):
    resp = lam.add_permission(FunctionName=fn, StatementId="acct", Action="lambda:InvokeFunction",
                              Principal="111122223333")
    st = json.loads(resp["Statement"])
    assert st["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert st["Resource"] == function_arn(fn)
    assert "Condition" not in st


def test_add_permission_star_principal_function_url(lam, fn):
    resp = lam.add_permission(FunctionName=fn, StatementId="url", Action="lambda:InvokeFunctionUrl",
                              Principal="*", FunctionUrlAuthType="NONE")
    st = json.loads(resp["Statement"])
    assert st["Principal"] == "*"
    assert st["Action"] == "lambda:InvokeFunctionUrl"
    assert st["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}


def test_get_policy_and_remove(lam, fn):
    expect_error(lambda: lam.get_policy(FunctionName=fn), "ResourceNotFoundException", 404,
                 "The resource you requested does not exist.")
    lam.add_permission(FunctionName=fn, StatementId="one", Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com")
    lam.add_permission(FunctionName=fn, StatementId="two", Action="lambda:GetFunction", Principal=ACCOUNT)
    pol = lam.get_policy(FunctionName=fn)
    assert status_of(pol) == 200
    assert pol["RevisionId"]
    doc = json.loads(pol["Policy"])
    assert doc["Version"] == "2012-10-17"
    assert doc["Id"] == "default"
    assert [s["Sid"] for s in doc["Statement"]] == ["one", "two"]
    assert all(s["Effect"] == "Allow" for s in doc["Statement"])

    rm = lam.remove_permission(FunctionName=fn, StatementId="one")
    assert status_of(rm) == 204
    doc = json.loads(lam.get_policy(FunctionName=fn)["Policy"])
    assert [s["Sid"] for s in doc["Statement"]] == ["two"]
    expect_error(lambda: lam.remove_permission(FunctionName=fn, StatementId="non-existent"),
                 "ResourceNotFoundException", 404, "Statement non-existent is not found in resource policy.")
    lam.remove_permission(FunctionName=fn, StatementId="two")
    expect_error(lambda: lam.get_policy(FunctionName=fn), "ResourceNotFoundException", 404,
                 "The resource you requested does not exist.")


def test_remove_permission_without_policy(lam, fn):
    expect_error(lambda: lam.remove_permission(FunctionName=fn, StatementId="nothing"),
                 "ResourceNotFoundException", 404, "No policy is associated with the given resource.")


def test_duplicate_statement_id(lam, fn):
    lam.add_permission(FunctionName=fn, StatementId="s3", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com")
    expect_error(lambda: lam.add_permission(FunctionName=fn, StatementId="s3", Action="lambda:InvokeFunction",
                                            Principal="s3.amazonaws.com"),
                 "ResourceConflictException", 409,
                 "The statement id (s3) provided already exists. Please provide a new statement id, "
                 "or remove the existing statement.")


def test_permission_on_version_and_alias(lam, cleanup):
    name = unique()
    cleanup.append(name)
    create_function(lam, name)
    wait_ready(lam, name)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.add_permission(FunctionName=name, StatementId="unq", Action="lambda:InvokeFunction", Principal=ACCOUNT)
    v = lam.add_permission(FunctionName=name, Qualifier="1", StatementId="v1", Action="lambda:InvokeFunction",
                           Principal=ACCOUNT)
    assert json.loads(v["Statement"])["Resource"] == function_arn(name, "1")
    a = lam.add_permission(FunctionName=name, Qualifier="live", StatementId="al", Action="lambda:InvokeFunction",
                           Principal=ACCOUNT)
    assert json.loads(a["Statement"])["Resource"] == function_arn(name, "live")

    sids = lambda **kw: [s["Sid"] for s in json.loads(lam.get_policy(FunctionName=name, **kw)["Policy"])["Statement"]]
    assert sids() == ["unq"]
    assert sids(Qualifier="1") == ["v1"]
    assert sids(Qualifier="live") == ["al"]
    lam.remove_permission(FunctionName=name, Qualifier="1", StatementId="v1")
    assert sids() == ["unq"]


def test_permission_on_latest_is_refused(lam, fn):
    expect_error(lambda: lam.add_permission(FunctionName=fn, Qualifier="$LATEST", StatementId="x",
                                            Action="lambda:InvokeFunction", Principal=ACCOUNT),
                 "InvalidParameterValueException", 400, "We currently do not support adding policies for $LATEST.")


def test_permission_revision_precondition(lam, fn):
    expect_error(lambda: lam.add_permission(FunctionName=fn, StatementId="x", Action="lambda:InvokeFunction",
                                            Principal=ACCOUNT, RevisionId="stale"),
                 "PreconditionFailedException", 412, "The Revision Id provided does not match the latest Revision Id")
    rev = lam.get_function_configuration(FunctionName=fn)["RevisionId"]
    lam.add_permission(FunctionName=fn, StatementId="x", Action="lambda:InvokeFunction", Principal=ACCOUNT,
                       RevisionId=rev)
    expect_error(lambda: lam.remove_permission(FunctionName=fn, StatementId="x", RevisionId="stale"),
                 "PreconditionFailedException", 412)


def test_permission_missing_function(lam):
    missing = unique("missing")
    expect_error(lambda: lam.add_permission(FunctionName=missing, StatementId="x", Action="lambda:InvokeFunction",
                                            Principal=ACCOUNT),
                 "ResourceNotFoundException", 404, f"Function not found: {function_arn(missing)}")
    expect_error(lambda: lam.get_policy(FunctionName=missing), "ResourceNotFoundException", 404,
                 f"Function not found: {function_arn(missing)}")


def test_permission_missing_version(lam, fn):
    expect_error(lambda: lam.add_permission(FunctionName=fn, Qualifier="42", StatementId="x",
                                            Action="lambda:InvokeFunction", Principal=ACCOUNT),
                 "ResourceNotFoundException", 404, f"Function not found: {function_arn(fn, '42')}")


def test_permission_missing_alias(lam, fn):
    expect_error(lambda: lam.add_permission(FunctionName=fn, Qualifier="ghost", StatementId="x",
                                            Action="lambda:InvokeFunction", Principal=ACCOUNT),
                 "ResourceNotFoundException", 404, f"Cannot find alias arn: {function_arn(fn, 'ghost')}")


def test_invalid_statement_id(lam, fn):
    expect_error(lambda: lam.add_permission(FunctionName=fn, StatementId="example.com",
                                            Action="lambda:InvokeFunction", Principal=ACCOUNT),
                 "ValidationException", 400,
                 "Value 'example.com' at 'statementId' failed to satisfy constraint")
