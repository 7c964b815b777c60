# verwijsindex: `verwijsindex serve` migrates the database, creates keys on first run and runs
# gunicorn itself. Keys and the default SQLite database live on the /data volume, never in the
# image. psycopg[binary] brings its own libpq, so no system packages are needed.
# Dependencies are installed from requirements/runtime.txt (hash-checked); see `make lock`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 verwijsindex \
    && useradd --system --uid 10001 --gid verwijsindex --home-dir /nonexistent \
       --no-create-home --shell /usr/sbin/nologin verwijsindex

# The source stays in /app (root-owned, read-only to the service) so that migrations and
# alembic configuration kept beside the package are found from the working directory too.
# Dependencies come from the runtime lock, every file checked against its hash (setuptools,
# the build backend, included), in a layer of their own; then the project itself, adding
# nothing: no "whatever is newest" from the index at build time.
WORKDIR /app
COPY requirements/runtime.txt /app/requirements/runtime.txt
RUN pip install --require-hashes -r requirements/runtime.txt
COPY . /app
RUN pip install --no-deps --no-build-isolation . \
    && pip check \
    && rm -rf build *.egg-info \
    && mkdir -p /data/keys \
    && chown -R verwijsindex:verwijsindex /data \
    && chmod 700 /data/keys

ENV VERWIJSINDEX_KEYS_DIR=/data/keys \
    VERWIJSINDEX_DATABASE_URL=sqlite:////data/verwijsindex.sqlite3

VOLUME ["/data"]
USER verwijsindex:verwijsindex
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/api/v1/health', timeout=4)"]

CMD ["verwijsindex", "serve", "--host", "0.0.0.0", "--port", "8080"]
