#!/usr/bin/python3
"""Runs the Django suite (test_*.py here) on a fresh database with the extension, on the
cluster PGHOST/PGPORT name. The last line is "django: N passed, N failed"."""
import os
import sys
import unittest
from pathlib import Path

here = Path(__file__).resolve().parent
repo = here.parent.parent
sys.path[:0] = [str(repo / "glue" / "python"), str(here)]
os.environ["DJANGO_SETTINGS_MODULE"] = "settings"
os.environ.setdefault("CQ_DJANGO_DB", "cq_django")


def recreate_database(name: str) -> None:
    import psycopg2

    admin = psycopg2.connect(dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS %s" % name)
        cursor.execute("CREATE DATABASE %s" % name)
    admin.close()
    db = psycopg2.connect(dbname=name)
    db.autocommit = True
    with db.cursor() as cursor:
        cursor.execute("CREATE EXTENSION cachequeue")
        # The role of an application that may use caches and enqueue, not create caches.
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = 'cq_django_app'")
        if cursor.fetchone() is None:
            cursor.execute("CREATE ROLE cq_django_app LOGIN")
        cursor.execute("GRANT cachequeue_user, cachequeue_producer TO cq_django_app")
    db.close()


def main() -> int:
    recreate_database(os.environ["CQ_DJANGO_DB"])
    import django

    django.setup()
    names = sys.argv[1:]
    loader = unittest.TestLoader()
    suite = (loader.loadTestsFromNames(names) if names
             else loader.discover(str(here), pattern="test_*.py", top_level_dir=str(here)))
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    print("django: %d passed, %d failed" % (result.testsRun - failed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
