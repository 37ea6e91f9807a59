"""SigV4 authentication, the credentials file, and AWS-shaped errors for refused requests."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import urllib.error
import urllib.request

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from helpers import (
    REGION,
    error_code_of,
    expect_error,
    read_credentials,
    signed_request,
    unique,
)

LIST_PATH = "/2015-03-31/functions/"


def test_credentials_file(server):
    path = server.credentials_file
    assert path.exists()
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o600, f"credentials file mode is {oct(mode)}"
    ak, sk = read_credentials(path)
    assert ak and sk and ak != sk
    assert len(sk) >= 20


def test_valid_signature_accepted(server):
    status, headers, body = signed_request(server, "GET", LIST_PATH)
    assert status == 200, body
    assert "Functions" in json.loads(body)


def test_wrong_secret(server):
    ak, _ = server.credentials
    lam = server.client(access_key=ak, secret_key="wrong-secret-wrong-secret-wrong-secret")
    expect_error(lambda: lam.list_functions(), "InvalidSignatureException", 403,
                 "The request signature we calculated does not match the signature you provided")


def test_unknown_access_key(server):
    lam = server.client(access_key="AKIAUNKNOWNUNKNOWN00", secret_key="whatever-whatever-whatever")
    expect_error(lambda: lam.list_functions(), "UnrecognizedClientException", 403,
                 "The security token included in the request is invalid")


def test_signed_twenty_minutes_ago(server):
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=20)
    status, headers, body = signed_request(server, "GET", LIST_PATH, when=when)
    assert status == 403, body
    assert error_code_of(headers, body) == "InvalidSignatureException", (headers, body)
    assert b"Signature expired" in body, body


def test_signed_twenty_minutes_ahead(server):
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=20)
    status, headers, body = signed_request(server, "GET", LIST_PATH, when=when)
    assert status == 403, body
    assert error_code_of(headers, body) == "InvalidSignatureException", (headers, body)


def test_small_clock_skew_is_tolerated(server):
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=2)
    status, _, body = signed_request(server, "GET", LIST_PATH, when=when)
    assert status == 200, body


def test_unsigned_request(server):
    status, headers, body = signed_request(server, "GET", LIST_PATH, sign=False)
    assert status == 403, body
    assert error_code_of(headers, body) == "MissingAuthenticationTokenException", (headers, body)


def test_body_changed_after_signing(server):
    name = unique()
    good = json.dumps({"FunctionName": name, "Role": "arn:aws:iam::000000000000:role/r",
                       "Runtime": "python3.12", "Handler": "index.handler",
                       "Code": {"ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}).encode()
    evil = good.replace(b"index.handler", b"evil.handler")
    status, headers, body = signed_request(server, "POST", "/2015-03-31/functions", good,
                                           body_after_signing=evil)
    assert status == 403, body
    assert error_code_of(headers, body) == "InvalidSignatureException", (headers, body)
    lam = server.client()
    expect_error(lambda: lam.get_function(FunctionName=name), "ResourceNotFoundException", 404)


def test_query_changed_after_signing(server):
    """Sign ?MaxItems=1, send ?MaxItems=2 with the same headers: the signature no longer matches."""
    req = AWSRequest(method="GET", url=server.endpoint + LIST_PATH + "?MaxItems=1")
    botocore.auth.SigV4Auth(Credentials(*server.credentials), "lambda", REGION).add_auth(req)
    prepared = req.prepare()
    with urllib.request.urlopen(urllib.request.Request(prepared.url, headers=dict(prepared.headers)),
                                timeout=10) as r:
        assert r.status == 200
    tampered = prepared.url.replace("MaxItems=1", "MaxItems=2")
    try:
        with urllib.request.urlopen(urllib.request.Request(tampered, headers=dict(prepared.headers)),
                                    timeout=10) as r:
            got = (r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        got = (e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())
    assert got[0] == 403, got
    assert error_code_of(got[1], got[2]) == "InvalidSignatureException"


def test_credential_scope_wrong_region(server):
    status, headers, body = signed_request(server, "GET", LIST_PATH, region="eu-west-1")
    assert status == 403, body
    assert error_code_of(headers, body) == "InvalidSignatureException", (headers, body)
    assert b"Credential should be scoped to a valid region" in body, body


def test_credential_scope_wrong_service(server):
    status, headers, body = signed_request(server, "GET", LIST_PATH, service="s3")
    assert status == 403, body
    assert error_code_of(headers, body) == "InvalidSignatureException", (headers, body)
    assert b"Credential should be scoped to correct service: 'lambda'" in body, body


def test_env_supplied_admin_keys(fresh_server):
    ak, sk = "AKIAIGNISTESTKEY0001", "ignis-test-secret-0123456789abcdefghij"
    srv = fresh_server(env={"IGNIS_ACCESS_KEY_ID": ak, "IGNIS_SECRET_ACCESS_KEY": sk})
    lam = srv.client(access_key=ak, secret_key=sk)
    assert lam.list_functions()["Functions"] == []
    bad = srv.client(access_key=ak, secret_key=sk + "x")
    expect_error(lambda: bad.list_functions(), "InvalidSignatureException", 403)
    assert srv.stop() == 0
