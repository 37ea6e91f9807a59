"""Python runtime specifics: JSON as awslambdaric writes it, bytes results, search path, the
accelerated JSON path against the json module, and every Python 3.9+ found on the machine."""

import decimal
import importlib.util
import json
import math
import os
import re

import pytest

from fakeapi import PY_BOOTSTRAP


def _load_bootstrap_module():
    spec = importlib.util.spec_from_file_location("ignis_python_bootstrap", PY_BOOTSTRAP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bootstrap = _load_bootstrap_module()


def test_response_json_like_awslambdaric(lambda_env):
    files = {
        "app.py": """
from decimal import Decimal

def handler(event, context):
    return {"a": 1, "b": [1, 2.5], "u": "\\u00e9", "d": Decimal("1.10"), "i": Decimal("12345678901234567890.5"), "t": (1, 2)}
"""
    }
    env = lambda_env("python", files, "app.handler")
    res = env.invoke({})
    # ", " and ": " separators, ASCII escapes, Decimal written as the exact number
    assert res.body == b'{"a": 1, "b": [1, 2.5], "u": "\\u00e9", "d": 1.10, "i": 12345678901234567890.5, "t": [1, 2]}'


def test_non_ascii_kept_on_python312_runtimes(lambda_env):
    files = {"app.py": "def handler(event, context):\n    return '\\u00e9'\n"}
    env = lambda_env("python", files, "app.handler", env={"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"})
    assert env.invoke({}).body == '"\u00e9"'.encode("utf-8")


def test_bytes_result_passes_through(lambda_env):
    files = {"app.py": "def handler(event, context):\n    return b'\\x00raw'\n"}
    env = lambda_env("python", files, "app.handler")
    res = env.invoke({})
    assert res.kind == "response"
    assert res.body == b"\x00raw"
    assert res.headers["content-type"] == "application/unknown"


def test_event_decoding(lambda_env):
    env = lambda_env("python", {"app.py": "def handler(event, context):\n    return repr(event)\n"}, "app.handler")
    assert env.invoke(b'  {"big": 123456789012345678901234567890, "f": 1e400, "n": NaN}\n').json == (
        "{'big': 123456789012345678901234567890, 'f': inf, 'n': nan}"
    )
    assert env.invoke("\ufeff[1]".encode("utf-8")).json == "[1]"  # BOM, as json.loads(bytes) accepts
    assert env.invoke('"\u2603"'.encode("utf-16")).json == "'\u2603'"  # UTF-16, likewise
    res = env.invoke(b'{"a": 1} trailing')
    assert res.json["errorType"] == "Runtime.UnmarshalError"
    assert res.json["errorMessage"] == "Unable to unmarshal input: Extra data: line 1 column 10 (char 9)"


def test_bad_client_context_header(lambda_env):
    env = lambda_env("python", {"app.py": "def handler(e, c):\n    return 1\n"}, "app.handler")
    res = env.invoke({}, headers={"Lambda-Runtime-Client-Context": "{not json"})
    assert res.json["errorType"] == "Runtime.LambdaContextUnmarshalError"
    assert res.json["errorMessage"].startswith("Unable to parse Client Context JSON: Expecting property name")


def test_builtin_module_conflict(lambda_env):
    env = lambda_env("python", {"app.py": ""}, "sys.handler")
    res, code = env.init_error()
    assert code == 1
    assert res.json == {
        "errorMessage": "Cannot use built-in module sys as a handler module",
        "errorType": "Runtime.BuiltInModuleConflict",
        "requestId": "",
        "stackTrace": [],
    }


def test_search_path_cwd_and_stdio(lambda_env):
    files = {
        "app.py": """
import os, sys

def handler(event, context):
    sys.stderr.write("to stderr\\n")
    print("unflushed?", end="")
    return {"path": sys.path[:3], "cwd": os.getcwd(), "unbuffered": type(sys.stdout).__name__}
"""
    }
    env = lambda_env("python", files, "app.handler")
    got = env.invoke({}).json
    task_root = got["cwd"]
    ver = "python%d.%d" % tuple(int(x) for x in re.match(r"Python (\d+)\.(\d+)", os.popen("/usr/bin/python3 -V").read()).groups())
    assert got["path"] == [task_root, "/opt/python/lib/%s/site-packages" % ver, "/opt/python"]
    assert got["unbuffered"] == "Unbuffered"
    assert env.wait_stdout(lambda ls: "unflushed?" in ls)  # written at once, without a newline
    assert "to stderr" in env.stderr


def test_logging_imported_lazily_inside_handler(lambda_env):
    files = {
        "app.py": """
def handler(event, context):
    import logging
    logging.warning("late import")
    return 1
"""
    }
    env = lambda_env("python", files, "app.handler")
    inv = env.submit({})
    env.result(inv)
    assert env.wait_stdout(lambda ls: len(ls) >= 1)
    assert re.fullmatch(r"\[WARNING\]\t\S+Z\t%s\tlate import" % re.escape(inv.request_id), env.stdout[0])


def test_system_exit_at_import_is_not_reported(lambda_env):
    env = lambda_env("python", {"app.py": "import sys\nsys.exit(3)\n"}, "app.handler")
    assert env.proc.wait(10) == 3
    assert env.api.init_errors == []


# -- the accelerated JSON path must agree with the json module --

SAMPLES = [
    None,
    True,
    0,
    -1,
    10**30,
    1.5,
    -0.0,
    1e-7,
    float("inf"),
    "",
    "plain",
    "quote\" backslash\\ ctrl\x01 nl\n tab\t",
    "\u00e9\u2603\U0001f600",
    [],
    {},
    [1, [2, [3, {"x": None}]]],
    {"k": {"n": [1, 2, {"z": "y"}]}, "1": 2},
    {1: "int key", 2.5: "float key", True: "bool key", None: "none key"},
    (1, 2),
]


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_codec_dumps_matches_json_module(ensure_ascii):
    codec = bootstrap._JsonCodec(ensure_ascii)
    assert codec._accelerated()
    for sample in SAMPLES:
        assert codec.dumps(sample) == json.dumps(sample, ensure_ascii=ensure_ascii), sample
    assert codec.dumps(float("nan")) == "NaN"


def test_codec_dumps_errors_match_json_module():
    codec = bootstrap._JsonCodec(True)
    loop = []
    loop.append(loop)
    for bad in [{1, 2}, object(), {"a": [b"bytes"]}, loop, {(1, 2): 3}]:
        with pytest.raises((TypeError, ValueError)) as ours:
            codec.dumps(bad)
        with pytest.raises((TypeError, ValueError)) as theirs:
            json.dumps(bad)
        assert type(ours.value) is type(theirs.value)
        assert str(ours.value) == str(theirs.value)
    # and the encoder is not left in a bad state by a failure
    assert codec.dumps([loop[:0], 1]) == "[[], 1]"


def test_codec_decimal():
    codec = bootstrap._JsonCodec(True)
    assert codec.dumps([decimal.Decimal("0.1"), decimal.Decimal("-5"), decimal.Decimal("1E+2")]) == "[0.1, -5, 1E+2]"
    assert codec.dumps({"n": decimal.Decimal("NaN")}) == '{"n": NaN}'


def test_codec_loads_matches_json_module():
    codec = bootstrap._JsonCodec(True)
    for sample in SAMPLES:
        text = json.dumps(sample)
        for data in (text, text.encode("utf-8"), ("\n %s \t" % text).encode("utf-8")):
            ours, theirs = codec.loads(data), json.loads(data)
            if isinstance(theirs, float) and math.isnan(theirs):
                assert math.isnan(ours)
            else:
                assert ours == theirs and type(ours) is type(theirs)
    for bad in [b"", b"nope", b"{", b'{"a": 1,}', b"[1] [2]", b'"\x01"', b"\xff"]:
        with pytest.raises(ValueError) as ours:
            codec.loads(bad)
        with pytest.raises(ValueError) as theirs:
            json.loads(bad)
        assert str(ours.value) == str(theirs.value)


# -- every CPython 3.9+ available here --

PYENV_ROOT = "/root/.pyenv/versions"
OTHER_PYTHONS = []
if os.path.isdir(PYENV_ROOT):
    for name in sorted(os.listdir(PYENV_ROOT)):
        m = re.fullmatch(r"3\.(\d+)\.\d+", name)
        if m and int(m.group(1)) >= 9:
            exe = os.path.join(PYENV_ROOT, name, "bin", "python3.%s" % m.group(1))
            if os.access(exe, os.X_OK):
                OTHER_PYTHONS.append(exe)


@pytest.mark.skipif(not OTHER_PYTHONS, reason="no other Python versions installed")
@pytest.mark.parametrize("python", OTHER_PYTHONS, ids=lambda p: os.path.basename(p))
def test_python_versions(lambda_env, python):
    files = {
        "app.py": """
import logging
logging.getLogger().setLevel(logging.INFO)

def handler(event, context):
    logging.info("v")
    if event.get("fail"):
        raise KeyError("missing")
    return {"echo": event, "rid": context.aws_request_id}
"""
    }
    env = lambda_env("python", files, "app.handler", python=python)
    inv = env.submit({"x": [1, 2.5, "\u00e9"]})
    assert env.result(inv).json == {"echo": {"x": [1, 2.5, "\u00e9"]}, "rid": inv.request_id}
    res = env.invoke({"fail": True})
    assert res.json["errorType"] == "KeyError"
    assert res.json["stackTrace"][0].endswith('in handler\n    raise KeyError("missing")\n')
    assert env.api.connections == 1
    assert any(l.startswith("[INFO]\t") and l.endswith("\t%s\tv" % inv.request_id) for l in env.stdout)


# -- the Runtime API client against raw HTTP servers --


class RawServer:
    """Accepts connections and answers each request with the next canned response; a response of
    None closes the connection instead of answering."""

    def __init__(self, responses):
        import socket
        import threading

        self.responses = list(responses)
        self.requests = []
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while self.responses:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            buf = b""
            while self.responses:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                if b"\r\n\r\n" not in buf:
                    break
                head, _, rest = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v)
                while len(rest) < length:
                    rest += conn.recv(65536)
                self.requests.append((head.decode(), rest[:length]))
                buf = rest[length:]
                reply = self.responses.pop(0)
                if reply is None:
                    break
                conn.sendall(reply)
                if b"Connection: close" in reply:
                    break
            conn.close()

    def close(self):
        self.sock.close()


