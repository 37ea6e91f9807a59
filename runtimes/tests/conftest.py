"""pytest fixtures for the runtime bootstrap tests (the harness itself is in fakeapi.py)."""

import pytest

from fakeapi import NODE, Env, write_files


@pytest.fixture
def lambda_env(tmp_path):
    """Factory: ``lambda_env(runtime, files, handler, env=None)`` starts a bootstrap whose task root
    holds ``files`` ({relative path: source}); every environment is torn down after the test."""
    envs = []
    counter = [0]

    def start(runtime, files, handler, env=None, **kw):
        if runtime == "nodejs" and NODE is None:
            pytest.skip("node not installed")
        counter[0] += 1
        task_root = tmp_path / ("task%d" % counter[0])
        task_root.mkdir()
        write_files(task_root, files)
        e = Env(runtime, task_root, handler, env=env, **kw)
        envs.append(e)
        return e

    yield start
    for e in envs:
        e.close()
