#!/usr/bin/env python3
"""A long-lived cachequeue handler: one JSON job per line on stdin, one JSON reply per line.

The example of docs/handlers.md, plus tasks with which the unit tests make it misbehave.
"""
import json
import os
import sys
import threading
import time

replies = sys.stdout  # the protocol's channel: nothing else may write here
sys.stdout = sys.stderr  # so a stray print() in task code goes to stderr


def echo(payload):
    return payload


def pid(payload):
    return os.getpid()


def fail(payload):
    raise ValueError(payload)


def log(payload):
    for line in payload:
        print(line)  # lands on stderr
    return len(payload)


def sleep(payload):
    time.sleep(payload)
    return "slept"


def crash(payload):
    sys.stderr.write("crashing on purpose\n")
    sys.stderr.flush()
    os._exit(3)


def not_json(payload):
    replies.write("this is not json\n")


def wrong_id(payload):
    replies.write(json.dumps({"id": payload, "result": None}) + "\n")


def exit_soon(payload):
    threading.Timer(0.1, os._exit, [0]).start()
    return "leaving"


TASKS = {
    f.__name__: f
    for f in (echo, pid, fail, log, sleep, crash, not_json, wrong_id, exit_soon)
}

for line in sys.stdin:
    job = json.loads(line)
    try:
        if job["task"].startswith("fields"):  # any task so named: the job line's fields back
            result = {key: job[key] for key in ("queue", "task", "attempt")}
        else:
            result = TASKS[job["task"]](job["payload"])
        reply = {"id": job["id"], "result": result}
    except Exception as exc:
        reply = {"id": job["id"], "error": f"{type(exc).__name__}: {exc}"}
    replies.write(json.dumps(reply) + "\n")
    replies.flush()
