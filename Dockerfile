# One image for every role (ROLES picks what a container runs) and for the one-shot migration
# (`node dist/scripts/migrate.js`). Node 24 is the active LTS; Node 20 is past its end of life.
FROM node:24-bookworm-slim AS build
WORKDIR /app
# The lock file alone first: the dependency layer is rebuilt only when dependencies change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# Owned by root and run as `node`: the process cannot rewrite its own code or dependencies.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 3000
# No HEALTHCHECK here: docker-compose.yml (and Kubernetes) probe /readyz per service.
CMD ["node", "dist/scripts/start.js"]
