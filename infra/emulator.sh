#!/usr/bin/env bash
# The local AWS emulator (moto server) on 127.0.0.1.
#   infra/emulator.sh install         create .venv with moto if missing
#   infra/emulator.sh start [PORT]    start on PORT (default: a free port); prints the endpoint
#   infra/emulator.sh stop            stop the emulator started by `start`
#   infra/emulator.sh run CMD...      start on a free port, run CMD with AWS_ENDPOINT_URL set, stop whatever happens
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE="$ROOT/.local"
VENV="$ROOT/.venv"

install() {
  if [[ -x "$VENV/bin/moto_server" && "$VENV/.requirements" -nt "$ROOT/infra/requirements.txt" ]]; then return; fi
  echo "emulator: installing moto into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/infra/requirements.txt"
  touch "$VENV/.requirements"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  install
  mkdir -p "$STATE"
  local port=${1:-$(free_port)}
  # moto_server, with DynamoDB writes made atomic as they are on AWS (see infra/moto_server.py).
  "$VENV/bin/python" "$ROOT/infra/moto_server.py" -H 127.0.0.1 -p "$port" >"$STATE/moto.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$STATE/moto.pid"
  local endpoint="http://127.0.0.1:$port"
  for _ in $(seq 1 150); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen('$endpoint/moto-api/', timeout=1)" 2>/dev/null; then
      echo "$endpoint" >"$STATE/endpoint"
      echo "$endpoint"
      return
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "emulator: moto_server exited; see $STATE/moto.log" >&2
      cat "$STATE/moto.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "emulator: moto_server did not answer on $endpoint within 30 s" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
}

stop() {
  if [[ -f "$STATE/moto.pid" ]]; then
    kill "$(cat "$STATE/moto.pid")" 2>/dev/null || true
    rm -f "$STATE/moto.pid" "$STATE/endpoint"
  fi
}

run() {
  install
  local endpoint pid
  endpoint=$(start)
  pid=$(cat "$STATE/moto.pid")
  # Stop exactly this emulator, whatever the command does.
  trap 'kill '"$pid"' 2>/dev/null || true' EXIT INT TERM
  echo "emulator: $endpoint (pid $pid)" >&2
  AWS_ENDPOINT_URL="$endpoint" "$@"
}

case "${1:-}" in
  install) install ;;
  start) shift; start "$@" ;;
  stop) stop ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 install|start [PORT]|stop|run CMD..." >&2; exit 2 ;;
esac
