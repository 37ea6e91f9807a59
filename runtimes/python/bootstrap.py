"""Ignis managed runtime for Python: the Lambda runtime interface client.

Started inside an execution environment as ``/usr/bin/python3 -S bootstrap.py``. It imports the
function's handler (``_HANDLER`` = ``module.function``, the module path may contain ``/``) from
``LAMBDA_TASK_ROOT``, then loops on the Lambda Runtime API 2018-06-01 at ``AWS_LAMBDA_RUNTIME_API``:
``GET /runtime/invocation/next``, call ``handler(event, context)``, ``POST .../response`` or
``POST .../error``. Failures while loading the handler go to ``POST /runtime/init/error`` and the
process exits with status 1.

Behaviour follows AWS's own Python runtime (awslambdaric): the same error types and messages
(``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``, ``Runtime.MalformedHandlerName``,
``Runtime.UserCodeSyntaxError``, ``Runtime.UnmarshalError``, ``Runtime.MarshalError``), the same error
document ``{"errorMessage", "errorType", "requestId", "stackTrace"}``, the same context object, the
same log line format on the root logger and unbuffered stdout/stderr.

Start-up is kept short on purpose: only C built-ins (``_socket``, ``_json``, ``time``) and ``os``
are imported before the first ``GET /next``. ``json``, ``socket``, ``http.client``, ``logging`` and
``traceback`` each cost 10-45 ms to import here (they pull in ``re``, ``enum``, ``email``, ``ssl``),
so the Runtime API client speaks HTTP/1.1 itself over one keep-alive ``_socket`` connection, JSON
goes through the ``_json`` accelerator directly (falling back to the ``json`` module for anything
unusual), ``traceback`` is imported only when an error has to be reported, and the Lambda log handler
is attached to the root logger the moment user code imports ``logging``.

Standard library only; Python 3.9+.
"""

import os
import sys
import time
import _socket

_API_PREFIX = "/2018-06-01/runtime"
_ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
_XRAY_CAUSE_HEADER = "Lambda-Runtime-Function-XRay-Error-Cause"
_XRAY_CAUSE_MAX = 1024 * 1024
_USER_AGENT = "ignis-lambda-python/%d.%d.%d" % sys.version_info[:3]

# Error types, as AWS names them.
MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

_ERROR_LOG_LINE_TERMINATE = "\r"
_ERROR_LOG_IDENT = "\u00a0"  # NO-BREAK SPACE, as AWS indents stack lines in the log

# Source file of this module: frames from it are cut from the top of reported stack traces.
_THIS_FILE = (lambda: None).__code__.co_filename

# Request id of the invocation in progress, for log lines ("" outside an invocation).
_request_id = ""


class FaultException(Exception):
    """A runtime-detected failure with an AWS ``Runtime.*`` error type."""

    def __init__(self, exception_type, msg, trace=None):
        Exception.__init__(self, msg)
        self.exception_type = exception_type
        self.msg = msg
        self.trace = trace


class _RuntimeApiError(Exception):
    """The Runtime API refused a request or the connection to it failed for good."""


# --------------------------------------------------------------------------------------------
# JSON: the _json accelerator used directly (no `re`/`enum` import), the json module as fallback.
# --------------------------------------------------------------------------------------------


def _ensure_ascii_output():
    # awslambdaric emits non-ASCII characters unescaped only on python3.12 and later runtimes.
    env = os.environ.get("AWS_EXECUTION_ENV") or ""
    prefix = "AWS_Lambda_python3."
    if env.startswith(prefix):
        try:
            return int(env[len(prefix):]) < 12
        except ValueError:
            pass
    return True


