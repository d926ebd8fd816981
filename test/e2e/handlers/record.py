#!/usr/bin/python3
"""A command handler for the end-to-end tests: one process per job.

Reads the payload from stdin; appends "start ID ATTEMPT" and "done ID" lines to the file named
by CQ_RECORD (so the test can count runs); sleeps payload["sleep"] seconds first (or
payload["sleep_first"] on the first attempt only), exits with payload["exit"] if given.
"""
import json
import os
import sys
import time

payload = json.load(sys.stdin)
job = os.environ["CACHEQUEUE_JOB_ID"]
attempt = int(os.environ["CACHEQUEUE_ATTEMPT"])
record = os.environ["CQ_RECORD"]


def note(line: str) -> None:
    with open(record, "a") as out:
        out.write(line + "\n")


note(f"start {job} {attempt} {os.getpid()}")
delay = payload.get("sleep", 0)
if attempt == 1:
    delay = payload.get("sleep_first", delay)
time.sleep(delay)
if "exit" in payload:
    print("failing as asked", file=sys.stderr)
    sys.exit(payload["exit"])
note(f"done {job}")
json.dump({"job": int(job), "queue": os.environ["CACHEQUEUE_QUEUE"]}, sys.stdout)
