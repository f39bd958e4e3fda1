#!/usr/bin/env bash
# Runs the whole system on simulators for ./sajet dev: simulators, a silo and the web front, until Ctrl+C.
# Expects DATABASE_URL set and the solution built (./sajet dev does both).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONF="${SAJET_CONFIGURATION:-Debug}"
bin() { echo "$ROOT/src/$1/bin/$CONF/net10.0/Sajet.$1.dll"; }
mkdir -p "$ROOT/logs"
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
export APP_PORT="${APP_PORT:-4443}"
export APP_URL="${APP_URL:-http://127.0.0.1:$APP_PORT}"
export ADMIN_USERNAME="${ADMIN_USERNAME:-admin@sajet.local}"
export ADMIN_PASSWORD="${ADMIN_PASSWORD:-sajet-dev-admin}"
export JWT_SECRET_KEY="${JWT_SECRET_KEY:-dev-only-secret-change-me-0123456789abcdef}"
export SAJET_DEV_STATE="$ROOT/.sajet"

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

dotnet "$(bin Simulators)" >"$ROOT/logs/simulators.log" 2>&1 & pids+=($!)
dotnet "$(bin Silo)" run >"$ROOT/logs/silo.log" 2>&1 & pids+=($!)
dotnet "$(bin WebFront)" --urls "http://127.0.0.1:$APP_PORT" 2>&1 | tee "$ROOT/logs/webfront.log" & pids+=($!)

echo "[sajet] web front on $APP_URL (admin: $ADMIN_USERNAME / $ADMIN_PASSWORD); logs in logs/; Ctrl+C stops everything"
wait -n "${pids[@]}"
