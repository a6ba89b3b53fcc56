#!/usr/bin/env bash
# Starts what the test suite needs: PostgreSQL 15, a private dockerd, local
# registries on 127.0.0.1:5000 (open) and 127.0.0.1:5001 (basic auth, test user
# norn / password norn) and the norn-base:latest image. Idempotent: a second run
# finds everything up and only prints the status lines.
set -euo pipefail

DOCKER_SOCK=/run/norn-docker.sock
DOCKER_PID=/run/norn-docker.pid
DOCKER_LOG=/tmp/norn-dockerd.log
DOCKER_DATA=/var/lib/norn-docker
# bcrypt of the test-only password "norn" for the registry that checks credentials.
AUTH_REGISTRY_HTPASSWD='norn:$2b$12$XcDsMkO0Yf80BGtTfn3I7u/PBIrNFZKpyZxRWg0./UvpLOwWkvNnu'
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
  for pkg in postgresql-15 docker.io docker-registry busybox-static chromium git curl openssh-server; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || die "apt-get update failed"
    # The packaged services must not auto-start: we run our own instances. A policy
    # file that was already there (container images ship one) is left as it was.
    local own_policy=''
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
      own_policy=1
    fi
    local rc=0
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/norn-apt.log 2>&1 || rc=$?
    [[ -n $own_policy ]] && rm -f /usr/sbin/policy-rc.d
    ((rc == 0)) || { tail -20 /tmp/norn-apt.log >&2; die "apt-get install failed (log: /tmp/norn-apt.log)"; }
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
      # Its own session: the services outlive the shell (or CI step) that started them, and a kill of that
      # shell's process group does not take the shared engine down with it.
      rm -f "$DOCKER_PID"
      setsid nohup dockerd --iptables=false --ip6tables=false --ip-masq=false --bridge=none \
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

# /v2/ answers 200 without auth and 401 with it: either means the registry is up.
registry_up() {
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/v2/") =~ ^(200|401)$ ]]
}

# start_registry NAME PORT [htpasswd-line]: a registry on 127.0.0.1:PORT, with basic auth when a line is given.
start_registry() {
  local name=$1 port=$2 htpasswd=${3:-}
  local conf=/run/$name.yml pidfile=/run/$name.pid log=/tmp/$name.log data=/var/lib/$name
  local auth_yaml=''
  if [[ -n $htpasswd ]]; then
    echo "$htpasswd" >"/run/$name.htpasswd"
    auth_yaml=$'auth:\n  htpasswd:\n    realm: norn-test\n    path: '"/run/$name.htpasswd"
  fi
  if ! registry_up "$port"; then
    mkdir -p "$data"
    cat >"$conf" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$auth_yaml
YML
    setsid nohup /usr/bin/docker-registry serve "$conf" >>"$log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    wait_for 30 registry_up "$port" \
      || { tail -20 "$log" >&2; die "registry $name did not come up on 127.0.0.1:$port"; }
  fi
  echo "registry: up at 127.0.0.1:$port${htpasswd:+ (basic auth, test user norn)}"
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
start_registry norn-registry 5000
start_registry norn-registry-auth 5001 "$AUTH_REGISTRY_HTPASSWD"
ensure_base_image
