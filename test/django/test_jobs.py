"""enqueue(), job_status() and @task, in the caller's transactions."""
import contextlib
import datetime
import io
import unittest

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cachequeue_django import enqueue, job_status, task
from cachequeue_django.registry import TASKS, run_job


def sql(query: str, *params: object) -> object:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()[0]


@task(queue="jobs_test")
def add_numbers(payload: dict) -> int:
    return payload["a"] + payload["b"]


@task("named_task")
def broken(payload: dict) -> None:
    raise LookupError("study %s not found" % payload.get("study"))


@task
def not_json(payload: dict) -> object:
    return {1, 2}


class EnqueueTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        sql("SELECT count(cachequeue.queue_create(q, 3, '30 s', p))"
            " FROM (VALUES ('jobs_test', 5), ('jobs_other', 0)) v(q, p)")

    def queued(self) -> int:
        return sql("SELECT count(*) FROM cachequeue.jobs j JOIN cachequeue.queues q"
                   " ON q.id = j.queue_id WHERE q.name = 'jobs_test'")

    def test_rolled_back_transaction_leaves_no_job(self) -> None:
        before = self.queued()
        with self.assertRaises(RuntimeError):
            with transaction.atomic():
                job_id = enqueue("jobs_test", "add_numbers", {"a": 1, "b": 2})
                self.assertEqual(job_status(job_id).status, "queued")  # visible inside
                raise RuntimeError("roll back")
        self.assertEqual(self.queued(), before)
        self.assertIsNone(job_status(job_id))

    def test_committed_transaction_keeps_the_job(self) -> None:
        with transaction.atomic():
            with CaptureQueriesContext(connection) as queries:
                job_id = enqueue("jobs_test", add_numbers, {"a": 1, "b": 2})
            self.assertEqual(len(queries), 1)
        job = job_status(job_id)
        self.assertEqual((job.queue, job.task, job.status, job.payload, job.priority),
                         ("jobs_test", "add_numbers", "queued", {"a": 1, "b": 2}, 5))
        self.assertEqual((job.attempts, job.max_retries, job.result, job.errors), (0, 3, None, []))

    def test_options(self) -> None:
        when = timezone.now() + datetime.timedelta(hours=1)
        job = job_status(enqueue("jobs_test", "t", run_at=when, priority=9))
        self.assertEqual((job.run_at, job.priority, job.payload), (when, 9, {}))
        before = timezone.now()
        job = job_status(add_numbers.enqueue({"a": 1, "b": 1},
                                             delay=datetime.timedelta(minutes=5)))
        self.assertTrue(datetime.timedelta(minutes=4) < job.run_at - before
                        < datetime.timedelta(minutes=6))
        job = job_status(enqueue("jobs_other", "t", delay=30))
        self.assertTrue(20 < (job.run_at - before).total_seconds() < 40)
        self.assertEqual(add_numbers.enqueue({"a": 0, "b": 0}, queue="jobs_other") > 0, True)

    def test_unique_key(self) -> None:
        first = enqueue("jobs_test", "t", {"study": 7}, unique_key="report:7")
        self.assertEqual(enqueue("jobs_test", "t", {"study": 7}, unique_key="report:7"), first)
        self.assertNotEqual(enqueue("jobs_other", "t", unique_key="report:7"), first)

    def test_payload_encoding(self) -> None:
        when = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.timezone.utc)
        import decimal
        import uuid

        payload = {"when": when, "amount": decimal.Decimal("9.50"),
                   "id": uuid.UUID(int=1), "nested": [1, "é"]}
        job = job_status(enqueue("jobs_test", "t", payload))
        self.assertEqual(job.payload, {"when": "2026-12-03T12:00:00Z", "amount": "9.50",
                                       "id": "00000000-0000-0000-0000-000000000001",
                                       "nested": [1, "é"]})

    def test_bad_input_is_refused_before_the_database(self) -> None:
        with transaction.atomic():
            with self.assertRaises(TypeError):
                enqueue("jobs_test", "t", ["not", "an", "object"])  # type: ignore[arg-type]
            with self.assertRaises(ValueError):
                enqueue("jobs_test", "t", {"x": float("nan")})
            with self.assertRaises(ValueError):
                enqueue("jobs_test", "t", run_at=timezone.now(), delay=1)
            with self.assertRaises(ValueError):
                enqueue("jobs_test", "t", run_at=datetime.datetime(2030, 1, 1))
            with self.assertRaises(ValueError):
                enqueue("jobs_test", "t", delay=float("inf"))
            with self.assertRaises(TypeError):
                enqueue("jobs_test", 42)  # type: ignore[arg-type]
            with self.assertRaises(TypeError):
                broken.enqueue({})  # registered without a queue
            self.assertGreater(enqueue("jobs_test", "t"), 0)  # the transaction goes on

    def test_database_errors_keep_their_sqlstate(self) -> None:
        from django.db import DatabaseError

        with self.assertRaises(DatabaseError) as caught:
            enqueue("no_such_queue", "t")
        self.assertEqual(caught.exception.__cause__.pgcode, "42704")

    def test_application_role(self) -> None:
        from django.db import connections

        with transaction.atomic(using="app"):
            job_id = enqueue("jobs_test", "t", {"x": 1}, using="app")
        self.assertEqual(job_status(job_id, using="app").payload, {"x": 1})
        connections["app"].close()

    def test_unknown_job(self) -> None:
        self.assertIsNone(job_status(10**12))


class RegistryTests(unittest.TestCase):
    def test_registered_names(self) -> None:
        self.assertIs(TASKS["add_numbers"], add_numbers)
        self.assertIs(TASKS["named_task"], broken)
        self.assertIs(TASKS["not_json"], not_json)
        with self.assertRaises(ValueError):
            task("add_numbers")(lambda payload: None)

    def test_run_job_replies(self) -> None:
        with contextlib.redirect_stderr(io.StringIO()) as logs:
            self.check_replies()
        self.assertIn("Traceback", logs.getvalue())  # the handler logs what went wrong

    def check_replies(self) -> None:
        line = {"id": 5, "queue": "q", "task": "add_numbers", "attempt": 1,
                "payload": {"a": 2, "b": 3}}
        self.assertEqual(run_job(line), {"id": 5, "result": 5})
        self.assertEqual(run_job(dict(line, task="named_task", payload={"study": 7})),
                         {"id": 5, "error": "LookupError: study 7 not found"})
        self.assertEqual(run_job(dict(line, task="not_json"))["error"][:10], "TypeError:")
        self.assertIn("no task 'nope' registered",
                      run_job(dict(line, task="nope"))["error"])