class _JsonCodec(object):
    """JSON as AWS's runtime produces it: separators ``", "``/``": "``, NaN allowed, and
    ``decimal.Decimal`` written as a bare number (awslambdaric does the same through simplejson)."""

    def __init__(self, ensure_ascii):
        self.ensure_ascii = ensure_ascii
        self._c = None  # (_json module) once the accelerated path has proven itself
        self._checked = False
        self._json = None
        self._decimals = None
        self._scanner = None

    # -- encoding --

    def _default(self, o):
        dec = sys.modules.get("decimal")
        if dec is not None and isinstance(o, dec.Decimal):
            if o.is_nan():
                return float("nan")
            decimals = self._decimals
            if decimals is None:
                decimals = self._decimals = []
            decimals.append(str(o))
            return "\x00ignis-decimal:%d\x00" % (len(decimals) - 1)
        raise TypeError("Object of type %s is not JSON serializable" % o.__class__.__name__)

    def _c_encode(self, obj):
        _json = self._c
        basestring = _json.encode_basestring_ascii if self.ensure_ascii else _json.encode_basestring
        # A fresh encoder per call: its circular-reference markers must not outlive a failure.
        encoder = _json.make_encoder(
            {}, self._default, basestring, None, ": ", ", ", False, False, True
        )
        return "".join(encoder(obj, 0))

    def _py_encode(self, obj):
        if self._json is None:
            import json

            self._json = json
        return self._json.JSONEncoder(
            ensure_ascii=self.ensure_ascii, default=self._default
        ).encode(obj)

    def _accelerated(self):
        if not self._checked:
            self._checked = True
            try:
                import _json

                self._c = _json
                sample = {"a": [1, 2.5, "\u00e9\n", None, True, False], "b": {}, "c": float("inf")}
                expected = '{"a": [1, 2.5, "%s\\n", null, true, false], "b": {}, "c": Infinity}' % (
                    "\\u00e9" if self.ensure_ascii else "\u00e9"
                )
                if self._c_encode(sample) != expected or self._c_encode("x") != '"x"':
                    self._c = None
            except Exception:
                self._c = None
        return self._c is not None

    def dumps(self, obj):
        self._decimals = None
        try:
            if self._accelerated():
                out = self._c_encode(obj)
            else:
                out = self._py_encode(obj)
            if self._decimals:
                basestring = self._basestring()
                for i, text in enumerate(self._decimals):
                    out = out.replace(basestring("\x00ignis-decimal:%d\x00" % i), text, 1)
            return out
        finally:
            self._decimals = None

    def _basestring(self):
        if self._c is not None:
            enc = self._c.encode_basestring_ascii if self.ensure_ascii else self._c.encode_basestring
        else:
            enc = (
                self._json.encoder.encode_basestring_ascii
                if self.ensure_ascii
                else self._json.encoder.encode_basestring
            )
        return enc

    # -- decoding --

    def _make_scanner(self):
        import _json

        class _Ctx(object):
            pass

        ctx = _Ctx()
        ctx.strict = True
        ctx.object_hook = None
        ctx.object_pairs_hook = None
        ctx.parse_float = float
        ctx.parse_int = int
        ctx.parse_constant = {
            "-Infinity": float("-inf"),
            "Infinity": float("inf"),
            "NaN": float("nan"),
        }.__getitem__
        ctx.memo = {}
        return _json.make_scanner(ctx)

    def loads(self, data):
        """``json.loads`` semantics; raises ``ValueError`` (``JSONDecodeError``) like it."""
        try:
            if self._scanner is None:
                self._scanner = self._make_scanner()
            s = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
            ws = " \t\n\r"
            start = len(s) - len(s.lstrip(ws))
            obj, end = self._scanner(s, start)
            if s[end:].strip(ws):
                raise ValueError("extra data")
            return obj
        except Exception:
            pass
        # Anything unusual (other encodings, a BOM, invalid JSON): the json module decides and
        # produces the exact error message.
        if self._json is None:
            import json

            self._json = json
        return self._json.loads(data)


_codec = None


def _json_codec():
    global _codec
    if _codec is None:
        _codec = _JsonCodec(_ensure_ascii_output())
    return _codec


_ascii_codec = None


def _xray_codec():
    global _ascii_codec
    if _ascii_codec is None:
        _ascii_codec = _JsonCodec(True)
    return _ascii_codec


def to_json(obj):
    return _json_codec().dumps(obj)


# --------------------------------------------------------------------------------------------
# Runtime API client: HTTP/1.1 over one keep-alive connection.
# --------------------------------------------------------------------------------------------

_SAFE_PATH_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _quote_path_segment(text):
    if all(c in _SAFE_PATH_CHARS for c in text):
        return text
    return "".join(
        c if c in _SAFE_PATH_CHARS else "".join("%%%02X" % b for b in c.encode("utf-8"))
        for c in text
    )


class _ConnectionLost(Exception):
    """The server closed the connection before a complete response arrived."""

    def __init__(self, received_any):
        Exception.__init__(self, "connection to the Runtime API closed")
        self.received_any = received_any


