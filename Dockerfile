# syntax=docker/dockerfile:1
# One image for every RaptorFlow service; docker-compose.yml picks the command per service:
#   node services/gateway/dist/main.js | services/seeder/dist/main.js | services/agent-runner/dist/main.js
#   | services/cost-ledger/dist/main.js | dist/scripts/migrate.js

# --- deps: install from the lockfile only, so this layer is cached until a package.json or the lock changes.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/core/package.json shared/core/
COPY shared/data/package.json shared/data/
COPY shared/events/package.json shared/events/
COPY shared/llm/package.json shared/llm/
COPY shared/memory/package.json shared/memory/
COPY services/gateway/package.json services/gateway/
COPY services/seeder/package.json services/seeder/
COPY services/agent-runner/package.json services/agent-runner/
COPY services/cost-ledger/package.json services/cost-ledger/
COPY web/package.json web/
RUN npm ci --no-audit --no-fund

# --- build: bundle each service (third-party packages stay external and load from node_modules) and build the
# console (Vite → web/dist, which the gateway serves at `/`).
FROM deps AS build
COPY . .
RUN npm run build

# --- runtime: everything the build stage made, web/dist (the console) included. node_modules is kept whole
# (no `npm prune --omit=dev`): the TypeScript ops scripts in scripts/ run through tsx inside the container.
# Only the build tooling's caches stay behind in the earlier stages.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app
COPY --from=build /app /app
USER node
EXPOSE 8000
CMD ["node", "services/gateway/dist/main.js"]
