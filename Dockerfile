# Two images from one file (compose.yaml builds both):
#   runtime (the default): api, worker, migrate; without the GitHub sandbox's dependencies
#   sandbox: the runtime plus the 'sandbox' extra, for `provisioner sandbox`
# Installed in place (-e) so that migrations/ sits beside the code, where Alembic looks.
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY client ./client
COPY pyproject.toml README.md alembic.ini ./
COPY api ./api
COPY worker ./worker
COPY shared ./shared
COPY sandbox ./sandbox
COPY cli ./cli
COPY migrations ./migrations
# provisioner-client is on no index: it comes from the copied folder.
RUN pip install ./client -e . && useradd --system --uid 10001 provisioner \
    && mkdir /keys && chown provisioner /keys
USER provisioner
ENTRYPOINT ["provisioner"]
CMD ["api", "--host", "0.0.0.0", "--port", "8000"]

FROM runtime AS sandbox
USER root
RUN pip install -e '.[sandbox]'
USER provisioner
CMD ["sandbox", "--host", "0.0.0.0", "--port", "9100", "--private-key", "/keys/app.pem"]

# A plain `docker build .` builds the last stage: keep that the runtime.
FROM runtime
