"""The cache backend, method by method, through Django's cache API on the real extension."""
import datetime
import decimal
import threading
import time
import unittest
import warnings

from asgiref.sync import async_to_sync
from django.core.cache import CacheKeyWarning, InvalidCacheKey, cache, caches
from django.db import DataError, ProgrammingError, connection, connections, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from cachequeue_django.cache import CacheQueueCache


class Point:
    """An arbitrary object: stored pickled."""

    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)


def sql(query: str, *params: object) -> object:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()[0]


def ttl(made_key: str, location: str = "django_cache") -> object:
    return sql("SELECT cachequeue.cache_ttl(%s, %s)", location, made_key)


class CacheTestCase(unittest.TestCase):
    def setUp(self) -> None:
        cache.clear()
        caches["small"].clear()


class BasicTests(CacheTestCase):
    def test_set_get_default(self) -> None:
        self.assertIsNone(cache.get("missing"))
        self.assertEqual(cache.get("missing", "dflt"), "dflt")
        cache.set("a", "apple")
        self.assertEqual(cache.get("a"), "apple")
        cache.set("a", "avocado")
        self.assertEqual(cache.get("a"), "avocado")

    def test_none_is_a_value(self) -> None:
        cache.set("n", None)
        self.assertIs(cache.get("n", "dflt"), None)
        self.assertTrue(cache.has_key("n"))

    def test_pickles_arbitrary_objects(self) -> None:
        values = {
            "dict": {"a": [1, 2.5, None], "b": ("t", b"\x00\xff")},
            "point": Point(3, 4),
            "when": datetime.datetime(2026, 12, 3, 18, 0, tzinfo=datetime.timezone.utc),
            "money": decimal.Decimal("12.30"),
            "true": True,
            "float": 1.5,
            "bytes": b"\x80binary",
            "text": "héllo wörld",
            "huge": 2**80,
            "neg": -42,
            "empty": "",
        }
        for key, value in values.items():
            cache.set(key, value)
        for key, value in values.items():
            got = cache.get(key)
            self.assertEqual(got, value, key)
            self.assertIs(type(got), type(value), key)

    def test_integers_are_stored_as_decimal_text(self) -> None:
        cache.set("i", 41)
        made = cache.make_key("i")
        self.assertEqual(bytes(sql("SELECT cachequeue.cache_get('django_cache', %s)", made)),
                         b"41")
        self.assertEqual(sql("SELECT cachequeue.cache_incr('django_cache', %s)", made), 42)
        self.assertEqual(cache.get("i"), 42)
        cache.set("s", "41")  # a string stays a string
        self.assertEqual(cache.get("s"), "41")

    def test_delete_says_whether_it_deleted(self) -> None:
        cache.set("d", 1)
        self.assertTrue(cache.delete("d"))
        self.assertFalse(cache.delete("d"))
        self.assertIsNone(cache.get("d"))

    def test_has_key_and_contains(self) -> None:
        cache.set("h", 0)
        self.assertTrue(cache.has_key("h"))
        self.assertIn("h", cache)
        self.assertFalse(cache.has_key("nope"))
        cache.set("gone", 1, timeout=0)
        self.assertNotIn("gone", cache)

    def test_clear(self) -> None:
        cache.set_many({"x": 1, "y": 2})
        cache.clear()
        self.assertEqual(cache.get_many(["x", "y"]), {})

    def test_close_is_harmless(self) -> None:
        cache.set("c", 1)
        cache.close()
        self.assertEqual(cache.get("c"), 1)


