"""The smallest Django project that runs django-helpdesk's `get_email` over a local mail directory.

Paths come from the environment (bench/peers/run.py sets them): HELPDESK_BENCH_HOME holds the
SQLite database, the attachments and the mail django-helpdesk sends (written to files, not sent).
"""
import os
from pathlib import Path

HOME = Path(os.environ["HELPDESK_BENCH_HOME"])

SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["localhost"]
SITE_ID = 1
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.sites",
    "django.contrib.admin",
    "django.contrib.humanize",
    "django.contrib.messages",
    "rest_framework",
    "helpdesk",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                 "django.contrib.auth.context_processors.auth",
                                                 "django.contrib.messages.context_processors.messages"]}}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(HOME / "helpdesk.sqlite3")}}
MEDIA_ROOT = str(HOME / "media")
STATIC_URL = "/static/"

# The mail it sends on a new ticket or follow-up goes to files, as ours goes to the outbox.
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = str(HOME / "sent")
DEFAULT_FROM_EMAIL = "ihelp@example.com"

HELPDESK_TEAMS_MODE_ENABLED = False  # no pinax-teams
# The bench corpus attaches .bin logs: store them, as the gateway does, rather than refuse them.
HELPDESK_VALID_EXTENSIONS = [".txt", ".asc", ".pdf", ".doc", ".docx", ".odt", ".jpg", ".png", ".eml", ".bin"]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
