"""Django settings of the Django suite: the test cluster (PGHOST, PGPORT, CQ_DJANGO_DB) and
cache aliases that differ in limits, prefix, version and key function."""
import os

SECRET_KEY = "tests"
USE_TZ = True
INSTALLED_APPS = ["cachequeue_django"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("CQ_DJANGO_DB", "cq_django"),
        "USER": os.environ.get("PGUSER", "postgres"),
        "HOST": os.environ["PGHOST"],
        "PORT": os.environ["PGPORT"],
    },
}
# The same database as a role with cachequeue_user and cachequeue_producer only.
DATABASES["app"] = dict(DATABASES["default"], USER="cq_django_app")
BACKEND = "cachequeue_django.cache.CacheQueueCache"
LIMITS = {"MAX_ENTRIES": 10000, "CULL_FREQUENCY": 4}


def key_upper(key: str, key_prefix: str, version: int) -> str:
    return "%s|%s|%s" % (key_prefix, version, key.upper())


CACHES = {
    "default": {"BACKEND": BACKEND, "LOCATION": "django_cache", "TIMEOUT": 300,
                "OPTIONS": LIMITS},
    # Same LOCATION, other keys: a prefix, a version, a key function.
    "prefixed": {"BACKEND": BACKEND, "LOCATION": "django_cache", "KEY_PREFIX": "site2",
                 "OPTIONS": LIMITS},
    "v2": {"BACKEND": BACKEND, "LOCATION": "django_cache", "VERSION": 2, "OPTIONS": LIMITS},
    "keyfunc": {"BACKEND": BACKEND, "LOCATION": "django_cache", "KEY_FUNCTION": key_upper,
                "OPTIONS": LIMITS},
    "forever": {"BACKEND": BACKEND, "LOCATION": "django_cache", "TIMEOUT": None,
                "OPTIONS": LIMITS},
    # One small cache shared by two aliases with different limits.
    "small": {"BACKEND": BACKEND, "LOCATION": "small_cache",
              "OPTIONS": {"MAX_ENTRIES": 10, "CULL_FREQUENCY": 2}},
    "small_big": {"BACKEND": BACKEND, "LOCATION": "small_cache",
                  "OPTIONS": {"MAX_ENTRIES": 1000, "CULL_FREQUENCY": 2}},
    "small_clear": {"BACKEND": BACKEND, "LOCATION": "small_cache",
                    "OPTIONS": {"MAX_ENTRIES": 10, "CULL_FREQUENCY": 0}},
    # Created on first use.
    "fresh": {"BACKEND": BACKEND, "LOCATION": "fresh_cache", "OPTIONS": LIMITS},
    "fresh_atomic": {"BACKEND": BACKEND, "LOCATION": "fresh_atomic", "OPTIONS": LIMITS},
}
