# syntax=docker/dockerfile:1
# ib-gateway-sim: The paper IB Gateway simulator (development and tests only).
# Build from the repository root:  docker build -f deploy/docker/ib-gateway-sim.Dockerfile -t ibkr/ib-gateway-sim .
# Dependencies are pinned by requirements.lock (used as constraints, so only the runtime ones are installed).

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY requirements.lock pyproject.toml ./
COPY clients/python ./clients/python
COPY services/__init__.py ./services/__init__.py
# Runtime dependencies of the suite and the generated stubs, at the lock's versions; the service code itself
# is copied as source below (with its .sql files), so the project's own wheel is removed again.
RUN /opt/venv/bin/pip install -c requirements.lock . ./clients/python \
 && /opt/venv/bin/pip uninstall -y ibkr-local-api

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="ibkr-ib-gateway-sim" \
      org.opencontainers.image.description="IBKR Local API: The paper IB Gateway simulator (development and tests only)."
RUN groupadd --system --gid 10001 ibkr \
 && useradd --system --uid 10001 --gid ibkr --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ibkr \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/ibkr
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    IBKR_BIND_HOST=0.0.0.0 \
    IBKR_SIM_GRPC_PORT=50055 \
    IBKR_SIM_METRICS_PORT=9105 \
    IBKR_HEALTH_PORT=50055
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY deploy/docker/healthcheck.py /app/healthcheck.py
COPY services/__init__.py /app/services/__init__.py
COPY services/common /app/services/common
COPY services/ib_gateway_sim /app/services/ib_gateway_sim
RUN find /app -name tests -type d -prune -exec rm -rf {} + && python -m compileall -q /app/services
USER 10001:10001
EXPOSE 50055 9105 4002
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["python", "/app/healthcheck.py"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "services.ib_gateway_sim"]
