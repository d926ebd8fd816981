#!/usr/bin/python3
"""A long-lived handler for generate_report and export_data: started once per worker slot,
fed one job per line on stdin, answering one line per job on stdout (see docs/handlers.md).
A Django management command does the same after django.setup(), paying for it once."""
import json
import sys
import time


def generate_report(payload: dict) -> dict:
    time.sleep(0.05)  # stands for the real work
    return {"report": f"study-{payload['study']}.pdf"}


def export_data(payload: dict) -> dict:
    return {"rows": 100 * int(payload.get("study", 1))}


TASKS = {"generate_report": generate_report, "export_data": export_data}

for line in sys.stdin:
    job = json.loads(line)
    try:
        reply = {"id": job["id"], "result": TASKS[job["task"]](job["payload"])}
    except Exception as error:  # the job fails with this message; the process goes on
        reply = {"id": job["id"], "error": f"{type(error).__name__}: {error}"}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
