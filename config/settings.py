"""Settings of the platform, read from the environment only.

Defaults serve a newcomer on one machine (SQLite and a file-system Celery transport
under ``var/``); production values come from the environment (see ``.env.example``).
A bad value stops the start-up with a message instead of running half-configured.
"""

import ipaddress
import re
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var"))).resolve()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY doit être défini quand DEBUG est désactivé.")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Absolute address of the site, for links in e-mails, PDFs and QR codes.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_celery_beat",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "core",
    "aap",
    "candidatures",
    "evaluation",
    "conventions",
    "archives",
    "retention",
    "api",  # the open API (django-ninja) and the staff's API tokens
    "demo",
]

MIDDLEWARE = [
    "core.middleware.ReceivedAtMiddleware",
    "core.middleware.RetryOnLostDatabaseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.LoginRequiredMiddleware",
    # Staff (and candidates who chose it) pass a second factor before any other page.
    "core.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.PermissionsPolicyMiddleware",
    # Last, so that a locked-out login is answered before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = env("ROOT_URLCONF", default="config.urls")
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.platform",
            ],
        },
    },
    {
        # Plain text (e-mail subjects and bodies): nothing to escape, so no entities.
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default is shared by the web server, a worker and beat: wait for
    # locks instead of failing, and let readers work while one process writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# A submission that met a database restarting is run again for this long, keeping its
# instant of arrival (core.middleware.RetryOnLostDatabaseMiddleware).
DATABASE_RETRY_SECONDS = env.int("DATABASE_RETRY_SECONDS", default=20)

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # A cache that hangs must not hold a request: give up quickly, as for the broker.
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
    )

# --- Accounts -------------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Answers only ProConnect's callback, and only when PROCONNECT_ENABLED (core.accounts).
    "core.accounts.proconnect.ProConnectBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2id, cheap on CPU at a deadline and memory-hard (core/accounts/hashers.py); the
