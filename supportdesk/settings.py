"""SupportDesk settings: one module, driven by environment variables.

The embedded default (no variables set) runs on SQLite with the django-q2 ORM broker and a
SQLite channel layer, so one machine needs nothing else. Production switches by env:
DATABASE_URL, REDIS_URL (channel layer), TASK_BACKEND=celery (+ CELERY_BROKER_URL), EMAIL_URL,
LLM_BASE_URL. The outbox's timings: OUTBOX_STALE_SECONDS, OUTBOX_QUEUED_GRACE_SECONDS,
OUTBOX_MAX_ATTEMPTS, EMAIL_TIMEOUT.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DEBUG", default=False)
# SECRET_KEY: see "Secret key, HTTPS and cookies" below (whether it is required depends on
# SITE_URL).
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Where the installation keeps its own files: SQLite database, trained models, sent mail.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)
MODELS_DIR = Path(env.str("MODELS_DIR", default=str(VAR_DIR / "models")))

# daphne's app only turns `runserver` into its ASGI server (WebSockets in development). The
# web server proper is `python -m supportdesk.server`, and a worker has no use for Twisted,
# which daphne's app would load into every worker process (~15 MB each).
RUNSERVER = len(sys.argv) > 1 and sys.argv[1] == "runserver"
INSTALLED_APPS = [
    *(["daphne"] if RUNSERVER else []),
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "channels",
    "django_q",
    "axes",
    "supportdesk",
    "supportdesk.llm",
    "triage",
    "replies",
    "knowledge",
    "feedback",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "supportdesk.content_security.DeskCSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language (customers, and people who chose none); PreferencesMiddleware
    # below puts a signed-in person's own choice over it.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "supportdesk.preferences.PreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "supportdesk.urls"
ASGI_APPLICATION = "supportdesk.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "supportdesk.inbox.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'supportdesk.sqlite3'}"),
}
# Keep connections open between requests and socket events (checked before reuse). Without it
# every database call of a desk socket opens and closes a PostgreSQL connection: a few hundred
# sockets connecting at once spend most of their time logging in to the database.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + IMMEDIATE transactions: the web process and the worker write concurrently.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / "test.sqlite3")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channels (live inbox) --------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "supportdesk.layers.pooled_redis.PooledRedisChannelLayer",
            "CONFIG": {
                # channels-redis waits on 5 s blocking reads; redis-py 8's default 5 s socket
                # timeout would cut idle sockets mid-wait.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "prefix": env.str("CHANNELS_PREFIX", default="sd"),
                # Redis connections per process (and event loop). One is held by the process's
                # blocking read; every other command (a socket joining or leaving its groups, a
                # broadcast) borrows one for a round trip and, when all are busy, waits up to
                # pool_timeout seconds for one instead of failing. 100 lets a few hundred
                # sockets connect at once without queueing long; keep (web processes + worker
                # processes) × pool_size under Redis's maxclients (10,000 by default).
                "pool_size": env.int("CHANNELS_POOL_SIZE", default=100),
                "pool_timeout": 20,
            },
        }
    }
else:
    # A separate SQLite file so live events never contend with ticket writes.
    DATABASES["channels"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(VAR_DIR / "channels.sqlite3"),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        "TEST": {"NAME": str(VAR_DIR / "test-channels.sqlite3")},
    }
    INSTALLED_APPS.append("channels_lite")
    DATABASE_ROUTERS = [
        "channels_lite.router.ChannelsRouter",
        "supportdesk.routers.CoreDatabaseRouter",
    ]
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "supportdesk.layers.batched_sqlite.BatchedSQLiteChannelLayer",
            "CONFIG": {"database": "channels", "polling_interval": 0.05},
        }
    }

# --- Cache (web form rate limits) --------------------------------------------------------
# Shared by every process: Redis at scale; at the embedded default, files under VAR_DIR
# (per-process memory would let each worker count on its own).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_PREFIX", default=env.str("CHANNELS_PREFIX", default="sd")),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 10000},
        }
    }

# --- Background tasks -------------------------------------------------------------------
TASK_BACKEND = env.str("TASK_BACKEND", default="q2")  # "q2" (embedded) | "celery" | "sync"
# Worker processes (django-q2 workers or Celery's prefork pool) and the compute threads each
# one gives the sentence encoder. One thread per process and one process per core: two threads
# in each of two workers on two cores made a message take 437 ms instead of 99 ms under load,
# the threads waiting for each other's cores. Q_WORKERS is the older name of WORKER_PROCESSES.
WORKER_PROCESSES = env.int(
    "WORKER_PROCESSES",
    default=env.int(
        "Q_WORKERS",
        default=len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
    ),
)
WORKER_THREADS = env.int("WORKER_THREADS", default=1)
# Load the models in the worker's parent process before it forks its workers, which then share
# those pages (on platforms that fork; elsewhere each worker loads its own on first use).
WORKER_PRELOAD = env.bool("WORKER_PRELOAD", default=True)
Q_CLUSTER = {
    "name": "supportdesk",
    "orm": "default",
    "workers": WORKER_PROCESSES,
    "timeout": 300,
    "retry": 360,
    "max_attempts": 3,
    "catch_up": False,
    "poll": 0.2,
    "label": "Tasks",
}
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "redis://127.0.0.1:6379/0")
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="supportdesk")
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# At least once: a task is acknowledged only after it ran, and goes back to the queue when its
# worker process dies under it (SIGKILL, OOM). Every task is idempotent (docs/architecture.md).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# The longest task (retraining) is stopped after CELERY_TASK_TIME_LIMIT; Redis hands an
# unacknowledged task to another worker after the visibility timeout, which must be longer.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=1200)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=1800)
}
# A broker that is down fails an enqueue within seconds (the sweepers retry), instead of
# holding a customer's request while it reconnects.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1,
}  # fmt: skip
# The pipeline sweeper (supportdesk/pipeline.py): an inbound message not through triage and
# drafting this long after it arrived (or was last enqueued or started) is enqueued again; after
# PIPELINE_MAX_ATTEMPTS task starts that never finished, its ticket is flagged for a person.
PIPELINE_GRACE_SECONDS = env.int("PIPELINE_GRACE_SECONDS", default=120)
PIPELINE_MAX_ATTEMPTS = env.int("PIPELINE_MAX_ATTEMPTS", default=3)

# --- E-mail -----------------------------------------------------------------------------
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "sent-mail")
# The outbox (supportdesk/outbox/delivery.py). A claim older than OUTBOX_STALE_SECONDS belongs to a
# dead worker; EMAIL_TIMEOUT is kept well below it so a slow live worker is never mistaken
# for a dead one. OUTBOX_QUEUED_GRACE_SECONDS: how long a queued message may wait for its
# task before the sweeper enqueues it again (the enqueue after commit was lost).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=60)
OUTBOX_STALE_SECONDS = env.int("OUTBOX_STALE_SECONDS", default=300)
OUTBOX_QUEUED_GRACE_SECONDS = env.int("OUTBOX_QUEUED_GRACE_SECONDS", default=120)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=5)
OUTBOX_MESSAGE_ID_DOMAIN = env.str("OUTBOX_MESSAGE_ID_DOMAIN", default="supportdesk.local")
# Where this desk is reached, for links in e-mails to staff (no trailing slash).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Lumen Support <support@example.com>")
# Every reply e-mail ends with one signed link per score ("How did we do?"), valid for
# CSAT_LINK_DAYS after it was sent (supportdesk/outbox/rating_links.py, feedback/views.py).
CSAT_LINKS = env.bool("CSAT_LINKS", default=True)
CSAT_LINK_DAYS = env.int("CSAT_LINK_DAYS", default=30)
# A customer writing again on a solved ticket within FOLLOW_UP_DAYS of the reply that solved it
# counts against that reply's draft (feedback.services.follow_up_record).
FOLLOW_UP_DAYS = env.int("FOLLOW_UP_DAYS", default=7)

# Automatic mail (acknowledgements, automatic replies): at most AUTO_MAIL_LIMIT per recipient
# per ticket in AUTO_MAIL_WINDOW_HOURS, so a misbehaving auto-responder cannot loop with us.
AUTO_MAIL_LIMIT = env.int("AUTO_MAIL_LIMIT", default=3)
AUTO_MAIL_WINDOW_HOURS = env.float("AUTO_MAIL_WINDOW_HOURS", default=24)
# Acknowledge new tickets (web form, e-mail) and customers' follow-ups by e-mail.
ACKNOWLEDGE_NEW_TICKETS = env.bool("ACKNOWLEDGE_NEW_TICKETS", default=True)
ACKNOWLEDGE_FOLLOW_UPS = env.bool("ACKNOWLEDGE_FOLLOW_UPS", default=True)
# Who may answer an escalated ticket: "everyone" (agents and supervisors) or "supervisors".
# Anyone may add internal notes to it either way.
ESCALATED_REPLIES = env.str("ESCALATED_REPLIES", default="everyone")
if ESCALATED_REPLIES not in ("everyone", "supervisors"):
    raise ImproperlyConfigured("ESCALATED_REPLIES must be 'everyone' or 'supervisors'")

# --- Secret key, HTTPS and cookies ------------------------------------------------------
# A desk reached at an https:// SITE_URL with DEBUG off is a public deployment: it needs its
# own SECRET_KEY, redirects http to https, sends HSTS and marks its cookies Secure. Anything
# else (the embedded default on http://127.0.0.1, the test installations) serves plain http
# and, without SECRET_KEY, generates a key once and keeps it in VAR_DIR/secret_key. Each
# SECURE_* switch below can also be set on its own.
PUBLIC_DEPLOYMENT = SITE_URL.startswith("https://") and not DEBUG


def _installation_secret_key(path: Path) -> str:
    """The key kept in ``path``, created with a random key (mode 0600) when missing. Processes
    starting together (web server and worker) agree on one: a key is published by hard-linking
    a complete file, which fails if another process published its key first."""
    if not path.exists():
        descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # 0600
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if PUBLIC_DEPLOYMENT:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. A desk served over https (SITE_URL) needs its own key, the "
            "same in every process: at least 50 random characters, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    SECRET_KEY = _installation_secret_key(VAR_DIR / "secret_key")
elif not DEBUG and (
    # The key this file used as its default until it generated one: published, so no secret.
    SECRET_KEY == "insecure-development-key-change-me"  # noqa: S105
    # Django's own bar (`check --deploy`): 50 characters, 5 distinct, not a generated dev key.
    or len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
    or SECRET_KEY.startswith("django-insecure-")
):
    raise ImproperlyConfigured(
        "SECRET_KEY is the old public default or too weak: set at least 50 random characters "
        "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(50))'`), or unset it "
        "outside production to use a key generated for this installation."
    )

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PUBLIC_DEPLOYMENT)
# HSTS is sent only on https responses. Subdomains and preloading commit the whole domain to
# https (preloading for good), so they stay off unless set.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if PUBLIC_DEPLOYMENT else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=PUBLIC_DEPLOYMENT)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=PUBLIC_DEPLOYMENT)
if env.bool("BEHIND_TLS_PROXY", default=False):
    # Only behind a proxy that terminates TLS and sets X-Forwarded-Proto on every request
    # (replacing the client's): otherwise a client could declare its plain http secure.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Zendesk ----------------------------------------------------------------------------
# ZENDESK_URL overrides https://<ZENDESK_SUBDOMAIN>.zendesk.com (a proxy, or tests).
ZENDESK_SUBDOMAIN = env.str("ZENDESK_SUBDOMAIN", default="")
ZENDESK_URL = env.str(
    "ZENDESK_URL",
    default=f"https://{ZENDESK_SUBDOMAIN}.zendesk.com" if ZENDESK_SUBDOMAIN else "",
).rstrip("/")
ZENDESK_EMAIL = env.str("ZENDESK_EMAIL", default="")
ZENDESK_API_TOKEN = env.str("ZENDESK_API_TOKEN", default="")
ZENDESK_WEBHOOK_SECRET = env.str("ZENDESK_WEBHOOK_SECRET", default="")
ZENDESK_WEBHOOK_MAX_AGE = env.int("ZENDESK_WEBHOOK_MAX_AGE", default=300)  # seconds
ZENDESK_TIMEOUT = env.float("ZENDESK_TIMEOUT", default=15)

# --- Knowledge-base sync (knowledge/sync, `manage.py kb_sync`, docs/knowledge-sync.md) ------
# Zendesk Help Center articles are read with the ZENDESK_* settings above. A source is synced
# when its settings are all set.
NOTION_TOKEN = env.str("NOTION_TOKEN", default="")
NOTION_DATABASE_ID = env.str("NOTION_DATABASE_ID", default="")
NOTION_BASE_URL = env.str("NOTION_BASE_URL", default="https://api.notion.com").rstrip("/")
# CONFLUENCE_URL is the site's base including its context path (https://acme.atlassian.net/wiki).
CONFLUENCE_URL = env.str("CONFLUENCE_URL", default="").rstrip("/")
CONFLUENCE_USER = env.str("CONFLUENCE_USER", default="")
CONFLUENCE_TOKEN = env.str("CONFLUENCE_TOKEN", default="")
CONFLUENCE_SPACE = env.str("CONFLUENCE_SPACE", default="")
# Minutes between periodic imports from every configured source; 0 turns them off.
KB_SYNC_MINUTES = env.int("KB_SYNC_MINUTES", default=60)
# Seconds to wait for one request to Notion or Confluence (Zendesk uses ZENDESK_TIMEOUT).
KB_SYNC_TIMEOUT = env.float("KB_SYNC_TIMEOUT", default=30)

# --- Inbound e-mail ---------------------------------------------------------------------
# Largest raw message accepted over HTTP (raw MIME endpoint and provider webhooks).
INBOUND_EMAIL_MAX_BYTES = env.int("INBOUND_EMAIL_MAX_BYTES", default=25 * 1024 * 1024)
# Attachments of inbound mail, stored under ATTACHMENTS_DIR (default VAR_DIR/attachments). One
# over a limit is not stored but listed on the ticket as "not kept" with the reason.
ATTACHMENTS_DIR = Path(env.str("ATTACHMENTS_DIR", default=str(VAR_DIR / "attachments")))
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)  # per file
ATTACHMENTS_MAX_TOTAL_BYTES = env.int("ATTACHMENTS_MAX_TOTAL_BYTES", default=25 * 1024 * 1024)
ATTACHMENTS_MAX_COUNT = env.int("ATTACHMENTS_MAX_COUNT", default=20)  # stored per message
# Longer message text is stored cut to this length and flagged (the full text is kept as an
# attachment when the limits allow), never rejected.
MESSAGE_TEXT_MAX_CHARS = env.int("MESSAGE_TEXT_MAX_CHARS", default=100_000)
# Provider inbound webhooks (django-anymail). They stay off (503) until the shared basic-auth
# secret is set; "user:password", comma-separated to accept several while rotating.
ANYMAIL = {
    "WEBHOOK_SECRET": env.list("ANYMAIL_WEBHOOK_SECRET", default=[]),
    # Confirming an SNS subscription calls AWS with boto3 and AWS credentials; while off,
    # the confirmation URL is logged for an administrator to open once.
    "AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS": env.bool(
        "AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS", default=False
    ),
}
if env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default=""):
    # Only when set: an empty key would make every forged signature valid.
    ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"] = env.str("MAILGUN_WEBHOOK_SIGNING_KEY")

# Optional IMAP polling (supportdesk/intake/imap.py): IMAP_URL, or the separate IMAP_* variables.
IMAP_URL = env.str("IMAP_URL", default="")
IMAP_HOST = env.str("IMAP_HOST", default="")
IMAP_PORT = env.int("IMAP_PORT", default=0)  # 0: 993 for ssl, 143 otherwise
IMAP_USER = env.str("IMAP_USER", default="")
IMAP_PASSWORD = env.str("IMAP_PASSWORD", default="")
IMAP_MAILBOX = env.str("IMAP_MAILBOX", default="INBOX")
IMAP_SECURITY = env.str("IMAP_SECURITY", default="ssl")  # ssl | starttls | none
IMAP_POLL_MINUTES = env.int("IMAP_POLL_MINUTES", default=1)
IMAP_BATCH = env.int("IMAP_BATCH", default=50)  # messages per poll
IMAP_TIMEOUT = env.float("IMAP_TIMEOUT", default=30)
# The periodic tasks (SLA check, waiting tickets, attachment sweep, IMAP poll) are listed once,
# in supportdesk/queue.py: Celery beat's schedule and django-q2's Schedule rows both come from it.

# --- AI ---------------------------------------------------------------------------------
# Languages the installation serves; language detection only chooses among these.
SUPPORTED_LANGUAGES = env.list(
    "SUPPORTED_LANGUAGES", default=["en", "zh-Hant", "zh-Hans", "ja", "es", "de", "fr", "pt"]
)
BRAND_NAME = env.str("BRAND_NAME", default="Lumen")
REPEAT_CONTACT_DAYS = env.int("REPEAT_CONTACT_DAYS", default=7)
# Tickets that waited for an agent (nobody in their team was online) go to members with fewer
# than this many open tickets (triage.waiting).
AGENT_CAPACITY = env.int("AGENT_CAPACITY", default=10)
# Agents' triage corrections retrain the category model in the background every N corrections.
RETRAIN_EVERY = env.int("RETRAIN_EVERY", default=20)
LOW_CONFIDENCE = env.float("LOW_CONFIDENCE", default=0.5)
# Kill switch for automatic replies, beside the one in the admin's routing settings.
AUTO_SEND_PAUSED = env.bool("AUTO_SEND_PAUSED", default=False)
LLM_BASE_URL = env.str("LLM_BASE_URL", default="")
LLM_API_KEY = env.str("LLM_API_KEY", default="")
LLM_MODEL = env.str("LLM_MODEL", default="")
# Azure OpenAI instead of LLM_BASE_URL (the key is LLM_API_KEY); the admin may override these.
AZURE_OPENAI_ENDPOINT = env.str("AZURE_OPENAI_ENDPOINT", default="")
AZURE_OPENAI_API_VERSION = env.str("AZURE_OPENAI_API_VERSION", default="2024-10-21")
AZURE_OPENAI_DEPLOYMENT = env.str("AZURE_OPENAI_DEPLOYMENT", default="")

# --- Intake limits ----------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_BODY_BYTES", default=1024 * 1024)
MAX_MESSAGE_CHARS = env.int("MAX_MESSAGE_CHARS", default=20000)
# Public web form: at most WEB_FORM_RATE_LIMIT submissions per client address (IPv6: per /64)
# in WEB_FORM_RATE_WINDOW seconds. Behind proxies, TRUSTED_PROXY_COUNT says how many of them
# append to X-Forwarded-For; 0 (default) trusts only the socket's address.
WEB_FORM_RATE_LIMIT = env.int("WEB_FORM_RATE_LIMIT", default=5)
WEB_FORM_RATE_WINDOW = env.int("WEB_FORM_RATE_WINDOW", default=600)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Content-Security-Policy ---------------------------------------------------------
# django-csp (supportdesk/content_security.py adds this host's ws:/wss: origin to connect-src).
# Scripts: our own files, and inline <script> only with the per-request nonce (templates read
# request.csp_nonce); no inline event handlers, no eval. Styles: desk.css only, no style
# attributes. htmx's own inline <style> is switched off in base.html (htmx-config).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# --- Content-Security-Policy end -------------------------------------------------------

# --- Auth, i18n, static ----------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# Sign-in throttling (django-axes; API bearer tokens do not sign in and are not counted).
# After AXES_FAILURE_LIMIT failed sign-ins for one username, or from one client address (as the
# web form counts it: TRUSTED_PROXY_COUNT, IPv6 per /64), every sign-in for that username or
# from that address is refused with 429 for AXES_COOLOFF_MINUTES, on /login/ and /admin/login/.
# Attempts are database rows: an admin unlocks by deleting them in the admin (Axes > Access
# attempts) or with `manage.py axes_reset_username NAME`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out sign-ins
    # Django's ModelBackend, reading a person's permissions in one query (supportdesk/roles.py).
    "supportdesk.roles.OneQueryPermissionsBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
AXES_CLIENT_IP_CALLABLE = "supportdesk.signin.signin_client_address"
AXES_LOCKOUT_CALLABLE = "supportdesk.signin.lockout_response"
# A successful sign-in does not clear the count: the reset would also clear the failures
# against other accounts from the same address, so one valid account would undo the limit.
AXES_RESET_ON_SUCCESS = False
# Successful sign-ins are not logged: no ever-growing table of people's addresses.
AXES_DISABLE_ACCESS_LOG = True
LANGUAGE_CODE = "en"
# The languages of the desk's own pages and e-mails (compiled catalogs ship in locale/). Drafts
# and acknowledgements follow the customer's language, from SUPPORTED_LANGUAGES, separately.
LANGUAGES = [
    ("en", "English"),
    ("zh-hant", "繁體中文"),
    ("ja", "日本語"),
    ("es", "Español"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date format on every page, in each language (supportdesk/formats).
FORMAT_MODULE_PATH = ["supportdesk.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"  # collectstatic target; whitenoise also serves from finders
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django-q": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # one INFO line per process start otherwise
    },
}
