"""End to end: the example project (examples/django) enqueues from its view, and
`cachequeue worker` runs the jobs through `manage.py cachequeue_handler`."""
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Dict, List

from django.core.cache import cache
from django.db import connection

from cachequeue_django import enqueue, job_status

repo = Path(__file__).resolve().parents[2]
project = repo / "examples" / "django"
runner = repo / "glue" / "cachequeue"


class WorkerTests(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.env = dict(
            os.environ,
            PYTHONPATH=str(repo / "glue" / "python"),
            DJANGO_SETTINGS_MODULE="mysite.settings",
            DB_HOST=os.environ["PGHOST"],
            DB_PORT=os.environ["PGPORT"],
            DB_NAME=connection.settings_dict["NAME"],
            DB_USER=connection.settings_dict["USER"],
            DB_PASSWORD="",
            CACHEQUEUE_LOG_LEVEL="warning",
        )
        for name in ("DATABASE_URL", "USE_SUPABASE", "QUEUE_CONFIG", "QUEUE_CONFIG_FILE"):
            self.env.pop(name, None)

    def tearDown(self) -> None:
        self.tmp.cleanup()

    def run_in_project(self, argv: List[str], timeout: float = 60) -> str:
        done = subprocess.run(argv, cwd=project, env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0:
            self.fail("%s exited %d:\n%s%s" % (argv, done.returncode, done.stdout, done.stderr))
        return done.stdout

    def manage(self, *args: str) -> str:
        return self.run_in_project([sys.executable, "manage.py", *args])

    def test_view_enqueues_and_worker_runs_django_tasks(self) -> None:
        # The runner reads the QUEUE_CONFIG of the Django settings.
        config = Path(self.tmp.name) / "queue_config.json"
        self.manage("cachequeue_queue_config", "--output", str(config))
        self.assertEqual(json.loads(config.read_text()),
                         json.loads((project / "queue_config.json").read_text()))
        self.env["QUEUE_CONFIG_FILE"] = str(config)
        self.run_in_project([str(runner), "queue", "sync"])

        # Sign-ups through the example's view: each enqueues a job in its transaction.
        emails = ["ana@example.org", "ben@example.org", "eva@example.org"]
        out = self.manage("shell", "-c", "\n".join([
            "import json",
            "from django.test import Client",
            "client = Client()",
            "for email in %r:" % emails,
            "    print(client.post('/signup/', {'email': email}).content.decode())",
        ]))
        replies: List[Dict[str, int]] = [json.loads(line) for line in out.splitlines()]
        self.assertEqual([reply["signups"] for reply in replies], [1, 2, 3])
        good = enqueue("report", "generate_report", {"study": 7})
        bad = enqueue("report", "generate_report", {})

        self.run_in_project([str(runner), "worker", "email", "report", "--until-empty"])

        pids = set()
        for email, reply in zip(emails, replies):
            job = job_status(reply["job"])
            self.assertEqual((job.status, job.result["sent_to"]), ("succeeded", email))
            pids.add(job.result["handled_by"])
            self.assertIs(cache.get("welcome-sent:" + email), True)  # the task's cache write
        self.assertEqual(len(pids), 1)  # one handler process, Django set up once, 3 jobs
        self.assertEqual(job_status(good).result, {"report": "study-7.pdf"})
        failed = job_status(bad)
        self.assertEqual((failed.status, failed.attempts), ("queued", 1))  # a retry is due
        self.assertEqual(failed.last_error, "ValueError: no study given")

        # The example's status view.
        out = self.manage("shell", "-c", "from django.test import Client; print(Client()"
                          ".get('/jobs/%d/').content.decode())" % good)
        self.assertEqual(json.loads(out), {"status": "succeeded", "error": None,
                                           "result": {"report": "study-7.pdf"}})

    def test_handler_speaks_the_line_protocol(self) -> None:
        lines = [
            {"id": 1, "queue": "report", "task": "generate_report", "attempt": 1,
             "payload": {"study": 3}},
            {"id": 2, "queue": "report", "task": "generate_report", "attempt": 1,
             "payload": {}},
            {"id": 3, "queue": "x", "task": "unknown", "attempt": 1, "payload": None},
            {"id": 4, "queue": "x", "task": "shout", "attempt": 1, "payload": {"text": "hi"}},
            {"id": 5, "queue": "x", "task": "whoami", "attempt": 3, "payload": None},
        ]
        self.env["PYTHONPATH"] += os.pathsep + str(Path(__file__).resolve().parent)
        done = subprocess.run(
            [sys.executable, "manage.py", "cachequeue_handler", "--module", "extra_tasks"],
            cwd=project, env=self.env,
            input="".join(json.dumps(line) + "\n" for line in lines), capture_output=True,
            text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        replies = [json.loads(line) for line in done.stdout.splitlines()]
        self.assertEqual(replies[:2], [{"id": 1, "result": {"report": "study-3.pdf"}},
                                       {"id": 2, "error": "ValueError: no study given"}])
        self.assertEqual(replies[2]["id"], 3)
        self.assertIn("no task 'unknown' registered", replies[2]["error"])
        self.assertEqual(replies[3], {"id": 4, "result": "HI"})
        self.assertEqual(replies[4], {"id": 5, "result": {"id": 5, "queue": "x",
                                                          "task": "whoami", "attempt": 3}})
        self.assertIn("ValueError: no study given", done.stderr)  # the traceback, logged
