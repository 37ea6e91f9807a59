#!/usr/bin/env bash
# Runs serverless-offline (serverless v3) with the Node.js and Python echo handlers of this directory;
# its Invoke API is POST http://127.0.0.1:PORT/2015-03-31/functions/ignis-bench-peer-dev-{node,py}-echo/invocations.
# Usage: start.sh [LAMBDA_PORT] (the HTTP and websocket ports are LAMBDA_PORT+1 and +2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port=${1:-3002}
[ -x "$here/node_modules/.bin/serverless" ] || "$here/../setup.sh"
cd "$here"
export SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off SLS_DEPRECATION_DISABLE='*'
exec node_modules/.bin/serverless offline start --lambdaPort "$port" \
    --httpPort "$((port + 1))" --websocketPort "$((port + 2))" --albPort "$((port + 3))"
