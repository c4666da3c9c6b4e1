# One image for the code location, the webserver and the daemon (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DAGSTER_HOME=/opt/dagster/home \
    DATA_DIR=/var/lib/etsy-pipeline \
    DLT_DATA_DIR=/var/lib/etsy-pipeline/dlt \
    RUNTIME__DLTHUB_TELEMETRY=false

WORKDIR /opt/etsy-pipeline
COPY pyproject.toml README.md alembic.ini ./
COPY etsy_pipeline ./etsy_pipeline
COPY migrations ./migrations
RUN python -m pip install --upgrade "pip>=24" && python -m pip install -e .

RUN mkdir -p "$DAGSTER_HOME" "$DATA_DIR" && useradd --system --home-dir /opt/etsy-pipeline etsy \
    && chown -R etsy "$DAGSTER_HOME" "$DATA_DIR"
COPY dagster.yaml workspace.yaml "$DAGSTER_HOME"/
USER etsy

EXPOSE 4000 3000
CMD ["dagster", "api", "grpc", "--module-name", "etsy_pipeline.definitions", "--host", "0.0.0.0", "--port", "4000"]
