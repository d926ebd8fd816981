#!/usr/bin/python3
"""A command handler: cachequeue worker starts it once per send_email job.

The payload arrives as JSON on stdin; the job's id, queue, task and attempt are in the
environment. What it prints as JSON is the job's result; a non-zero exit fails the job with
the end of what it wrote to stderr.
"""
import json
import os
import sys

payload = json.load(sys.stdin)
to = payload.get("to")
if not to:
    print("payload has no 'to' address", file=sys.stderr)
    sys.exit(1)
# A real handler would talk to the mail server here.
json.dump({"sent_to": to, "job": int(os.environ["CACHEQUEUE_JOB_ID"])}, sys.stdout)
