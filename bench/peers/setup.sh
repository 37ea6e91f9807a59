#!/usr/bin/env bash
# Installs the peers that `ignis-bench --peers bench/peers` compares Ignis with, from the package
# registries only: cargo-lambda (PyPI wheel; `cargo install` as a fallback) into a venv under
# ~/.cache/ignis-peers, serverless@3 + serverless-offline (npm) into bench/peers/serverless/node_modules,
# and builds the shared `lambda_runtime` echo function (tests/e2e/stock/rust-echo).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${IGNIS_PEERS_VENV:-$HOME/.cache/ignis-peers/venv}

if [ ! -x "$venv/bin/cargo-lambda" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q cargo-lambda || cargo install --locked cargo-lambda --root "$venv"
fi
(cd "$here/serverless" && npm install --no-audit --no-fund --loglevel=error)
cargo build --release --manifest-path "$root/tests/e2e/stock/rust-echo/Cargo.toml" \
    --target-dir "$HOME/.cache/ignis-e2e/rust-echo-target"
echo "peers ready: $venv/bin/cargo-lambda, $here/serverless/node_modules"
