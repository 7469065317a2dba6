# One image for all six services: `node services/<name>/dist/src/main.js` picks the service
# (the Helm chart sets the command). Not built in CI here (no container runtime on these machines).
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund \
 && node_modules/.bin/im-tsc -b \
 && npm run build --silent -w apps/web \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf .cache .run .nx load-tests/results

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=10001:10001 /src /app
USER 10001
EXPOSE 8080 9090 50051
CMD ["node", "--enable-source-maps", "services/gateway/dist/src/main.js"]