class TimeoutTests(CacheTestCase):
    def test_default_timeout_is_the_alias_timeout(self) -> None:
        cache.set("t", 1)
        self.assertTrue(295 < ttl(cache.make_key("t")) <= 300)

    def test_none_keeps_forever(self) -> None:
        cache.set("t", 1, timeout=None)
        self.assertEqual(ttl(cache.make_key("t")), float("inf"))
        caches["forever"].set("f", 1)  # TIMEOUT: None
        self.assertEqual(ttl(caches["forever"].make_key("f")), float("inf"))

    def test_zero_and_negative_do_not_keep(self) -> None:
        for timeout in (0, -1, -0.5):
            cache.set("t", "old")
            cache.set("t", "new", timeout=timeout)
            self.assertIsNone(cache.get("t"), timeout)
            self.assertIsNone(ttl(cache.make_key("t")), timeout)

    def test_expiry(self) -> None:
        cache.set("soon", "x", timeout=0.3)
        cache.set("later", "y", timeout=30)
        self.assertEqual(cache.get("soon"), "x")
        time.sleep(0.5)
        self.assertIsNone(cache.get("soon"))
        self.assertFalse(cache.has_key("soon"))
        self.assertEqual(cache.get_many(["soon", "later"]), {"later": "y"})
        self.assertTrue(cache.add("soon", "again"))  # an expired key is free for add

    def test_huge_timeout_means_forever(self) -> None:
        cache.set("t", 1, timeout=10**12)
        self.assertEqual(ttl(cache.make_key("t")), float("inf"))

    def test_nan_timeout_is_refused(self) -> None:
        with self.assertRaises(ValueError):
            cache.set("t", 1, timeout=float("nan"))

    def test_touch(self) -> None:
        self.assertFalse(cache.touch("nope"))
        cache.set("t", 1, timeout=10)
        self.assertTrue(cache.touch("t", 100))
        self.assertTrue(95 < ttl(cache.make_key("t")) <= 100)
        self.assertTrue(cache.touch("t", None))
        self.assertEqual(ttl(cache.make_key("t")), float("inf"))
        self.assertTrue(cache.touch("t"))  # the alias' default
        self.assertTrue(295 < ttl(cache.make_key("t")) <= 300)
        cache.touch("t", 0)
        self.assertIsNone(cache.get("t"))


class AddTests(CacheTestCase):
    def test_add_returns_whether_it_stored(self) -> None:
        self.assertTrue(cache.add("a", 1))
        self.assertFalse(cache.add("a", 2))
        self.assertEqual(cache.get("a"), 1)

    def test_add_with_zero_timeout_stores_nothing(self) -> None:
        self.assertTrue(cache.add("z", 1, timeout=0))
        self.assertIsNone(cache.get("z"))

    def test_get_or_set(self) -> None:
        self.assertEqual(cache.get_or_set("g", "first"), "first")
        self.assertEqual(cache.get_or_set("g", "second"), "first")
        self.assertEqual(cache.get_or_set("c", lambda: Point(1, 2)), Point(1, 2))
        self.assertIsNone(cache.get_or_set("none", None))
        self.assertTrue(cache.has_key("none"))  # Django 3.2 stores a None default


class ManyTests(CacheTestCase):
    def test_many_keys_one_statement_each(self) -> None:
        data = {"k%d" % i: Point(i, i) for i in range(50)}
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(cache.set_many(data, timeout=60), [])
        self.assertEqual(len(queries), 1)
        with CaptureQueriesContext(connection) as queries:
            got = cache.get_many(list(data) + ["nope"])
        self.assertEqual(len(queries), 1)
        self.assertEqual(got, data)
        self.assertEqual(list(got), list(data))  # in the order asked
        with CaptureQueriesContext(connection) as queries:
            cache.delete_many(["k%d" % i for i in range(25)])
        self.assertEqual(len(queries), 1)
        self.assertEqual(len(cache.get_many(list(data))), 25)

    def test_empty_and_duplicates(self) -> None:
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(cache.get_many([]), {})
            self.assertEqual(cache.set_many({}), [])
            cache.delete_many([])
        self.assertEqual(len(queries), 0)
        cache.set("d", 1)
        self.assertEqual(cache.get_many(["d", "d"]), {"d": 1})

    def test_set_many_timeouts(self) -> None:
        cache.set_many({"a": 1, "b": 2}, timeout=0)
        self.assertEqual(cache.get_many(["a", "b"]), {})
        cache.set_many({"a": 1}, timeout=None)
        self.assertEqual(ttl(cache.make_key("a")), float("inf"))


