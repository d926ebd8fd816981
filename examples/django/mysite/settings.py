"""Settings of the example project: the database variables the `cachequeue` runner reads too
(DB_NAME, DB_HOST, DB_PORT, DB_USER, DB_PASSWORD), the cache in PostgreSQL, and QUEUE_CONFIG
from the file both read."""
import os
from pathlib import Path

from cachequeue_django.conf import queue_config

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ.get("SECRET_KEY", "example-only-not-secret")
DEBUG = os.environ.get("DEBUG", "") == "True"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
ROOT_URLCONF = "mysite.urls"
USE_TZ = True
INSTALLED_APPS = ["cachequeue_django", "shop"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("DB_NAME", "medical_imaging"),
        "USER": os.environ.get("DB_USER", "postgres"),
        "PASSWORD": os.environ.get("DB_PASSWORD", ""),
        "HOST": os.environ.get("DB_HOST", "localhost"),
        "PORT": os.environ.get("DB_PORT", "5432"),
    }
}

CACHES = {
    "default": {
        "BACKEND": "cachequeue_django.cache.CacheQueueCache",
        "LOCATION": "django_cache",
        "TIMEOUT": 300,
        "OPTIONS": {"MAX_ENTRIES": 10000, "CULL_FREQUENCY": 4},
    }
}

# The runner reads the same file: QUEUE_CONFIG_FILE=queue_config.json in .env or the
# environment (the worker runs in this folder).
QUEUE_CONFIG = queue_config(str(BASE_DIR / "queue_config.json"))
