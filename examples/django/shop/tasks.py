"""The example's tasks: plain functions, run by `manage.py cachequeue_handler`."""
import os

from django.core.cache import cache

from cachequeue_django import task


@task(queue="email")
def send_welcome_email(payload: dict) -> dict:
    # Stands for the real sending; a job may run twice, so remember what was sent.
    if cache.add("welcome-sent:" + payload["email"], True, timeout=None):
        print("sending the welcome email to", payload["email"])  # a log line, on stderr
    return {"sent_to": payload["email"], "handled_by": os.getpid()}


@task(queue="report")
def generate_report(payload: dict) -> dict:
    if "study" not in payload:
        raise ValueError("no study given")
    return {"report": "study-%s.pdf" % payload["study"]}
