"""AWS's own runtime interface clients run unmodified against Ignis's Runtime API, as `provided.al2023`
custom runtimes: awslambdaric (Python), aws-lambda-ric (Node.js) and the `lambda_runtime` crate (Rust).

The clients are fetched/built once into a cache directory (IGNIS_E2E_CACHE, default ~/.cache/ignis-e2e)
from the package registries; a fresh machine builds them on its first run.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers import REPO, ROLE, unique

CACHE = Path(os.environ.get("IGNIS_E2E_CACHE", Path.home() / ".cache" / "ignis-e2e"))
AWSLAMBDARIC = "4.2.2"
NODE_RIC = "3.3.0"
RUST_ECHO = REPO / "tests" / "e2e" / "stock" / "rust-echo"


def zip_tree(root: Path | None, extra: dict[str, tuple[str, int]] | None = None) -> bytes:
    """Zip a directory (keeping exec bits) plus extra files {name: (content, mode)}."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if root is not None:
            for path in sorted(root.rglob("*")):
                if path.is_dir() or "__pycache__" in path.parts:
                    continue
                info = zipfile.ZipInfo(str(path.relative_to(root)), date_time=(2024, 1, 1, 0, 0, 0))
                info.external_attr = (path.stat().st_mode & 0o777) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
        for name, (content, mode) in (extra or {}).items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content)
    return buf.getvalue()


def cached(name: str, build) -> Path:
    """A directory built once by `build(tmp_dir)` and kept under CACHE/name."""
    done = CACHE / name
    if (done / ".complete").exists():
        return done
    tmp = CACHE / f"{name}.building"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    build(tmp)
    (tmp / ".complete").write_text("ok")
    shutil.rmtree(done, ignore_errors=True)
    tmp.rename(done)
    return done


def run(cmd: list[str], cwd: Path | None = None, timeout: float = 1200) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def python_ric() -> Path:
    def build(tmp: Path) -> None:
        run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--target", str(tmp / "pkg"), f"awslambdaric=={AWSLAMBDARIC}"])
    return cached(f"awslambdaric-{AWSLAMBDARIC}", build) / "pkg"


def node_ric() -> Path:
    def build(tmp: Path) -> None:
        (tmp / "package.json").write_text('{"name": "ric", "version": "1.0.0", "private": true}')
        run(["npm", "install", "--no-audit", "--no-fund", f"aws-lambda-ric@{NODE_RIC}"], cwd=tmp)
    return cached(f"aws-lambda-ric-{NODE_RIC}", build)


def rust_echo() -> Path:
    target = CACHE / "rust-echo-target"
    run(["cargo", "build", "--release", "--locked", "--manifest-path", str(RUST_ECHO / "Cargo.toml"),
         "--target-dir", str(target)])
    return target / "release" / "bootstrap"


def deploy(lam, cleanup, handler: str, code: bytes, **kw) -> str:
    name = unique("ric")
    cleanup.append(name)
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler=handler,
                        Code={"ZipFile": code}, **kw)
    return name


def invoke(lam, name: str, payload: dict):
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(payload))
    return resp, json.loads(resp["Payload"].read())


def check_echo_and_error(lam, name: str, error_name: str, error_type: str, error_message: str) -> None:
    """The function echoes the event with the request context, twice (warm), and a failing invoke
    is an Unhandled function error with AWS's error document."""
    seen = set()
    for i in range(3):
        resp, body = invoke(lam, name, {"i": i})
        assert resp["StatusCode"] == 200 and "FunctionError" not in resp, body
        assert body["echo"] == {"i": i}
        assert body["arn"].endswith(f":function:{name}")
        seen.add(body["request_id"])
    assert len(seen) == 3
    resp, body = invoke(lam, error_name, {"fail": True})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == error_type, body
    assert error_message in body["errorMessage"], body


PY_APP = """
def handler(event, context):
    return {"echo": event, "request_id": context.aws_request_id,
            "arn": context.invoked_function_arn, "remaining": context.get_remaining_time_in_millis()}

def fail(event, context):
    raise KeyError("asked to fail")
"""

PY_BOOTSTRAP = '#!/bin/sh\nexport PYTHONPATH=/var/task\nexec /usr/bin/python3 -m awslambdaric "$_HANDLER"\n'


def test_python_awslambdaric(lam, cleanup):
    code = zip_tree(python_ric(), {"app.py": (PY_APP, 0o644), "bootstrap": (PY_BOOTSTRAP, 0o755)})
    name = deploy(lam, cleanup, "app.handler", code)
    failing = deploy(lam, cleanup, "app.fail", code)
    check_echo_and_error(lam, name, failing, "KeyError", "asked to fail")
    _, body = invoke(lam, name, {})
    assert 0 < body["remaining"] <= 3000


NODE_APP = """
exports.handler = async (event, context) => ({
  echo: event, request_id: context.awsRequestId, arn: context.invokedFunctionArn,
  remaining: context.getRemainingTimeInMillis(),
});
exports.fail = async () => { throw new TypeError("asked to fail"); };
"""

NODE_BOOTSTRAP = (
    "#!/bin/sh\ncd /var/task\n"
    'exec /usr/bin/node /var/task/node_modules/aws-lambda-ric/bin/index.mjs "$_HANDLER"\n'
)


def test_node_aws_lambda_ric(lam, cleanup):
    code = zip_tree(node_ric(), {"app.js": (NODE_APP, 0o644), "bootstrap": (NODE_BOOTSTRAP, 0o755)})
    name = deploy(lam, cleanup, "app.handler", code, MemorySize=512, Timeout=10)
    failing = deploy(lam, cleanup, "app.fail", code, MemorySize=512, Timeout=10)
    check_echo_and_error(lam, name, failing, "TypeError", "asked to fail")


def test_rust_lambda_runtime(lam, cleanup):
    binary = rust_echo()
    code = zip_tree(None, {"bootstrap": (binary.read_bytes(), 0o755)})
    name = deploy(lam, cleanup, "bootstrap", code)
    failing = deploy(lam, cleanup, "bootstrap", code)
    seen = set()
    for i in range(3):
        resp, body = invoke(lam, name, {"i": i})
        assert resp["StatusCode"] == 200 and "FunctionError" not in resp, body
        assert body["echo"] == {"i": i}
        assert body["arn"].endswith(f":function:{name}")
        assert body["deadline"] > 0
        seen.add(body["request_id"])
    assert len(seen) == 3
    resp, body = invoke(lam, failing, {"fail": True})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorMessage"] == "asked to fail", body
