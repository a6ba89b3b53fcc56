# The Norn receiver.
#
#   docker build -t norn .
#   docker run -d -p 8800:8800 -e NORN_WEBHOOK_SECRET=... \
#     -v norn-data:/var/lib/norn -v "$PWD/apps:/etc/norn/apps:ro" norn
#
# Configuration is the NORN_* environment (`docker run norn serve --help` lists it). BASE_IMAGE must be Debian
# bookworm with Node.js 20 and npm; change it to use a mirror of node:20-bookworm-slim.
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS toolchain
# For better-sqlite3 when its prebuilt binary cannot be downloaded; compilers never reach the final image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

FROM toolchain AS deps
COPY package.json package-lock.json ./
RUN JOBS=max npm ci --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json ./
COPY src ./src
# tsc does not copy the dashboard's static files; they go next to the compiled module that serves them.
RUN npx tsc -p tsconfig.json \
 && cp -R src/dashboard/static dist/src/dashboard/static

# Production dependencies: `npm ci --omit=dev` without a second native build, so only package*.json invalidate it.
FROM deps AS prod-deps
RUN npm prune --omit=dev --no-audit --no-fund

FROM ${BASE_IMAGE}
# git and ssh for clones, the PostgreSQL client for snapshots and migrations, tini to reap their children.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git openssh-client postgresql-client tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 norn \
 && useradd --system --uid 10001 --gid norn --home-dir /var/lib/norn --shell /usr/sbin/nologin norn \
 && install -d -o norn -g norn /var/lib/norn \
 && install -d /etc/norn/apps
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
RUN chmod 0755 dist/src/main.js && ln -s /app/dist/src/main.js /usr/local/bin/norn

ENV NODE_ENV=production \
    NORN_HOST=0.0.0.0 \
    NORN_PORT=8800 \
    NORN_DATA_DIR=/var/lib/norn \
    NORN_APPS_DIR=/etc/norn/apps
USER 10001:10001
VOLUME /var/lib/norn
EXPOSE 8800
# /api/health answers 200 only when the store answers; it needs no token even when NORN_API_TOKEN is set.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.NORN_PORT}/api/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["tini", "--", "norn"]
CMD ["serve"]
