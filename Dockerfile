# PhishX try-out image: Haraka + PhishX from this repository (docker-compose.yml builds it).
# Stage 1 compiles; stage 2 runs as the unprivileged `node` user with only what it needs.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Dependencies first (cached while only sources change); the build runs after the copy.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY lib ./lib
COPY plugins ./plugins
COPY test ./test
RUN npx tsc -p . && rm -rf dist/test

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# As npm start: glibc's malloc with two arenas instead of one per thread (docs/benchmarks.md "Memory").
ENV MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node lib/nlp/model ./lib/nlp/model
COPY --chown=node:node lib/cli/phishx.cjs ./lib/cli/phishx.cjs
COPY --chown=node:node plugins ./plugins
COPY --chown=node:node config ./config
COPY --chown=node:node config/docker/smtp.ini ./config/smtp.ini
RUN mkdir -p var && chown node:node var
USER node
EXPOSE 2525 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGINT
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=384", "node_modules/Haraka/bin/haraka", "-c", "."]
