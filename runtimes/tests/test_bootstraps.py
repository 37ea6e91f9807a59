"""Behaviour shared by both managed runtimes, checked against the fake Runtime API.

Each case gives the Python and the Node.js flavour of the same function and the exact document AWS's
runtime of that language produces (Python: awslambdaric; Node.js: the 3.x runtime interface client).
"""

import json
import re

import pytest

from fakeapi import FUNCTION_ARN

RUNTIMES = ["python", "nodejs"]

ECHO = {
    "python": {"app.py": "def handler(event, context):\n    return event\n"},
    "nodejs": {"app.js": "exports.handler = async (event) => event;\n"},
}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_echo(lambda_env, runtime):
    env = lambda_env(runtime, ECHO[runtime], "app.handler")
    event = {"a": 1, "nested": {"b": [1, 2.5, None, True]}, "s": "h\u00e9llo \u2603"}
    res = env.invoke(event)
    assert res.kind == "response", res
    assert res.json == event
    assert res.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_none_result_is_null(lambda_env, runtime):
    files = {
        "python": {"app.py": "def handler(event, context):\n    return None\n"},
        "nodejs": {"app.js": "exports.handler = async () => undefined;\n"},
    }[runtime]
    env = lambda_env(runtime, files, "app.handler")
    res = env.invoke({"x": 1})
    assert res.kind == "response", res
    assert res.body == b"null"


CONTEXT = {
    "python": {
        "app.py": """
import os

def handler(event, context):
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "identity_id": context.identity.cognito_identity_id,
        "identity_pool": context.identity.cognito_identity_pool_id,
        "client_custom": context.client_context.custom if context.client_context else None,
        "client_app_title": context.client_context.client.app_title if context.client_context else None,
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "tenant_id": context.tenant_id,
    }
"""
    },
    "nodejs": {
        "app.js": """
exports.handler = async (event, context) => ({
  function_name: context.functionName,
  function_version: context.functionVersion,
  invoked_function_arn: context.invokedFunctionArn,
  memory_limit_in_mb: context.memoryLimitInMB,
  aws_request_id: context.awsRequestId,
  log_group_name: context.logGroupName,
  log_stream_name: context.logStreamName,
  remaining: context.getRemainingTimeInMillis(),
  identity_id: context.identity ? context.identity.cognitoIdentityId : null,
  identity_pool: context.identity ? context.identity.cognitoIdentityPoolId : null,
  client_custom: context.clientContext ? context.clientContext.custom : null,
  client_app_title: context.clientContext ? context.clientContext.client.app_title : null,
  trace: process.env._X_AMZN_TRACE_ID || null,
  tenant_id: context.tenantId || null,
  waits: context.callbackWaitsForEmptyEventLoop,
});
"""
    },
}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_context_fields(lambda_env, runtime):
    env = lambda_env(runtime, CONTEXT[runtime], "app.handler")
    import time

    headers = {
        "Lambda-Runtime-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "Lambda-Runtime-Cognito-Identity": json.dumps(
            {"cognitoIdentityId": "us-east-1:abc", "cognitoIdentityPoolId": "us-east-1:pool"}
        ),
        "Lambda-Runtime-Client-Context": json.dumps(
            {"custom": {"k": "v"}, "env": {"platform": "x"}, "client": {"app_title": "demo"}}
        ),
        "Lambda-Runtime-Aws-Tenant-Id": "tenant-a",
    }
    deadline = int(time.time() * 1000) + 20_000
    inv = env.submit({}, headers=headers, deadline_ms=deadline)
    res = env.result(inv)
    assert res.kind == "response", res
    got = res.json
    assert got["function_name"] == "fn"
    assert got["function_version"] == "$LATEST"
    assert got["invoked_function_arn"] == FUNCTION_ARN
    # Both AWS runtimes hand the memory size over as the environment variable's string.
    assert got["memory_limit_in_mb"] == "256"
    assert got["aws_request_id"] == inv.request_id
    assert got["log_group_name"] == "/aws/lambda/fn"
    assert got["log_stream_name"] == "2024/01/01/[$LATEST]0123456789abcdef"
    assert 15_000 < got["remaining"] <= 20_000
    assert got["identity_id"] == "us-east-1:abc"
    assert got["identity_pool"] == "us-east-1:pool"
    assert got["client_custom"] == {"k": "v"}
    assert got["client_app_title"] == "demo"
    assert got["trace"] == headers["Lambda-Runtime-Trace-Id"]
    assert got["tenant_id"] == "tenant-a"
    if runtime == "nodejs":
        assert got["waits"] is True

    # Without the optional headers: no trace id left in the environment, empty identity.
    res = env.invoke({})
    got = res.json
    assert got["trace"] is None
    assert got["tenant_id"] is None
    assert got["identity_id"] is None
    assert got["client_custom"] is None


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_handler_in_subdirectory(lambda_env, runtime):
    files = {
        "python": {
            "src/app.py": "from src import helper\n\ndef handler(event, context):\n    return helper.greet(event['name'])\n",
            "src/helper.py": "def greet(name):\n    return 'hello ' + name\n",
        },
        "nodejs": {
            "src/app.js": "const { greet } = require('./helper');\nexports.handler = async (e) => greet(e.name);\n",
            "src/helper.js": "exports.greet = (n) => 'hello ' + n;\n",
        },
    }[runtime]
    env = lambda_env(runtime, files, "src/app.handler")
    res = env.invoke({"name": "sub"})
    assert res.kind == "response", res
    assert res.json == "hello sub"