class RuntimeClient(object):
    """Minimal HTTP/1.1 client for the Runtime API: one persistent TCP connection, requests
    written in a single ``send`` with ``TCP_NODELAY``, Content-Length and chunked bodies read."""

    def __init__(self, address):
        self.address = address
        host, port = address, 80
        if address.startswith("["):  # [v6]:port
            end = address.find("]")
            host = address[1:end]
            rest = address[end + 1:]
            if rest.startswith(":"):
                port = int(rest[1:])
        elif ":" in address:
            host, _, p = address.rpartition(":")
            port = int(p)
        self.host = host
        self.port = port
        self.sock = None
        self.buf = bytearray()

    # -- connection --

    def _addresses(self):
        host, port = self.host, self.port
        for family, sockaddr in ((_socket.AF_INET, (host, port)), (_socket.AF_INET6, (host, port, 0, 0))):
            try:
                _socket.inet_pton(family, host)
            except (OSError, ValueError):
                continue
            return [(family, _socket.SOCK_STREAM, 0, "", sockaddr)]
        # A name: resolve it. Passed as bytes, since a str host makes _socket import the idna
        # codec (with `re` and `enum`: ~12 ms here).
        try:
            name = host.encode("ascii")
        except UnicodeEncodeError:
            name = host
        return _socket.getaddrinfo(name, port, 0, _socket.SOCK_STREAM)

    def _connect(self):
        infos = self._addresses()
        err = None
        for family, socktype, proto, _, sockaddr in infos:
            sock = _socket.socket(family, socktype, proto)
            try:
                sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
                sock.connect(sockaddr)
            except OSError as e:
                sock.close()
                err = e
                continue
            self.sock = sock
            self.buf = bytearray()
            return
        raise err or OSError("cannot resolve Runtime API address %r" % self.address)

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.buf = bytearray()

    # -- one exchange --

    def request(self, method, path, body=None, headers=()):
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: " + self.address, "User-Agent: " + _USER_AGENT]
        for name, value in headers:
            lines.append("%s: %s" % (name, value))
        if body is not None:
            lines.append("Content-Length: %d" % len(body))
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
        if body:
            data += body
        for attempt in (0, 1):
            fresh = self.sock is None
            if fresh:
                self._connect()
            try:
                self.sock.sendall(data)
                return self._read_response(method)
            except (OSError, _ConnectionLost) as e:
                self.close()
                # A kept-alive connection the server already dropped: send once more, on a new
                # connection, but only if nothing of a response had arrived.
                if fresh or attempt or getattr(e, "received_any", False):
                    raise
        raise AssertionError("unreachable")

    def _recv_more(self, received_any):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise _ConnectionLost(received_any)
        self.buf += chunk

    def _read_response(self, method):
        while True:
            buf = self.buf
            while True:
                end = buf.find(b"\r\n\r\n")
                if end >= 0:
                    break
                self._recv_more(bool(buf))
                buf = self.buf
            head = bytes(buf[:end]).decode("latin-1")
            del buf[: end + 4]
            lines = head.split("\r\n")
            status = int(lines[0].split(None, 2)[1])
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if 100 <= status < 200:
                continue  # interim response (100 Continue): the real one follows
            break
        if method == "HEAD" or status in (204, 304):
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        elif "content-length" in headers:
            length = int(headers["content-length"])
            while len(self.buf) < length:
                self._recv_more(True)
            body = bytes(self.buf[:length])
            del self.buf[:length]
        else:  # body delimited by the end of the connection
            while True:
                try:
                    self._recv_more(True)
                except _ConnectionLost:
                    break
            body = bytes(self.buf)
            self.close()
            return status, headers, body
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def _read_line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[: i + 2]
                return line
            self._recv_more(True)

    def _read_chunked(self):
        parts = []
        while True:
            size = int(self._read_line().split(b";", 1)[0].strip(), 16)
            if size == 0:
                while self._read_line():  # trailers up to the empty line
                    pass
                return b"".join(parts)
            while len(self.buf) < size + 2:
                self._recv_more(True)
            parts.append(bytes(self.buf[:size]))
            del self.buf[: size + 2]

    # -- Runtime API calls --

    def next_invocation(self):
        status, headers, body = self.request("GET", _API_PREFIX + "/invocation/next")
        if status != 200:
            raise _RuntimeApiError(
                "GET /runtime/invocation/next returned %d: %r" % (status, body[:1024])
            )
        return headers, body

    def _post(self, path, body, headers):
        status, _, resp = self.request("POST", path, body, headers)
        if status >= 500:
            # "Container error. Non-recoverable state. Runtime should exit promptly."
            raise _RuntimeApiError("POST %s returned %d: %r" % (path, status, resp[:1024]))
        if status != 202:
            sys.stderr.write(
                "ignis runtime: POST %s returned %d: %s\n"
                % (path, status, resp[:1024].decode("utf-8", "replace"))
            )
        return status

    def post_invocation_result(self, invoke_id, body, content_type):
        path = "%s/invocation/%s/response" % (_API_PREFIX, _quote_path_segment(invoke_id))
        return self._post(path, body, (("Content-Type", content_type),))

    def post_invocation_error(self, invoke_id, error_json, error_type, xray_json=None):
        path = "%s/invocation/%s/error" % (_API_PREFIX, _quote_path_segment(invoke_id))
        headers = [("Content-Type", "application/json"), (_ERROR_TYPE_HEADER, _header_value(error_type))]
        if xray_json and len(xray_json) < _XRAY_CAUSE_MAX:
            headers.append((_XRAY_CAUSE_HEADER, _header_value(xray_json)))
        return self._post(path, error_json.encode("utf-8"), headers)

    def post_init_error(self, error_json, error_type):
        headers = (("Content-Type", "application/json"), (_ERROR_TYPE_HEADER, _header_value(error_type)))
        return self._post(_API_PREFIX + "/init/error", error_json.encode("utf-8"), headers)


