# Build with dev dependencies; run on a small image of the current Node LTS (24) with production
# dependencies only, as a non-root user. No compiler or npm at run time. (.ci/run runs the test
# suite on Node 24 too.)
FROM node:24-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/bin/npm /usr/local/bin/npx /opt/yarn* /usr/local/bin/yarn*
USER 10001:10001
EXPOSE 8443
ENTRYPOINT ["node", "dist/cli.js", "serve"]
