#!/usr/bin/python3
"""Django cache API throughput: Django's DatabaseCache, django-redis and cachequeue's backend
(unlogged, and logged as DatabaseCache's table is), get and set at 1 and 4 processes, in one
run. Called by django_bench.sh, which starts PostgreSQL and redis-server; prints a Markdown
table of operations per second and the ratios."""
import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "glue" / "python"))
LIMITS = {"MAX_ENTRIES": 10000, "CULL_FREQUENCY": 4}
NO_FLUSH = "cachequeue, unlogged_commit_flush = off"
BACKENDS = {
    "DatabaseCache": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                      "LOCATION": "django_cache_table"},
    "django-redis": {"BACKEND": "django_redis.cache.RedisCache"},
    "cachequeue": {"BACKEND": "cachequeue_django.cache.CacheQueueCache",
                   "LOCATION": "bench_unlogged"},
    "cachequeue (logged)": {"BACKEND": "cachequeue_django.cache.CacheQueueCache",
                            "LOCATION": "bench_logged", "OPTIONS": {"UNLOGGED": False}},
    # PostgreSQL's own commit of an unlogged write, as a hand-written unlogged cache table
    # gets: through a connection that turns cachequeue's flush of completed WAL pages off.
    NO_FLUSH: {"BACKEND": "cachequeue_django.cache.CacheQueueCache",
               "LOCATION": "bench_unlogged", "OPTIONS": {"DATABASE": "no_flush"}},
}


def configure(redis_socket: str) -> None:
    from django.conf import settings

    caches = {}
    for name, spec in BACKENDS.items():
        options = dict(LIMITS, **spec.get("OPTIONS", {}))
        caches[name] = dict(spec, TIMEOUT=300, OPTIONS=options)
    caches["django-redis"]["LOCATION"] = "unix://%s?db=0" % redis_socket
    default = {"ENGINE": "django.db.backends.postgresql", "NAME": os.environ["PGDATABASE"],
               "USER": "postgres", "HOST": os.environ["PGHOST"], "PORT": os.environ["PGPORT"]}
    no_flush = dict(default, OPTIONS={"options": "-c cachequeue.unlogged_commit_flush=off"})
    settings.configure(DATABASES={"default": default, "no_flush": no_flush}, CACHES=caches,
                       USE_TZ=True)
    import django

    django.setup()


def worker(backend: str, op: str, keys: int, seconds: float, warmup: float,
           barrier: "multiprocessing.synchronize.Barrier", counts: "multiprocessing.Queue",
           seed: int, pin: bool) -> None:
    from django.core.cache import caches

    cache = caches[backend]
    value = "v" * 100
    names = ["bench:k%d" % i for i in range(keys)]
    i = seed * 7919

    def run(until: float) -> int:
        nonlocal i
        n = 0
        while time.monotonic() < until:
            key = names[i % keys]
            i += 1
            if op == "get":
                cache.get(key)
            else:
                cache.set(key, value)
            n += 1
        return n

    if pin:
        os.sched_setaffinity(0, {0})  # before the first call opens the connection
    run(time.monotonic() + warmup)
    barrier.wait()
    counts.put(run(time.monotonic() + seconds))


def server_query(sql: str) -> List[tuple]:
    """Runs sql on a connection of its own, in autocommit (no transaction is left open on the
    server between runs); its rows."""
    import psycopg2

    db = psycopg2.connect(dbname=os.environ["PGDATABASE"])
    db.autocommit = True
    try:
        with db.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else []
    finally:
        db.close()


def wal_syncs() -> Tuple[int, float]:
    """The server's WAL flushes so far and the milliseconds they took (pg_stat_wal; the time
    needs track_wal_io_timing, which django_bench.sh turns on)."""
    syncs, ms = server_query("SELECT wal_sync, wal_sync_time FROM pg_stat_wal")[0]
    return int(syncs), float(ms)


def walwriter_wakeups() -> int:
    """How many times the WAL writer process has gone to sleep and woken up so far (its
    voluntary context switches, from /proc); -1 if it cannot be read."""
    rows = server_query("SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'")
    try:
        with open("/proc/%d/status" % rows[0][0]) as status:
            for line in status:
                if line.startswith("voluntary_ctxt_switches:"):
                    return int(line.split()[1])
    except (IndexError, OSError):
        pass
    return -1


