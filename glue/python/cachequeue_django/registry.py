"""Task functions for `manage.py cachequeue_handler`: registered by name with @task."""
import inspect
import traceback
import sys
from typing import Any, Callable, Dict, NamedTuple, Optional

from . import jobs

TASKS: Dict[str, Callable[..., Any]] = {}


class JobInfo(NamedTuple):
    """What a task declaring a `job` parameter receives besides the payload."""

    id: int
    queue: str
    task: str
    attempt: int


def takes_job(fn: Callable) -> bool:
    """Whether fn has a parameter named `job` (or takes **kwargs)."""
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "job" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def task(name: Optional[str] = None, *, queue: Optional[str] = None) -> Callable:
    """Registers a function as the task `name` (default: the function's name). It receives
    the job's payload (a dict), and the job's id, queue, task and attempt as a `JobInfo` when it
    has a parameter named `job`; it returns the job's result (JSON-serializable, or None); an
    exception fails the job with its message. With `queue`, `fn.enqueue(payload, ...)` adds a
    job of this task to that queue (the keywords of cachequeue_django.enqueue)."""

    def register(fn: Callable) -> Callable:
        task_name = name or fn.__name__
        if TASKS.get(task_name, fn) is not fn:
            raise ValueError("task %r is already registered (by %s.%s)" % (
                task_name, TASKS[task_name].__module__, TASKS[task_name].__qualname__))
        TASKS[task_name] = fn
        fn.task_name = task_name
        fn.takes_job = takes_job(fn)

        def enqueue(payload: Optional[Dict[str, Any]] = None, **options: Any) -> int:
            if queue is None and "queue" not in options:
                raise TypeError("task %r has no queue: pass queue=..." % task_name)
            return jobs.enqueue(options.pop("queue", queue), task_name, payload, **options)

        fn.enqueue = enqueue
        return fn

    if callable(name):  # @task without parentheses
        fn, name = name, None
        return register(fn)
    return register


def run_job(job: Dict[str, Any]) -> Dict[str, Any]:
    """The reply line for one job line of the runner's protocol (docs/handlers.md)."""
    reply: Dict[str, Any] = {"id": job["id"]}
    fn = TASKS.get(job["task"])
    if fn is None:
        reply["error"] = "no task %r registered in this process (registered: %s)" % (
            job["task"], ", ".join(sorted(TASKS)) or "none")
        return reply
    try:
        payload = job["payload"] if job.get("payload") is not None else {}
        if getattr(fn, "takes_job", False):
            context = JobInfo(job["id"], job.get("queue", ""), job["task"], job.get("attempt", 0))
            reply["result"] = fn(payload, job=context)
        else:
            reply["result"] = fn(payload)
        jobs.to_json(reply)  # a result that cannot be sent fails the job here
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        reply.pop("result", None)
        reply["error"] = "%s: %s" % (type(error).__name__, error)
    return reply
