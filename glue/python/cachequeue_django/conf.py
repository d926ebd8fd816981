"""Settings shared with the `cachequeue` runner; safe to import from settings.py."""
import json
import os
from typing import Any, Dict, Optional


def queue_config(default_file: Optional[str] = None) -> Dict[str, Any]:
    """QUEUE_CONFIG read from where `cachequeue` reads it: the file QUEUE_CONFIG_FILE names,
    else the JSON in QUEUE_CONFIG, else default_file, else {}. Relative paths are taken from
    the current folder, as the runner takes them."""
    path = os.environ.get("QUEUE_CONFIG_FILE") or None
    if path is None and os.environ.get("QUEUE_CONFIG"):
        return json.loads(os.environ["QUEUE_CONFIG"])
    path = path or default_file
    if path is None:
        return {}
    with open(path, encoding="utf-8") as config:
        return json.load(config)