class IncrTests(CacheTestCase):
    def test_incr_decr(self) -> None:
        cache.set("n", 10)
        self.assertEqual(cache.incr("n"), 11)
        self.assertEqual(cache.incr("n", 5), 16)
        self.assertEqual(cache.decr("n"), 15)
        self.assertEqual(cache.decr("n", 20), -5)
        self.assertEqual(cache.get("n"), -5)

    def test_missing_key_is_value_error(self) -> None:
        with self.assertRaises(ValueError):
            cache.incr("nope")
        with self.assertRaises(ValueError):
            cache.decr("nope")
        cache.set("expired", 1, timeout=0.2)
        time.sleep(0.3)
        with self.assertRaises(ValueError):
            cache.incr("expired")

    def test_incr_keeps_expiry(self) -> None:
        cache.set("n", 1, timeout=100)
        cache.incr("n")
        self.assertTrue(90 < ttl(cache.make_key("n")) <= 100)
        cache.set("f", 1, timeout=None)
        cache.incr("f")
        self.assertEqual(ttl(cache.make_key("f")), float("inf"))

    def test_incr_is_one_statement_and_atomic(self) -> None:
        cache.set("n", 0, timeout=None)
        with CaptureQueriesContext(connection) as queries:
            cache.incr("n")
        self.assertEqual(len(queries), 1)

        def bump() -> None:
            for _ in range(50):
                caches["default"].incr("n")
            connections.close_all()

        threads = [threading.Thread(target=bump) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(cache.get("n"), 201)

    def test_other_values_follow_python(self) -> None:
        cache.set("f", 1.5, timeout=100)
        self.assertEqual(cache.incr("f"), 2.5)
        self.assertEqual(cache.get("f"), 2.5)
        self.assertTrue(90 < ttl(cache.make_key("f")) <= 100)
        cache.set("big", 2**63 - 1)
        self.assertEqual(cache.incr("big"), 2**63)
        self.assertEqual(cache.get("big"), 2**63)
        cache.set("s", "text")
        with self.assertRaises(TypeError):
            cache.incr("s")
        cache.set("i", 1, timeout=100)
        self.assertEqual(cache.incr("i", 2**70), 2**70 + 1)
        self.assertEqual(cache.decr("i", 2**70), 1)
        self.assertEqual(cache.incr("i"), 2)  # a bigint again: in the database
        self.assertEqual(cache.incr("i", 0.5), 2.5)
        self.assertTrue(90 < ttl(cache.make_key("i")) <= 100)
        with self.assertRaises(ValueError):
            cache.incr("nope", 0.5)


class KeyTests(CacheTestCase):
    def test_version(self) -> None:
        cache.set("k", "v1")
        cache.set("k", "v2", version=2)
        self.assertEqual(cache.get("k"), "v1")
        self.assertEqual(cache.get("k", version=2), "v2")
        self.assertEqual(caches["v2"].get("k"), "v2")
        caches["v2"].set("only2", 1)
        self.assertIsNone(cache.get("only2"))

    def test_incr_decr_version(self) -> None:
        cache.set("k", "value")
        self.assertEqual(cache.incr_version("k"), 2)
        self.assertIsNone(cache.get("k"))
        self.assertEqual(cache.get("k", version=2), "value")
        self.assertEqual(cache.decr_version("k", version=2), 1)
        self.assertEqual(cache.get("k"), "value")
        with self.assertRaises(ValueError):
            cache.incr_version("nope")

    def test_prefix_and_key_function(self) -> None:
        cache.set("k", "plain")
        caches["prefixed"].set("k", "prefixed")
        caches["keyfunc"].set("k", "upper")
        self.assertEqual(cache.get("k"), "plain")
        self.assertEqual(caches["prefixed"].get("k"), "prefixed")
        self.assertEqual(caches["keyfunc"].get("k"), "upper")
        self.assertEqual(caches["prefixed"].make_key("k"), "site2:1:k")
        self.assertEqual(bytes(sql("SELECT cachequeue.cache_get('django_cache', '|1|K')"))[:1],
                         b"\x80")
        caches["prefixed"].delete("k")
        self.assertEqual(cache.get("k"), "plain")

    def test_key_warnings_and_limits(self) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cache.set("has space", 1)
            cache.set("x" * 300, 2)
            self.assertEqual(cache.get("x" * 300), 2)
        self.assertEqual([w.category for w in caught], [CacheKeyWarning] * 3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with self.assertRaises(InvalidCacheKey):
                cache.set("x" * 1100, 1)
            with self.assertRaises(InvalidCacheKey):
                cache.get("nul\x00")

    def test_bad_settings(self) -> None:
        with self.assertRaises(ValueError):
            CacheQueueCache("x" * 64, {})
        with self.assertRaises(ValueError):
            CacheQueueCache("ok", {"OPTIONS": {"MAX_ENTRIES": 0}})


class CullTests(CacheTestCase):
    def count(self, alias: str, n: int) -> int:
        return len(caches[alias].get_many(["k%d" % i for i in range(n)]))

    def test_max_entries_and_cull_frequency(self) -> None:
        small = caches["small"]  # MAX_ENTRIES 10, CULL_FREQUENCY 2
        for i in range(10):
            small.set("k%d" % i, i, timeout=100 + i)
        self.assertEqual(self.count("small", 10), 10)
        small.set("k10", 10, timeout=50)  # the 11th: culls 11 // 2 entries
        self.assertEqual(self.count("small", 11), 6)
        self.assertEqual(small.get("k10"), 10)  # never culled by its own write
        # The entries closest to expiry went first.
        self.assertEqual(sorted(small.get_many(["k%d" % i for i in range(10)]).values()),
                         [5, 6, 7, 8, 9])

    def test_limits_of_each_alias(self) -> None:
        for i in range(30):  # MAX_ENTRIES 1000 on the same cache: no cull
            caches["small_big"].set("k%d" % i, i)
        self.assertEqual(self.count("small", 30), 30)
        caches["small_clear"].set("k30", 30)  # MAX_ENTRIES 10, CULL_FREQUENCY 0: all go
        self.assertEqual(self.count("small", 31), 1)
        self.assertEqual(caches["small"].get("k30"), 30)

    def test_set_many_and_add_cull(self) -> None:
        caches["small"].set_many({"k%d" % i: i for i in range(12)})
        self.assertLessEqual(self.count("small", 12), 10)
        caches["small"].clear()
        for i in range(11):
            self.assertTrue(caches["small"].add("k%d" % i, i))
        self.assertEqual(self.count("small", 11), 6)


class TransactionTests(CacheTestCase):
    def test_rolled_back_writes_vanish(self) -> None:
        cache.set("kept", "before")
        with self.assertRaises(RuntimeError):
            with transaction.atomic():
                cache.set("new", 1)
                cache.set("kept", "changed")
                cache.delete("kept")
                cache.set_many({"m1": 1, "m2": 2})
                self.assertEqual(cache.get("new"), 1)  # visible inside
                raise RuntimeError("roll back")
        self.assertIsNone(cache.get("new"))
        self.assertEqual(cache.get("kept"), "before")
        self.assertEqual(cache.get_many(["m1", "m2"]), {})

    def test_committed_writes_stay(self) -> None:
        with transaction.atomic():
            cache.set("c", 1)
            cache.incr("c")
        self.assertEqual(cache.get("c"), 2)

    def test_errors_turned_into_python_leave_the_transaction_usable(self) -> None:
        with transaction.atomic():
            cache.set("x", 1)
            with self.assertRaises(ValueError):
                cache.incr("nope")
            cache.set("s", "text")
            with self.assertRaises(TypeError):
                cache.incr("s")
            self.assertEqual(cache.incr("x"), 2)
        self.assertEqual(cache.get("x"), 2)

    def test_other_sessions_see_commits_only(self) -> None:
        seen = []

        def look() -> None:
            seen.append(caches["default"].get("pending"))
            connections.close_all()

        with transaction.atomic():
            cache.set("pending", "yes")
            thread = threading.Thread(target=look)
            thread.start()
            thread.join()
        thread = threading.Thread(target=look)
        thread.start()
        thread.join()
        self.assertEqual(seen, [None, "yes"])


class ConnectionTests(CacheTestCase):
    """The backend skips Django's cursor wrapper when nothing watches the queries; whatever
    watches them sees every call, and the wrapper's checks and errors stay as Django makes
    them."""

    def test_query_log_and_execute_wrappers_see_the_calls(self) -> None:
        with CaptureQueriesContext(connection) as queries:
            cache.set("a", 1)
            cache.get("a")
        self.assertEqual(len(queries), 2)
        self.assertIn("cache_set", queries[0]["sql"])
        self.assertIn("cache_get", queries[1]["sql"])
        seen = []

        def wrapper(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
            seen.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(wrapper):
            self.assertEqual(cache.get("a"), 1)
        self.assertEqual(len(seen), 1)
        self.assertIn("cache_get", seen[0])

    def test_a_new_connection_gets_a_new_cursor(self) -> None:
        cache.set("a", "kept")
        connection.close()
        self.assertEqual(cache.get("a"), "kept")
        connection.close()
        cache.set("b", "also")
        self.assertEqual(cache.get_many(["a", "b"]), {"a": "kept", "b": "also"})

    def test_errors_and_broken_transactions_as_django_reports_them(self) -> None:
        with self.assertRaises(DataError):  # Django's class, not psycopg2's
            cache._run("SELECT 1 / 0", [], False)
        cache.set("a", 1)
        with transaction.atomic():
            with self.assertRaises(DataError):
                # without a savepoint, the error marks the whole transaction for rollback
                with transaction.atomic(savepoint=False):
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT 1 / 0")
            with self.assertRaises(TransactionManagementError):
                cache.get("a")
        self.assertEqual(cache.get("a"), 1)


class CreationTests(unittest.TestCase):
    def exists(self, name: str) -> bool:
        return bool(sql("SELECT count(*) FROM cachequeue.caches WHERE name = %s", name))

    def test_created_on_first_use(self) -> None:
        sql("SELECT count(cachequeue.cache_drop(name)) FROM cachequeue.caches"
            " WHERE name = 'fresh_cache'")
        fresh = CacheQueueCache("fresh_cache", {"OPTIONS": {"MAX_ENTRIES": 77}})
        self.assertIsNone(fresh.get("k"))
        self.assertTrue(self.exists("fresh_cache"))
        self.assertEqual(sql("SELECT max_entries FROM cachequeue.caches"
                             " WHERE name = 'fresh_cache'"), 77)
        fresh.set("k", 1)
        self.assertEqual(fresh.get("k"), 1)
        self.assertFalse(fresh.create())

    def test_created_inside_a_transaction(self) -> None:
        fresh = caches["fresh_atomic"]
        with transaction.atomic():
            fresh.set("k", "v")
            self.assertEqual(fresh.get("k"), "v")
        self.assertTrue(self.exists("fresh_atomic"))
        # Dropped behind the backend's back: created again, outside a transaction.
        sql("SELECT cachequeue.cache_drop('fresh_atomic')")
        self.assertTrue(fresh.add("k", "again"))

    def test_createcache_command(self) -> None:
        from io import StringIO

        from django.core.management import call_command

        out = StringIO()
        call_command("cachequeue_createcache", stdout=out)
        self.assertIn("default: cache django_cache exists", out.getvalue())


class PrivilegeTests(CacheTestCase):
    def test_application_role(self) -> None:
        app = CacheQueueCache("django_cache", {"OPTIONS": {"DATABASE": "app"}})
        app.set("p", 1)
        self.assertEqual(app.incr("p"), 2)
        self.assertEqual(cache.get("p"), 2)  # the same cache as the default alias
        self.assertTrue(app.delete("p"))
        with transaction.atomic(using="app"):
            missing = CacheQueueCache("never_created", {"OPTIONS": {"DATABASE": "app"}})
            with self.assertRaisesRegex(ProgrammingError, "cachequeue_createcache"):
                missing.get("k")
            app.set("q", 1)  # the transaction goes on
        self.assertEqual(app.get("q"), 1)
        connections["app"].close()


class AsyncTests(CacheTestCase):
    def test_async_variants(self) -> None:
        async def scenario() -> list:
            await cache.aset("a", Point(1, 1))
            added = await cache.aadd("a", 2)
            await cache.aset_many({"b": 1, "c": 2})
            many = await cache.aget_many(["a", "b", "c"])
            incremented = await cache.aincr("b", 10)
            decremented = await cache.adecr("b")
            has = await cache.ahas_key("c")
            touched = await cache.atouch("c", None)
            got_or_set = await cache.aget_or_set("d", "dflt")
            deleted = await cache.adelete("d")
            await cache.adelete_many(["b", "c"])
            version = await cache.aincr_version("a")
            version = await cache.adecr_version("a", version=version)
            gone = await cache.aget("b", "gone")
            await cache.aclear()
            await cache.aclose()
            return [added, many, incremented, decremented, has, touched, got_or_set,
                    deleted, version, gone, await cache.aget("a")]

        self.assertEqual(async_to_sync(scenario)(), [
            False, {"a": Point(1, 1), "b": 1, "c": 2}, 11, 10, True, True, "dflt", True, 1,
            "gone", None])
