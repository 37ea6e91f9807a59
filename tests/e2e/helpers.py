"""Helpers for the end-to-end suite: the server process wrapper, zips, signing, error assertions.

Everything talks to a loopback port chosen at random; every wait is bounded.
"""

from __future__ import annotations

import base64
import configparser
import datetime as dt
import hashlib
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from pathlib import Path
from typing import Callable, Iterable
from unittest import mock

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[2]
IGNIS_BIN = Path(os.environ.get("IGNIS_BIN", REPO / "target" / "release" / "ignis"))
REGION = "us-east-1"
ACCOUNT = "000000000000"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambda-role"
RUNTIME = "python3.12"
HANDLER = "index.handler"

LAST_MODIFIED_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

_CLIENT_LOCK = threading.Lock()

START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0


def function_arn(name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def layer_arn(name: str, version: int | None = None) -> str:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}"
    return f"{arn}:{version}" if version is not None else arn


def unique(prefix: str = "fn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def make_zip(files: dict[str, str | bytes] | None = None, *, stored: bool = False) -> bytes:
    """A zip built in memory with fixed timestamps (same input, same bytes)."""
    if files is None:
        files = {"index.py": "def handler(event, context):\n    return event\n"}
    buf = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = method
            zf.writestr(info, content)
    return buf.getvalue()


def code_zip(tag: str = "v1") -> bytes:
    """A small function zip whose bytes differ per `tag`."""
    return make_zip({"index.py": f"VERSION = {tag!r}\n\ndef handler(event, context):\n    return VERSION\n"})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_credentials(path: Path) -> tuple[str, str]:
    cp = configparser.ConfigParser()
    cp.read(path)
    return cp["default"]["aws_access_key_id"].strip(), cp["default"]["aws_secret_access_key"].strip()


class IgnisServer:
    """One `ignis server` process on a loopback port, with restart and crash helpers."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None):
        if not IGNIS_BIN.exists():
            pytest.fail(f"ignis binary not found at {IGNIS_BIN} (build it with cargo build --release -p ignis)")
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.log_path = workdir / "server.log"
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self._log = None

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        assert self.port is not None, "server not started"
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def tls(self) -> bool:
        """Whether the server serves HTTPS (`--tls` or `--tls-cert/--tls-key`)."""
        return self.extra_env.get("IGNIS_TLS") == "1" or "IGNIS_TLS_CERT" in self.extra_env

    @property
    def ca_file(self) -> Path:
        """The certificate clients must trust: the operator's file or the self-signed one."""
        if "IGNIS_TLS_CERT" in self.extra_env:
            return Path(self.extra_env["IGNIS_TLS_CERT"])
        return self.data_dir / "tls" / "cert.pem"

    def ssl_context(self):
        import ssl
        return ssl.create_default_context(cafile=str(self.ca_file)) if self.tls else None

    def start(self) -> "IgnisServer":
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IGNIS_"))}
        env.update(self.extra_env)
        # Unpacked code stays outside the data dir (which must hold no plaintext), inside the workdir
        # so it is removed with it.
        env.setdefault("IGNIS_CODE_CACHE_DIR", str(self.workdir / "code-cache"))
        env.setdefault("RUST_BACKTRACE", "1")
        env.setdefault("NO_COLOR", "1")
        self._log = open(self.log_path, "ab")
        self._log.write(f"\n===== start on port {self.port} =====\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            [
                str(IGNIS_BIN),
                "server",
                "--listen",
                f"127.0.0.1:{self.port}",
                "--data-dir",
                str(self.data_dir),
                "--region",
                REGION,
                "--account-id",
                ACCOUNT,
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        last_err = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"ignis server exited with {self.proc.returncode} during start-up:\n{self.log_tail()}"
                )
            try:
                ctx = self.ssl_context() if not self.tls or self.ca_file.exists() else None
                if self.tls and ctx is None:
                    raise OSError("certificate not written yet")
                with urllib.request.urlopen(f"{self.endpoint}/health", timeout=2, context=ctx) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError) as e:  # not up yet
                last_err = e
            time.sleep(0.05)
        self.kill9()
        raise RuntimeError(f"ignis server not healthy after {START_TIMEOUT}s ({last_err}):\n{self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Graceful stop; returns the exit code (the caller asserts on it)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                raise AssertionError(f"ignis server did not exit within {STOP_TIMEOUT}s of signal {sig}")
        self._close_log()
        return self.proc.returncode

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._close_log()

    def restart(self, *, crash: bool = False) -> "IgnisServer":
        if crash:
            self.kill9()
        else:
            rc = self.stop()
            assert rc == 0, f"graceful stop exited {rc}:\n{self.log_tail()}"
        return self.start()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    # -- clients ---------------------------------------------------------------------------
    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials"

    @property
    def credentials(self) -> tuple[str, str]:
        if "IGNIS_ACCESS_KEY_ID" in self.extra_env:
            return self.extra_env["IGNIS_ACCESS_KEY_ID"], self.extra_env["IGNIS_SECRET_ACCESS_KEY"]
        return read_credentials(self.credentials_file)

    def client(self, service: str = "lambda", *, access_key: str | None = None,
               secret_key: str | None = None, session_token: str | None = None,
               validate: bool = True, region: str = REGION):
        """A boto3 client of `service` (lambda, iam, sts, logs, kms, ...) for this server."""
        ak, sk = self.credentials
        with _CLIENT_LOCK:  # creating clients from boto3's default session is not thread-safe
            return boto3.client(
                service,
                endpoint_url=self.endpoint,
                region_name=region,
                aws_access_key_id=access_key or ak,
                aws_secret_access_key=secret_key or sk,
                aws_session_token=session_token,
                verify=str(self.ca_file) if self.tls else None,
                config=Config(
                    retries={"max_attempts": 0},
                    connect_timeout=5,
                    read_timeout=60,
                    parameter_validation=validate,
                ),
            )


def new_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="ignis-e2e-"))