def _header_value(text):
    # Header values cannot carry line breaks; anything else passes as UTF-8 bytes.
    if "\r" in text or "\n" in text:
        text = text.replace("\r", " ").replace("\n", " ")
    return text


# --------------------------------------------------------------------------------------------
# Context object
# --------------------------------------------------------------------------------------------


class LambdaContext(object):
    """The ``context`` argument of the handler, with the attributes AWS's runtime provides."""

    def __init__(
        self,
        invoke_id,
        client_context,
        cognito_identity,
        epoch_deadline_time_in_ms,
        invoked_function_arn=None,
        tenant_id=None,
    ):
        environ = os.environ
        self.aws_request_id = invoke_id
        self.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        # A string, exactly as awslambdaric sets it (os.environ value).
        self.memory_limit_in_mb = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id

        self.client_context = _make_obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _make_obj_from_dict(Client, self.client_context.client)

        self.identity = _make_obj_from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")

        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self):
        epoch_now_in_ms = int(time.time() * 1000)
        delta_ms = self._epoch_deadline_time_in_ms - epoch_now_in_ms
        return delta_ms if delta_ms > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            "%s([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
            "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,"
            "client_context=%s,identity=%s,tenant_id=%s])"
            % (
                self.__class__.__name__,
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
                self.tenant_id,
            )
        )


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return "%s([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.__class__.__name__,
            self.cognito_identity_id,
            self.cognito_identity_pool_id,
        )


class Client(object):
    __slots__ = [
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    ]

    def __repr__(self):
        return (
            "%s([installation_id=%s,app_title=%s,app_version_name=%s,app_version_code=%s,"
            "app_package_name=%s])"
            % (
                self.__class__.__name__,
                self.installation_id,
                self.app_title,
                self.app_version_name,
                self.app_version_code,
                self.app_package_name,
            )
        )


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return "%s([custom=%s,env=%s,client=%s])" % (
            self.__class__.__name__,
            self.custom,
            self.env,
            self.client,
        )


def _make_obj_from_dict(cls, d):
    if d is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, d.get(field, None))
    return obj


def _parse_json_header(header, name):
    try:
        return _json_codec().loads(header)
    except Exception as e:
        raise FaultException(
            LAMBDA_CONTEXT_UNMARSHAL_ERROR, "Unable to parse %s JSON: %s" % (name, e), None
        )


def create_lambda_context(
    client_context_json, cognito_identity_json, deadline_ms, invoke_id, arn, tenant_id=None
):
    client_context = None
    if client_context_json:
        client_context = _parse_json_header(client_context_json, "Client Context")
    cognito_identity = None
    if cognito_identity_json:
        cognito_identity = _parse_json_header(cognito_identity_json, "Cognito Identity")
    return LambdaContext(invoke_id, client_context, cognito_identity, deadline_ms, arn, tenant_id)


