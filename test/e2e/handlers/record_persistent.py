#!/usr/bin/python3
"""A long-lived handler for the end-to-end tests: one JSON job per line on stdin, one JSON
reply per line on stdout. Records runs as record.py does."""
import json
import os
import sys
import time

record = os.environ["CQ_RECORD"]

for line in sys.stdin:
    job = json.loads(line)
    payload = job.get("payload") or {}
    with open(record, "a") as out:
        out.write(f"start {job['id']} {job['attempt']} {os.getpid()}\n")
    delay = payload.get("sleep", 0)
    if job["attempt"] == 1:
        delay = payload.get("sleep_first", delay)
    time.sleep(delay)
    if "error" in payload:
        reply = {"id": job["id"], "error": payload["error"]}
    else:
        with open(record, "a") as out:
            out.write(f"done {job['id']}\n")
        reply = {"id": job["id"], "result": {"job": job["id"], "pid": os.getpid()}}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
