"""Durability: state survives kill -9 and graceful restarts on the same data dir; artifacts are
encrypted at rest; signals end the server cleanly."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from helpers import (
    code_zip,
    create_function,
    expect_error,
    function_arn,
    http_get,
    layer_arn,
    make_zip,
    sha256_b64,
    wait_ready,
)

MARKER = b"IGNIS-PLAINTEXT-MARKER-5f1d2c3b"


def snapshot(lam, name: str, layer: str) -> dict:
    """Everything the durability test compares before and after a restart."""
    latest = lam.get_function(FunctionName=name)
    v1 = lam.get_function(FunctionName=name, Qualifier="1")
    return {
        "latest": {k: latest["Configuration"][k] for k in
                   ("FunctionArn", "CodeSha256", "CodeSize", "RevisionId", "LastModified", "Timeout",
                    "MemorySize", "Handler", "Runtime", "Role", "Description", "Environment", "Layers")},
        "v1": {k: v1["Configuration"][k] for k in ("FunctionArn", "CodeSha256", "RevisionId", "Version")},
        "tags": latest.get("Tags"),
        "concurrency": latest.get("Concurrency"),
        "versions": [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]],
        "aliases": sorted((a["Name"], a["FunctionVersion"], a["RevisionId"], json.dumps(a.get("RoutingConfig"), sort_keys=True))
                          for a in lam.list_aliases(FunctionName=name)["Aliases"]),
        "policy": json.loads(lam.get_policy(FunctionName=name)["Policy"]),
        "layer_versions": [v["Version"] for v in lam.list_layer_versions(LayerName=layer)["LayerVersions"]],
        "layer_policy": json.loads(lam.get_layer_version_policy(LayerName=layer, VersionNumber=1)["Policy"]),
        "provisioned": [(c["FunctionArn"], c["RequestedProvisionedConcurrentExecutions"]) for c in
                        lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]],
    }


def build_state(lam) -> tuple[str, str, dict[str, bytes]]:
    name, layer = "durable-fn", "durable-layer"
    blobs = {"v1": code_zip("durable-1"), "v2": code_zip("durable-2"),
             "l1": make_zip({"python/lib.py": "X = 1\n"}), "l2": make_zip({"python/lib.py": "X = 2\n"})}
    lam.publish_layer_version(LayerName=layer, Content={"ZipFile": blobs["l1"]}, Description="one")
    lam.publish_layer_version(LayerName=layer, Content={"ZipFile": blobs["l2"]}, Description="two")
    lam.add_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="all",
                                     Action="lambda:GetLayerVersion", Principal="*")
    create_function(lam, name, blobs["v1"], Description="durable", Timeout=11, MemorySize=256,
                    Environment={"Variables": {"KEY": "V"}}, Tags={"keep": "me"},
                    Layers=[layer_arn(layer, 1)])
    wait_ready(lam, name)
    lam.publish_version(FunctionName=name)
    lam.update_function_code(FunctionName=name, ZipFile=blobs["v2"])
    wait_ready(lam, name)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}})
    lam.add_permission(FunctionName=name, StatementId="ev", Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="2", ProvisionedConcurrentExecutions=1)
    return name, layer, blobs


def check_downloads(lam, name: str, layer: str, blobs: dict[str, bytes]) -> None:
    assert http_get(lam.get_function(FunctionName=name)["Code"]["Location"]) == (200, blobs["v2"])
    assert http_get(lam.get_function(FunctionName=name, Qualifier="1")["Code"]["Location"]) == (200, blobs["v1"])
    assert http_get(lam.get_function(FunctionName=name, Qualifier="live")["Code"]["Location"]) == (200, blobs["v1"])
    lv = lam.get_layer_version(LayerName=layer, VersionNumber=2)
    assert lv["Content"]["CodeSha256"] == sha256_b64(blobs["l2"])
    assert http_get(lv["Content"]["Location"]) == (200, blobs["l2"])


def test_state_survives_kill_9(fresh_server):
    srv = fresh_server()
    lam = srv.client()
    creds_before = srv.credentials_file.read_bytes()
    name, layer, blobs = build_state(lam)
    before = snapshot(lam, name, layer)

    srv.restart(crash=True)
    lam = srv.client()
    assert srv.credentials_file.read_bytes() == creds_before, "credentials were regenerated on restart"
    after = snapshot(lam, name, layer)
    assert after == before
    check_downloads(lam, name, layer, blobs)

    # and it keeps working: new writes after the crash
    lam.update_function_configuration(FunctionName=name, Description="after crash")
    wait_ready(lam, name)
    assert lam.publish_version(FunctionName=name)["Version"] == "3"

    # a graceful restart keeps everything too
    srv.restart()
    lam = srv.client()
    assert lam.get_function_configuration(FunctionName=name)["Description"] == "after crash"
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == \
        ["$LATEST", "1", "2", "3"]
    check_downloads(lam, name, layer, blobs)
    assert srv.stop() == 0


def test_acknowledged_write_survives_immediate_kill_9(fresh_server):
    srv = fresh_server()
    lam = srv.client()
    zb = code_zip("ack")
    create_function(lam, "acked", zb)
    lam.delete_function(FunctionName="acked")
    create_function(lam, "acked-2", zb)
    srv.kill9()  # right after the 201: no graceful flush
    srv.start()
    lam = srv.client()
    cfg = lam.get_function_configuration(FunctionName="acked-2")
    assert cfg["CodeSha256"] == sha256_b64(zb)
    expect_error(lambda: lam.get_function(FunctionName="acked"), "ResourceNotFoundException", 404,
                 f"Function not found: {function_arn('acked')}")
    assert http_get(lam.get_function(FunctionName="acked-2")["Code"]["Location"]) == (200, zb)


def test_artifacts_are_encrypted_at_rest(fresh_server):
    srv = fresh_server()
    lam = srv.client()
    zb = make_zip({"index.py": b"# " + MARKER + b"\ndef handler(e, c):\n    return 1\n"}, stored=True)
    lb = make_zip({"python/m.py": b"# " + MARKER + b"\n"}, stored=True)
    assert MARKER in zb and MARKER in lb
    create_function(lam, "secretive", zb)
    lam.publish_layer_version(LayerName="secretive-layer", Content={"ZipFile": lb})
    assert srv.stop() == 0  # flush everything to disk
    leaks = [str(p) for p in Path(srv.data_dir).rglob("*") if p.is_file() and MARKER in p.read_bytes()]
    assert leaks == [], f"plaintext code found on disk in {leaks}"
    srv.start()
    lam = srv.client()
    assert http_get(lam.get_function(FunctionName="secretive")["Code"]["Location"]) == (200, zb)


def test_sigint_exits_cleanly(fresh_server):
    srv = fresh_server()
    srv.client().list_functions()
    assert srv.stop(signal.SIGINT) == 0


def test_sigterm_exits_cleanly_with_open_connection(fresh_server):
    import socket

    srv = fresh_server()
    # an idle keep-alive client must not hold the shutdown forever
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        srv.client().list_functions()
        assert srv.stop(signal.SIGTERM) == 0
    finally:
        s.close()
