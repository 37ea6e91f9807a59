"""IAM and STS on the Ignis endpoint (Query protocol) with real boto3 `iam`/`sts` clients and the aws
CLI, and their enforcement on the Lambda API: identity policies, explicit deny, resource policies
from AddPermission, iam:PassRole, assumed-role sessions (trust policy, revocation, forged tokens)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import (
    ACCOUNT,
    AWS_CLI,
    REGION,
    ROLE,
    create_function,
    expect_error,
    function_arn,
    status_of,
    unique,
    wait_ready,
)

LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def allow(actions, resources) -> str:
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}]})


@pytest.fixture(scope="module")
def iam(server):
    return server.client("iam")


@pytest.fixture(scope="module")
def sts(server):
    return server.client("sts")


@pytest.fixture
def make_user(server, iam):
    """Create users with one access key each: returns (name, access key, secret)."""
    made = []

    def make(policy: str | None = None):
        name = unique("user")
        iam.create_user(UserName=name)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        if policy:
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
        made.append((name, key["AccessKeyId"]))
        return name, key["AccessKeyId"], key["SecretAccessKey"]

    yield make
    for name, key_id in made:
        for fn in (lambda: iam.delete_access_key(UserName=name, AccessKeyId=key_id),
                   lambda: iam.delete_user_policy(UserName=name, PolicyName="p"),
                   lambda: iam.delete_user(UserName=name)):
            try:
                fn()
            except ClientError:
                pass


@pytest.fixture
def two_functions(lam):
    names = [unique(), unique()]
    for n in names:
        create_function(lam, n)
        wait_ready(lam, n)
    yield names
    for n in names:
        try:
            lam.delete_function(FunctionName=n)
        except ClientError:
            pass


def run_cli(srv, *args: str, key: tuple[str, str] | None = None, session: str | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE="/dev/null", AWS_DEFAULT_REGION=REGION, AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
    if key:
        env.update(AWS_ACCESS_KEY_ID=key[0], AWS_SECRET_ACCESS_KEY=key[1],
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        if session:
            env["AWS_SESSION_TOKEN"] = session
    else:
        env["AWS_SHARED_CREDENTIALS_FILE"] = str(srv.credentials_file)
    cmd = [str(AWS_CLI), *args, "--endpoint-url", srv.endpoint, "--output", "json"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)


# -- IAM API -------------------------------------------------------------------------------------

def test_users_and_access_keys(iam):
    name = unique("user")
    created = iam.create_user(UserName=name, Path="/team/")["User"]
    assert created["UserName"] == name
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/team/{name}"
    assert created["UserId"].startswith("AIDA") and len(created["UserId"]) == 21
    assert created["Path"] == "/team/"
    assert iam.get_user(UserName=name)["User"] == created
    assert name in [u["UserName"] for u in iam.list_users()["Users"]]
    assert [u["UserName"] for u in iam.list_users(PathPrefix="/team/")["Users"]].count(name) == 1
    expect_error(lambda: iam.create_user(UserName=name.upper()), "EntityAlreadyExists", 409,
                 f"User with name {name.upper()} already exists.")
    expect_error(lambda: iam.get_user(UserName="nobody-" + name), "NoSuchEntity", 404,
                 f"The user with name nobody-{name} cannot be found.")

    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40
    assert key["Status"] == "Active"
    listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [key["AccessKeyId"]]
    assert "SecretAccessKey" not in listed[0]
    iam.create_access_key(UserName=name)
    expect_error(lambda: iam.create_access_key(UserName=name), "LimitExceeded", 409,
                 "Cannot exceed quota for AccessKeysPerUser: 2")
    expect_error(lambda: iam.delete_user(UserName=name), "DeleteConflict", 409,
                 "Cannot delete entity, must delete access keys first.")
    for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
    expect_error(lambda: iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"]),
                 "NoSuchEntity", 404, f"The Access Key with id {key['AccessKeyId']} cannot be found.")
    iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=allow("lambda:*", "*"))
    expect_error(lambda: iam.delete_user(UserName=name), "DeleteConflict", 409,
                 "Cannot delete entity, must delete policies first.")
    iam.delete_user_policy(UserName=name, PolicyName="inline")
    assert status_of(iam.delete_user(UserName=name)) == 200
    expect_error(lambda: iam.get_user(UserName=name), "NoSuchEntity", 404)


def test_inline_policies_round_trip_and_malformed(iam):
    name = unique("user")
    iam.create_user(UserName=name)
    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Get", "Effect": "Allow", "Action": "lambda:GetFunction", "Resource": "*",
         "Condition": {"StringLike": {"aws:username": "user-*"}}}]}
    iam.put_user_policy(UserName=name, PolicyName="get", PolicyDocument=json.dumps(doc))
    got = iam.get_user_policy(UserName=name, PolicyName="get")
    assert got["UserName"] == name and got["PolicyName"] == "get"
    assert got["PolicyDocument"] == doc  # botocore decodes the URL-encoded document
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == ["get"]
    bad = [
        ("{not json", "Syntax errors in policy."),
        (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "GetFunction",
                                                               "Resource": "*"}]}),
         "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
        (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                               "Principal": "*", "Resource": "*"}]}),
         "Policy document should not specify a principal."),
        (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}),
         "Policy statement must contain resources."),
    ]
    for text, msg in bad:
        expect_error(lambda: iam.put_user_policy(UserName=name, PolicyName="bad", PolicyDocument=text),
                     "MalformedPolicyDocument", 400, msg)
    expect_error(lambda: iam.get_user_policy(UserName=name, PolicyName="nope"), "NoSuchEntity", 404,
                 "The user policy with name nope cannot be found.")
    expect_error(lambda: iam.put_user_policy(UserName="missing-" + name, PolicyName="x",
                                             PolicyDocument=allow("s3:*", "*")),
                 "NoSuchEntity", 404, f"The user with name missing-{name} cannot be found.")
    iam.delete_user_policy(UserName=name, PolicyName="get")
    iam.delete_user(UserName=name)


def test_roles_managed_policies_and_attachments(iam):
    name = unique("role")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST),
                           Description="exec role", MaxSessionDuration=7200)["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/{name}"
    assert role["RoleId"].startswith("AROA")
    assert role["AssumeRolePolicyDocument"] == LAMBDA_TRUST
    assert role["MaxSessionDuration"] == 7200 and role["Description"] == "exec role"
    assert iam.get_role(RoleName=name)["Role"]["RoleId"] == role["RoleId"]
    assert name in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    expect_error(lambda: iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST)),
                 "EntityAlreadyExists", 409, f"Role with name {name} already exists.")
    no_principal = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
    expect_error(lambda: iam.create_role(RoleName=name + "x", AssumeRolePolicyDocument=json.dumps(no_principal)),
                 "MalformedPolicyDocument", 400, "Missing required field Principal")

    pname = unique("pol")
    pol = iam.create_policy(PolicyName=pname, PolicyDocument=allow("lambda:InvokeFunction", "*"))["Policy"]
    assert pol["Arn"] == f"arn:aws:iam::{ACCOUNT}:policy/{pname}"
    assert pol["DefaultVersionId"] == "v1" and pol["AttachmentCount"] == 0 and pol["IsAttachable"] is True
    expect_error(lambda: iam.create_policy(PolicyName=pname, PolicyDocument=allow("s3:*", "*")),
                 "EntityAlreadyExists", 409, f"A policy called {pname} already exists.")
    iam.attach_role_policy(RoleName=name, PolicyArn=pol["Arn"])
    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    iam.attach_role_policy(RoleName=name, PolicyArn=basic)
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert sorted(a["PolicyArn"] for a in attached) == sorted([pol["Arn"], basic])
    assert iam.get_policy(PolicyArn=pol["Arn"])["Policy"]["AttachmentCount"] == 1
    missing = f"arn:aws:iam::{ACCOUNT}:policy/nope-{pname}"
    expect_error(lambda: iam.attach_role_policy(RoleName=name, PolicyArn=missing), "NoSuchEntity", 404,
                 f"Policy {missing} does not exist or is not attachable.")
    iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=allow("logs:*", "*"))
    assert iam.get_role_policy(RoleName=name, PolicyName="inline")["PolicyDocument"]["Statement"][0]["Action"] == "logs:*"
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["inline"]
    expect_error(lambda: iam.delete_role(RoleName=name), "DeleteConflict", 409)
    iam.delete_role_policy(RoleName=name, PolicyName="inline")
    iam.detach_role_policy(RoleName=name, PolicyArn=pol["Arn"])
    iam.detach_role_policy(RoleName=name, PolicyArn=basic)
    expect_error(lambda: iam.detach_role_policy(RoleName=name, PolicyArn=basic), "NoSuchEntity", 404,
                 f"Policy {basic} was not found.")
    iam.delete_role(RoleName=name)
    expect_error(lambda: iam.get_role(RoleName=name), "NoSuchEntity", 404,
                 f"The role with name {name} cannot be found.")


def test_validation_errors(server):
    iam = server.client("iam", validate=False)
    expect_error(lambda: iam.create_user(UserName="bad name"), "ValidationError", 400,
                 "Value 'bad name' at 'userName' failed to satisfy constraint")
    expect_error(lambda: iam.create_role(RoleName="r-" + unique(), AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST),
                                         MaxSessionDuration=60),
                 "ValidationError", 400, "maxSessionDuration")


# -- enforcement on Lambda -----------------------------------------------------------------------

def test_user_limited_to_get_function_on_one_function(server, make_user, two_functions):
    f1, f2 = two_functions
    name, ak, sk = make_user(allow("lambda:GetFunction", function_arn(f1)))
    bob = server.client(access_key=ak, secret_key=sk)
    assert bob.get_function(FunctionName=f1)["Configuration"]["FunctionName"] == f1
    expect_error(lambda: bob.get_function(FunctionName=f2), "AccessDeniedException", 403,
                 f"User: {user_arn(name)} is not authorized to perform: lambda:GetFunction on resource: "
                 f"{function_arn(f2)} because no identity-based policy allows the lambda:GetFunction action")
    expect_error(lambda: bob.get_function_configuration(FunctionName=f1), "AccessDeniedException", 403,
                 "lambda:GetFunctionConfiguration")
    expect_error(lambda: bob.invoke(FunctionName=f1), "AccessDeniedException", 403, "lambda:InvokeFunction")
    new = unique()
    expect_error(lambda: create_function(bob, new), "AccessDeniedException", 403,
                 f"lambda:CreateFunction on resource: {function_arn(new)}")
    expect_error(lambda: bob.list_functions(), "AccessDeniedException", 403,
                 "lambda:ListFunctions on resource: *")
    # A qualified ARN is a different resource.
    expect_error(lambda: bob.get_function(FunctionName=f1, Qualifier="$LATEST"), "AccessDeniedException", 403,
                 f"on resource: {function_arn(f1, '$LATEST')}")
    # IAM itself is denied too, with the Query protocol's code.
    iam_bob = server.client("iam", access_key=ak, secret_key=sk)
    expect_error(lambda: iam_bob.list_users(), "AccessDenied", 403,
                 f"User: {user_arn(name)} is not authorized to perform: iam:ListUsers on resource: "
                 f"arn:aws:iam::{ACCOUNT}:user/")


def test_invoke_only_and_explicit_deny(server, iam, make_user, two_functions):
    f1, f2 = two_functions
    name, ak, sk = make_user(allow("lambda:InvokeFunction", function_arn(f1)))
    user = server.client(access_key=ak, secret_key=sk)
    resp = user.invoke(FunctionName=f1, Payload=b"{}")
    assert status_of(resp) == 200 and "FunctionError" not in resp
    expect_error(lambda: user.invoke(FunctionName=f2, Payload=b"{}"), "AccessDeniedException", 403)
    expect_error(lambda: user.get_function(FunctionName=f1), "AccessDeniedException", 403)
    deny = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "lambda:Invoke*", "Resource": function_arn(f1)}]})
    iam.put_user_policy(UserName=name, PolicyName="deny", PolicyDocument=deny)
    try:
        expect_error(lambda: user.invoke(FunctionName=f1, Payload=b"{}"), "AccessDeniedException", 403,
                     f"User: {user_arn(name)} is not authorized to perform: lambda:InvokeFunction on resource: "
                     f"{function_arn(f1)} with an explicit deny in an identity-based policy")
    finally:
        iam.delete_user_policy(UserName=name, PolicyName="deny")
    assert status_of(user.invoke(FunctionName=f1, Payload=b"{}")) == 200


def test_managed_policy_attached_to_user(server, iam, make_user, fn):
    name, ak, sk = make_user()
    user = server.client(access_key=ak, secret_key=sk)
    expect_error(lambda: user.get_function(FunctionName=fn), "AccessDeniedException", 403)
    arn = "arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess"
    iam.attach_user_policy(UserName=name, PolicyArn=arn)
    try:
        assert user.get_function(FunctionName=fn)["Configuration"]["FunctionName"] == fn
        assert status_of(user.list_functions()) == 200
        expect_error(lambda: user.delete_function(FunctionName=fn), "AccessDeniedException", 403)
    finally:
        iam.detach_user_policy(UserName=name, PolicyArn=arn)
    expect_error(lambda: user.get_function(FunctionName=fn), "AccessDeniedException", 403)


def test_add_permission_lets_another_user_invoke(server, lam, make_user, two_functions):
    f1, f2 = two_functions
    name, ak, sk = make_user()
    carol = server.client(access_key=ak, secret_key=sk)
    expect_error(lambda: carol.invoke(FunctionName=f1, Payload=b"{}"), "AccessDeniedException", 403)
    lam.add_permission(FunctionName=f1, StatementId="carol", Action="lambda:InvokeFunction",
                       Principal=user_arn(name))
    assert status_of(carol.invoke(FunctionName=f1, Payload=b"{}")) == 200
    expect_error(lambda: carol.invoke(FunctionName=f2, Payload=b"{}"), "AccessDeniedException", 403)
    expect_error(lambda: carol.get_function(FunctionName=f1), "AccessDeniedException", 403)
    # Granting to the account delegates to identity policies: carol has none.
    lam.remove_permission(FunctionName=f1, StatementId="carol")
    lam.add_permission(FunctionName=f1, StatementId="acct", Action="lambda:InvokeFunction", Principal=ACCOUNT)
    expect_error(lambda: carol.invoke(FunctionName=f1, Payload=b"{}"), "AccessDeniedException", 403)


def test_create_function_needs_pass_role(server, iam, make_user, cleanup):
    name, ak, sk = make_user(allow(["lambda:CreateFunction", "lambda:GetFunctionConfiguration"], "*"))
    user = server.client(access_key=ak, secret_key=sk)
    fname = unique()
    expect_error(lambda: create_function(user, fname), "AccessDeniedException", 403,
                 f"User: {user_arn(name)} is not authorized to perform: iam:PassRole on resource: {ROLE}")
    iam.put_user_policy(UserName=name, PolicyName="pass", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE,
                                                "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}]}))
    try:
        cleanup.append(fname)
        assert create_function(user, fname)["FunctionName"] == fname
    finally:
        iam.delete_user_policy(UserName=name, PolicyName="pass")


# -- STS -----------------------------------------------------------------------------------------

def test_get_caller_identity(server, sts, make_user):
    me = sts.get_caller_identity()
    assert (me["Account"], me["Arn"], me["UserId"]) == (ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT)
    name, ak, sk = make_user()
    who = server.client("sts", access_key=ak, secret_key=sk).get_caller_identity()
    assert who["Arn"] == user_arn(name) and who["UserId"].startswith("AIDA")
    # STS is global: any signing region is accepted.
    assert server.client("sts", region="eu-west-3").get_caller_identity()["Account"] == ACCOUNT


def test_assume_role_trust_policy_sessions_and_revocation(server, iam, make_user, two_functions):
    f1, f2 = two_functions
    alice, aak, ask = make_user(allow("sts:AssumeRole", "*"))
    bob, bak, bsk = make_user(allow("sts:AssumeRole", "*"))
    role = unique("role")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": user_arn(alice)}, "Action": "sts:AssumeRole"}]}
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="get", PolicyDocument=allow("lambda:GetFunction", function_arn(f1)))
    try:
        sts_alice = server.client("sts", access_key=aak, secret_key=ask)
        out = sts_alice.assume_role(RoleArn=role_arn, RoleSessionName="alice-session", DurationSeconds=900)
        creds = out["Credentials"]
        assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"]
        assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/alice-session"
        assert out["AssumedRoleUser"]["AssumedRoleId"].endswith(":alice-session")
        remaining = (creds["Expiration"] - dt.datetime.now(dt.timezone.utc)).total_seconds()
        assert 840 < remaining <= 901, remaining
        session = dict(access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                       session_token=creds["SessionToken"])
        who = server.client("sts", **session).get_caller_identity()
        assert who["Arn"] == out["AssumedRoleUser"]["Arn"]
        assert who["UserId"] == out["AssumedRoleUser"]["AssumedRoleId"]
        lam_session = server.client(**session)
        assert lam_session.get_function(FunctionName=f1)["Configuration"]["FunctionName"] == f1
        expect_error(lambda: lam_session.get_function(FunctionName=f2), "AccessDeniedException", 403,
                     f"User: {out['AssumedRoleUser']['Arn']} is not authorized to perform: lambda:GetFunction")

        # Not trusted, root, bad durations.
        expect_error(lambda: server.client("sts", access_key=bak, secret_key=bsk).assume_role(
            RoleArn=role_arn, RoleSessionName="bob"), "AccessDenied", 403,
            f"User: {user_arn(bob)} is not authorized to perform: sts:AssumeRole on resource: {role_arn}")
        expect_error(lambda: server.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="root"),
                     "AccessDenied", 403, "Roles may not be assumed by root accounts.")
        expect_error(lambda: sts_alice.assume_role(RoleArn=role_arn, RoleSessionName="ss", DurationSeconds=7200),
                     "ValidationError", 400, "exceeds the MaxSessionDuration set for this role")
        expect_error(lambda: server.client("sts", access_key=aak, secret_key=ask, validate=False).assume_role(
            RoleArn=role_arn, RoleSessionName="ss", DurationSeconds=60), "ValidationError", 400, "durationSeconds")

        expect_error(lambda: sts_alice.assume_role(RoleArn=role_arn, RoleSessionName="ss",
                                                   Policy=allow("lambda:*", "*")),
                     "ValidationError", 400, "Session policies (Policy, PolicyArns) are not supported")
        # A forged (altered) token is rejected; without the token the ASIA key means nothing.
        tok = creds["SessionToken"]
        forged = tok[:20] + ("A" if tok[20] != "A" else "B") + tok[21:]
        expect_error(lambda: server.client("sts", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                                           session_token=forged).get_caller_identity(),
                     "InvalidClientTokenId", 403, "The security token included in the request is invalid")
        expect_error(lambda: server.client(access_key=creds["AccessKeyId"],
                                           secret_key=creds["SecretAccessKey"]).get_function(FunctionName=f1),
                     "UnrecognizedClientException", 403)
    finally:
        iam.delete_role_policy(RoleName=role, PolicyName="get")
        iam.delete_role(RoleName=role)
    # Deleting the role revokes its sessions.
    expect_error(lambda: server.client(**session).get_function(FunctionName=f1), "UnrecognizedClientException", 403,
                 "The security token included in the request is invalid")


def test_aws_cli_iam_and_sts(server):
    name = unique("cli")
    r = run_cli(server, "iam", "create-user", "--user-name", name)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["User"]["Arn"] == user_arn(name)
    r = run_cli(server, "iam", "create-access-key", "--user-name", name)
    assert r.returncode == 0, r.stderr
    key = json.loads(r.stdout)["AccessKey"]
    r = run_cli(server, "sts", "get-caller-identity")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    r = run_cli(server, "sts", "get-caller-identity", key=(key["AccessKeyId"], key["SecretAccessKey"]))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["Arn"] == user_arn(name)
    r = run_cli(server, "lambda", "list-functions", key=(key["AccessKeyId"], key["SecretAccessKey"]))
    assert r.returncode != 0 and "AccessDeniedException" in r.stderr
    r = run_cli(server, "iam", "get-user", "--user-name", "nope-" + name)
    assert r.returncode != 0 and "NoSuchEntity" in r.stderr
    r = run_cli(server, "iam", "list-users")
    assert name in [u["UserName"] for u in json.loads(r.stdout)["Users"]]
    assert run_cli(server, "iam", "delete-access-key", "--user-name", name,
                   "--access-key-id", key["AccessKeyId"]).returncode == 0
    assert run_cli(server, "iam", "delete-user", "--user-name", name).returncode == 0
    # The deleted key no longer authenticates.
    r = run_cli(server, "sts", "get-caller-identity", key=(key["AccessKeyId"], key["SecretAccessKey"]))
    assert r.returncode != 0 and "InvalidClientTokenId" in r.stderr


def test_strict_roles(fresh_server):
    srv = fresh_server({"IGNIS_STRICT_ROLES": "1"})
    lam, iam = srv.client(), srv.client("iam")
    name = unique()
    expect_error(lambda: create_function(lam, name), "InvalidParameterValueException", 400,
                 "The role defined for the function cannot be assumed by Lambda.")
    untrusting = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    bad = iam.create_role(RoleName="ec2-only", AssumeRolePolicyDocument=json.dumps(untrusting))["Role"]["Arn"]
    expect_error(lambda: create_function(lam, name, Role=bad), "InvalidParameterValueException", 400,
                 "The role defined for the function cannot be assumed by Lambda.")
    good = iam.create_role(RoleName="lambda-role", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]["Arn"]
    assert good == ROLE
    assert create_function(lam, name)["Role"] == ROLE


def test_trust_naming_the_account_delegates_to_identity_policies(server, iam, make_user):
    role = unique("role")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    try:
        plain, pak, psk = make_user()
        expect_error(lambda: server.client("sts", access_key=pak, secret_key=psk).assume_role(
            RoleArn=role_arn, RoleSessionName="plain"), "AccessDenied", 403)
        allowed, aak, ask = make_user(allow("sts:AssumeRole", role_arn))
        out = server.client("sts", access_key=aak, secret_key=ask).assume_role(
            RoleArn=role_arn, RoleSessionName="ok")
        creds = out["Credentials"]
        # The session has no permissions of its own: the role has no policies.
        sess_iam = server.client("iam", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                                 session_token=creds["SessionToken"])
        expect_error(lambda: sess_iam.create_user(UserName=unique("x")), "AccessDenied", 403,
                     f"User: {out['AssumedRoleUser']['Arn']} is not authorized to perform: iam:CreateUser")
        expect_error(lambda: sess_iam.get_user(), "ValidationError", 400,
                     "Must specify userName when calling with non-User credentials")
    finally:
        iam.delete_role(RoleName=role)


def test_json_services_are_authorized_for_iam_users(server, make_user):
    name, ak, sk = make_user(allow("lambda:GetFunction", "*"))
    logs = server.client("logs", access_key=ak, secret_key=sk)
    expect_error(lambda: logs.describe_log_groups(), "AccessDeniedException", 403,
                 f"User: {user_arn(name)} is not authorized to perform: logs:DescribeLogGroups on resource: *")
    # The admin (account root) is not limited.
    assert status_of(server.client("logs").describe_log_groups()) == 200


CREDS_ECHO = ("import os\ndef handler(event, context):\n"
              "    return {k: os.environ.get(k) for k in ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']}\n")


def test_function_gets_its_execution_role_credentials(server, iam, lam, cleanup):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", CREDS_ECHO)
    role_name = f"exec-{uuid.uuid4().hex[:8]}"
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "lambda.amazonaws.com"}}]}
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    name = unique("roled")
    cleanup.append(name)
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=role["Arn"], Handler="app.handler",
                        Code={"ZipFile": buf.getvalue()})
    resp = lam.invoke(FunctionName=name, LogType="Tail")
    creds = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, (creds, base64.b64decode(resp["LogResult"]).decode())
    assert creds["AWS_ACCESS_KEY_ID"].startswith("ASIA"), creds
    assert creds["AWS_SECRET_ACCESS_KEY"] and creds["AWS_SESSION_TOKEN"]
    admin_key = server.credentials[0]
    assert creds["AWS_ACCESS_KEY_ID"] != admin_key

    # The credentials are the role's: STS says so.
    sts_client = server.client("sts", access_key=creds["AWS_ACCESS_KEY_ID"],
                               secret_key=creds["AWS_SECRET_ACCESS_KEY"],
                               session_token=creds["AWS_SESSION_TOKEN"])
    ident = sts_client.get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{name}"

    # A role that does not exist yields no credentials at all.
    other = unique("noroled")
    cleanup.append(other)
    lam.create_function(FunctionName=other, Runtime="python3.11", Role=f"arn:aws:iam::{ACCOUNT}:role/none",
                        Handler="app.handler", Code={"ZipFile": buf.getvalue()})
    none = json.loads(lam.invoke(FunctionName=other)["Payload"].read())
    assert none == {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None}
