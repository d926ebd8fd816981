#!/usr/bin/env python3
"""The worker benchmark's no-op long-lived handler (see docs/handlers.md for the protocol).

Reads one JSON job per line on stdin and answers each with {"id": <the job's id>,
"result": null} on one line, flushed at once. It does no work: what a job costs with it is
the worker's round trip through the pipes, the JSON parse of the job line and one write.
It exits when the worker closes its stdin.
"""
import json
import sys

replies = sys.stdout

for line in sys.stdin:
    job_id = json.loads(line)["id"]
    replies.write('{"id": %d, "result": null}\n' % job_id)
    replies.flush()
