"""gunicorn's settings for the platform, read from the working directory by every
``gunicorn config.wsgi`` (Procfile, Dockerfile, docker-compose.yml, the bench).

Each value can be changed from the environment (``GUNICORN_*``). The worker class and
counts were chosen from ``python -m bench --only deadline`` (README, « Capacity »).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers, two per core and one more: measured against gthread in the last five
# seconds before a deadline (200 submissions through nginx, 2 cores, the Celery worker
# rendering receipts beside), sync answered faster over repeated runs (p99 1.3 s, three
# or five workers alike, against 2.1 s for 3 workers × 4 threads): a submission is CPU
# work, and threads only add contention for the GIL. nginx reads whole requests and buffers whole
# answers (deploy/nginx/), so a slow client never holds a sync worker.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
workers = int(os.environ.get("GUNICORN_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Requests wait in the listen queue behind nginx during a rush: judged by their arrival
# stamp (core/arrival.py), they may wait; the queue must hold them.
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# gunicorn 27 opens a control socket at ~/.gunicorn/gunicorn.ctl unless told otherwise:
# two instances on one host (web and a second site, or two releases) would clobber each
# other's. The platform does not use it.
control_socket_disable = True
# "-": to the standard output; empty: no access log.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
