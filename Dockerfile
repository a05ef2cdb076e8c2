# syntax=docker/dockerfile:1

# --- build: compile TypeScript with the dev toolchain -----------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# ffmpeg-static is optional and its download may fail; the runtime uses Debian's ffmpeg.
RUN npm ci --no-audit --no-fund --omit=optional
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY config ./config
COPY migrations ./migrations
COPY src ./src
RUN npm run build

# --- runtime: production dependencies, Debian's ffmpeg, non-root --------------------------
FROM node:20-bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    FFMPEG_PATH=/usr/bin/ffmpeg \
    MEDIA_DIR=/app/var/media
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/var/media && chown -R node:node /app/var
USER node
# HTTP (API, HLS, embed, metrics) and RTMP ingest
EXPOSE 3000 1935
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# tini forwards SIGTERM to node and reaps ffmpeg children.
ENTRYPOINT ["/usr/bin/tini", "--"]
# V8 flags as in `npm start` (src/common/heap-tuning.ts: a 1 MB young generation).
CMD ["node", "--max-semi-space-size=1", "dist/src/main.js"]
