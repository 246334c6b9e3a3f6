# Production image: the API (default command) or, with another command, any `vouch` subcommand.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so code changes do not invalidate this layer.
COPY pyproject.toml README.md ./
RUN mkdir -p app search && touch app/__init__.py search/__init__.py \
    && pip install . \
    && pip uninstall -y vouch

COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
COPY search ./search
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin vouch \
    && mkdir -p /app/var && chown vouch /app/var

USER vouch
ENV VOUCH_ENVIRONMENT=production
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/api/v1/healthz', timeout=2).status != 200)"

# Migrations are idempotent: each start brings the schema to head, then serves.
CMD ["sh", "-c", "vouch migrate && exec vouch serve --host 0.0.0.0 --port 8000 --workers ${VOUCH_WEB_WORKERS:-2}"]
