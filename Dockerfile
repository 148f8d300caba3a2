# Two images from one file (compose.yaml builds both):
#   runtime (the default): api, worker, migrate; without the GitHub sandbox's dependencies
#   sandbox: the runtime plus the 'sandbox' extra, for `provisioner sandbox`
# Dependencies come from the lock files (pinned, hash-checked; `make lock` writes them); the
# project is installed in place (-e) so that migrations/ sits beside the code, where Alembic
# looks, and the SDK (provisioner-client, on no index) from its copied folder.
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY client ./client
COPY pyproject.toml README.md alembic.ini ./
COPY api ./api
COPY worker ./worker
COPY shared ./shared
COPY sandbox ./sandbox
COPY cli ./cli
COPY migrations ./migrations
RUN pip install --no-deps ./client -e . && pip check \
    && useradd --system --uid 10001 provisioner && mkdir /keys && chown provisioner /keys
USER provisioner
ENTRYPOINT ["provisioner"]
CMD ["api", "--host", "0.0.0.0", "--port", "8000"]

FROM runtime AS sandbox
USER root
COPY requirements-sandbox.lock ./
RUN pip install --require-hashes -r requirements-sandbox.lock && pip check
USER provisioner
CMD ["sandbox", "--host", "0.0.0.0", "--port", "9100", "--private-key", "/keys/app.pem"]

# A plain `docker build .` builds the last stage: keep that the runtime.
FROM runtime
