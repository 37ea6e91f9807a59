"""Harness for the managed-runtime bootstrap tests: a fake Lambda Runtime API (2018-06-01) and a
helper that starts a bootstrap against it with a function's code in a temporary task root.

The fake server is stdlib only (ThreadingHTTPServer, HTTP/1.1 keep-alive). It serves queued events
on ``GET /runtime/invocation/next`` with every ``Lambda-Runtime-*`` header, records responses,
invocation errors and init errors with their headers, counts TCP connections and notes when the
first ``GET /next`` arrived (to measure start-up time).
"""

import json
import os
import queue
import shutil
import socket
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RUNTIMES_DIR = Path(__file__).resolve().parent.parent
PY_BOOTSTRAP = RUNTIMES_DIR / "python" / "bootstrap.py"
NODE_BOOTSTRAP = RUNTIMES_DIR / "nodejs" / "bootstrap.js"
SYSTEM_PYTHON = "/usr/bin/python3"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"
API = "/2018-06-01/runtime"


def _node_binary():
    found = shutil.which("node")
    return os.path.realpath(found) if found else None


NODE = _node_binary()


class Invocation:
    """One event queued on the fake Runtime API."""

    def __init__(self, payload, request_id=None, headers=None, deadline_ms=None):
        self.request_id = request_id or str(uuid.uuid4())
        if isinstance(payload, (bytes, bytearray)):
            self.body = bytes(payload)
        else:
            self.body = json.dumps(payload).encode("utf-8")
        self.deadline_ms = deadline_ms or int(time.time() * 1000) + 30_000
        self.headers = headers if headers is not None else {}
        self.served_at = None


class Result:
    """What the runtime posted for one invocation."""

    def __init__(self, kind, headers, body, at):
        self.kind = kind  # "response" or "error"
        self.headers = headers  # lower-cased names
        self.body = body
        self.at = at

    @property
    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "Result(%s, %r, %r)" % (self.kind, self.headers, self.body[:500])


