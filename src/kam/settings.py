"""KAM settings: one file, driven by the environment (see README, "Configuration")."""

import importlib.util
import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from error


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("KAM_DEBUG", False)
DATA_DIR = Path(env_str("KAM_DATA_DIR", str(Path.cwd() / "var"))).resolve()
_DEV_SECRET = "kam-insecure-development-key-set-KAM_SECRET_KEY-in-production"
SECRET_KEY = env_str("KAM_SECRET_KEY", _DEV_SECRET)
# Without KAM_SECRET_KEY the app still runs (make run), but never as a secure deployment.
SECURE_DEPLOYMENT = SECRET_KEY != _DEV_SECRET and not DEBUG
ALLOWED_HOSTS = env_list("KAM_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("KAM_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "django_tasks_db",
    "kam.core",
    "kam.users",
    "kam.audit",
    "kam.customers",
    "kam.ledger",
    "kam.segmentation",
    "kam.service",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Django Ninja's page templates and static files (its API docs, served offline) come from
# its package directory, found without importing it: as an installed app it would be
# imported, with pydantic, by every `kam` command (≈ 0.2 s), not just by the API's URLs.
_NINJA_DIR = Path(importlib.util.find_spec("ninja").origin).parent  # type: ignore[union-attr, arg-type]

ROOT_URLCONF = "kam.urls"
WSGI_APPLICATION = "kam.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [_NINJA_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kam.core.context_processors.menu",
                "kam.segmentation.context_processors.tier_labels",
            ],
        },
    },
]

_default_database = f"sqlite:///{DATA_DIR / 'kam.sqlite3'}"
DATABASE_URL = env_str("KAM_DATABASE_URL", _default_database)
try:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("KAM_CONN_MAX_AGE", 60))
    }
except ValueError as error:
    raise ImproperlyConfigured(f"KAM_DATABASE_URL is not a database URL: {error}") from error
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the web server read while an import or the task worker writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": ""}  # in-memory test database
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: lock an IP + username pair after repeated failures.
AXES_FAILURE_LIMIT = env_int("KAM_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_LOCKOUT_TEMPLATE = "users/locked_out.html"
AXES_RESET_ON_SUCCESS = True

LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
# The language of visitors without a choice, of mails and of `kam` command reports.
LANGUAGE_CODE = (env_str("KAM_LANGUAGE", "").strip() or "zh-hans").lower()
if LANGUAGE_CODE not in {code for code, _name in LANGUAGES}:
    raise ImproperlyConfigured(f"KAM_LANGUAGE must be zh-hans or en, not {LANGUAGE_CODE!r}")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("KAM_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False  # ids stay plain; amounts use |money or |intcomma

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# A fresh data directory just works: the SQLite file and static root live under it.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATICFILES_DIRS = [_NINJA_DIR / "static"]
WHITENOISE_USE_FINDERS = True  # serve app static files without collectstatic in `kam serve`
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

TASKS = {
    "default": {
        "BACKEND": env_str("KAM_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Development prints mail to the console; a secure deployment sends it over SMTP.
_default_mailer = "django.core.mail.backends." + ("smtp" if SECURE_DEPLOYMENT else "console")
MAILERS: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": env_str("KAM_EMAIL_BACKEND", _default_mailer)}
}
if MAILERS["default"]["BACKEND"].endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": env_str("KAM_EMAIL_HOST", "localhost"),
        "port": env_int("KAM_EMAIL_PORT", 25),
    }
DEFAULT_FROM_EMAIL = env_str("KAM_FROM_EMAIL", "kam@localhost")

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # HTMX reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if SECURE_DEPLOYMENT:
    SECURE_SSL_REDIRECT = env_bool("KAM_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("KAM_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("KAM_LOG_LEVEL", "WARNING")},
}

# Local number formats (grouped thousands in Chinese too), see kam/formats/.
FORMAT_MODULE_PATH = ["kam.formats"]