# others still check the hashes they made, which are stored again as Argon2id at login.
PASSWORD_HASHERS = [
    "core.accounts.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "aap:home"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # links in e-mails last one day

# Failed-login lockout: five failures for one address from one client lock it out.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Failures are forgotten when the whole login succeeds, second factor included
# (core.accounts.mfa): a right password must not wipe the wrong codes typed after it.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_USERNAME_CALLABLE = "core.accounts.services.axes_username"
# The client behind the trusted proxy, not the proxy itself (core/client_ip.py).
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

# Second factor (core.accounts.mfa): the name authenticator applications show.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="AAP Isère")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Throttles (core/throttle.py): at most N attempts per period, "30/15min", "5/h", "100/1d",
# counted in the cache (CACHE_URL: Redis as soon as several processes serve the site,
# otherwise each process counts on its own).
THROTTLE_ENABLED = env.bool("THROTTLE_ENABLED", default=True)
_PERIODS = {"s": 1, "min": 60, "h": 3600, "d": 86400}


def _rate(name: str, value: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*(s|min|h|d)\s*", value)
    if match is not None:
        count, every = int(match.group(1)), int(match.group(2) or 1)
        if count >= 1 and every >= 1:
            return count, every * _PERIODS[match.group(3)]
    raise ImproperlyConfigured(
        f"{name} : « {value} » n'est pas une limite du type 30/15min, 5/h ou 100/1d."
    )


THROTTLES = {
    # Failed logins from one client address, whatever the accounts tried; axes still
    # locks one address from one client after AXES_FAILURE_LIMIT failures.
    "login_ip": _rate("THROTTLE_LOGIN_PER_IP", env("THROTTLE_LOGIN_PER_IP", default="30/15min")),
    "signup_ip": _rate("THROTTLE_SIGNUP_PER_IP", env("THROTTLE_SIGNUP_PER_IP", default="5/h")),
    "password_reset_address": _rate(
        "THROTTLE_PASSWORD_RESET_PER_ADDRESS",
        env("THROTTLE_PASSWORD_RESET_PER_ADDRESS", default="3/h"),
    ),
    "password_reset_ip": _rate(
        "THROTTLE_PASSWORD_RESET_PER_IP", env("THROTTLE_PASSWORD_RESET_PER_IP", default="10/h")
    ),
    "question_user": _rate(
        "THROTTLE_QUESTIONS_PER_USER", env("THROTTLE_QUESTIONS_PER_USER", default="5/h")
    ),
    "question_ip": _rate(
        "THROTTLE_QUESTIONS_PER_IP", env("THROTTLE_QUESTIONS_PER_IP", default="5/h")
    ),
    # Calls of the open API (api/) per client address.
    "api_ip": _rate("THROTTLE_API_PER_IP", env("THROTTLE_API_PER_IP", default="120/min")),
}

# --- Company directory (API Recherche d'entreprises) ------------------------------------
# The SIRET fills in the organisation sheet; short timeouts, answers cached (seconds).
COMPANY_DIRECTORY_URL = env(
    "COMPANY_DIRECTORY_URL", default="https://recherche-entreprises.api.gouv.fr"
)
COMPANY_DIRECTORY_CONNECT_TIMEOUT = env.float("COMPANY_DIRECTORY_CONNECT_TIMEOUT", default=1.0)
COMPANY_DIRECTORY_READ_TIMEOUT = env.float("COMPANY_DIRECTORY_READ_TIMEOUT", default=2.0)
COMPANY_DIRECTORY_CACHE_SECONDS = env.int("COMPANY_DIRECTORY_CACHE_SECONDS", default=86400)

SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_EXPIRE_AT_BROWSER_CLOSE = False

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = env("LANGUAGE_CODE", default="fr")
LANGUAGES = [("fr", "Français")]
TIME_ZONE = env("TIME_ZONE", default="Europe/Paris")
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static and uploaded files -----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files are private: no MEDIA_URL serves them, only views that check the rules.
PRIVATE_MEDIA_ROOT = Path(env("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
# Several web servers share uploads through S3-compatible object storage: set S3_BUCKET
# (and the S3_* variables) to switch from the local private folder. Files are private
# either way: the bucket is not public and no URL to it is ever given to a browser.
if env("S3_BUCKET", default=""):
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("S3_BUCKET"),
            "endpoint_url": env("S3_ENDPOINT_URL", default=None),
            "region_name": env("S3_REGION", default=None),
            "access_key": env("S3_ACCESS_KEY", default=None),
            "secret_key": env("S3_SECRET_KEY", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {
        "BACKEND": "core.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_STORAGE",
            default=(
                "django.contrib.staticfiles.storage.StaticFilesStorage"
                if DEBUG
                else "whitenoise.storage.CompressedManifestStaticFilesStorage"
            ),
        )
    },
}
# Every upload goes to a temporary file, hashed while it streams: never whole in memory.
FILE_UPLOAD_HANDLERS = ["core.uploads.HashingUploadHandler"]
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR", default=None)
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750

# --- E-mail --------------------------------------------------------------------------------
_email = env.email("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
if EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend":
    # In the terminal as a person reads it: attachments one line each, never base64.
    EMAIL_BACKEND = "core.mail_console.ConsoleEmailBackend"
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
if "EMAIL_FILE_PATH" in _email:
    EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)  # Django waits forever by default
DEFAULT_FROM_EMAIL = env(
    "DEFAULT_FROM_EMAIL",
    default="Département de l'Isère – Appels à projets <ne-pas-repondre@aap.isere.fr>",
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_SUBJECT_PREFIX = "[AAP Isère] "
# The outbox (core.mail): first retry delay after a mail-server error (doubling each time),
# the lease of a claim (a living worker renews it every third of it while it sends; one
# not renewed is taken as lost with its worker, and the sweep, every 15 s, sends the
# message again: within a minute), and how long a message may wait for the broker before
# the sweep queues it again.
EMAIL_RETRY_BACKOFF_SECONDS = env.int("EMAIL_RETRY_BACKOFF_SECONDS", default=5)
EMAIL_STALE_CLAIM_SECONDS = env.int("EMAIL_STALE_CLAIM_SECONDS", default=30)
EMAIL_PENDING_GRACE_SECONDS = env.int("EMAIL_PENDING_GRACE_SECONDS", default=120)
# A request publishes its e-mails after commit and waits at most this long for the broker
# (to connect, then to answer), with no retry; after a failure the process leaves the
# broker alone this many seconds, and the outbox sweep sends what waits.
EMAIL_PUBLISH_TIMEOUT = env.float("EMAIL_PUBLISH_TIMEOUT", default=0.25)
EMAIL_PUBLISH_PAUSE_SECONDS = env.int("EMAIL_PUBLISH_PAUSE_SECONDS", default=10)

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _celery_dir = VAR_DIR / "celery"
    CELERY_BROKER_FOLDERS = {
        "data_folder_in": _celery_dir / "queue",
        "data_folder_out": _celery_dir / "queue",
        "processed_folder": _celery_dir / "processed",
        "control_folder": _celery_dir / "control",
    }
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **{key: str(path) for key, path in CELERY_BROKER_FOLDERS.items()},
        "store_processed": False,
        "polling_interval": 0.1,
    }
else:
    # A broker that accepts connections and never answers must not hang a request:
    # give up quickly, the caller keeps what it needs to try again later.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_timeout": 3,
        "socket_connect_timeout": 3,
        "max_retries": 1,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # A call closes when its deadline passes; pages and submissions check the deadline
    # themselves, this sweep moves the status and writes the history row.
    "close-calls-past-deadline": {
        "task": "aap.close_calls_past_deadline",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    # Reminders: the sweep is cheap and idempotent; every five minutes keeps them on time.
    "send-reminders": {
        "task": "aap.run_reminders",
        "schedule": 300.0,
        "options": {"expires": 240},
    },
    # E-mails the broker never received (it was down at commit time) go out from here.
    "requeue-pending-emails": {
        "task": "aap.requeue_pending_emails",
        "schedule": 15.0,
        "options": {"expires": 12},
    },
    # Decision letters confirmed while the broker was away, or whose worker died.
    "send-queued-letters": {
        "task": "evaluation.send_queued_letters",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    # What is due for elimination: the draft bordereau d'élimination brought up to date and
    # inactive accounts warned, once a day (nothing is deleted without the archives' visa).
    "retention-list-due": {
        "task": "retention.list_due",
        "schedule": 24 * 60 * 60.0,
        "options": {"expires": 23 * 60 * 60},
    },
}

# --- Security ----------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers and orchestrators probe the health checks over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = []

# No inline script or style anywhere: every script and stylesheet is one of our static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# --- ProConnect (OpenID Connect) login for staff, off by default ---------------------------
# Endpoints come from the provider's discovery document (<issuer>/.well-known/...); users
# are matched by verified e-mail to existing accounts (core/accounts/proconnect.py).
PROCONNECT_ENABLED = env.bool("PROCONNECT_ENABLED", default=False)
PROCONNECT_ISSUER = env("PROCONNECT_ISSUER", default="")
PROCONNECT_CLIENT_ID = env("PROCONNECT_CLIENT_ID", default="")
PROCONNECT_CLIENT_SECRET = env("PROCONNECT_CLIENT_SECRET", default="")
PROCONNECT_SCOPES = env("PROCONNECT_SCOPES", default="openid email given_name usual_name")
PROCONNECT_SIGN_ALGO = env("PROCONNECT_SIGN_ALGO", default="RS256")
# An ID token with one of these acr, or "mfa" in its amr, counts as the second factor.
PROCONNECT_MFA_ACR_VALUES = env.list(
    "PROCONNECT_MFA_ACR_VALUES",
    default=[
        "eidas2",
        "eidas3",
        "https://proconnect.gouv.fr/assurance/self-asserted-2fa",
        "https://proconnect.gouv.fr/assurance/consistency-checked-2fa",
    ],
)
PROCONNECT_TIMEOUT = env.float("PROCONNECT_TIMEOUT", default=5)
if PROCONNECT_ENABLED:
    _missing = [
        name
        for name in ("PROCONNECT_ISSUER", "PROCONNECT_CLIENT_ID", "PROCONNECT_CLIENT_SECRET")
        if not globals()[name]
    ]
    if _missing:
        raise ImproperlyConfigured("PROCONNECT_ENABLED demande aussi " + ", ".join(_missing) + ".")
    if "openid" not in PROCONNECT_SCOPES.split() or "email" not in PROCONNECT_SCOPES.split():
        raise ImproperlyConfigured("PROCONNECT_SCOPES doit contenir openid et email.")
    _issuer = re.match(r"https?://[^/]+", PROCONNECT_ISSUER)
    if _issuer is None:
        raise ImproperlyConfigured("PROCONNECT_ISSUER doit être une adresse http(s)://.")
    # Logging out is a form posted to us that redirects to the provider's end-session
    # endpoint: browsers hold that redirect to the form-action directive.
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(_issuer.group(0))

# --- The authority: published with the open data of its subsidies (SCDL « subventions ») --
AUTHORITY_NAME = env("AUTHORITY_NAME", default="Département de l'Isère")
AUTHORITY_SIRET = env("AUTHORITY_SIRET", default="")

# --- Legal pages: mentions légales, données personnelles, accessibilité ------------------
# The particulars the legal pages print (core, « Mentions légales », « Données
# personnelles », « Accessibilité »): none is written in a template.
LEGAL_PUBLISHER = env("LEGAL_PUBLISHER", default="Département de l'Isère")
LEGAL_PUBLISHER_ADDRESS = env(
    "LEGAL_PUBLISHER_ADDRESS",
    default="Hôtel du Département, 7 rue Fantin-Latour, CS 41096, 38022 Grenoble Cedex 1",
)
LEGAL_PUBLISHER_PHONE = env("LEGAL_PUBLISHER_PHONE", default="04 76 00 38 38")
LEGAL_PUBLICATION_DIRECTOR = env(
    "LEGAL_PUBLICATION_DIRECTOR", default="Le Président du Département de l'Isère"
)
LEGAL_SERVICE = env(
    "LEGAL_SERVICE",
    default="Direction des solidarités (DSO) – Service Insertion Vers l'Emploi (IVE)",
)
LEGAL_CONTACT_EMAIL = env("LEGAL_CONTACT_EMAIL", default="dso.ive@isere.fr")
LEGAL_HOST_NAME = env("LEGAL_HOST_NAME", default="Département de l'Isère, Direction du numérique")
LEGAL_HOST_ADDRESS = env(
    "LEGAL_HOST_ADDRESS",
    default="Hôtel du Département, 7 rue Fantin-Latour, CS 41096, 38022 Grenoble Cedex 1",
)
LEGAL_HOST_PHONE = env("LEGAL_HOST_PHONE", default="04 76 00 38 38")
LEGAL_DPO_NAME = env("LEGAL_DPO_NAME", default="Délégué à la protection des données")
LEGAL_DPO_EMAIL = env("LEGAL_DPO_EMAIL", default="dpo@isere.fr")
LEGAL_DPO_ADDRESS = env(
    "LEGAL_DPO_ADDRESS",
    default="Département de l'Isère, DPO, 7 rue Fantin-Latour, CS 41096, 38022 Grenoble Cedex 1",
)
LEGAL_ACCESSIBILITY_EMAIL = env("LEGAL_ACCESSIBILITY_EMAIL", default="dso.ive@isere.fr")

# --- Retention of personal data (RGPD art. 5-1-e) and its purge -----------------------------
# How long each category is kept, in days, before it is due for elimination. Shown on the
# privacy page; the daily task lists what is due; nothing is deleted before the archives'
# visa on the bordereau d'élimination. Defaults follow the usual retention schedules of
# the départements' subsidy files (instruction DAF/DPACI/RES/2009/018 for non-selected
# requests, 10 years after the last payment for public accounts) and the CNIL's
# recommendations for inactive accounts and access logs.
RETENTION_DAYS = {
    # Dossiers not selected (or inadmissible, or drafts never submitted), from the
    # notification of the decision (or the call's deadline for drafts).
    "not_selected": env.int("RETENTION_NOT_SELECTED_DAYS", default=5 * 365),
    # Selected dossiers with their agreements, from the agreement's last payment.
    "selected": env.int("RETENTION_SELECTED_DAYS", default=10 * 365),
    # Accounts with no login, from the last login (or sign-up).
    "inactive_account": env.int("RETENTION_INACTIVE_ACCOUNT_DAYS", default=3 * 365),
    # The DDETS readers' reading logs, from the reading.
    "reading_log": env.int("RETENTION_READING_LOG_DAYS", default=365),
    # E-mails in the outbox, from their sending.
    "outbox": env.int("RETENTION_OUTBOX_DAYS", default=365),
}
# An inactive account is warned this many days before it is due for deletion.
RETENTION_ACCOUNT_WARNING_DAYS = env.int("RETENTION_ACCOUNT_WARNING_DAYS", default=30)

# --- Decision letters: place, signatory, « voies et délais de recours » ---------------------
# The authority's defaults; each call may override any of them (aap.Call ``letter_*`` and
# ``appeal_*`` fields). The two-month time limit is the law's (code de justice
# administrative, R. 421-1), written in the paragraph, not a setting.
LETTER_PLACE = env("LETTER_PLACE", default="Grenoble")
LETTER_SIGNATORY_NAME = env("LETTER_SIGNATORY_NAME", default="")
LETTER_SIGNATORY_TITLE = env(
    "LETTER_SIGNATORY_TITLE", default="La cheffe du service Insertion Vers l'Emploi"
)
LETTER_SIGNATORY_DELEGATION = env(
    "LETTER_SIGNATORY_DELEGATION",
    default="Pour le Président du Département de l'Isère et par délégation",
)
LETTER_APPEAL_AUTHORITY = env(
    "LETTER_APPEAL_AUTHORITY", default="Monsieur le Président du Département de l'Isère"
)
LETTER_APPEAL_AUTHORITY_ADDRESS = env(
    "LETTER_APPEAL_AUTHORITY_ADDRESS",
    default="Hôtel du Département, 7 rue Fantin-Latour, CS 41096, 38022 Grenoble Cedex 1",
)
LETTER_APPEAL_COURT = env("LETTER_APPEAL_COURT", default="tribunal administratif de Grenoble")
LETTER_APPEAL_COURT_ADDRESS = env(
    "LETTER_APPEAL_COURT_ADDRESS", default="2 place de Verdun, BP 1135, 38022 Grenoble Cedex"
)
# The whole paragraph, when the authority writes its own (empty: composed from the above).
LETTER_APPEAL_WORDING = env("LETTER_APPEAL_WORDING", default="")

# --- The instant of arrival ----------------------------------------------------------------
# Deadlines are judged on the instant a request arrived. Behind the documented reverse
# proxy (deploy/nginx.conf), the proxy stamps it ("X-Request-Start: t=<seconds>"); the
# stamp is believed only from these addresses or networks (the proxy's), and only if it
# is younger than the longest wait the proxy allows. Without them, the instant the worker
# starts the request counts (core/arrival.py).
ARRIVAL_HEADER = env("ARRIVAL_HEADER", default="X-Request-Start")
ARRIVAL_META_KEY = "HTTP_" + ARRIVAL_HEADER.upper().replace("-", "_")
ARRIVAL_TRUSTED_PROXIES = env.list("ARRIVAL_TRUSTED_PROXIES", default=[])
for _proxy in ARRIVAL_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(
            f"ARRIVAL_TRUSTED_PROXIES : « {_proxy} » n'est ni une adresse IP ni un réseau."
        ) from _error
ARRIVAL_MAX_WAIT_SECONDS = env.int("ARRIVAL_MAX_WAIT_SECONDS", default=3600)

# --- What uploads may carry (core/inspection.py) ----------------------------------------------
# Office files are ZIP archives: more entries, more bytes once uncompressed, or a higher
# compression ratio (for an entry over 1 MB) than this is taken for a zip bomb.
UPLOAD_ARCHIVE_MAX_ENTRIES = env.int("UPLOAD_ARCHIVE_MAX_ENTRIES", default=2000)
UPLOAD_ARCHIVE_MAX_UNCOMPRESSED_MB = env.int("UPLOAD_ARCHIVE_MAX_UNCOMPRESSED_MB", default=300)
UPLOAD_ARCHIVE_MAX_RATIO = env.int("UPLOAD_ARCHIVE_MAX_RATIO", default=200)

# --- Antivirus ------------------------------------------------------------------------------
# A ClamAV daemon scans every upload when configured: "unix:///run/clamav/clamd.ctl" or
# "tcp://clamav:3310". Empty: no scan (the README says so).
CLAMD_URL = env("CLAMD_URL", default="")
if CLAMD_URL and not CLAMD_URL.startswith(("unix://", "tcp://")):
    raise ImproperlyConfigured("CLAMD_URL doit commencer par unix:// ou tcp://.")
CLAMD_TIMEOUT = env.int("CLAMD_TIMEOUT", default=30)

# --- Forms ----------------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # The upload inspection's libraries log each file they open.
        "olevba": {"level": "ERROR"},
        "pikepdf": {"level": "WARNING"},
    },
}
