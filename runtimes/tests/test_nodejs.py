"""Node.js programming model: promises, callbacks, context.succeed/fail/done, the event-loop rule,
ES modules, process-level failures."""

import json
import re

import pytest

from fakeapi import NODE

pytestmark = pytest.mark.skipif(NODE is None, reason="node not installed")


def test_async_handler(lambda_env):
    files = {
        "app.js": """
exports.handler = async (event, context) => {
  await new Promise((r) => setTimeout(r, 20));
  return { doubled: event.n * 2, id: context.awsRequestId };
};
"""
    }
    env = lambda_env("nodejs", files, "app.handler")
    inv = env.submit({"n": 21})
    assert env.result(inv).json == {"doubled": 42, "id": inv.request_id}


def test_promise_returning_plain_function(lambda_env):
    files = {"app.js": "exports.handler = (event) => Promise.resolve(event.n + 1);\n"}
    env = lambda_env("nodejs", files, "app.handler")
    assert env.invoke({"n": 1}).json == 2


def test_rejected_promise(lambda_env):
    files = {"app.js": "class Boom extends Error { constructor(m) { super(m); this.name = 'Boom'; } }\n"
             "exports.handler = async () => { throw new Boom('kaput'); };\n"}
    env = lambda_env("nodejs", files, "app.handler")
    res = env.invoke({})
    assert res.kind == "error"
    assert res.headers["lambda-runtime-function-error-type"] == "Boom"
    assert res.json["errorType"] == "Boom" and res.json["errorMessage"] == "kaput"
    cause = json.loads(res.headers["lambda-runtime-function-xray-error-cause"])
    assert cause["exceptions"][0]["type"] == "Boom"
    assert cause["exceptions"][0]["stack"][0]["path"].endswith("/app.js")


def test_callback_handler(lambda_env):
    files = {
        "app.js": """
exports.handler = function (event, context, callback) {
  setTimeout(() => callback(null, { got: event.x }), 10);
};
"""
    }
    env = lambda_env("nodejs", files, "app.handler")
    assert env.invoke({"x": "y"}).json == {"got": "y"}


def test_callback_error_values(lambda_env):
    files = {
        "app.js": """
exports.handler = (event, context, callback) => {
  if (event.kind === 'string') return callback('plain failure');
  if (event.kind === 'error') return callback(new RangeError('out of range'));
  callback(null, 'fine');
};
"""
    }
    env = lambda_env("nodejs", files, "app.handler")
    res = env.invoke({"kind": "string"})
    assert res.kind == "error"
    assert res.json == {"errorType": "string", "errorMessage": "plain failure", "trace": []}
    res = env.invoke({"kind": "error"})
    assert res.json["errorType"] == "RangeError" and res.json["errorMessage"] == "out of range"
    assert env.invoke({"kind": "ok"}).json == "fine"


def test_context_succeed_fail_done(lambda_env):
    files = {
        "app.js": """
exports.handler = (event, context) => {
  if (event.op === 'succeed') context.succeed({ via: 'succeed' });
  else if (event.op === 'done') context.done(null, { via: 'done' });
  else if (event.op === 'fail') context.fail(new Error('via fail'));
  else if (event.op === 'fail-empty') context.fail();
  else if (event.op === 'twice') { context.succeed('first'); context.succeed('second'); }
};
"""
    }
    env = lambda_env("nodejs", files, "app.handler")
    assert env.invoke({"op": "succeed"}).json == {"via": "succeed"}
    assert env.invoke({"op": "done"}).json == {"via": "done"}
    res = env.invoke({"op": "fail"})
    assert res.kind == "error" and res.json["errorMessage"] == "via fail"
    res = env.invoke({"op": "fail-empty"})
    assert res.json == {"errorType": "string", "errorMessage": "handled", "trace": []}
    assert env.invoke({"op": "twice"}).json == "first"


def test_callback_waits_for_empty_event_loop(lambda_env):
    files = {
        "app.js": """
exports.handler = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = event.wait;
  setTimeout(() => console.log('timer fired'), 400);
  callback(null, 'answered');
};
"""
    }
    env = lambda_env("nodejs", files, "app.handler")
    inv = env.submit({"wait": True})
    res = env.result(inv)
    assert res.json == "answered"
    waited_ms = (res.at - inv.served_at) * 1000
    assert waited_ms >= 350, waited_ms  # the pending timer ran before the response was sent
    assert any(l.endswith("\tINFO\ttimer fired") for l in env.stdout)

    inv = env.submit({"wait": False})
    res = env.result(inv)
    assert res.json == "answered"
    assert (res.at - inv.served_at) * 1000 < 300  # answered without waiting for the timer


