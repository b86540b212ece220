"""SupportDesk settings: one module, driven by environment variables.

The embedded default (no variables set) runs on SQLite with the django-q2 ORM broker and a
SQLite channel layer, so one machine needs nothing else. Production switches by env:
DATABASE_URL, REDIS_URL (channel layer), TASK_BACKEND=celery (+ CELERY_BROKER_URL), EMAIL_URL,
LLM_BASE_URL.
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Where the installation keeps its own files: SQLite database, trained models, sent mail.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
MODELS_DIR = Path(env.str("MODELS_DIR", default=str(VAR_DIR / "models")))

INSTALLED_APPS = [
    "daphne",
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
    "supportdesk",
    "triage",
    "replies",
    "knowledge",
    "feedback",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "supportdesk.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'supportdesk.sqlite3'}"),
}
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
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # channels-redis waits on 5 s blocking reads; redis-py 8's default 5 s socket
                # timeout would cut idle sockets mid-wait.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "prefix": env.str("CHANNELS_PREFIX", default="sd"),
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
            "BACKEND": "channels_lite.layers.core.SQLiteChannelLayer",
            "CONFIG": {"database": "channels", "polling_interval": 0.05},
        }
    }

# --- Background tasks -------------------------------------------------------------------
TASK_BACKEND = env.str("TASK_BACKEND", default="q2")  # "q2" (embedded) | "celery" | "sync"
Q_CLUSTER = {
    "name": "supportdesk",
    "orm": "default",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 300,
    "retry": 360,
    "max_attempts": 3,
    "catch_up": False,
    "poll": 0.2,
    "label": "Tasks",
}
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "redis://127.0.0.1:6379/0")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="supportdesk")
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# --- E-mail -----------------------------------------------------------------------------
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "sent-mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Lumen Support <support@example.com>")

# --- AI ---------------------------------------------------------------------------------
# Languages the installation serves; language detection only chooses among these.
SUPPORTED_LANGUAGES = env.list(
    "SUPPORTED_LANGUAGES", default=["en", "zh-Hant", "zh-Hans", "ja", "es", "de", "fr", "pt"]
)
BRAND_NAME = env.str("BRAND_NAME", default="Lumen")
REPEAT_CONTACT_DAYS = env.int("REPEAT_CONTACT_DAYS", default=7)
# Agents' triage corrections retrain the category model in the background every N corrections.
RETRAIN_EVERY = env.int("RETRAIN_EVERY", default=20)
LOW_CONFIDENCE = env.float("LOW_CONFIDENCE", default=0.5)
# Kill switch for automatic replies, beside the one in the admin's routing settings.
AUTO_SEND_PAUSED = env.bool("AUTO_SEND_PAUSED", default=False)
LLM_BASE_URL = env.str("LLM_BASE_URL", default="")
LLM_API_KEY = env.str("LLM_API_KEY", default="")
LLM_MODEL = env.str("LLM_MODEL", default="")

# --- Intake limits ----------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_BODY_BYTES", default=1024 * 1024)
MAX_MESSAGE_CHARS = env.int("MAX_MESSAGE_CHARS", default=20000)

# --- Auth, i18n, static ----------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LANGUAGE_CODE = "en"
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
    },
}
