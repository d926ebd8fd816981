from django.apps import AppConfig


class CacheQueueConfig(AppConfig):
    """Listed in INSTALLED_APPS for the management commands."""

    name = "cachequeue_django"
    verbose_name = "cachequeue"