def test_sync_handler_without_callback_answers_null(lambda_env):
    files = {"app.js": "exports.handler = function (event, context, callback) { console.log('no answer'); };\n"}
    env = lambda_env("nodejs", files, "app.handler")
    res = env.invoke({})
    assert res.kind == "response" and res.body == b"null"
    assert env.invoke({}).body == b"null"


def test_async_handler_that_never_settles(lambda_env):
    files = {"app.js": "exports.handler = async () => new Promise(() => {});\n"}
    env = lambda_env("nodejs", files, "app.handler")
    res = env.invoke({})
    assert res.kind == "error"
    assert res.json["errorType"] == "Runtime.NodeJsExit"
    assert env.invoke({}).json["errorType"] == "Runtime.NodeJsExit"  # the environment lives on


@pytest.mark.parametrize(
    "files, handler",
    [
        ({"app.mjs": "export const handler = async (e) => ({ esm: true, e });\n"}, "app.handler"),
        (
            {"package.json": '{"type": "module"}', "lib/app.js": "export async function handler(e) { return { esm: true, e }; }\n"},
            "lib/app.handler",
        ),
        ({"app.cjs": "module.exports.handler = async (e) => ({ esm: true, e });\n"}, "app.handler"),
        ({"app.js": "exports.nested = { deep: { handler: async (e) => ({ esm: true, e }) } };\n"}, "app.nested.deep.handler"),
    ],
    ids=["mjs", "package-type-module", "cjs", "nested-export"],
)
def test_module_kinds(lambda_env, files, handler):
    env = lambda_env("nodejs", files, handler)
    assert env.invoke({"k": 1}).json == {"esm": True, "e": {"k": 1}}


def test_esm_syntax_error(lambda_env):
    env = lambda_env("nodejs", {"app.mjs": "export const handler = async ( => 1;\n"}, "app.handler")
    res, code = env.init_error()
    assert code == 129
    assert res.json["errorType"] == "Runtime.UserCodeSyntaxError"


def test_package_from_node_modules_and_node_path(lambda_env):
    files = {
        "node_modules/greeter/package.json": '{"name": "greeter", "main": "main.js"}',
        "node_modules/greeter/main.js": "exports.greet = (n) => 'hi ' + n;\n",
        "app.js": "const { greet } = require('greeter');\nexports.handler = async (e) => [greet(e.n), process.env.NODE_PATH];\n",
    }
    env = lambda_env("nodejs", files, "app.handler")
    greeting, node_path = env.invoke({"n": "x"}).json
    assert greeting == "hi x"
    major = None
    for part in node_path.split(":"):
        m = re.fullmatch(r"/opt/nodejs/node(\d+)/node_modules", part)
        if m:
            major = m.group(1)
    assert major is not None, node_path
    assert node_path.split(":")[1:4] == ["/opt/nodejs/node_modules", "/var/runtime/node_modules", "/var/runtime"]


def test_uncaught_exception_during_invoke_exits(lambda_env):
    files = {"app.js": "exports.handler = (e, c, cb) => { setTimeout(() => { throw new Error('async boom'); }, 5); };\n"}
    env = lambda_env("nodejs", files, "app.handler")
    res = env.invoke({})
    assert res.kind == "error"
    assert res.json["errorMessage"] == "async boom"
    assert env.proc.wait(5) == 129
    assert any("\tERROR\tUncaught Exception \t{" in l for l in env.stdout)


def test_unhandled_rejection_during_invoke_exits(lambda_env):
    files = {"app.js": "exports.handler = (e, c, cb) => { Promise.reject(new Error('nobody catches')); };\n"}
    env = lambda_env("nodejs", files, "app.handler")
    res = env.invoke({})
    assert res.kind == "error"
    assert res.json["errorType"] == "Runtime.UnhandledPromiseRejection"
    assert res.json["errorMessage"] == "Error: nobody catches"
    assert env.proc.wait(5) == 128


def test_streaming_handler_is_refused(lambda_env):
    files = {"app.js": "exports.handler = awslambda.streamifyResponse(async (e, stream) => stream.end('x'));\n"}
    env = lambda_env("nodejs", files, "app.handler")
    res, code = env.init_error()
    assert res.json["errorType"] == "Runtime.MalformedStreamingHandler"
    assert code == 129
