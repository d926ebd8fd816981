"""Tasks outside any installed app, loaded by `cachequeue_handler --module extra_tasks`."""
from cachequeue_django import task
from cachequeue_django import JobInfo


@task
def shout(payload: dict) -> str:
    return payload["text"].upper()


@task
def whoami(payload: dict, job: JobInfo) -> dict:
    return {"id": job.id, "queue": job.queue, "task": job.task, "attempt": job.attempt}