GLOBALS = {
    "python": {
        "app.py": "count = 0\n\ndef handler(event, context):\n    global count\n    count += 1\n    return count\n"
    },
    "nodejs": {"app.js": "let count = 0;\nexports.handler = async () => ++count;\n"},
}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_globals_survive_invocations_on_one_connection(lambda_env, runtime):
    env = lambda_env(runtime, GLOBALS[runtime], "app.handler")
    assert [env.invoke({}).json for _ in range(4)] == [1, 2, 3, 4]
    # keep-alive: the whole life of the environment used a single TCP connection
    assert env.api.connections == 1
    # and each request carried a Content-Length or nothing (checked by the fake server) and a UA
    assert all("User-Agent" in h for _, _, h in env.api.requests)


EXCEPTION = {
    "python": {
        "app.py": """
def check(value):
    raise ValueError("bad value: %s" % value)

def handler(event, context):
    check(event["v"])
"""
    },
    "nodejs": {
        "app.js": """
function check(value) {
  throw new Error('bad value: ' + value);
}
exports.handler = async (event) => check(event.v);
"""
    },
}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_exception_posts_error(lambda_env, runtime):
    env = lambda_env(runtime, EXCEPTION[runtime], "app.handler")
    inv = env.submit({"v": 42})
    res = env.result(inv)
    assert res.kind == "error", res
    body = res.json
    if runtime == "python":
        assert res.headers["lambda-runtime-function-error-type"] == "ValueError"
        assert list(body) == ["errorMessage", "errorType", "requestId", "stackTrace"]
        assert body["errorMessage"] == "bad value: 42"
        assert body["errorType"] == "ValueError"
        assert body["requestId"] == inv.request_id
        trace = body["stackTrace"]
        assert isinstance(trace, list) and len(trace) == 2
        # awslambdaric's frames: traceback.format_list of the user's frames (bootstrap cut off)
        assert re.fullmatch(r'  File "/.*/app\.py", line 6, in handler\n    check\(event\["v"\]\)\n', trace[0]), trace
        assert re.fullmatch(
            r'  File "/.*/app\.py", line 3, in check\n    raise ValueError\("bad value: %s" % value\)\n', trace[1]
        ), trace
        # the log shows the error as AWS writes it: one record, \r-separated, NBSP-indented
        assert env.wait_stdout(lambda ls: any(l.startswith("[ERROR] ValueError: bad value: 42\r") for l in ls))
        line = next(l for l in env.stdout if l.startswith("[ERROR]"))
        assert "\rTraceback (most recent call last):\r\u00a0\u00a0File " in line
        assert "xray" not in body
        cause = json.loads(res.headers["lambda-runtime-function-xray-error-cause"])
        assert cause["exceptions"][0]["type"] == "ValueError"
    else:
        assert res.headers["lambda-runtime-function-error-type"] == "Error"
        assert list(body) == ["errorType", "errorMessage", "trace"]
        assert body["errorType"] == "Error"
        assert body["errorMessage"] == "bad value: 42"
        assert body["trace"][0] == "Error: bad value: 42"
        assert re.match(r"    at check \(/.*/app\.js:3:9\)", body["trace"][1]), body["trace"]
        assert env.wait_stdout(lambda ls: any("\tERROR\tInvoke Error \t{" in l for l in ls))
        line = next(l for l in env.stdout if "Invoke Error" in l)
        ts, rid, level, msg = line.split("\t", 3)
        assert rid == inv.request_id and level == "ERROR"
        logged = json.loads(msg[len("Invoke Error \t"):])
        assert logged["errorType"] == "Error" and logged["errorMessage"] == "bad value: 42"
        assert logged["stack"][0] == "Error: bad value: 42"
    # the environment keeps serving after an error
    res = env.invoke({"v": 1})
    assert res.kind == "error"
    assert env.api.connections == 1


