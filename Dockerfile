# One image per service: `docker build --build-arg SERVICE=registry -t hlasatel/registry .` (composer,
# registry, dispatch-sms, dispatch-email, dispatch-push, console, public-web). uv's documented pattern: the
# locked dependencies first (a layer that changes only with uv.lock), then the workspace, installed into a
# virtual environment that is all the final stage takes — no uv, no compiler, no sources, no root.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
COPY --from=uv /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# the manifests alone: the third-party dependencies' layer is rebuilt only when they change
COPY pyproject.toml uv.lock ./
COPY contracts/pyproject.toml contracts/
COPY devstack/pyproject.toml devstack/
COPY libs/runtime/pyproject.toml libs/runtime/
COPY libs/dispatch-core/pyproject.toml libs/dispatch-core/
COPY libs/web/pyproject.toml libs/web/
COPY services/registry/pyproject.toml services/registry/
COPY services/composer/pyproject.toml services/composer/
COPY services/dispatch-sms/pyproject.toml services/dispatch-sms/
COPY services/dispatch-email/pyproject.toml services/dispatch-email/
COPY services/dispatch-push/pyproject.toml services/dispatch-push/
COPY services/console/pyproject.toml services/console/
COPY services/public-web/pyproject.toml services/public-web/
RUN --mount=type=cache,target=/root/.cache/uv \
    test -n "${SERVICE}" && \
    uv sync --frozen --no-dev --no-install-workspace --package "hlasatel-${SERVICE}"
COPY contracts contracts
COPY libs libs
COPY services services
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "hlasatel-${SERVICE}"
# the console's one third-party script (Leaflet) from the npm registry, checked against its lock's hash
RUN if [ "${SERVICE}" = "console" ]; then /app/.venv/bin/console fetch-assets; fi

FROM ${PYTHON_IMAGE}
ARG SERVICE
RUN groupadd --system --gid 10001 hlasatel \
    && useradd --system --uid 10001 --gid hlasatel --home-dir /app --no-create-home hlasatel
COPY --from=build --chown=hlasatel:hlasatel /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SERVICE=${SERVICE}
WORKDIR /app
USER 10001:10001
EXPOSE 8000-8006
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["hlasatel-container", "healthcheck"]
ENTRYPOINT ["hlasatel-container", "serve"]
