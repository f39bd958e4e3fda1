#!/usr/bin/env bash
# Runs the whole system on simulators for ./sajet dev: the Proxmox, Stripe and Odoo simulators, the SMTP sink, one Orleans silo
# (SAJET_SILOS=3 for three, each on its own ports) and the web front, with the simulator's three Proxmox nodes
# registered, until Ctrl+C.
# Expects DATABASE_URL set and the solution built (./sajet dev does both). ./sajet scan runs it beside a ./sajet dev on
# other ports: SIM_STRIPE_PORT, SIM_ODOO_PORT, SIM_PVE_HTTP_PORT, SIM_PVE_HTTPS_PORT, SIM_SMTP_PORT, SIM_MAIL_HTTP_PORT,
# SAJET_SILO_PORT_BASE, SAJET_GATEWAY_PORT_BASE, and SAJET_LOG_DIR for the logs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONF="${SAJET_CONFIGURATION:-Debug}"
bin() { echo "$ROOT/src/$1/bin/$CONF/net10.0/Sajet.$1.dll"; }
LOGS="${SAJET_LOG_DIR:-$ROOT/logs}"
mkdir -p "$LOGS"
export SIM_STRIPE_PORT="${SIM_STRIPE_PORT:-12111}" SIM_ODOO_PORT="${SIM_ODOO_PORT:-8069}"
pve_http="${SIM_PVE_HTTP_PORT:-8005}" pve_https="${SIM_PVE_HTTPS_PORT:-8006}"

export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
export APP_PORT="${APP_PORT:-4443}"
export APP_URL="${APP_URL:-http://127.0.0.1:$APP_PORT}"
export ADMIN_USERNAME="${ADMIN_USERNAME:-admin@sajet.local}"
export ADMIN_PASSWORD="${ADMIN_PASSWORD:-sajet-dev-admin}"
export JWT_SECRET_KEY="${JWT_SECRET_KEY:-dev-only-secret-change-me-0123456789abcdef}"
export SAJET_SECRET_KEY="${SAJET_SECRET_KEY:-$JWT_SECRET_KEY}"
export Tenants__Domain="${Tenants__Domain:-sajet.localhost}"

# Stripe: the simulator unless a real key is given (then Sajet talks to Stripe and nothing else changes).
if [[ -z "${STRIPE_SECRET_KEY:-}" ]]; then
  export STRIPE_SECRET_KEY="sk_test_sajet_dev"
  export STRIPE_WEBHOOK_SECRET="${STRIPE_WEBHOOK_SECRET:-whsec_sajet_dev_simulator}"
  export Stripe__ApiBase="http://127.0.0.1:$SIM_STRIPE_PORT"
  export SIM_STRIPE_WEBHOOK_URL="http://127.0.0.1:$APP_PORT/webhook/stripe"
  # The checkout form redirects to the simulator's hosted page; CSP form-action must allow it.
  export SecurityHeaders__FormActionOrigins__2="http://127.0.0.1:$SIM_STRIPE_PORT"
fi

# Mail: the SMTP sink unless a server is given (Mail__Host). What an operator saves on the settings page still wins.
mail_page=""
if [[ -z "${Mail__Host:-}" ]]; then
  export SIM_SMTP_PORT="${SIM_SMTP_PORT:-2525}" SIM_MAIL_HTTP_PORT="${SIM_MAIL_HTTP_PORT:-8025}"
  export Mail__Host=127.0.0.1 Mail__Port="$SIM_SMTP_PORT" Mail__Tls=none
  export Mail__From="${Mail__From:-Sajet <no-reply@sajet.localhost>}"
  mail_page="http://127.0.0.1:$SIM_MAIL_HTTP_PORT/"
fi

# Odoo: every container maps to the Odoo simulator in development.
export Tenants__OdooUrlTemplate="${Tenants__OdooUrlTemplate:-http://127.0.0.1:$SIM_ODOO_PORT}"
export Tenants__OdooMasterPassword="${Tenants__OdooMasterPassword:-admin}"
# Proxmox: the simulator's token (a development credential, printed on purpose).
export SAJET_SIM_PVE_TOKEN="${SAJET_SIM_PVE_TOKEN:-sajet@pve!dev=5a3e7c1d-0000-4000-8000-00000000d0e7}"

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

