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
# work, and threads only add contention for the GIL. Logins are CPU work too, and cheap
# since passwords are Argon2id (18 ms of CPU per hash against 213 ms for PBKDF2: README,
# « Logging in at the deadline »): they need no workers or threads of their own.
# A sync worker reads one request at a time, so it must never wait on a client: nginx
# (deploy/nginx/) reads each body whole before handing it on and buffers each answer.
# Measured with python -m bench --only slow_clients (2 cores, 5 workers): 20 uploads of
# 10 MB trickling at 10 kB/s while 4 readers fetch the call page for 20 s. Through nginx
# the readers got 1,782 answers, p50 42 ms, p95 75 ms, max 266 ms, no error, and gunicorn
# never saw an upload; straight to gunicorn, the uploads held the 5 workers and all 8 of
# the readers' requests timed out (10 s). So sync workers are fine behind nginx; without
# it, more workers would only raise the number of slow clients it takes (one each), hence
# gunicorn is never exposed (GUNICORN_BIND=127.0.0.1:8000 on a bare server, no published
# port in compose).
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
