"""Encryption at rest: unique markers placed in uploaded code, layer code, environment variables, and
synchronous and asynchronous event payloads (which the function also prints to its log) are found
nowhere in the server's data directory — neither while it runs nor after it stops."""

from __future__ import annotations

import io
import json
import os
import time
import uuid
import zipfile
from pathlib import Path

from helpers import ROLE, unique

MARK = uuid.uuid4().hex
CODE_MARKER = f"code-{MARK}"
LAYER_MARKER = f"layer-{MARK}"
ENV_MARKER = f"env-{MARK}"
SYNC_MARKER = f"sync-{MARK}"
ASYNC_MARKER = f"async-{MARK}"
MARKERS = [CODE_MARKER, LAYER_MARKER, ENV_MARKER, SYNC_MARKER, ASYNC_MARKER]


def stored_zip(files: dict[str, str]) -> bytes:
    """An uncompressed zip, so markers are plain bytes in the upload itself."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


APP = f"""
import os, sys
sys.path.insert(0, "/opt/python")
import helper
CONSTANT = "{CODE_MARKER}"
def handler(event, context):
    print("event:", event, "env:", os.environ["SECRET"], "layer:", helper.VALUE)
    return {{"ok": True, "env": os.environ["SECRET"], "layer": helper.VALUE}}
"""


def scan(root: Path) -> list[str]:
    found = []
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            try:
                if not p.is_file() or p.is_symlink():
                    continue
                data = p.read_bytes()
            except OSError:
                continue
            for m in MARKERS:
                if m.encode() in data:
                    found.append(f"{m.split('-')[0]} in {p.relative_to(root)}")
    return found


def test_no_plaintext_in_the_data_dir(fresh_server):
    srv = fresh_server({"IGNIS_ASYNC_RETRY_BASE_MS": "50"})
    lam = srv.client()
    layer = lam.publish_layer_version(
        LayerName=unique("lyr"),
        Content={"ZipFile": stored_zip({"python/helper.py": f'VALUE = "{LAYER_MARKER}"\n'})},
    )
    name = unique("rest")
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": stored_zip({"app.py": APP})}, Layers=[layer["LayerVersionArn"]],
                        Environment={"Variables": {"SECRET": ENV_MARKER}})
    resp = lam.invoke(FunctionName=name, Payload=json.dumps({"m": SYNC_MARKER}), LogType="Tail")
    body = json.loads(resp["Payload"].read())
    assert body == {"ok": True, "env": ENV_MARKER, "layer": LAYER_MARKER}, body
    assert lam.invoke(FunctionName=name, InvocationType="Event",
                      Payload=json.dumps({"m": ASYNC_MARKER}))["StatusCode"] == 202

    # The async event is delivered (its log line appears) before we look.
    logs = srv.client("logs")
    deadline = time.monotonic() + 30
    seen = False
    while time.monotonic() < deadline and not seen:
        try:
            # No marker in the query itself: the audit trail records request parameters.
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
            seen = any(ASYNC_MARKER in e["message"] for e in events)
        except Exception:  # the group appears with the first log line
            pass
        time.sleep(0.2)
    assert seen, "the async event was not delivered"

    found = scan(srv.data_dir)
    assert found == [], "plaintext found while running:\n" + "\n".join(found)
    assert srv.stop() == 0
    assert scan(srv.data_dir) == [], "plaintext found after stop"
