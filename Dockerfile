# One image for the code location, the webserver and the daemon (docker-compose.yml), for run containers
# (deploy/docker/) and for the user code deployment of Dagster's Helm chart (deploy/k8s/).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAGSTER_HOME=/opt/dagster/home \
    DATA_DIR=/var/lib/etsy-pipeline \
    DLT_DATA_DIR=/var/lib/etsy-pipeline/dlt \
    RUNTIME__DLTHUB_TELEMETRY=false

WORKDIR /opt/etsy-pipeline
# Dependencies first, from the lock file alone (a layer that changes only when the lock does). --no-deps: the
# image gets exactly the versions that were tested, never a fresh resolution. Regenerate: bash deploy/lock.sh
COPY requirements.lock ./
RUN python -m pip install --upgrade "pip>=24" && python -m pip install --no-deps -r requirements.lock

COPY pyproject.toml README.md alembic.ini ./
COPY etsy_pipeline ./etsy_pipeline
COPY migrations ./migrations
# The package itself, without touching the locked dependencies; `pip check` fails the build if the lock lacks
# something pyproject.toml asks for.
RUN python -m pip install --no-deps . && python -m pip check

# DAGSTER_HOME/storage exists in the image, owned by the app user, so a named volume mounted there (the shared
# step logs) starts with that owner.
RUN mkdir -p "$DAGSTER_HOME/storage" "$DATA_DIR" && useradd --system --home-dir /opt/etsy-pipeline etsy \
    && chown -R etsy "$DAGSTER_HOME" "$DATA_DIR"
COPY dagster.yaml workspace.yaml "$DAGSTER_HOME"/
USER etsy

EXPOSE 4000 3000
CMD ["dagster", "api", "grpc", "--module-name", "etsy_pipeline.definitions", "--host", "0.0.0.0", "--port", "4000"]