# --------------------------------------------------------------------------------------------
# Logging: unbuffered stdio, the root logger's Lambda handler, error log lines
# --------------------------------------------------------------------------------------------


class Unbuffered(object):
    """Wraps ``sys.stdout``/``sys.stderr`` so every write reaches the pipe at once (as AWS does):
    output is never lost when an invocation times out or the environment is frozen."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        pass

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        n = self.stream.write(msg)
        self.stream.flush()
        return n

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


def _log_format_is_json():
    value = os.environ.get("AWS_LAMBDA_LOG_FORMAT")
    return bool(value) and value.upper() == "JSON"


def _log_level_from_env():
    value = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    if value is None:
        return ""
    return {"TRACE": "DEBUG"}.get(value.upper(), value).upper()


def _setup_logging(logging):
    """Attach the Lambda handler to the root logger (called right after ``logging`` is imported,
    so ``logging.basicConfig()`` in user code finds a handler and does nothing, as on AWS)."""
    logging.Formatter.converter = time.gmtime
    root = logging.getLogger()
    if any(getattr(h, "_ignis_lambda", False) for h in root.handlers):
        return
    json_format = _log_format_is_json()

    class LambdaLoggerHandler(logging.Handler):
        _ignis_lambda = True

        def emit(self, record):
            msg = self.format(record)
            sys.stdout.write(msg)

    class LambdaLoggerFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _request_id or ""
            return True

    handler = LambdaLoggerHandler()
    if json_format:
        handler.setFormatter(_make_json_formatter(logging))
    else:
        handler.setFormatter(
            logging.Formatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
    level = _log_level_from_env()
    if level and level in logging._nameToLevel:
        root.setLevel(level)
    handler.addFilter(LambdaLoggerFilter())
    root.addHandler(handler)


_RESERVED_LOG_FIELDS = frozenset(
    (
        "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module",
        "exc_info", "exc_text", "stack_info", "lineno", "funcName", "created", "msecs",
        "relativeCreated", "thread", "threadName", "processName", "process", "aws_request_id",
        "tenant_id", "_frame_type", "taskName",
    )
)


def _make_json_formatter(logging):
    codec = _JsonCodec(ensure_ascii=False)

    class JsonFormatter(logging.Formatter):
        def format(self, record):
            levelno = min(50, max(0, record.levelno)) // 10 * 10
            record.levelno = levelno
            record.levelname = logging.getLevelName(levelno)
            exc_info = record.exc_info
            result = {
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                + ".%03dZ" % int(record.msecs),
                "level": record.levelname,
                "message": record.getMessage(),
                "logger": record.name,
                "stackTrace": None,
                "errorType": None,
                "errorMessage": None,
                "requestId": getattr(record, "aws_request_id", None),
                "location": None,
            }
            if exc_info:
                import traceback

                result["stackTrace"] = traceback.format_tb(exc_info[2])
                result["errorType"] = exc_info[0].__name__
                result["errorMessage"] = str(exc_info[1])
                result["location"] = "%s:%s:%s" % (record.pathname, record.funcName, record.lineno)
            for key, value in record.__dict__.items():
                if key not in _RESERVED_LOG_FIELDS and key not in result:
                    result[key] = value
            result = {k: v for k, v in result.items() if v is not None}
            try:
                return codec.dumps(result) + "\n"
            except (TypeError, ValueError):
                # An extra attribute that JSON cannot carry: fall back to its str().
                safe = {}
                for k, v in result.items():
                    safe[k] = v if isinstance(v, (str, int, float, bool, list, dict)) else str(v)
                return codec.dumps(safe) + "\n"

    return JsonFormatter()


class _PostImportLoader(object):
    """Loader wrapper that runs a callback once the wrapped module has executed."""

    def __init__(self, loader, callback):
        self._loader = loader
        self._callback = callback

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        self._callback(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _LoggingImportHook(object):
    """``sys.meta_path`` entry that notices the first ``import logging`` (it leaves once the
    module has executed)."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "logging":
            return None
        spec = None
        for finder in sys.meta_path:
            if finder is cls:
                continue
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            spec = find_spec(name, path, target)
            if spec is not None:
                break
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _PostImportLoader(spec.loader, cls._loaded)
        return spec

    @classmethod
    def _loaded(cls, module):
        try:
            sys.meta_path.remove(cls)
        except ValueError:
            pass
        _setup_logging(module)


