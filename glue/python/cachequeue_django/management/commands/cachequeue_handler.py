"""A long-lived handler for `cachequeue worker`: one JSON job per line on stdin, one reply
per line on stdout (docs/handlers.md). Django is set up once, by manage.py, for all the jobs
this process runs; the tasks are the functions registered with @task in the `tasks` modules
of INSTALLED_APPS (and in the modules named by --module)."""
import importlib
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.module_loading import autodiscover_modules

from cachequeue_django.jobs import to_json
from cachequeue_django.registry import run_job


class Command(BaseCommand):
    help = "Runs jobs for cachequeue worker (QUEUE_CONFIG HANDLERS, persistent: true)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--module", action="append", default=[], help="also import this module's tasks"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        replies = sys.stdout  # the protocol's channel: nothing else may write there
        sys.stdout = sys.stderr  # a print() in task code becomes a log line
        autodiscover_modules("tasks")
        for module in options["module"]:
            importlib.import_module(module)
        for line in sys.stdin:  # ends when the worker closes stdin
            job = json.loads(line)
            close_old_connections()  # as between two requests: drop broken or old ones
            try:
                reply = run_job(job)
            finally:
                close_old_connections()
            replies.write(to_json(reply) + "\n")
            replies.flush()
