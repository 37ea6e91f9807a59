"""Usage metering: invokes are metered per function (requests, billed GB-seconds), persisted in the
metadata database, and billed by `ignis usage` with the free tier and configurable prices."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import re
import subprocess
import time

from helpers import IGNIS_BIN, code_zip, create_function, make_zip, unique, wait_ready

SLEEPER = """
import time

def handler(event, context):
    time.sleep(0.05)
    return {"ok": True}
"""

BILLED_RE = re.compile(r"\tBilled Duration: (\d+) ms\t")


def usage(srv, *args: str) -> str:
    out = subprocess.run([str(IGNIS_BIN), "usage", "--data-dir", str(srv.data_dir), *args],
                         capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return out.stdout.decode()


def csv_rows(text: str) -> dict[str, dict[str, str]]:
    return {r["function"]: r for r in csv.DictReader(io.StringIO(text))}


def invoke_billed(lam, name: str, n: int) -> list[int]:
    """Invoke `n` times with LogType=Tail; the billed durations of the REPORT lines."""
    billed = []
    for _ in range(n):
        r = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
        assert r["StatusCode"] == 200 and "FunctionError" not in r
        log = base64.b64decode(r["LogResult"]).decode()
        m = BILLED_RE.search(log)
        assert m, log
        billed.append(int(m.group(1)))
    return billed


def test_usage_bills_requests_and_gb_seconds_from_report_lines(fresh_server):
    srv = fresh_server()
    lam = srv.client()
    name, other = unique("usage"), unique("usage-other")
    create_function(lam, name, make_zip({"index.py": SLEEPER}), MemorySize=256)
    create_function(lam, other, code_zip("other"), MemorySize=128)
    wait_ready(lam, name)
    wait_ready(lam, other)
    n = 12
    billed = invoke_billed(lam, name, n)
    assert all(b >= 50 for b in billed), billed
    other_billed = invoke_billed(lam, other, 2)
    rc = srv.stop()
    assert rc == 0, srv.log_tail()

    month = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")
    rows = csv_rows(usage(srv, "--csv"))
    assert set(rows) == {name, other, "TOTAL"}, rows
    assert rows[name]["account"] == "000000000000" and rows[name]["month"] == month
    assert int(rows[name]["requests"]) == n
    assert rows[name]["gb_seconds"] == f"{sum(billed) * 0.25 / 1000:.6f}"
    assert int(rows[other]["requests"]) == 2
    assert rows[other]["gb_seconds"] == f"{sum(other_billed) * 0.125 / 1000:.6f}"
    total = rows["TOTAL"]
    assert int(total["requests"]) == n + 2
    assert total["gb_seconds"] == f"{(sum(billed) * 256 + sum(other_billed) * 128) / 1024 / 1000:.6f}"
    # Well inside the free tier: nothing to pay.
    assert (total["billable_requests"], total["billable_gb_seconds"], total["total_usd"]) == \
        ("0", "0.000000", "0.00")

    # Prices are flags: no free tier, $1 per request → n + 2 dollars of requests.
    rows = csv_rows(usage(srv, "--csv", "--month", month, "--free-requests", "0",
                          "--free-gb-seconds", "0", "--price-per-million-requests", "1000000",
                          "--price-per-gb-second", "0"))
    assert rows["TOTAL"]["billable_requests"] == str(n + 2)
    assert rows["TOTAL"]["request_charge_usd"] == f"{n + 2:.2f}"
    assert rows["TOTAL"]["total_usd"] == f"{n + 2:.2f}"

    # The table shows the same numbers; another month is empty.
    table = usage(srv, "--month", month)
    assert name in table and "TOTAL" in table and "$0.00" in table, table
    assert "No usage recorded" in usage(srv, "--month", "2001-01")
    assert list(csv_rows(usage(srv, "--csv", "--month", "2001-01"))) == []

    # Usage survives a restart and keeps adding up.
    srv.start()
    lam = srv.client()
    billed += invoke_billed(lam, name, 3)
    assert srv.stop() == 0
    rows = csv_rows(usage(srv, "--csv"))
    assert int(rows[name]["requests"]) == n + 3
    assert rows[name]["gb_seconds"] == f"{sum(billed) * 0.25 / 1000:.6f}"


def test_usage_is_flushed_periodically_and_readable_while_running(fresh_server):
    srv = fresh_server({"IGNIS_USAGE_FLUSH_INTERVAL": "1"})
    lam = srv.client()
    name = unique("usage-flush")
    create_function(lam, name, code_zip("flush"), MemorySize=512)
    wait_ready(lam, name)
    billed = invoke_billed(lam, name, 4)
    deadline = time.monotonic() + 10
    rows = {}
    while time.monotonic() < deadline:
        rows = csv_rows(usage(srv, "--csv"))  # read-only, while the server runs
        if name in rows and int(rows[name]["requests"]) == 4:
            break
        time.sleep(0.2)
    assert int(rows[name]["requests"]) == 4, rows
    assert rows[name]["gb_seconds"] == f"{sum(billed) * 0.5 / 1000:.6f}"
    # Asynchronous invocations are metered too.
    for _ in range(2):
        assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        rows = csv_rows(usage(srv, "--csv"))
        if int(rows[name]["requests"]) == 6:
            break
        time.sleep(0.2)
    assert int(rows[name]["requests"]) == 6, rows
    assert float(rows[name]["gb_seconds"]) >= (sum(billed) + 2) * 0.5 / 1000
    # A crash after a flush loses nothing that was flushed.
    srv.kill9()
    after = csv_rows(usage(srv, "--csv"))
    assert after[name] == rows[name]


def test_usage_rejects_bad_arguments(fresh_server):
    srv = fresh_server()
    for args in (["--month", "2026-13"], ["--price-per-gb-second", "-1"]):
        out = subprocess.run([str(IGNIS_BIN), "usage", "--data-dir", str(srv.data_dir), *args],
                             capture_output=True, timeout=30)
        assert out.returncode != 0 and out.stderr, (args, out)


def test_provisioned_concurrency_is_metered_while_allocated(fresh_server):
    srv = fresh_server({"IGNIS_USAGE_FLUSH_INTERVAL": "1"})
    lam = srv.client()
    name = unique("usage-pc")
    create_function(lam, name, code_zip("pc"), MemorySize=1024)
    wait_ready(lam, name)
    lam.publish_version(FunctionName=name)
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1",
                                           ProvisionedConcurrentExecutions=2)
    deadline = time.monotonic() + 30
    while lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")["Status"] != "READY":
        assert time.monotonic() < deadline, "provisioned concurrency not READY"
        time.sleep(0.1)
    t0 = time.monotonic()
    time.sleep(4)
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    held = time.monotonic() - t0
    time.sleep(2.5)  # a few more samples: nothing is allocated any more
    assert srv.stop() == 0, srv.log_tail()
    rows = csv_rows(usage(srv, "--csv"))
    pc = float(rows[name]["provisioned_gb_seconds"])
    # 2 environments × 1 GB × the time held, give or take one 1-second sample at each end.
    assert 2 * (held - 2) <= pc <= 2 * (held + 2), (pc, held)
    assert int(rows[name]["requests"]) == 0
    assert float(rows["TOTAL"]["provisioned_charge_usd"]) == 0.0  # a few GB-s cost < half a cent