def _install_logging():
    if "logging" in sys.modules:
        _setup_logging(sys.modules["logging"])
    else:
        sys.meta_path.insert(0, _LoggingImportHook)


def _replace_line_indentation(line, indent_char, new_indent_char):
    count = 0
    for c in line:
        if c != indent_char:
            break
        count += 1
    return (new_indent_char * count) + line[count:]


def log_error(error_result):
    """Write an error document to the function log the way AWS does (one record; lines joined by
    ``\\r``, stack lines indented with NO-BREAK SPACE; JSON when AWS_LAMBDA_LOG_FORMAT=JSON)."""
    if _log_format_is_json():
        record = {
            "timestamp": _utc_timestamp(),
            "level": "ERROR",
        }
        record.update(error_result)
        line = _json_codec().dumps(record) + "\n"
    else:
        description = "[ERROR]"
        error_type = error_result.get("errorType")
        if error_type:
            description += " " + error_type
        error_message = error_result.get("errorMessage")
        if error_message:
            if error_type:
                description += ":"
            description += " " + error_message
        lines = [description]
        stack_trace = error_result.get("stackTrace")
        if stack_trace is not None:
            lines.append("Traceback (most recent call last):")
            for element in stack_trace:
                if element == "":
                    lines.append("")
                else:
                    for trace_line in element.splitlines():
                        lines.append(_replace_line_indentation(trace_line, " ", _ERROR_LOG_IDENT))
        line = _ERROR_LOG_LINE_TERMINATE.join(lines) + "\n"
    sys.stdout.write(line)


def _utc_timestamp():
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (int(now * 1000) % 1000)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def make_error(error_message, error_type, stack_trace, invoke_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def _user_frames(tb):
    """Frames of a traceback as (filename, lineno, name, line) with this file's leading frames
    removed, as awslambdaric does."""
    import traceback

    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for i in range(len(frames)):
        if frames[i][0] != _THIS_FILE:
            return frames[i:]
    return frames


def _format_frames(frames):
    import traceback

    return traceback.format_list(frames)


def make_xray_fault(ex_type, ex_msg, working_dir, frames):
    stack = []
    files = []
    for tb_file, tb_line, tb_method, _ in frames:
        stack.append({"label": tb_method, "path": tb_file, "line": tb_line})
        if tb_file not in files:
            files.append(tb_file)
    return {
        "working_directory": working_dir,
        "exceptions": [{"message": ex_msg, "type": ex_type, "stack": stack}],
        "paths": files,
    }


def build_fault_result(exc_info, msg=None):
    etype, value, tb = exc_info
    frames = _user_frames(tb)
    return make_error(msg if msg else _safe_str(value), etype.__name__, _format_frames(frames))


def _safe_str(value):
    try:
        return str(value)
    except Exception:
        return "<exception str() failed>"


def _getcwd():
    try:
        return os.getcwd()
    except OSError:
        return ""


# --------------------------------------------------------------------------------------------
# Handler loading and invocation
# --------------------------------------------------------------------------------------------


def _get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(MALFORMED_HANDLER_NAME, "Bad handler '%s': %s" % (handler, e))

    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                BUILT_IN_MODULE_CONFLICT,
                "Cannot use built-in module %s as a handler module" % modname,
            )
        name = modname.replace("/", ".")
        __import__(name)
        m = sys.modules[name]
    except ImportError as e:
        raise FaultException(
            IMPORT_MODULE_ERROR, "Unable to import module '%s': %s" % (modname, e)
        )
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(
            USER_CODE_SYNTAX_ERROR, "Syntax error in module '%s': %s" % (modname, e), trace
        )

    try:
        request_handler = getattr(m, fname)
    except AttributeError:
        raise FaultException(
            HANDLER_NOT_FOUND, "Handler '%s' missing on module '%s'" % (fname, modname), None
        )
    return request_handler


def _unmarshal_request(body, content_type):
    # awslambdaric hands over the raw bytes when the payload is declared as something else than
    # JSON; without a Content-Type the payload is taken as JSON.
    if content_type and not content_type.lower().startswith("application/json"):
        return body
    try:
        return _json_codec().loads(body)
    except Exception as e:
        raise FaultException(UNMARSHAL_ERROR, "Unable to unmarshal input: %s" % e, None)


