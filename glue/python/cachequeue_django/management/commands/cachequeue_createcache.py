"""Creates the cachequeue caches the CACHES setting names, as createcachetable does for
Django's DatabaseCache (the backend also creates a missing cache on first use)."""
from typing import Any

from django.core.cache import caches
from django.core.management.base import BaseCommand

from cachequeue_django.cache import CacheQueueCache


class Command(BaseCommand):
    help = "Creates the cachequeue caches of the CACHES setting that do not exist yet."

    def handle(self, *args: Any, **options: Any) -> None:
        for alias in caches:
            cache = caches[alias]
            if isinstance(cache, CacheQueueCache):
                created = cache.create()
                state = "created" if created else "exists"
                self.stdout.write("%s: cache %s %s" % (alias, cache.location, state))