def measure(backend: str, op: str, procs: int, args: argparse.Namespace) -> float:
    from django.db import connections

    connections.close_all()  # the children open their own
    # A 1-process run shares CPU 0 with the servers' processes (see bench/README.md).
    pin = procs == 1 and bool(args.pin)
    masks = {pid: os.sched_getaffinity(pid) for pid in args.pin}
    if pin:
        for pid in args.pin:
            os.sched_setaffinity(pid, {0})
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(procs)
    counts = context.Queue()
    children = [context.Process(target=worker, args=(backend, op, args.keys, args.seconds,
                                                     args.warmup, barrier, counts, n, pin))
                for n in range(procs)]
    try:
        for child in children:
            child.start()
        total = sum(counts.get(timeout=args.seconds + args.warmup + 120) for _ in children)
        for child in children:
            child.join()
            if child.exitcode != 0:
                raise SystemExit("django_bench: a %s %s process failed" % (backend, op))
    finally:
        for pid, mask in masks.items():
            os.sched_setaffinity(pid, mask)
    return total / args.seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis-socket", required=True)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--pin", type=int, nargs="*", default=[],
                        help="pids (the postmaster, redis-server) to put on CPU 0 with each"
                        " 1-process run")
    args = parser.parse_args()
    configure(args.redis_socket)
    from django.core.cache import caches

    for backend in BACKENDS:  # the keys get reads: every key present, none expiring
        caches[backend].clear()
        caches[backend].set_many({"bench:k%d" % i: "v" * 100 for i in range(args.keys)})
    rates: Dict[Tuple[str, str, int], float] = {}
    flushes: Dict[int, Tuple[int, float]] = {}  # DatabaseCache's sets: WAL flushes, ms
    wakeups: Dict[Tuple[str, int], float] = {}  # the WAL writer's wake-ups/s in set runs
    for op in ("get", "set"):
        for procs in (1, 4):
            for backend in BACKENDS:
                before = wal_syncs()
                woken = walwriter_wakeups()
                started = time.monotonic()
                rates[backend, op, procs] = measure(backend, op, procs, args)
                now = walwriter_wakeups()
                if op == "set":
                    wakeups[backend, procs] = ((now - woken) / (time.monotonic() - started)
                                               if min(now, woken) >= 0 else -1.0)
                if backend == "DatabaseCache" and op == "set":
                    after = wal_syncs()
                    flushes[procs] = (after[0] - before[0], after[1] - before[1])
                print("django_bench: %s %s %d: %.0f/s" % (backend, op, procs,
                                                          rates[backend, op, procs]),
                      file=sys.stderr, flush=True)

    print("| backend | get, 1 process | get, 4 processes | set, 1 process | set, 4 processes |")
    print("|---|---:|---:|---:|---:|")
    for backend in BACKENDS:
        cells = ["%.0f" % rates[backend, op, n] for op in ("get", "set") for n in (1, 4)]
        print("| %s | %s |" % (backend, " | ".join(cells)))
    print()
    print("| ratio (same run) | 1 process | 4 processes | target |")
    print("|---|---:|---:|---|")
    rows: List[Tuple[str, str, str, str]] = [
        ("set", "cachequeue", "DatabaseCache", ">= 10"),
        ("get", "cachequeue", "DatabaseCache", ">= 1.0"),
        ("set", "cachequeue (logged)", "DatabaseCache", ""),
        ("get", "cachequeue (logged)", "DatabaseCache", ""),
        ("set", "cachequeue", "django-redis", "reported"),
        ("get", "cachequeue", "django-redis", "reported"),
        ("set", NO_FLUSH, "DatabaseCache", ""),
    ]
    for op, ours, reference, target in rows:
        ratios = ["%.2f" % (rates[ours, op, n] / rates[reference, op, n]) for n in (1, 4)]
        print("| %s: %s / %s | %s | %s | %s |" % (op, ours, reference, ratios[0], ratios[1],
                                                  target))
    print()
    print("DatabaseCache's set commits wait for the WAL to reach the disk, and its pace follows")
    print("how long that takes (pg_stat_wal over its set runs, warm-up included):")
    print()
    print("| DatabaseCache sets | WAL flushes | average flush | sets/s |")
    print("|---|---:|---:|---:|")
    for procs, (count, ms) in sorted(flushes.items()):
        average = "%.0f µs" % (ms * 1000 / count) if count else "n/a"
        print("| %d process%s | %d | %s | %.0f |" % (procs, "" if procs == 1 else "es", count,
                                                    average, rates["DatabaseCache", "set", procs]))
    print()
    print("An unlogged cache's write commits without waiting for the disk. On PostgreSQL 15 such")
    print("a commit signals the WAL writer (SetLatch, a kill(2)) whenever a completed WAL page")
    print("is not yet flushed, which with the default wal_writer_flush_after (1MB) is nearly")
    print("always. cachequeue.unlogged_commit_flush (on by default) has the commit that starts")
    print("a new WAL page flush the pages before it, and the commits after it find them flushed.")
    print("The WAL writer's wake-ups per second during the set runs (warm-up included; its")
    print("voluntary context switches, from /proc):")
    print()
    print("| backend | 1 process | 4 processes |")
    print("|---|---:|---:|")
    for backend in BACKENDS:
        cells = ["%.0f" % wakeups[backend, n] if wakeups[backend, n] >= 0 else "n/a"
                 for n in (1, 4)]
        print("| %s | %s |" % (backend, " | ".join(cells)))


if __name__ == "__main__":
    main()
