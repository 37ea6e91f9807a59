/**
 * Ignis managed runtime for Node.js: the Lambda runtime interface client.
 *
 * Started inside an execution environment as `node bootstrap.js`. It loads the function's handler
 * (`_HANDLER` = `path/file.export`, file with .js/.mjs/.cjs or none, CommonJS by require and ES
 * modules by dynamic import) from `LAMBDA_TASK_ROOT`, then loops on the Lambda Runtime API
 * 2018-06-01 at `AWS_LAMBDA_RUNTIME_API`: `GET /runtime/invocation/next`, call
 * `handler(event, context, callback)`, `POST .../response` or `POST .../error`. A handler that
 * cannot be loaded is reported to `POST /runtime/init/error` and the process exits with 129.
 *
 * Behaviour follows AWS's own Node.js runtime (aws-lambda-nodejs-runtime-interface-client 3.x):
 * async handlers (promise), callback handlers with `callbackWaitsForEmptyEventLoop`,
 * `context.succeed/fail/done`, the same `Runtime.*` error types and messages, the error document
 * `{"errorType", "errorMessage", "trace"}`, console methods patched to write
 * `<ISO time>\t<request id>\t<LEVEL>\t<message>` lines (or JSON with AWS_LAMBDA_LOG_FORMAT=JSON).
 *
 * Node.js 18+ built-in modules only; the Runtime API is reached through one keep-alive connection.
 */

'use strict';

const http = require('http');
const path = require('path');
const fs = require('fs');
const util = require('util');

const API_PREFIX = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
const XRAY_ERROR_CAUSE_HEADER = 'Lambda-Runtime-Function-XRay-Error-Cause';
const XRAY_ERROR_CAUSE_MAX = 1024 * 1024;
const USER_AGENT = `ignis-lambda-nodejs/${process.version}`;

// ------------------------------------------------------------------------------------------------
// Errors (names as AWS gives them: `Runtime.<Class>`)
// ------------------------------------------------------------------------------------------------

const Errors = {};
[
  class ImportModuleError extends Error {},
  class HandlerNotFound extends Error {},
  class MalformedHandlerName extends Error {},
  class UserCodeSyntaxError extends Error {},
  class MalformedStreamingHandler extends Error {},
  class NodeJsExit extends Error {
    constructor() {
      super(
        'The Lambda runtime exited before the async handler settled: its promise was never ' +
          'resolved or rejected and nothing was left on the event loop.',
      );
    }
  },
  class UnhandledPromiseRejection extends Error {
    constructor(reason, promise) {
      super(reason);
      this.reason = reason;
      this.promise = promise;
    }
  },
].forEach((cls) => {
  Errors[cls.name] = cls;
  cls.prototype.name = `Runtime.${cls.name}`;
});

function isErrorLike(obj) {
  return (
    obj &&
    obj.name &&
    obj.message &&
    obj.stack &&
    typeof obj.name === 'string' &&
    typeof obj.message === 'string' &&
    typeof obj.stack === 'string'
  );
}

function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

