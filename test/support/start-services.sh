#!/usr/bin/env bash
# Starts what the test suite needs: PostgreSQL 15, a private dockerd, a local
# registry on 127.0.0.1:5000 and the norn-base:latest image. Idempotent: a
# second run finds everything up and only prints the status lines.
set -euo pipefail

DOCKER_SOCK=/run/norn-docker.sock
DOCKER_PID=/run/norn-docker.pid
DOCKER_LOG=/tmp/norn-dockerd.log
DOCKER_DATA=/var/lib/norn-docker
REGISTRY_PID=/run/norn-registry.pid
REGISTRY_LOG=/tmp/norn-registry.log
REGISTRY_CONF=/run/norn-registry.yml
REGISTRY_DATA=/var/lib/norn-registry
BASE_IMAGE=norn-base:latest

die() { echo "start-services: $*" >&2; exit 1; }
alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
docker_q() { docker -H "unix://$DOCKER_SOCK" "$@"; }

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
  local secs=$1; shift
  for ((i = 0; i < secs * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  return 1
}

install_missing() {
  local missing=()
  for pkg in postgresql-15 docker.io docker-registry busybox-static chromium git curl; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || die "apt-get update failed"
    # The packaged services must not auto-start: we run our own instances.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/norn-apt.log 2>&1 \
      || { rm -f /usr/sbin/policy-rc.d; tail -20 /tmp/norn-apt.log >&2; die "apt-get install failed"; }
    rm -f /usr/sbin/policy-rc.d
  fi
}

start_postgres() {
  if ! pg_ctlcluster 15 main status >/dev/null 2>&1; then
    pg_ctlcluster 15 main start || die "PostgreSQL 15/main did not start (see /var/log/postgresql/)"
  fi
  wait_for 30 su postgres -c "psql -qtAc 'select 1'" || die "PostgreSQL does not answer"
  su postgres -c "psql -v ON_ERROR_STOP=1 -qtA" >/dev/null <<'SQL' || die "could not create role/database norn"
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'norn') THEN
    CREATE ROLE norn LOGIN SUPERUSER PASSWORD 'norn';
  END IF;
END $$;
SELECT 'CREATE DATABASE norn_test OWNER norn'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'norn_test')\gexec
SQL
  PGPASSWORD=norn psql -h 127.0.0.1 -U norn -d norn_test -qtAc 'select 1' >/dev/null \
    || die "PostgreSQL up but norn@127.0.0.1/norn_test cannot log in (check pg_hba.conf)"
  echo "postgres: up at postgres://norn:***@127.0.0.1:5432/norn_test"
}

start_dockerd() {
  if ! docker_q info >/dev/null 2>&1; then
    alive "$DOCKER_PID" && die "dockerd (pid $(cat $DOCKER_PID)) runs but does not answer; see $DOCKER_LOG"
    local driver=overlay2
    # Pick vfs up front if this data root was already initialised with it.
    [[ -d $DOCKER_DATA/vfs && ! -d $DOCKER_DATA/overlay2 ]] && driver=vfs
    for attempt in "$driver" vfs; do
      mkdir -p "$DOCKER_DATA"
      rm -f "$DOCKER_PID"
      nohup dockerd --iptables=false --ip6tables=false --ip-masq=false --bridge=none \
        --storage-driver="$attempt" --exec-opt native.cgroupdriver=cgroupfs \
        --host "unix://$DOCKER_SOCK" --data-root "$DOCKER_DATA" --pidfile "$DOCKER_PID" \
        >>"$DOCKER_LOG" 2>&1 </dev/null &
      if wait_for 60 docker_q info; then
        [[ $attempt == vfs && $driver != vfs ]] && echo "note: overlay2 failed here; dockerd uses vfs"
        break
      fi
      alive "$DOCKER_PID" && kill "$(cat "$DOCKER_PID")" 2>/dev/null || true
      if [[ $attempt == vfs ]]; then tail -20 "$DOCKER_LOG" >&2; die "dockerd did not come up"; fi
      sleep 1
    done
  fi
  echo "docker: up at unix://$DOCKER_SOCK ($(docker_q info -f '{{.Driver}}' 2>/dev/null))"
}

start_registry() {
  if ! curl -sf http://127.0.0.1:5000/v2/ >/dev/null; then
    mkdir -p "$REGISTRY_DATA"
    cat >"$REGISTRY_CONF" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_DATA
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
YML
    nohup /usr/bin/docker-registry serve "$REGISTRY_CONF" >>"$REGISTRY_LOG" 2>&1 </dev/null &
    echo $! >"$REGISTRY_PID"
    wait_for 30 curl -sf http://127.0.0.1:5000/v2/ \
      || { tail -20 "$REGISTRY_LOG" >&2; die "registry did not come up on 127.0.0.1:5000"; }
  fi
  echo "registry: up at 127.0.0.1:5000"
}

ensure_base_image() {
  if ! docker_q image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    local stage
    stage=$(mktemp -d)
    mkdir -p "$stage"/{bin,etc,tmp,root,www,src}
    cp /bin/busybox "$stage/bin/busybox"
    "$stage/bin/busybox" --install -s "$stage/bin"
    # --install links to the absolute path it was run from; point them inside the image.
    for l in "$stage"/bin/*; do [[ -L $l ]] && ln -sf /bin/busybox "$l"; done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$stage/etc/passwd"
    echo 'root:x:0:' >"$stage/etc/group"
    chmod 1777 "$stage/tmp"
    tar -C "$stage" -c . | docker_q import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - "$BASE_IMAGE" >/dev/null \
      || { rm -rf "$stage"; die "could not import $BASE_IMAGE"; }
    rm -rf "$stage"
  fi
  echo "image: $BASE_IMAGE present"
}

[[ $(id -u) == 0 ]] || die "must run as root (installs packages, starts dockerd)"
install_missing
start_postgres
start_dockerd
start_registry
ensure_base_image
