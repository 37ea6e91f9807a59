"""Idle-env density bench (not collected by pytest): how much memory an idle Python env costs.

Run as root: .venv/bin/python tests/e2e/bench_density.py [N]. Starts a private server, creates N
warm envs of a python3.11 hello function (N concurrent invokes), lets them go idle and measures per
env: the runtime's RSS and PSS (smaps_rollup), the env's memory cgroup usage (v1: usage_in_bytes,
rss, cache), and the host's MemAvailable drop; prints how many such envs fit in 8 GiB.
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import ROLE, IgnisServer, new_workdir, unique  # noqa: E402
from test_escape import descendants, zip_files  # noqa: E402

HELLO = """
import time
def handler(event, context):
    if event.get("hold"):
        time.sleep(event["hold"])
    return "hello"
"""


def meminfo(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(key)


def smaps(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        k, v = line.split(":", 1)
        out[k] = int(v.split()[0]) * 1024
    return out


def cgroup_mem(pid: int) -> dict[str, int]:
    path = next(l.split(":", 2)[2] for l in Path(f"/proc/{pid}/cgroup").read_text().splitlines()
                if ":memory:" in l or l.startswith("0::"))
    base = Path("/sys/fs/cgroup/memory") / path.lstrip("/")
    stat = dict(l.split() for l in (base / "memory.stat").read_text().splitlines())
    return {"usage": int((base / "memory.usage_in_bytes").read_text()), "rss": int(stat["rss"]),
            "cache": int(stat["cache"])}


def main(n: int) -> None:
    srv = IgnisServer(new_workdir()).start()
    try:
        lam = srv.client()
        name = unique("density")
        lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                            MemorySize=128, Timeout=60, Code={"ZipFile": zip_files({"app.py": HELLO})})
        lam.invoke(FunctionName=name, Payload=b"{}")
        time.sleep(1)
        server_rss0 = smaps(srv.proc.pid)["Rss"]
        avail0 = meminfo("MemAvailable")
        envs0 = 1
        clients = [srv.client() for _ in range(n)]   # one connection each (botocore pools 10)
        results: list[object] = []

        def one(c):
            r = c.invoke(FunctionName=name, Payload=json.dumps({"hold": 3}).encode())
            results.append((r.get("FunctionError"), r["Payload"].read()[:200]))

        threads = [threading.Thread(target=one, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        errors = [r for r in results if r[0]]
        print(f"invokes: {len(results)}, errors: {len(errors)} {errors[:2]}")
        time.sleep(2)
        pids = descendants(srv.proc.pid)
        by_env: dict[str, list[int]] = {}
        for p in pids:
            cg = next(l.split(":", 2)[2] for l in Path(f"/proc/{p}/cgroup").read_text().splitlines()
                      if ":memory:" in l or l.startswith("0::"))
            by_env.setdefault(cg, []).append(p)
        envs = list(by_env.values())
        init_pss = [smaps(ps[0])["Pss"] for ps in envs]       # pid 1 (init) is the env's first
        pss = [sum(smaps(p)["Pss"] for p in ps) for ps in envs]
        rss = [sum(smaps(p)["Rss"] for p in ps) for ps in envs]
        anon = [sum(smaps(p)["Anonymous"] for p in ps) for ps in envs]
        cg = [cgroup_mem(ps[0]) for ps in envs]
        avail1 = meminfo("MemAvailable")
        new_envs = len(envs) - envs0
        per_env_avail = (avail0 - avail1) / max(new_envs, 1)
        mib = 1 << 20
        print(f"envs: {len(envs)} (new {new_envs}), processes {len(pids)}")
        print(f"env RSS  median {statistics.median(rss) / mib:.2f} MiB (init + runtime)")
        print(f"env PSS  median {statistics.median(pss) / mib:.2f} MiB, of which init "
              f"{statistics.median(init_pss) / mib:.2f} MiB")
        print(f"env anon median {statistics.median(anon) / mib:.2f} MiB")
        print(f"cgroup usage median {statistics.median(c['usage'] for c in cg) / mib:.2f} MiB "
              f"(rss {statistics.median(c['rss'] for c in cg) / mib:.2f}, "
              f"cache {statistics.median(c['cache'] for c in cg) / mib:.2f})")
        print(f"host MemAvailable drop per env {per_env_avail / mib:.2f} MiB")
        print(f"server RSS growth {(smaps(srv.proc.pid)['Rss'] - server_rss0) / mib:.1f} MiB")
        eight = 8 << 30
        print(f"idle envs in 8 GiB: by PSS {eight / statistics.median(pss):.0f}, "
              f"by MemAvailable drop {eight / per_env_avail:.0f}")
    finally:
        srv.kill9()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
