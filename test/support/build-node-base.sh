#!/usr/bin/env bash
# Builds norn-node-base:test, a local stand-in for node:20-bookworm-slim, because no image can be pulled here:
# Debian bookworm minbase from the apt mirror (mmdebstrap) plus this machine's own Node.js, npm and node
# headers, and its CA certificates (an egress proxy may re-sign TLS). The service-image test builds the real
# Dockerfile with --build-arg BASE_IMAGE=norn-node-base:test. Idempotent: rebuilt only when the image is missing
# or was made from another Node.js version. Must run as root (apt-get, mmdebstrap).
set -euo pipefail

IMAGE=${NORN_NODE_BASE_IMAGE:-norn-node-base:test}
export DOCKER_HOST=${DOCKER_HOST:-unix:///run/norn-docker.sock}
MIRROR=${NORN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${NORN_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

die() { echo "build-node-base: $*" >&2; exit 1; }

node_bin=$(readlink -f "$(command -v node)") || die "node is not installed"
node_version=$("$node_bin" --version)
[[ $node_version == v20.* ]] || die "host Node.js is $node_version; the image needs 20.x"

# better-sqlite3 downloads a prebuilt addon from GitHub, which is out of reach here; without one it compiles for
# minutes. The base image carries this checkout's build of it as a local prebuild, which prebuild-install uses
# exactly as it would a downloaded one (another version just falls back to compiling).
sqlite_dir=$(cd "$(dirname "$0")/../.." && pwd)/node_modules/better-sqlite3
prebuild=
if [[ -f $sqlite_dir/build/Release/better_sqlite3.node ]]; then
  sqlite_version=$(node -p "require('$sqlite_dir/package.json').version")
  prebuild=better-sqlite3-v$sqlite_version-node-v$(node -p process.versions.modules)-linux-$(node -p process.arch).tar.gz
fi
cache_key="$node_version+$prebuild"

built_from() { docker image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$IMAGE" 2>/dev/null | sed -n 's/^NORN_BASE_KEY=//p'; }

# One build at a time: parallel test runs would otherwise both build.
exec 9>/tmp/norn-node-base.lock
flock 9
if [[ $(built_from) == "$cache_key" ]]; then
  echo "image: $IMAGE present"
  exit 0
fi

if ! command -v mmdebstrap >/dev/null; then
  [[ $(id -u) == 0 ]] || die "mmdebstrap is missing; run as root to install it"
  echo "installing: mmdebstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/tmp/norn-mmdebstrap-apt.log 2>&1 \
    || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/tmp/norn-mmdebstrap-apt.log 2>&1; } \
    || { tail -20 /tmp/norn-mmdebstrap-apt.log >&2; die "could not install mmdebstrap"; }
fi

node_prefix=$(dirname "$(dirname "$node_bin")")
npm_dir=$node_prefix/lib/node_modules/npm
[[ -f $npm_dir/bin/npm-cli.js ]] || die "npm not found at $npm_dir"
[[ -f $node_prefix/include/node/node.h ]] || die "node headers not found at $node_prefix/include/node (native modules need them)"

root=$(mktemp -d /tmp/norn-node-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "building: $IMAGE (Debian bookworm minbase + Node.js $node_version)"
mmdebstrap --quiet --variant=minbase --include=ca-certificates --aptopt='Acquire::Retries "3"' bookworm "$root/rootfs" \
  "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" "deb $SECURITY_MIRROR bookworm-security main" \
  || die "mmdebstrap failed (is $MIRROR reachable?)"

fs=$root/rootfs
install -D -m 0755 "$node_bin" "$fs/usr/local/bin/node"
mkdir -p "$fs/usr/local/lib/node_modules" "$fs/usr/local/include"
cp -a "$npm_dir" "$fs/usr/local/lib/node_modules/npm"
cp -a "$node_prefix/include/node" "$fs/usr/local/include/node"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$fs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$fs/usr/local/bin/npx"
# The host's extra CAs (public certificates only), so TLS through a re-signing proxy verifies in builds.
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$fs/usr/local/share/ca-certificates/"
  chroot "$fs" update-ca-certificates >/dev/null 2>&1 || die "update-ca-certificates failed in the root fs"
fi
chroot "$fs" /usr/local/bin/node --version >/dev/null || die "node does not run inside the image's root fs"
prebuilds=/usr/local/share/node-prebuilds
mkdir -p "$fs$prebuilds"
[[ -z $prebuild ]] || tar -C "$sqlite_dir" -czf "$fs$prebuilds/$prebuild" build/Release/better_sqlite3.node
echo "local-prebuilds=$prebuilds" >"$fs/etc/prebuild-installrc" # read by prebuild-install (rc), for every package

# node:20 images carry NODE_VERSION too. nodedir: node-gyp builds against these headers instead of downloading.
# NORN_BASE_KEY says what the image was made from, for the up-to-date check above.
tar -C "$fs" -c . | docker import \
  -c "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  -c "ENV NODE_VERSION=$node_version" \
  -c "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
  -c "ENV npm_config_nodedir=/usr/local" \
  -c "ENV NORN_BASE_KEY=$cache_key" \
  -c 'CMD ["node"]' - "$IMAGE" >/dev/null || die "docker import failed"
echo "image: $IMAGE built"
