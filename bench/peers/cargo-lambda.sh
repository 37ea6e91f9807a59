#!/usr/bin/env bash
# Runs `cargo lambda watch` (release build, 4 concurrent instances, no reload) serving the
# `lambda_runtime` echo of tests/e2e/stock/rust-echo; its Invoke API is
# POST http://127.0.0.1:PORT/2015-03-31/functions/bootstrap/invocations. Usage: cargo-lambda.sh [PORT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${IGNIS_PEERS_VENV:-$HOME/.cache/ignis-peers/venv}
port=${1:-9000}
[ -x "$venv/bin/cargo-lambda" ] || "$here/setup.sh"
cd "$root/tests/e2e/stock/rust-echo"
export CARGO_TARGET_DIR="$HOME/.cache/ignis-e2e/rust-echo-target"
exec "$venv/bin/cargo-lambda" lambda watch --release --quiet --ignore-changes \
    --invoke-address 127.0.0.1 --invoke-port "$port" --concurrency 4