# -- function helpers ----------------------------------------------------------------------------

def create_function(lam, name: str | None = None, zip_bytes: bytes | None = None, **kw) -> dict:
    params = dict(
        FunctionName=name or unique(),
        Runtime=RUNTIME,
        Role=ROLE,
        Handler=HANDLER,
        Code={"ZipFile": zip_bytes if zip_bytes is not None else code_zip()},
    )
    params.update(kw)
    return lam.create_function(**params)


def wait_ready(lam, name: str, qualifier: str | None = None, timeout: float = 15.0) -> dict:
    """Poll until State is Active and LastUpdateStatus is Successful (bounded)."""
    kw = {"FunctionName": name}
    if qualifier:
        kw["Qualifier"] = qualifier
    deadline = time.monotonic() + timeout
    cfg = None
    while time.monotonic() < deadline:
        cfg = lam.get_function_configuration(**kw)
        if cfg.get("State") == "Active" and cfg.get("LastUpdateStatus", "Successful") == "Successful":
            return cfg
        time.sleep(0.1)
    raise AssertionError(f"function {name} not Active/Successful after {timeout}s: "
                         f"State={cfg.get('State')} LastUpdateStatus={cfg.get('LastUpdateStatus')}")


# -- error assertions ----------------------------------------------------------------------------

def expect_error(call: Callable[[], object], code: str, status: int, *fragments: str) -> ClientError:
    """Run `call`, require a ClientError with this code, HTTP status and message fragments."""
    try:
        result = call()
    except ClientError as e:
        err = e.response.get("Error", {})
        got_status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        msg = err.get("Message", "") or ""
        assert (err.get("Code"), got_status) == (code, status), (
            f"expected {code}/{status}, got {err.get('Code')}/{got_status}: {msg!r}"
        )
        for frag in fragments:
            assert frag in msg, f"message {msg!r} lacks {frag!r}"
        return e
    raise AssertionError(f"expected {code}/{status}, but the call succeeded: {str(result)[:400]}")


def expect_error_in(call: Callable[[], object], codes: Iterable[str], status: int) -> ClientError:
    """Like expect_error, for inputs where AWS's exact code is not documented: any of `codes`."""
    codes = tuple(codes)
    try:
        result = call()
    except ClientError as e:
        err = e.response.get("Error", {})
        got_status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        assert err.get("Code") in codes and got_status == status, (
            f"expected one of {codes}/{status}, got {err.get('Code')}/{got_status}: {err.get('Message')!r}"
        )
        return e
    raise AssertionError(f"expected one of {codes}/{status}, but the call succeeded: {str(result)[:400]}")


def status_of(resp: dict) -> int:
    return resp["ResponseMetadata"]["HTTPStatusCode"]


# -- raw HTTP ------------------------------------------------------------------------------------

def http_get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """Plain GET (no signing): (status, body)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def signed_request(
    srv: IgnisServer,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    when: dt.datetime | None = None,
    region: str = REGION,
    service: str = "lambda",
    headers: dict[str, str] | None = None,
    sign: bool = True,
    body_after_signing: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """Sign a request with botocore's SigV4 (optionally at a fake time) and send it with urllib."""
    ak, sk = srv.credentials
    url = srv.endpoint + path
    hdrs = {"Content-Type": "application/json"} if body else {}
    hdrs.update(headers or {})
    req = AWSRequest(method=method, url=url, data=body, headers=hdrs)
    if sign:
        signer = botocore.auth.SigV4Auth(Credentials(access_key or ak, secret_key or sk), service, region)
        if when is not None:
            naive = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
            with mock.patch("botocore.auth.get_current_datetime", return_value=naive):
                signer.add_auth(req)
        else:
            signer.add_auth(req)
    prepared = req.prepare()
    data = body_after_signing if body_after_signing is not None else (body or None)
    out_headers = dict(prepared.headers)
    if data is not None:
        out_headers["Content-Length"] = str(len(data))
    ureq = urllib.request.Request(prepared.url, data=data, headers=out_headers, method=method)
    try:
        with urllib.request.urlopen(ureq, timeout=15) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def error_code_of(headers: dict[str, str], body: bytes) -> str:
    """The AWS error code as botocore derives it (x-amzn-ErrorType, else the body)."""
    code = headers.get("x-amzn-errortype", "")
    if not code:
        try:
            code = json.loads(body or b"{}").get("__type", "") or json.loads(body or b"{}").get("code", "")
        except ValueError:
            code = ""
    return code.split(":")[0].split("#")[-1]


# -- aws CLI -------------------------------------------------------------------------------------

AWS_CLI = Path(sys.executable).parent / "aws"


def run_aws(srv: IgnisServer, *args: str, timeout: float = 60.0,
            service: str = "lambda") -> subprocess.CompletedProcess:
    """Run `aws <service> ...` (CLI v1 from the venv; lambda by default) against `srv` with its
    credentials file."""
    if not AWS_CLI.exists():
        pytest.fail(f"aws CLI not found at {AWS_CLI}; run the suite from the .venv made by scripts/test")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=str(srv.credentials_file),
        AWS_CONFIG_FILE="/dev/null",
        AWS_DEFAULT_REGION=REGION,
        AWS_MAX_ATTEMPTS="1",
        AWS_RETRY_MODE="standard",
        AWS_PAGER="",
    )
    cmd = [str(AWS_CLI), service, *args, "--endpoint-url", srv.endpoint, "--output", "json"]
    if srv.tls:
        cmd += ["--ca-bundle", str(srv.ca_file)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
