"""Enqueue jobs in the caller's transaction and read their status (cachequeue.job_* in SQL)."""
import datetime
import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Union

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections

Delay = Union[int, float, datetime.timedelta]


def to_json(value: Any) -> str:
    """JSON text for the database: Django's encoder (dates, decimals, UUIDs), no NaN."""
    return json.dumps(value, cls=DjangoJSONEncoder, allow_nan=False)


def enqueue(
    queue: str,
    task: Union[str, Callable[..., Any]],
    payload: Optional[Dict[str, Any]] = None,
    *,
    priority: Optional[int] = None,
    run_at: Optional[datetime.datetime] = None,
    delay: Optional[Delay] = None,
    unique_key: Optional[str] = None,
    using: str = DEFAULT_DB_ALIAS,
) -> int:
    """Adds a job in the current transaction of database `using` and returns its id: if the
    transaction rolls back, the job never existed. `task` is a task name or a function
    registered with @task. `run_at` (an aware datetime) or `delay` (seconds or a timedelta,
    counted from now) schedules it; with `unique_key`, while an unfinished job of the queue
    holds the key, its id is returned and nothing is added."""
    name = getattr(task, "task_name", task)
    if not isinstance(name, str):
        raise TypeError("task must be a task name or a function registered with @task")
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise TypeError("a job's payload must be a dict (a JSON object), not %s"
                        % type(payload).__name__)
    if run_at is not None and delay is not None:
        raise ValueError("give run_at or delay, not both")
    if run_at is not None and run_at.tzinfo is None:
        raise ValueError("run_at must be an aware datetime (django.utils.timezone.now() + ...)")
    seconds = None
    if delay is not None:
        seconds = delay.total_seconds() if isinstance(delay, datetime.timedelta) else float(delay)
        if not math.isfinite(seconds):
            raise ValueError("delay must be a finite number of seconds")
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT cachequeue.job_enqueue(%s, %s, %s::jsonb, %s, COALESCE(%s,"
            " clock_timestamp() + %s * interval '1 second'), %s)",
            [queue, name, to_json(payload), priority, run_at, seconds, unique_key],
        )
        return cursor.fetchone()[0]


@dataclass(frozen=True)
class Job:
    """A job as cachequeue.job_status() shows it."""

    id: int
    queue: str
    task: str
    status: str  # queued, running, succeeded, dead or cancelled
    attempts: int
    max_retries: int
    priority: int
    payload: Any
    result: Any
    last_error: Optional[str]
    errors: List[Dict[str, Any]]
    worker: Optional[str]
    run_at: datetime.datetime
    lease_expires_at: Optional[datetime.datetime]
    enqueued_at: datetime.datetime
    started_at: Optional[datetime.datetime]
    finished_at: Optional[datetime.datetime]


def job_status(job_id: int, using: str = DEFAULT_DB_ALIAS) -> Optional[Job]:
    """The job's state, or None when no job has that id (or it was purged)."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT * FROM cachequeue.job_status(%s)", [job_id])
        row = cursor.fetchone()
    if row is None:
        return None
    fields = dict(zip(Job.__dataclass_fields__, row))
    for name in ("payload", "result", "errors"):  # Django's psycopg2 setup leaves jsonb as text
        if isinstance(fields[name], str):
            fields[name] = json.loads(fields[name])
    return Job(**fields)