class FakeRuntimeAPI:
    def __init__(self):
        self.events = queue.Queue()
        self.cond = threading.Condition()
        self.connections = 0
        self.results = {}
        self.init_errors = []
        self.requests = []
        self.first_next_at = None
        self.stopping = False
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                BaseHTTPRequestHandler.setup(self)
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with api.cond:
                    api.connections += 1

            def log_message(self, *args):
                pass

            def _reply(self, status, reason, body=b"", headers=()):
                head = ["HTTP/1.1 %d %s" % (status, reason)]
                for name, value in headers:
                    head.append("%s: %s" % (name, value))
                head.append("Content-Length: %d" % len(body))
                # Headers and body in one write: no Nagle/delayed-ACK stall.
                self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("utf-8") + body)

            def _read_body(self):
                length = self.headers.get("Content-Length")
                assert length is not None or self.command == "GET", "request without Content-Length"
                return self.rfile.read(int(length)) if length else b""

            def do_GET(self):
                self._read_body()
                with api.cond:
                    api.requests.append(("GET", self.path, dict(self.headers)))
                if self.path != API + "/invocation/next":
                    self._reply(404, "Not Found", b'{"errorType":"NotFound"}')
                    return
                with api.cond:
                    if api.first_next_at is None:
                        api.first_next_at = time.perf_counter()
                    api.cond.notify_all()
                while True:
                    if api.stopping:
                        self.close_connection = True
                        return
                    try:
                        inv = api.events.get(timeout=0.05)
                        break
                    except queue.Empty:
                        continue
                inv.served_at = time.perf_counter()
                headers = [
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", inv.request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(inv.deadline_ms)),
                    ("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN),
                ]
                headers.extend(inv.headers.items())
                self._reply(200, "OK", inv.body, headers)

            def do_POST(self):
                body = self._read_body()
                headers = {k.lower(): v for k, v in self.headers.items()}
                now = time.perf_counter()
                path = self.path
                with api.cond:
                    api.requests.append(("POST", path, dict(self.headers)))
                    if path == API + "/init/error":
                        api.init_errors.append(Result("init_error", headers, body, now))
                    elif path.startswith(API + "/invocation/") and path.endswith("/response"):
                        rid = path[len(API + "/invocation/"):-len("/response")]
                        api.results[rid] = Result("response", headers, body, now)
                    elif path.startswith(API + "/invocation/") and path.endswith("/error"):
                        rid = path[len(API + "/invocation/"):-len("/error")]
                        api.results[rid] = Result("error", headers, body, now)
                    else:
                        self._reply(404, "Not Found", b'{"errorType":"NotFound"}')
                        return
                    api.cond.notify_all()
                self._reply(202, "Accepted", b'{"status":"OK"}', [("Content-Type", "application/json")])

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

        self.server = Server(("127.0.0.1", 0), Handler)
        self.address = "127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def wait(self, predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def close(self):
        self.stopping = True
        self.server.shutdown()
        self.server.server_close()


class Env:
    """A running bootstrap process (one execution environment) against a fake Runtime API."""

    def __init__(self, runtime, task_root, handler, env=None, python=SYSTEM_PYTHON, script=None):
        self.runtime = runtime
        self.api = FakeRuntimeAPI()
        self.stdout_lines = []
        self.stderr_lines = []
        self._out_cond = threading.Condition()
        environ = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": str(task_root),
            "AWS_LAMBDA_FUNCTION_NAME": "fn",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]0123456789abcdef",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        if env:
            environ.update(env)
        if runtime == "python":
            argv = [python, "-S", str(script or PY_BOOTSTRAP)]
        else:
            argv = [NODE, str(NODE_BOOTSTRAP)]
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            cwd=str(task_root),
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._readers = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.stdout_lines), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr_lines), daemon=True),
        ]
        for t in self._readers:
            t.start()

    def _pump(self, stream, lines):
        # Raw chunks, not lines: output written without a newline must show up too (the last,
        # unterminated piece is kept as a partial line and completed by later chunks).
        fd = stream.fileno()
        partial = b""
        while True:
            chunk = os.read(fd, 65536)
            with self._out_cond:
                if partial and lines:
                    lines.pop()
                data = partial + chunk
                if not chunk:
                    if data:
                        lines.append(data.decode("utf-8", "replace"))
                    self._out_cond.notify_all()
                    return
                *complete, partial = data.split(b"\n")
                lines.extend(part.decode("utf-8", "replace") for part in complete)
                if partial:
                    lines.append(partial.decode("utf-8", "replace"))
                self._out_cond.notify_all()

    @property
    def stdout(self):
        with self._out_cond:
            return list(self.stdout_lines)

    @property
    def stderr(self):
        with self._out_cond:
            return "\n".join(self.stderr_lines)

    def wait_stdout(self, predicate, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self._out_cond:
            while not predicate(self.stdout_lines):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._out_cond.wait(left)
            return True

    # -- driving invocations --

    def submit(self, payload, **kw):
        inv = Invocation(payload, **kw)
        self.api.events.put(inv)
        return inv

    def result(self, inv, timeout=10.0):
        ok = self.api.wait(lambda: inv.request_id in self.api.results or self.proc.poll() is not None, timeout)
        res = self.api.results.get(inv.request_id)
        if res is None:
            raise AssertionError(
                "no result for %s (ok=%s, exit=%s)\nstdout:\n%s\nstderr:\n%s"
                % (inv.request_id, ok, self.proc.poll(), "\n".join(self.stdout), self.stderr)
            )
        return res

    def invoke(self, payload, **kw):
        return self.result(self.submit(payload, **kw))

    def init_error(self, timeout=10.0):
        """Wait for the init error and the process exit; returns (Result, exit code)."""
        self.api.wait(lambda: self.api.init_errors or self.proc.poll() is not None, timeout)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            code = None
        if not self.api.init_errors:
            raise AssertionError(
                "no init error (exit=%s)\nstdout:\n%s\nstderr:\n%s"
                % (code, "\n".join(self.stdout), self.stderr)
            )
        for t in self._readers:
            t.join(2)
        return self.api.init_errors[0], code

    def startup_ms(self, timeout=10.0):
        self.api.wait(lambda: self.api.first_next_at is not None, timeout)
        assert self.api.first_next_at is not None, self.stderr
        return (self.api.first_next_at - self.started_at) * 1000.0

    def close(self):
        if getattr(self, "_closed", False):
            return
        self._closed = True
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.api.close()
        for t in self._readers:
            t.join(2)


def write_files(root, files):
    for rel, text in files.items():
        p = Path(root) / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
