# One image for the web server, the Celery worker, beat and the migrate step
# (docker-compose.yml picks the command). Settings come from the environment.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint 70 needs Pango, HarfBuzz's subsetter and a font; python-magic needs libmagic.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core libmagic1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies before the code, so that a code change does not reinstall them.
# The lock file also names local package mirrors of the development machines: where
# they do not exist pip only warns and installs from PyPI, every file checked by hash.
COPY requirements/prod.txt requirements/prod.txt
RUN pip install --require-hashes -r requirements/prod.txt

# The application runs unprivileged: it may write only its data folders, not its code.
RUN groupadd --system --gid 10001 aap \
    && useradd --system --uid 10001 --gid aap --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin aap \
    && mkdir -p /srv/var/private /srv/static \
    && chown -R aap:aap /srv/var /srv/static

COPY . /app

# Same paths as .env.docker; the named volumes of docker-compose.yml mount over them.
ENV DJANGO_SETTINGS_MODULE=config.settings \
    VAR_DIR=/srv/var \
    PRIVATE_MEDIA_ROOT=/srv/var/private \
    STATIC_ROOT=/srv/static

USER aap

# Static files are part of the image. DEBUG is off, so settings demand a key: this
# dummy one only lets them load for collectstatic and is not kept in the image.
RUN SECRET_KEY=collectstatic-at-build-time-only-not-a-real-secret \
    python manage.py collectstatic --noinput

EXPOSE 8000
# Workers, threads, timeouts and the control socket: gunicorn.conf.py.
CMD ["gunicorn", "config.wsgi"]
