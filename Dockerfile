# syntax=docker/dockerfile:1
# Node: the image runs Node 24, the LTS line maintained until April 2028 (Node 20 reached its end of life in April
# 2026). `engines` in package.json says "^20.19.0 || ^24.0.0": 24 because it is what this image runs, 20 because it is
# the only Node on the machine that runs CI. CI runs the test suite on 20 and repeats this file's steps without Docker
# (.ci/run: npm ci, build, npm ci --omit=dev, start, /health, SIGTERM), also on 20: nothing here runs the code on 24.
# `@types/node` stays on 20 so that the type check refuses any API Node 20 lacks. Another LTS line:
# `docker build --build-arg NODE_VERSION=22 .`
ARG NODE_VERSION=24

# Build: compile TypeScript with the dev dependencies.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY plugins ./plugins
COPY examples ./examples
RUN npm run build

# Runtime: production dependencies only, compiled code, config; a non-root user.
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
# The `node` user (uid 1000) of the base image; the app writes nothing to disk, so a read-only root file system works.
USER node
# PORT and HOST override server.port and server.host of any config file (CONFIG=/path or --config): the port is the
# image's contract, which EXPOSE, the HEALTHCHECK and deploy/ (compose, Kubernetes) rely on.
ENV PORT=3000 HOST=0.0.0.0
EXPOSE 3000
# /health: liveness, 200 while the process lives (docs/operations.md, "Probes"); /ready is for load balancers.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM reaches node directly (exec form): graceful shutdown (drain, then close), exit 0.
CMD ["node", "dist/src/cli/main.js", "start"]
