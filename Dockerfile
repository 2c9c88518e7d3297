# driftline as a container: built for a Hugging Face Space (sdk: docker, app_port 7860) and fine
# on any Docker host. Three stages, so the runtime image holds no compiler, no devDependency
# and no TypeScript source:
#
#   build    node:20-bookworm        npm ci (no install scripts) + tsc          → /app/dist
#   deps     node:20-bookworm        production dependencies, native modules   → /app/node_modules
#   runtime  node:20-bookworm-slim   dist + node_modules + models + static, as user `node`
#
# test/dockerfile.test.ts replays the deps and build stages' RUN lines and starts the service
# from the files this Dockerfile copies, so keep those lines plain shell.

# ── build ──────────────────────────────────────────────────────────────────────────────────────
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Install scripts off: tsc needs only JavaScript and types, and the root `prepare` (tsc) would run
# before the sources are here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ── deps ───────────────────────────────────────────────────────────────────────────────────────
FROM node:20-bookworm AS deps
# node-gyp's tools, in case better-sqlite3 has no prebuilt binary for this platform.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# `npm ci --omit=dev` alone would run the root `prepare` script, which calls tsc, a
# devDependency that is not installed. So scripts are off, and the one package that must build
# a native module at install time gets its install script back through `npm rebuild`.
# onnxruntime-node and uWebSockets.js ship their binaries in the package; onnxruntime-node's
# postinstall only fetches GPU providers, and never runs here (scripts off, and package.json's
# allowScripts denies it, as in .ci/run).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3

# ── runtime ────────────────────────────────────────────────────────────────────────────────────
FROM node:20-bookworm-slim AS runtime
# Spaces route to app_port 7860 and need the service on every interface. The image is the demo:
# it sends itself synthetic traffic so the dashboard is live with nobody uploading; run it with
# SIMULATE_TRAFFIC=0 to serve real traffic only.
ENV NODE_ENV=production \
    PORT=7860 \
    HOST=0.0.0.0 \
    SIMULATE_TRAFFIC=1
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY models ./models
COPY static ./static
# The prediction log (DATA_DIR) and drift reports (REPORTS_DIR) are the only writable places.
# `node` is uid 1000, the user Spaces run containers as.
RUN mkdir -p data reports && chown node:node data reports
USER node
EXPOSE 7860
# No curl in the slim image; Node 20 has fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node directly, not npm: signals (SIGTERM on stop) reach the service, which shuts down cleanly.
CMD ["node", "dist/cli/index.js", "serve"]
