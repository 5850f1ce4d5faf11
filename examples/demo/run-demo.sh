#!/usr/bin/env bash
# The first five minutes with the product, against the bundled QRS simulator:
# a site PKI like Qlik's, qrs-sim on HTTPS with client certificates, the
# worker in front of it, and two reloads run the way a pipeline step runs
# them. Everything is started on free loopback ports and stopped at the end.
#
#   examples/demo/run-demo.sh [BUILD_DIR]
set -euo pipefail

BUILD="${1:-build}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="$ROOT/$BUILD/bin"
[ -d "$BIN" ] || BIN="$BUILD/bin"
SIM="$BIN/qrs-sim"
WORKER="$BIN/qlik-reload-worker"
CLI="$BIN/qlik-reload"
for b in "$SIM" "$WORKER" "$CLI"; do
  [ -x "$b" ] || { echo "missing $b: run 'make demo' (it builds first)" >&2; exit 1; }
done

DEMO="$(mktemp -d "${TMPDIR:-/tmp}/qlik-reload-demo.XXXXXX")"
SIM_PID=""
WORKER_PID=""
cleanup() {
  for pid in $WORKER_PID $SIM_PID; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $WORKER_PID $SIM_PID; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$DEMO"
}
trap cleanup EXIT INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; }

# Waits for a program's port file: the program writes it once it listens.
wait_for_port() {
  local file="$1" pid="$2" name="$3"
  for _ in $(seq 1 600); do
    [ -s "$file" ] && { cat "$file"; return 0; }
    kill -0 "$pid" 2>/dev/null || { echo "$name exited early; its log:" >&2; cat "$DEMO/$name.log" >&2; exit 1; }
    sleep 0.05
  done
  echo "$name did not start listening" >&2
  exit 1
}

say "1. A throwaway PKI shaped like a Qlik Sense site's (root.pem, client.pem, client_key.pem)"
show "qrs-sim --make-pki $DEMO/pki --host-name qlikserver1"
"$SIM" --make-pki "$DEMO/pki" --host-name qlikserver1
ls "$DEMO/pki"

say "2. qrs-sim: the Repository Service on HTTPS, client certificate required"
"$SIM" --scenario "$ROOT/examples/scenarios/demo.json" --pki "$DEMO/pki" --host-name qlikserver1 \
  --port 0 --port-file "$DEMO/sim.port" 2>"$DEMO/qrs-sim.log" &
SIM_PID=$!
SIM_PORT="$(wait_for_port "$DEMO/sim.port" "$SIM_PID" qrs-sim)"
echo "qrs-sim listening on 127.0.0.1:$SIM_PORT (certificate issued to qlikserver1)"

say "3. The worker's configuration: one site, certificate authentication, full TLS verification"
cat >"$DEMO/worker.json" <<EOF
{
  "listen": {"host": "127.0.0.1", "port": 0},
  "state": {"path": "state/journal.db"},
  "sites": {
    "default": {
      "url": "https://127.0.0.1:$SIM_PORT",
      "auth": {"type": "certificate", "client_cert": "pki/client.pem", "client_key": "pki/client_key.pem",
               "user_directory": "INTERNAL", "user_id": "sa_scheduler"},
      "tls": {"ca_file": "pki/root.pem", "verify": "full", "server_name": "qlikserver1"}
    }
  }
}
EOF
cat "$DEMO/worker.json"
show "qlik-reload-worker --config worker.json --check-config"
"$WORKER" --config "$DEMO/worker.json" --check-config
"$WORKER" --config "$DEMO/worker.json" --port-file "$DEMO/worker.port" 2>"$DEMO/qlik-reload-worker.log" &
WORKER_PID=$!
WORKER_PORT="$(wait_for_port "$DEMO/worker.port" "$WORKER_PID" qlik-reload-worker)"
export QLIK_RELOAD_WORKER="127.0.0.1:$WORKER_PORT"
show "qlik-reload ping"
"$CLI" ping

say "4. A reload that succeeds (exit code 0)"
show "qlik-reload run --task-name 'Reload Sales' --label dag=daily_sales"
set +e
"$CLI" run --task-name "Reload Sales" --label dag=daily_sales
rc=$?
set -e
echo "exit code: $rc"

say "5. A reload that fails (exit code 1, with Qlik's status and the script-log tail)"
show "qlik-reload run --task-name 'Reload Finance' --json"
set +e
"$CLI" run --task-name "Reload Finance" --json
rc=$?
set -e
echo "exit code: $rc"

say "6. What the worker logged"
cat "$DEMO/qlik-reload-worker.log"

say "Done: stopping the worker and qrs-sim"
