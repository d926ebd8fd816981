"""cachequeue for Django: a cache backend (cachequeue_django.cache.CacheQueueCache), jobs
enqueued in the caller's transaction, and task functions run by `cachequeue worker` through
the long-lived handler `manage.py cachequeue_handler`. See the README's Django section.

The names below are imported on first use, so that settings.py may import
cachequeue_django.conf before Django is configured."""
from typing import Any

__all__ = ["Job", "JobInfo", "enqueue", "job_status", "task"]


def __getattr__(name: str) -> Any:
    if name in ("Job", "enqueue", "job_status"):
        from . import jobs

        return getattr(jobs, name)
    if name in ("JobInfo", "task"):
        from . import registry

        return getattr(registry, name)
    raise AttributeError("module 'cachequeue_django' has no attribute %r" % name)
