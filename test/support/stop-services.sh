#!/usr/bin/env bash
# Stops the dockerd and registry that start-services.sh started; PostgreSQL stays up.
set -uo pipefail

stop_pidfile() {
  local name=$1 pidfile=$2
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    local pid; pid=$(cat "$pidfile")
    kill "$pid"
    for ((i = 0; i < 80; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; echo "$name: killed (did not stop in 20s)"; else echo "$name: stopped"; fi
  else
    echo "$name: not running"
  fi
  rm -f "$pidfile"
}

stop_pidfile registry /run/norn-registry.pid
stop_pidfile auth-registry /run/norn-registry-auth.pid
stop_pidfile dockerd /run/norn-docker.pid
