# One image for every role: api, worker, migrate, sandbox (see compose.yaml).
# Installed in place (-e) so that migrations/ sits beside the code, where Alembic looks.
FROM python:3.11-slim
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
