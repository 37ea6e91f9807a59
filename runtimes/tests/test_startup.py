"""Start-up time: from spawning the bootstrap to its first ``GET /runtime/invocation/next``, with a
trivial handler. The numbers are printed (medians of several starts); the assertions are loose
bounds so that a busy machine does not fail the suite."""

import statistics

import pytest

from fakeapi import NODE, PY_BOOTSTRAP, SYSTEM_PYTHON

TRIVIAL = {
    "python": {"app.py": "def handler(event, context):\n    return event\n"},
    "nodejs": {"app.js": "exports.handler = async (event) => event;\n"},
}
BOUND_MS = {"python": 100, "nodejs": 600}  # loose: the targets are ~20 ms and ~60 ms
RUNS = 7


@pytest.mark.parametrize("variant", ["python", "python-pyc", "nodejs"])
def test_start_to_first_next(lambda_env, variant, capsys, tmp_path):
    runtime = "nodejs" if variant == "nodejs" else "python"
    if runtime == "nodejs" and NODE is None:
        pytest.skip("node not installed")
    kw = {}
    if variant == "python-pyc":
        # The bootstrap compiled ahead of time for this interpreter and run as a .pyc (a main
        # script is otherwise compiled from source at every start).
        import subprocess

        pyc = tmp_path / "bootstrap.pyc"
        subprocess.run(
            [SYSTEM_PYTHON, "-S", "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
             str(PY_BOOTSTRAP), str(pyc)],
            check=True,
        )
        kw["script"] = pyc
    times = []
    for _ in range(RUNS):
        env = lambda_env(runtime, TRIVIAL[runtime], "app.handler", **kw)
        times.append(env.startup_ms())
        first = env.invoke({"warm": 1})  # the first invoke, including any lazy imports
        assert first.json == {"warm": 1}
        env.close()
    median = statistics.median(times)
    with capsys.disabled():
        print(
            "\n[startup] %s: spawn -> first GET /next: median %.1f ms, min %.1f ms, max %.1f ms (%d runs)"
            % (variant, median, min(times), max(times), RUNS)
        )
    assert median < BOUND_MS[runtime]