def _check_init_error(env, runtime, error_type, message, exit_code=None):
    res, code = env.init_error()
    assert res.headers["lambda-runtime-function-error-type"] == error_type
    body = res.json
    if runtime == "python":
        assert list(body) == ["errorMessage", "errorType", "requestId", "stackTrace"]
        assert body["requestId"] == ""
        assert code == (1 if exit_code is None else exit_code)
    else:
        assert list(body) == ["errorType", "errorMessage", "trace"]
        assert code == (129 if exit_code is None else exit_code)
    assert body["errorType"] == error_type
    if hasattr(message, "match"):
        assert message.match(body["errorMessage"]), body["errorMessage"]
    else:
        assert body["errorMessage"] == message
    assert env.api.results == {}
    assert env.api.connections == 1
    return body


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_import_error(lambda_env, runtime):
    env = lambda_env(runtime, {"other.txt": "x"}, "missing.handler")
    if runtime == "python":
        body = _check_init_error(
            env, runtime, "Runtime.ImportModuleError", "Unable to import module 'missing': No module named 'missing'"
        )
        assert body["stackTrace"] == []
        assert env.wait_stdout(
            lambda ls: "[ERROR] Runtime.ImportModuleError: Unable to import module 'missing': No module named 'missing'\r"
            "Traceback (most recent call last):" in ls
        ), env.stdout
    else:
        body = _check_init_error(
            env, runtime, "Runtime.ImportModuleError", re.compile(r"Error: Cannot find module 'missing'\nRequire stack:\n- ")
        )
        assert body["trace"][0] == "Runtime.ImportModuleError: Error: Cannot find module 'missing'"
        line = next(l for l in env.stdout if "Uncaught Exception" in l)
        assert line.split("\t")[1:3] == ["undefined", "ERROR"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_import_error_of_a_dependency(lambda_env, runtime):
    files = {
        "python": {"app.py": "import no_such_dependency\n\ndef handler(e, c):\n    return 1\n"},
        "nodejs": {"app.js": "require('no-such-dependency');\nexports.handler = async () => 1;\n"},
    }[runtime]
    env = lambda_env(runtime, files, "app.handler")
    if runtime == "python":
        _check_init_error(
            env, runtime, "Runtime.ImportModuleError", "Unable to import module 'app': No module named 'no_such_dependency'"
        )
    else:
        _check_init_error(
            env, runtime, "Runtime.ImportModuleError", re.compile(r"Error: Cannot find module 'no-such-dependency'\n")
        )


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_handler_not_found(lambda_env, runtime):
    files = {
        "python": {"app.py": "def handler(e, c):\n    return 1\n"},
        "nodejs": {"app.js": "exports.handler = async () => 1;\nexports.notfn = 42;\n"},
    }[runtime]
    env = lambda_env(runtime, files, "app.nope")
    if runtime == "python":
        body = _check_init_error(env, runtime, "Runtime.HandlerNotFound", "Handler 'nope' missing on module 'app'")
        assert body["stackTrace"] == []
    else:
        _check_init_error(env, runtime, "Runtime.HandlerNotFound", "app.nope is undefined or not exported")


def test_nodejs_handler_not_a_function(lambda_env):
    env = lambda_env("nodejs", {"app.js": "exports.notfn = 42;\n"}, "app.notfn")
    _check_init_error(env, "nodejs", "Runtime.HandlerNotFound", "app.notfn is not a function")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_malformed_handler(lambda_env, runtime):
    env = lambda_env(runtime, ECHO[runtime], "app")
    if runtime == "python":
        body = _check_init_error(
            env, runtime, "Runtime.MalformedHandlerName", "Bad handler 'app': not enough values to unpack (expected 2, got 1)"
        )
        assert body["stackTrace"] == []
    else:
        _check_init_error(env, runtime, "Runtime.MalformedHandlerName", "Bad handler")


def test_nodejs_relative_handler_is_malformed(lambda_env):
    env = lambda_env("nodejs", ECHO["nodejs"], "../app.handler")
    _check_init_error(
        env,
        "nodejs",
        "Runtime.MalformedHandlerName",
        "'../app.handler' is not a valid handler name. Use absolute paths when specifying root directories in handler names.",
    )


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_syntax_error(lambda_env, runtime):
    files = {
        "python": {"app.py": "def handler(event, context)\n    return 1\n"},
        "nodejs": {"app.js": "exports.handler = async (event => 1;\n"},
    }[runtime]
    env = lambda_env(runtime, files, "app.handler")
    if runtime == "python":
        body = _check_init_error(
            env, runtime, "Runtime.UserCodeSyntaxError", re.compile(r"Syntax error in module 'app': .+ \(app\.py, line 1\)")
        )
        assert len(body["stackTrace"]) == 1
        assert re.fullmatch(
            r'  File "/.*/app\.py" Line 1\n    def handler\(event, context\)\n', body["stackTrace"][0]
        ), body["stackTrace"]
    else:
        body = _check_init_error(env, runtime, "Runtime.UserCodeSyntaxError", re.compile(r"SyntaxError: "))
        assert body["trace"][0].startswith("Runtime.UserCodeSyntaxError: SyntaxError: ")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_exception_while_initialising(lambda_env, runtime):
    files = {
        "python": {"app.py": "def setup():\n    raise RuntimeError('no config')\n\nsetup()\n"},
        "nodejs": {"app.js": "function setup() { throw new TypeError('no config'); }\nsetup();\n"},
    }[runtime]
    env = lambda_env(runtime, files, "app.handler")
    if runtime == "python":
        body = _check_init_error(env, runtime, "RuntimeError", "no config")
        assert any('app.py", line 4, in <module>' in f for f in body["stackTrace"]), body
        assert 'app.py", line 2, in setup' in body["stackTrace"][-1]
    else:
        body = _check_init_error(env, runtime, "TypeError", "no config")
        assert body["trace"][0] == "TypeError: no config"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_result_not_serialisable(lambda_env, runtime):
    files = {
        "python": {"app.py": "def handler(event, context):\n    return {'s': {1, 2}}\n"},
        "nodejs": {"app.js": "exports.handler = async () => { const o = {}; o.self = o; return o; };\n"},
    }[runtime]
    env = lambda_env(runtime, files, "app.handler")
    inv = env.submit({})
    res = env.result(inv)
    assert res.kind == "error", res
    body = res.json
    if runtime == "python":
        assert res.headers["lambda-runtime-function-error-type"] == "Runtime.MarshalError"
        assert body == {
            "errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
            "errorType": "Runtime.MarshalError",
            "requestId": inv.request_id,
            "stackTrace": [],
        }
    else:
        # The 3.x Node.js runtime: JSON.stringify fails -> Error "Unable to stringify response body".
        assert res.headers["lambda-runtime-function-error-type"] == "Error"
        assert body["errorType"] == "Error"
        assert body["errorMessage"] == "Unable to stringify response body"
    # still serving
    assert env.invoke({}).kind == "error"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_event_not_json(lambda_env, runtime):
    env = lambda_env(runtime, ECHO[runtime], "app.handler")
    inv = env.submit(b"this is not json")
    res = env.result(inv)
    assert res.kind == "error", res
    if runtime == "python":
        assert res.json == {
            "errorMessage": "Unable to unmarshal input: Expecting value: line 1 column 1 (char 0)",
            "errorType": "Runtime.UnmarshalError",
            "requestId": inv.request_id,
            "stackTrace": [],
        }
    else:
        # Node.js parses the event with JSON.parse inside the invoke: a plain SyntaxError.
        assert res.json["errorType"] == "SyntaxError"
    assert env.invoke({"ok": 1}).json == {"ok": 1}


LOGGING = {
    "python": {
        "app.py": """
import logging
logger = logging.getLogger()
logger.setLevel(logging.INFO)
logging.basicConfig(level=logging.DEBUG)  # a no-op on AWS: the root logger already has a handler

def handler(event, context):
    logger.info("hello %s", "world")
    print("plain print")
    logging.getLogger("child").warning("careful")
    logger.debug("not shown")
    logger.error("two\\nlines")
    return "ok"
"""
    },
    "nodejs": {
        "app.js": """
exports.handler = async () => {
  console.log('hello %s', 'world');
  console.info({ a: 1 });
  console.warn('careful');
  console.error('two\\nlines');
  console.debug('debugging');
  return 'ok';
};
"""
    },
}

TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_log_lines(lambda_env, runtime):
    env = lambda_env(runtime, LOGGING[runtime], "app.handler")
    inv = env.submit({})
    assert env.result(inv).json == "ok"
    rid = re.escape(inv.request_id)
    if runtime == "python":
        expected = [
            r"\[INFO\]\t%s\t%s\thello world" % (TS, rid),
            r"plain print",
            r"\[WARNING\]\t%s\t%s\tcareful" % (TS, rid),
            r"\[ERROR\]\t%s\t%s\ttwo" % (TS, rid),
            r"lines",
        ]
    else:
        expected = [
            r"%s\t%s\tINFO\thello world" % (TS, rid),
            r"%s\t%s\tINFO\t\{ a: 1 \}" % (TS, rid),
            r"%s\t%s\tWARN\tcareful" % (TS, rid),
            r"%s\t%s\tERROR\ttwo\rlines" % (TS, rid),
            r"%s\t%s\tDEBUG\tdebugging" % (TS, rid),
        ]
    assert env.wait_stdout(lambda ls: len(ls) >= len(expected)), env.stdout
    lines = env.stdout
    assert len(lines) == len(expected), lines
    for pattern, line in zip(expected, lines):
        assert re.fullmatch(pattern, line), (pattern, line)
    if runtime == "python":
        assert env.stderr == ""  # basicConfig did not add a second (stderr) handler


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_log_level_and_json_format(lambda_env, runtime):
    files = {
        "python": {
            "app.py": "import logging\n\ndef handler(event, context):\n"
            "    logging.getLogger('svc').debug('dropped')\n"
            "    logging.getLogger('svc').warning('kept %d', 1, extra={'order': 7})\n    return 1\n"
        },
        "nodejs": {"app.js": "exports.handler = async () => { console.debug('dropped'); console.warn('kept %d', 1); return 1; };\n"},
    }[runtime]
    env = lambda_env(
        runtime, files, "app.handler", env={"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "WARN"}
    )
    inv = env.submit({})
    assert env.result(inv).json == 1
    assert env.wait_stdout(lambda ls: len(ls) >= 1)
    lines = env.stdout
    assert len(lines) == 1, lines
    rec = json.loads(lines[0])
    assert rec["level"] == "WARN" if runtime == "nodejs" else rec["level"] == "WARNING"
    assert rec["message"] == "kept 1"
    assert rec["requestId"] == inv.request_id
    assert re.fullmatch(TS, rec["timestamp"])
    if runtime == "python":
        assert rec["logger"] == "svc" and rec["order"] == 7


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_large_payloads(lambda_env, runtime):
    env = lambda_env(runtime, ECHO[runtime], "app.handler")
    event = {"blob": "x" * (5 * 1024 * 1024), "n": list(range(1000))}
    res = env.invoke(event)
    assert res.kind == "response"
    assert res.json == event
    assert env.invoke({"small": True}).json == {"small": True}
    assert env.api.connections == 1
