"""Prints settings.QUEUE_CONFIG as the JSON `cachequeue` reads (QUEUE_CONFIG_FILE)."""
import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Writes settings.QUEUE_CONFIG as JSON, for cachequeue's QUEUE_CONFIG_FILE."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", help="write to this file instead of stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        config = getattr(settings, "QUEUE_CONFIG", None)
        if not isinstance(config, dict):
            raise CommandError("settings.QUEUE_CONFIG is not set (or not a dict)")
        try:
            text = json.dumps(config, indent=2, allow_nan=False) + "\n"
        except (TypeError, ValueError) as error:
            raise CommandError("QUEUE_CONFIG cannot be written as JSON: %s" % error)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as out:
                out.write(text)
        else:
            self.stdout.write(text, ending="")
