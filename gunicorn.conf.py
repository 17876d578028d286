"""gunicorn's settings for the platform, read from the working directory by every
``gunicorn config.wsgi`` (Procfile, Dockerfile, docker-compose.yml, the bench).

Each value can be changed from the environment (``GUNICORN_*``). The worker class and
counts were chosen from ``python -m bench --only deadline`` (README, « Capacity »).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Threads: a worker waiting on PostgreSQL, the broker or a slow upload keeps serving the
# others; processes: Python code runs on every core.
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Requests wait in the listen queue behind nginx during a rush: judged by their arrival
# stamp (aap/arrival.py), they may wait; the queue must hold them.
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
