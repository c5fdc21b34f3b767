# The service image: migrations run at start, then uvicorn. DATABASE_URL picks the database
# (the SQLite default lives in the /data volume; set a postgresql+psycopg:// URL in production).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_URL=sqlite:////data/campaign.db \
    WEB_CONCURRENCY=2

WORKDIR /srv/campaign
COPY pyproject.toml README.md alembic.ini ./
COPY migrations ./migrations
COPY app ./app
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home campaign \
    && mkdir /data && chown campaign /data

USER campaign
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["sh", "-c", "campaign migrate && exec campaign serve --host 0.0.0.0 --port 8000 --workers \"$WEB_CONCURRENCY\""]
