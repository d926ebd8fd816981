"""Tasks outside any installed app, loaded by `cachequeue_handler --module extra_tasks`."""
from cachequeue_django import task


@task
def shout(payload: dict) -> str:
    return payload["text"].upper()