def _marshal_response(response):
    if isinstance(response, bytes):
        return response, "application/unknown"
    try:
        return to_json(response).encode("utf-8"), "application/json"
    except Exception as e:
        raise FaultException(MARSHAL_ERROR, "Unable to marshal response: %s" % e, None)


def handle_event_request(client, request_handler, invoke_id, event_body, headers):
    error_result = None
    xray_fault = None
    try:
        deadline = headers.get("lambda-runtime-deadline-ms")
        lambda_context = create_lambda_context(
            headers.get("lambda-runtime-client-context"),
            headers.get("lambda-runtime-cognito-identity"),
            int(deadline) if deadline else 0,
            invoke_id,
            headers.get("lambda-runtime-invoked-function-arn"),
            headers.get("lambda-runtime-aws-tenant-id"),
        )
        event = _unmarshal_request(event_body, headers.get("content-type"))
        response = request_handler(event, lambda_context)
        result, result_content_type = _marshal_response(response)
    except FaultException as e:
        xray_fault = make_xray_fault("LambdaValidationError", e.msg, _getcwd(), [])
        error_result = make_error(e.msg, e.exception_type, e.trace, invoke_id)
    except Exception:
        etype, value, tb = sys.exc_info()
        frames = _user_frames(tb)
        message = _safe_str(value)
        xray_fault = make_xray_fault(etype.__name__, message, _getcwd(), frames)
        error_result = make_error(message, etype.__name__, _format_frames(frames), invoke_id)
        del tb

    if error_result is not None:
        try:
            log_error(error_result)
        except Exception:
            pass  # a broken sys.stdout must not keep the error from the Runtime API
        try:
            xray_json = _xray_codec().dumps(xray_fault)  # ASCII: it travels in a header
        except Exception:
            xray_json = None
        client.post_invocation_error(
            invoke_id, to_json(error_result), error_result["errorType"], xray_json
        )
    else:
        client.post_invocation_result(invoke_id, result, result_content_type)


def _setup_sys_path(task_root):
    """Module search path as on AWS: the function code, then the layers' site directory and
    /opt/python, then the interpreter's own path."""
    site_dir = "/opt/python/lib/python%d.%d/site-packages" % sys.version_info[:2]
    front = [task_root, site_dir, "/opt/python"]
    sys.path[:] = front + [p for p in sys.path if p not in front]
    # Layers' site directory is a site dir on AWS: honour its .pth files (rare; `site` is only
    # imported when one exists, since -S skips it).
    try:
        names = os.listdir(site_dir)
    except OSError:
        return
    if any(n.endswith(".pth") for n in names):
        import site

        site.addsitedir(site_dir)


def main():
    global _request_id
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or "/var/task"
    handler_name = os.environ.get("_HANDLER", "")
    client = RuntimeClient(os.environ.get("AWS_LAMBDA_RUNTIME_API") or "127.0.0.1:9001")

    try:
        if os.getcwd() != task_root:
            os.chdir(task_root)
    except OSError:
        pass
    _setup_sys_path(task_root)
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    _install_logging()

    try:
        request_handler = _get_handler(handler_name)
    except Exception as e:
        if isinstance(e, FaultException):
            error_result = make_error(e.msg, e.exception_type, e.trace)
        else:
            error_result = build_fault_result(sys.exc_info())
        log_error(error_result)
        try:
            client.post_init_error(to_json(error_result), error_result["errorType"])
        except Exception as post_error:
            sys.stderr.write("ignis runtime: cannot report the init error: %s\n" % post_error)
        sys.exit(1)

    environ = os.environ
    while True:
        try:
            headers, body = client.next_invocation()
        except Exception as e:
            sys.stderr.write("ignis runtime: %s\n" % e)
            sys.exit(1)
        invoke_id = headers.get("lambda-runtime-aws-request-id") or ""
        _request_id = invoke_id
        trace_id = headers.get("lambda-runtime-trace-id")
        if trace_id:
            environ["_X_AMZN_TRACE_ID"] = trace_id
        elif "_X_AMZN_TRACE_ID" in environ:
            del environ["_X_AMZN_TRACE_ID"]
        try:
            handle_event_request(client, request_handler, invoke_id, body, headers)
        except Exception as e:
            sys.stderr.write("ignis runtime: %s\n" % e)
            sys.exit(1)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass


if __name__ == "__main__":
    main()
