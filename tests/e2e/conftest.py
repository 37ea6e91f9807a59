"""Fixtures for the end-to-end suite: the real `ignis server` binary driven by boto3 and the aws CLI."""

from __future__ import annotations

import shutil

import pytest
from botocore.exceptions import ClientError

from helpers import IgnisServer, new_workdir, create_function, unique, wait_ready


@pytest.fixture(scope="session")
def server():
    """The shared server for the whole session; stopped with SIGTERM, which must exit 0."""
    wd = new_workdir()
    srv = IgnisServer(wd).start()
    yield srv
    rc = srv.stop()
    log = srv.log_tail()
    assert rc == 0, f"ignis server exited {rc} on SIGTERM:\n{log}"
    shutil.rmtree(wd, ignore_errors=True)


@pytest.fixture
def fresh_server():
    """A factory of private servers (own data dir) for tests that crash or count things."""
    made: list[IgnisServer] = []

    def make(env: dict[str, str] | None = None) -> IgnisServer:
        srv = IgnisServer(new_workdir(), env=env).start()
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.kill9()
        shutil.rmtree(srv.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def lam(server):
    return server.client()


@pytest.fixture(scope="session")
def lam_noval(server):
    """A client without botocore's client-side checks, so the server's own validation is reached."""
    return server.client(validate=False)


@pytest.fixture
def fn(lam):
    """A fresh function (deleted afterwards); yields its name."""
    name = unique()
    create_function(lam, name)
    wait_ready(lam, name)
    yield name
    try:
        lam.delete_function(FunctionName=name)
    except ClientError:
        pass


@pytest.fixture
def cleanup(lam):
    """Register function names to delete after the test."""
    names: list[str] = []
    yield names
    for n in names:
        try:
            lam.delete_function(FunctionName=n)
        except ClientError:
            pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the tail of the shared server's log to the report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        srv = item.funcargs.get("server") if hasattr(item, "funcargs") else None
        if isinstance(srv, IgnisServer):
            rep.sections.append(("ignis server log (tail)", srv.log_tail(30)))
