# Tagger chain node. The same steps as the README: install with `npm ci`, run `tagger start`.
# Build: docker build -t tagger .     Run: docker run -p 26657:26657 -v tagger-home:/home/tagger/.tagger tagger
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production TAGGER_HOME=/home/tagger/.tagger TAGGER_RPC_HOST=0.0.0.0
RUN useradd --create-home --uid 10001 tagger
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
RUN chown -R tagger:tagger /app
USER tagger
VOLUME ["/home/tagger/.tagger"]
EXPOSE 26657
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:26657/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "node/main.ts"]
CMD ["start"]