dotnet "$(bin Simulators)" --http-port="$pve_http" --https-port="$pve_https" >"$LOGS/simulators.log" 2>&1 & pids+=($!)
# One cluster on this machine: silos advertise loopback; silo i listens on 11110+i (silo-to-silo) and 30000+i (gateway).
silo_base="${SAJET_SILO_PORT_BASE:-11110}" gateway_base="${SAJET_GATEWAY_PORT_BASE:-30000}"
export Cluster__AdvertisedAddress="${Cluster__AdvertisedAddress:-127.0.0.1}"
silos="${SAJET_SILOS:-1}"
for i in $(seq 1 "$silos"); do
  log="$LOGS/silo.log"; [[ "$silos" -gt 1 ]] && log="$LOGS/silo-$i.log"
  Cluster__SiloPort=$((silo_base + i)) Cluster__GatewayPort=$((gateway_base + i)) dotnet "$(bin Silo)" run >"$log" 2>&1 & pids+=($!)
done
(cd "$ROOT/src/WebFront" && exec dotnet "$(bin WebFront)" --urls "http://127.0.0.1:$APP_PORT") >"$LOGS/webfront.log" 2>&1 & pids+=($!)

echo "[sajet] starting (logs in $LOGS/) ..."
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$APP_PORT/health" >/dev/null 2>&1 && curl -fsS "http://127.0.0.1:$pve_http/_sim/state" >/dev/null 2>&1 && break
  sleep 0.5
done

# Register the simulator's nodes once, through the same API an operator uses.
token_id="${SAJET_SIM_PVE_TOKEN%%=*}"; token_secret="${SAJET_SIM_PVE_TOKEN#*=}"
access=$(curl -fsS -H 'Content-Type: application/json' -X POST "http://127.0.0.1:$APP_PORT/api/auth/login" \
  -d "{\"email\":\"$ADMIN_USERNAME\",\"password\":\"$ADMIN_PASSWORD\",\"role\":\"admin\",\"tokenInBody\":true}" \
  | sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p' || true)
if [[ -n "$access" ]]; then
  for node in pve1 pve2 pve3; do
    curl -fsS -o /dev/null -H "Authorization: Bearer $access" "http://127.0.0.1:$APP_PORT/api/nodes/$node" 2>/dev/null && continue
    curl -fsS -o /dev/null -H "Authorization: Bearer $access" -H 'Content-Type: application/json' -X POST "http://127.0.0.1:$APP_PORT/api/nodes" \
      -d "{\"id\":\"$node\",\"pveNode\":\"$node\",\"apiUrl\":\"http://127.0.0.1:$pve_http\",\"tokenId\":\"$token_id\",\"tokenSecret\":\"$token_secret\"}" \
      && echo "[sajet] registered simulator node $node"
  done
fi

cat <<EOF2
[sajet] ready: $APP_URL
        sign up:  $APP_URL/signup        (the simulator's checkout page opens; click "Pagar")
        admin:    $APP_URL/login/admin   ($ADMIN_USERNAME / $ADMIN_PASSWORD)
        API docs: $APP_URL/docs
        simulators: Proxmox http://127.0.0.1:$pve_http (https :$pve_https), Stripe http://127.0.0.1:$SIM_STRIPE_PORT, Odoo http://127.0.0.1:$SIM_ODOO_PORT
        mail:     ${mail_page:-$Mail__Host:${Mail__Port:-587} (no sink: a real server was given)}${mail_page:+   (every mail Sajet sends; SMTP on 127.0.0.1:$SIM_SMTP_PORT)}
        silos:    $silos ($LOGS/silo*.log); the Orleans dashboard at $APP_URL/admin/orleans
        Ctrl+C stops everything.
EOF2
wait -n "${pids[@]}"