def test_client_reads_chunked_and_interim_responses():
    server = RawServer(
        [
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r1\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{\"a\"\r\n5\r\n: 1}\n\r\n0\r\nTrailer: x\r\n\r\n",
            b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}",
        ]
    )
    client = bootstrap.RuntimeClient(server.address)
    headers, body = client.next_invocation()
    assert headers["lambda-runtime-aws-request-id"] == "r1"
    assert body == b'{"a": 1}\n'
    assert client.post_invocation_result("r1", b"null", "application/json") == 202
    assert server.connections == 1
    head, sent = server.requests[1]
    assert head.startswith("POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\n")
    assert "Content-Length: 4" in head and "Content-Type: application/json" in head
    assert sent == b"null"
    server.close()


def test_client_reconnects_after_close_and_dropped_keepalive():
    server = RawServer(
        [
            # answer, then close as announced
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
            # answer on the second connection, keep it open...
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]",
            # ...then drop it without answering the next request (an idle keep-alive timeout)
            None,
            b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
            # a body delimited by the end of the connection
            b"HTTP/1.1 200 OK\r\n\r\nuntil-close",
        ]
    )
    client = bootstrap.RuntimeClient(server.address)
    assert client.next_invocation()[1] == b"{}"
    assert client.next_invocation()[1] == b"[]"
    assert client.post_invocation_result("r2", b"1", "application/json") == 202  # resent once
    assert client.next_invocation()[1] == b"until-close"
    assert server.connections == 3
    assert [h.split("\r\n")[0] for h, _ in server.requests] == [
        "GET /2018-06-01/runtime/invocation/next HTTP/1.1",
        "GET /2018-06-01/runtime/invocation/next HTTP/1.1",
        "POST /2018-06-01/runtime/invocation/r2/response HTTP/1.1",
        "POST /2018-06-01/runtime/invocation/r2/response HTTP/1.1",
        "GET /2018-06-01/runtime/invocation/next HTTP/1.1",
    ]
    server.close()


def test_client_address_forms():
    assert (bootstrap.RuntimeClient("127.0.0.1:9001").host, bootstrap.RuntimeClient("127.0.0.1:9001").port) == ("127.0.0.1", 9001)
    c = bootstrap.RuntimeClient("[::1]:9001")
    assert (c.host, c.port) == ("::1", 9001)
    c = bootstrap.RuntimeClient("localhost:9001")
    assert c._addresses()[0][4][1] == 9001
    assert bootstrap._quote_path_segment("a b/c") == "a%20b%2Fc"