/** The error document posted to the Runtime API. */
function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name,
        errorMessage: error.message,
        trace: error.stack.split('\n'),
      };
    }
    return {
      errorType: typeof error,
      errorMessage: error.toString(),
      trace: [],
    };
  } catch (_err) {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function withEnumerableProperties(error) {
  if (error instanceof Error) {
    const ret = Object.assign(
      { errorType: error.name, errorMessage: error.message, code: error.code },
      error,
    );
    if (typeof error.stack === 'string') {
      ret.stack = error.stack.split('\n');
    }
    return ret;
  }
  return error;
}

/** The error as it appears in the log: a tab, then JSON (AWS keeps the tab for compatibility). */
function toFormatted(error) {
  try {
    return '\t' + JSON.stringify(error, (_k, v) => withEnumerableProperties(v));
  } catch (_err) {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

/** X-Ray error cause document (sent as a header, so kept ASCII). */
function xrayCause(error) {
  try {
    if (!(error instanceof Error) || typeof error.stack !== 'string') {
      return undefined;
    }
    const stack = [];
    const paths = [];
    for (const line of error.stack.split('\n').slice(1)) {
      const m = /^\s*at (?:(.+?) \()?(.+?):(\d+):\d+\)?$/.exec(line);
      if (!m) continue;
      stack.push({ path: m[2], line: Number(m[3]), label: m[1] || 'anonymous' });
      if (!paths.includes(m[2])) paths.push(m[2]);
    }
    const doc = JSON.stringify({
      working_directory: process.cwd(),
      exceptions: [{ type: error.name, message: error.message, stack }],
      paths,
    });
    const ascii = doc.replace(
      /[\u007f-\uffff]/g,
      (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
    );
    return ascii.length < XRAY_ERROR_CAUSE_MAX ? ascii : undefined;
  } catch (_err) {
    return undefined;
  }
}

/** Header values cannot carry control or non-Latin-1 characters. */
function headerValue(value) {
  return String(value).replace(/[^\t\x20-\x7e]/g, '?');
}

// ------------------------------------------------------------------------------------------------
// Logging: console patched like AWS's runtime
// ------------------------------------------------------------------------------------------------

const REQUEST_ID_SYMBOL = Symbol.for('aws.lambda.runtime.requestId');
function setCurrentRequestId(id) {
  global[REQUEST_ID_SYMBOL] = id;
}
function currentRequestId() {
  return global[REQUEST_ID_SYMBOL];
}

const LEVELS = Object.freeze({
  TRACE: { name: 'TRACE', priority: 1 },
  DEBUG: { name: 'DEBUG', priority: 2 },
  INFO: { name: 'INFO', priority: 3 },
  WARN: { name: 'WARN', priority: 4 },
  ERROR: { name: 'ERROR', priority: 5 },
  FATAL: { name: 'FATAL', priority: 6 },
});

function jsonErrorReplacer(_key, value) {
  if (value instanceof Error) {
    return Object.assign(
      {
        errorType: value?.constructor?.name ?? 'UnknownError',
        errorMessage: value.message,
        stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
      },
      value,
    );
  }
  return value;
}

function formatJsonMessage(requestId, timestamp, level, ...messageParams) {
  const result = { timestamp, level: level.name, requestId };
  if (messageParams.length === 1) {
    result.message = messageParams[0];
    try {
      return JSON.stringify(result, jsonErrorReplacer);
    } catch (_err) {
      result.message = util.format(result.message);
      return JSON.stringify(result);
    }
  }
  result.message = util.format(...messageParams);
  for (const param of messageParams) {
    if (param instanceof Error) {
      result.errorType = param?.constructor?.name ?? 'UnknownError';
      result.errorMessage = param.message;
      result.stackTrace = typeof param.stack === 'string' ? param.stack.split('\n') : [];
      break;
    }
  }
  return JSON.stringify(result);
}

function logText(level, message, ...params) {
  const line = `${new Date().toISOString()}\t${currentRequestId()}\t${level.name}\t${util.format(
    message,
    ...params,
  )}`;
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}

function logJson(level, message, ...params) {
  const line = formatJsonMessage(currentRequestId(), new Date().toISOString(), level, message, ...params);
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}

const structuredConsole = {};

function patchConsole() {
  const json = (process.env.AWS_LAMBDA_LOG_FORMAT || '').toUpperCase() === 'JSON';
  const log = json ? logJson : logText;
  const minLevel = LEVELS[(process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()] || LEVELS.TRACE;
  const nop = () => {};
  const method = (level) =>
    level.priority >= minLevel.priority ? (msg, ...params) => log(level, msg, ...params) : nop;
  console.trace = method(LEVELS.TRACE);
  console.debug = method(LEVELS.DEBUG);
  console.info = method(LEVELS.INFO);
  console.log = console.info;
  console.warn = method(LEVELS.WARN);
  console.error = method(LEVELS.ERROR);
  console.fatal = (msg, ...params) => log(LEVELS.FATAL, msg, ...params);
  structuredConsole.logError = json
    ? (_msg, err) => console.error(intoError(err))
    : (msg, err) => console.error(msg, toFormatted(intoError(err)));
}

// ------------------------------------------------------------------------------------------------
// Runtime API client
// ------------------------------------------------------------------------------------------------

class RuntimeApiError extends Error {}

class RuntimeClient {
  constructor(address) {
    let hostname = address;
    let port = 80;
    const v6 = /^\[(.*)\](?::(\d+))?$/.exec(address);
    if (v6) {
      hostname = v6[1];
      port = v6[2] ? parseInt(v6[2], 10) : 80;
    } else if (address.includes(':')) {
      const i = address.lastIndexOf(':');
      hostname = address.slice(0, i);
      port = parseInt(address.slice(i + 1), 10);
    }
    this.hostname = hostname;
    this.port = port;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  /** One HTTP exchange; a kept-alive socket the server has closed meanwhile is retried once. */
  request(method, urlPath, body, headers, retried) {
    return new Promise((resolve, reject) => {
      const allHeaders = Object.assign({ 'User-Agent': USER_AGENT }, headers);
      if (body !== undefined) {
        allHeaders['Content-Length'] = body.length;
      }
      const req = http.request(
        {
          hostname: this.hostname,
          port: this.port,
          path: urlPath,
          method,
          agent: this.agent,
          headers: allHeaders,
        },
        (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', (err) => {
        if (req.reusedSocket && !retried && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          resolve(this.request(method, urlPath, body, headers, true));
        } else {
          reject(err);
        }
      });
      req.end(body);
    });
  }

  async nextInvocation() {
    const res = await this.request('GET', `${API_PREFIX}/invocation/next`);
    if (res.status !== 200) {
      throw new RuntimeApiError(
        `GET /runtime/invocation/next returned ${res.status}: ${res.body.toString('utf8', 0, 1024)}`,
      );
    }
    return { bodyJson: res.body.toString('utf8'), headers: res.headers };
  }

  async _post(urlPath, bodyString, headers) {
    const res = await this.request(
      'POST',
      urlPath,
      Buffer.from(bodyString, 'utf8'),
      Object.assign({ 'Content-Type': 'application/json' }, headers),
    );
    if (res.status >= 500) {
      // "Container error. Non-recoverable state. Runtime should exit promptly."
      throw new RuntimeApiError(
        `POST ${urlPath} returned ${res.status}: ${res.body.toString('utf8', 0, 1024)}`,
      );
    }
    if (res.status !== 202) {
      process.stderr.write(
        `ignis runtime: POST ${urlPath} returned ${res.status}: ${res.body.toString('utf8', 0, 1024)}\n`,
      );
    }
  }

  /** Post an already serialised response body, then run `callback`. */
  postInvocationResponseBody(bodyString, id, callback) {
    this._post(`${API_PREFIX}/invocation/${encodeURIComponent(id)}/response`, bodyString, {}).then(
      callback,
      fatal,
    );
  }

  postInvocationResponse(response, id, callback) {
    this.postInvocationResponseBody(serializeResponse(response), id, callback);
  }

  postInvocationError(error, id, callback) {
    const response = toRapidResponse(error);
    const headers = { [ERROR_TYPE_HEADER]: headerValue(response.errorType) };
    const cause = xrayCause(error);
    if (cause !== undefined) {
      headers[XRAY_ERROR_CAUSE_HEADER] = cause;
    }
    this._post(
      `${API_PREFIX}/invocation/${encodeURIComponent(id)}/error`,
      serializeResponse(response),
      headers,
    ).then(callback, fatal);
  }

  postInitError(error, callback) {
    const response = toRapidResponse(error);
    this._post(`${API_PREFIX}/init/error`, serializeResponse(response), {
      [ERROR_TYPE_HEADER]: headerValue(response.errorType),
    }).then(callback, fatal);
  }
}

function serializeResponse(body) {
  try {
    return JSON.stringify(body === undefined ? null : body);
  } catch (_err) {
    throw new Error('Unable to stringify response body');
  }
}

/** The Runtime API is gone or refuses us for good: nothing left to do but exit. */
function fatal(err) {
  process.stderr.write(`ignis runtime: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
}

// ------------------------------------------------------------------------------------------------
// beforeExit listener: completes callback-style invocations once the event loop is empty
// ------------------------------------------------------------------------------------------------

const NO_OP_LISTENER = () => {};
const BeforeExitListener = {
  listener: NO_OP_LISTENER,
  invoke: () => BeforeExitListener.listener(),
  reset: () => {
    BeforeExitListener.listener = NO_OP_LISTENER;
  },
  set: (listener) => {
    BeforeExitListener.listener = listener;
  },
};

// ------------------------------------------------------------------------------------------------
// Invocation context
// ------------------------------------------------------------------------------------------------

function parseJsonHeader(value, name) {
  if (value === undefined) {
    return undefined;
  }
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

/** Attach invocation data (headers) and function data (environment) to the callback context. */
function attachEnvironmentData(callbackContext, headers) {
  const trace = headers['lambda-runtime-trace-id'];
  if (trace) {
    process.env._X_AMZN_TRACE_ID = trace;
  } else {
    delete process.env._X_AMZN_TRACE_ID;
  }
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  return Object.assign(
    callbackContext,
    {
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    },
    {
      clientContext: parseJsonHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
      identity: parseJsonHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
      invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
      awsRequestId: headers['lambda-runtime-aws-request-id'],
      tenantId: headers['lambda-runtime-aws-tenant-id'],
      getRemainingTimeInMillis: function () {
        return deadline - Date.now();
      },
    },
  );
}

/**
 * The node-style callback and the `succeed/fail/done` part of the context; only the first call
 * of any of them counts.
 */
function buildCallbackContext(client, id, scheduleNext) {
  const postError = (err, callback) => {
    structuredConsole.logError('Invoke Error', err);
    client.postInvocationError(err, id, callback);
  };

  let isCompleteInvoked = false;
  const complete = (result, callback) => {
    if (isCompleteInvoked) {
      console.error(
        'Invocation has already been reported as done. Cannot call complete more than once per invocation.',
      );
      return;
    }
    isCompleteInvoked = true;
    let body;
    try {
      body = serializeResponse(result);
    } catch (err) {
      postError(err, callback);
      return;
    }
    client.postInvocationResponseBody(body, id, callback);
  };

  let waitForEmptyEventLoop = true;

  const callback = function (err, result) {
    BeforeExitListener.reset();
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else if (!waitForEmptyEventLoop) {
      complete(result, scheduleNext);
    } else {
      BeforeExitListener.set(() => {
        setImmediate(() => complete(result, scheduleNext));
      });
    }
  };

  const done = (err, result) => {
    BeforeExitListener.reset();
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else {
      complete(result, scheduleNext);
    }
  };
  const succeed = (result) => done(null, result);
  const fail = (err) => {
    if (err === undefined || err === null) {
      done('handled');
    } else {
      done(err, null);
    }
  };

  const callbackContext = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    succeed,
    fail,
    done,
  };

  let finished = false;
  const onlyAllowFirstCall = (toWrap) =>
    function () {
      if (!finished) {
        toWrap.apply(null, arguments);
        finished = true;
      }
    };
  callbackContext.succeed = onlyAllowFirstCall(callbackContext.succeed);
  callbackContext.fail = onlyAllowFirstCall(callbackContext.fail);
  callbackContext.done = onlyAllowFirstCall(callbackContext.done);

  const markCompleted = () => {
    isCompleteInvoked = true;
  };
  return [onlyAllowFirstCall(callback), callbackContext, markCompleted];
}

function isPromise(obj) {
  return obj && obj.then && typeof obj.then === 'function';
}

class Runtime {
  constructor(client, handler, isAsync, errorCallbacks) {
    this.client = client;
    this.handler = handler;
    this.isAsync = isAsync;
    this.errorCallbacks = errorCallbacks;
  }

  /** Start the next loop iteration at the beginning of the next turn of the event loop. */
  scheduleIteration() {
    setImmediate(() => {
      this.handleOnce().then(
        () => {},
        (err) => {
          console.log(`Unexpected Top Level Error: ${err.toString()}`);
          this.errorCallbacks.uncaughtException(err);
        },
      );
    });
  }

  async handleOnce() {
    let invocation;
    try {
      invocation = await this.client.nextInvocation();
    } catch (err) {
      fatal(err);
      return;
    }
    const { bodyJson, headers } = invocation;
    const invokeId = headers['lambda-runtime-aws-request-id'];
    if (!invokeId) {
      fatal(new RuntimeApiError('invocation id is missing or invalid'));
      return;
    }
    setCurrentRequestId(invokeId);

    const [callback, callbackContext, markCompleted] = buildCallbackContext(
      this.client,
      invokeId,
      this.scheduleIteration.bind(this),
    );

    try {
      this.setErrorCallbacks(invokeId);
      this.setDefaultExitListener(invokeId, markCompleted);
      const result = this.handler(
        JSON.parse(bodyJson),
        attachEnvironmentData(callbackContext, headers),
        callback,
      );
      if (isPromise(result)) {
        result.then(callbackContext.succeed, callbackContext.fail).catch(callbackContext.fail);
      }
    } catch (err) {
      callback(err);
    }
  }

  setErrorCallbacks(invokeId) {
    this.errorCallbacks.uncaughtException = (error) => {
      this.client.postInvocationError(error, invokeId, () => process.exit(129));
    };
    this.errorCallbacks.unhandledRejection = (error) => {
      this.client.postInvocationError(error, invokeId, () => process.exit(128));
    };
  }

  /**
   * Used when the event loop empties before the handler reported anything: a synchronous or
   * callback handler that never called back answers `null`; an async handler whose promise never
   * settled fails with Runtime.NodeJsExit.
   */
  setDefaultExitListener(invokeId, markCompleted) {
    BeforeExitListener.set(() => {
      markCompleted();
      if (this.isAsync) {
        const error = new Errors.NodeJsExit();
        structuredConsole.logError('Invoke Error', error);
        this.client.postInvocationError(error, invokeId, () => this.scheduleIteration());
      } else {
        this.client.postInvocationResponse(null, invokeId, () => this.scheduleIteration());
      }
    });
  }
}

// ------------------------------------------------------------------------------------------------
// Loading the handler
// ------------------------------------------------------------------------------------------------

const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;
const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');

function tryRequireFile(file, extension) {
  const p = file + (extension || '');
  return fs.existsSync(p) ? require(p) : undefined;
}

async function tryAwaitImport(file, extension) {
  const p = file + (extension || '');
  if (fs.existsSync(p)) {
    const { pathToFileURL } = require('url');
    return await import(pathToFileURL(p).href);
  }
  return undefined;
}

/** Nearest package.json says "type": "module" (stops at node_modules and at the root). */
function hasFolderPackageJsonTypeModule(folder) {
  if (folder.endsWith('/node_modules')) {
    return false;
  }
  const pj = path.join(folder, '/package.json');
  if (fs.existsSync(pj)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(pj));
      if (pkg) {
        return pkg.type === 'module';
      }
    } catch (e) {
      console.warn(
        `${pj} cannot be read, it will be ignored for ES module detection purposes.`,
        e,
      );
      return false;
    }
  }
  if (folder === '/') {
    return false;
  }
  return hasFolderPackageJsonTypeModule(path.resolve(folder, '..'));
}

async function tryRequire(appRoot, moduleRoot, module) {
  const lambdaStylePath = path.resolve(appRoot, moduleRoot, module);

  const extensionless = tryRequireFile(lambdaStylePath);
  if (extensionless) {
    return extensionless;
  }

  const pjHasModule = hasFolderPackageJsonTypeModule(path.resolve(path.dirname(lambdaStylePath)));
  if (!pjHasModule) {
    const loaded = tryRequireFile(lambdaStylePath, '.js');
    if (loaded) {
      return loaded;
    }
  }

  const loaded =
    (pjHasModule && (await tryAwaitImport(lambdaStylePath, '.js'))) ||
    (await tryAwaitImport(lambdaStylePath, '.mjs')) ||
    tryRequireFile(lambdaStylePath, '.cjs');
  if (loaded) {
    return loaded;
  }

  // A module name rather than a file (e.g. a package under node_modules).
  const nodeStylePath = require.resolve(module, {
    paths: [appRoot, path.resolve(appRoot, moduleRoot)],
  });
  return require(nodeStylePath);
}

async function loadUserApp(appRoot, moduleRoot, module) {
  const noGlobal = process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (noGlobal !== '1' && noGlobal !== 'true') {
    globalThis.awslambda = {
      streamifyResponse: (handler, options) => {
        handler[HANDLER_STREAMING] = 'response';
        if (typeof options?.highWaterMark === 'number') {
          handler[HANDLER_HIGHWATERMARK] = parseInt(options.highWaterMark);
        }
        return handler;
      },
    };
  }
  try {
    return await tryRequire(appRoot, moduleRoot, module);
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw new Errors.UserCodeSyntaxError(e);
    } else if (e.code !== undefined && e.code === 'MODULE_NOT_FOUND') {
      throw new Errors.ImportModuleError(e);
    }
    throw e;
  }
}

async function loadHandler(appRoot, fullHandlerString) {
  if (fullHandlerString.includes('..')) {
    throw new Errors.MalformedHandlerName(
      `'${fullHandlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullHandlerString);
  const moduleRoot = fullHandlerString.substring(0, fullHandlerString.indexOf(handlerString));
  const match = handlerString.match(FUNCTION_EXPR);
  if (!match || match.length !== 3) {
    throw new Errors.MalformedHandlerName('Bad handler');
  }
  const [, module, handlerPath] = match;

  const userApp = await loadUserApp(appRoot, moduleRoot, module);
  const handlerFunc = handlerPath.split('.').reduce((nested, key) => nested && nested[key], userApp);
  if (!handlerFunc) {
    throw new Errors.HandlerNotFound(`${fullHandlerString} is undefined or not exported`);
  }
  if (typeof handlerFunc !== 'function') {
    throw new Errors.HandlerNotFound(`${fullHandlerString} is not a function`);
  }
  if (handlerFunc[HANDLER_STREAMING]) {
    throw new Errors.MalformedStreamingHandler(
      'Response streaming (awslambda.streamifyResponse) is not supported by this runtime.',
    );
  }
  return handlerFunc;
}

function isAsyncFunction(fn) {
  try {
    return Boolean(fn && fn.constructor && fn.constructor.name === 'AsyncFunction');
  } catch (_err) {
    return false;
  }
}

// ------------------------------------------------------------------------------------------------
// Start
// ------------------------------------------------------------------------------------------------

/** NODE_PATH as AWS sets it, when the platform has not set one (applied to require()). */
function setupNodePath(taskRoot) {
  if (process.env.NODE_PATH) {
    return;
  }
  const major = process.versions.node.split('.')[0];
  process.env.NODE_PATH = [
    `/opt/nodejs/node${major}/node_modules`,
    '/opt/nodejs/node_modules',
    '/var/runtime/node_modules',
    '/var/runtime',
    taskRoot,
  ].join(':');
  require('module').Module._initPaths();
}

async function main() {
  const taskRoot = process.env.LAMBDA_TASK_ROOT || '/var/task';
  const handlerString = process.env._HANDLER || '';
  try {
    if (process.cwd() !== taskRoot) {
      process.chdir(taskRoot);
    }
  } catch (_err) {
    // keep the current directory
  }
  setupNodePath(taskRoot);
  patchConsole();

  const client = new RuntimeClient(process.env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001');
  const errorCallbacks = {
    uncaughtException: (error) => client.postInitError(error, () => process.exit(129)),
    unhandledRejection: (error) => client.postInitError(error, () => process.exit(128)),
  };
  process.on('uncaughtException', (error) => {
    structuredConsole.logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new Errors.UnhandledPromiseRejection(reason, promise);
    structuredConsole.logError('Unhandled Promise Rejection', error);
    errorCallbacks.unhandledRejection(error);
  });
  BeforeExitListener.reset();
  process.on('beforeExit', BeforeExitListener.invoke);

  let handler;
  try {
    handler = await loadHandler(taskRoot, handlerString);
  } catch (error) {
    structuredConsole.logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
    return;
  }
  new Runtime(client, handler, isAsyncFunction(handler), errorCallbacks).scheduleIteration();
}

if (require.main === module) {
  main();
}

module.exports = { toRapidResponse, toFormatted, loadHandler, RuntimeClient };
