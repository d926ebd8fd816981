"""Django cache backend storing entries in a cachequeue cache (the extension's cache_* functions).

Every call is one SQL statement on Django's own database connection, so a write made inside
transaction.atomic() commits or rolls back with the caller's transaction.
"""
import math
import pickle
from typing import Any, Dict, Iterable, List, Optional

from asgiref.sync import sync_to_async
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache, InvalidCacheKey
from django.core.cache.backends.db import Options
from django.db import DatabaseError, ProgrammingError, connections, router, transaction

# The extension refuses longer keys (22001) and timeouts above 1e10 seconds (22023).
MAX_KEY_BYTES = 1024
MAX_TIMEOUT = 1e10
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
PICKLE_MARK = 0x80  # the first byte of every pickle of protocol 2 or later

UNDEFINED_OBJECT = "42704"
NO_DATA_FOUND = "P0002"
INSUFFICIENT_PRIVILEGE = "42501"
NOT_AN_INTEGER = ("22P02", "22003")  # not decimal text; beyond the bigint range


def encode(value: Any, protocol: int = pickle.HIGHEST_PROTOCOL) -> bytes:
    """Integers as decimal text (cache_incr adds to them), anything else pickled."""
    if type(value) is int and BIGINT_MIN <= value <= BIGINT_MAX:
        return str(value).encode()
    return pickle.dumps(value, protocol)


def decode(data: Any) -> Any:
    data = bytes(data)
    if data and data[0] == PICKLE_MARK:
        return pickle.loads(data)
    return int(data)


def pgcode(error: BaseException) -> Optional[str]:
    """The SQLSTATE of a database error Django wrapped (psycopg2's pgcode), or None."""
    cause = error.__cause__
    return getattr(cause, "pgcode", None) or getattr(error, "pgcode", None)


class CacheQueueCache(BaseCache):
    """CACHES backend: LOCATION names the cachequeue cache, created on first use if missing.

    OPTIONS: MAX_ENTRIES and CULL_FREQUENCY (sent with every write), DATABASE (an alias of
    DATABASES; default: the router's choice, as for Django's DatabaseCache), UNLOGGED (when
    the cache is created: true by default).
    """

    pickle_protocol = pickle.HIGHEST_PROTOCOL

    def __init__(self, location: str, params: Dict[str, Any]) -> None:
        super().__init__(params)
        options = params.get("OPTIONS", {})
        self.location = location
        self.database: Optional[str] = options.get("DATABASE")
        self.unlogged = bool(options.get("UNLOGGED", True))
        if not location or len(location.encode()) > 63:
            raise ValueError("cachequeue cache LOCATION must be a name of 1 to 63 bytes")
        if self._max_entries < 1 or self._cull_frequency < 0:
            raise ValueError("MAX_ENTRIES must be at least 1 and CULL_FREQUENCY at least 0")
        # Routers see the model Django's DatabaseCache shows them (app_label "django_cache").

        class CacheEntry:
            _meta = Options(location)

        self.cache_model_class = CacheEntry
        self._known = False  # whether this process has seen the cache exist
        # The DB-API cursor _fetch reuses: the backend object is per thread, as Django's
        # connections are, and the cursor is dropped when its connection is replaced.
        self._cursor: Any = None

    # ---- keys, timeouts, connections ----

    def _key(self, key: Any, version: Optional[int]) -> str:
        made = self.make_key(key, version=version)
        self.validate_key(made)
        return made

    def validate_key(self, key: str) -> None:
        super().validate_key(key)  # the memcached warnings Django gives
        if "\x00" in key or len(key.encode()) > MAX_KEY_BYTES:
            raise InvalidCacheKey(
                "cachequeue cache keys are at most %d bytes, without NUL: %r"
                % (MAX_KEY_BYTES, key[:80])
            )

    def _timeout(self, timeout: Any) -> Optional[float]:
        """Seconds for the extension: None keeps forever, 0 or less is not kept."""
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        if timeout is None:
            return None
        seconds = float(timeout)
        if math.isnan(seconds):
            raise ValueError("a cache timeout cannot be NaN")
        return None if seconds > MAX_TIMEOUT else seconds

    def _alias(self, write: bool) -> str:
        if self.database:
            return self.database
        if write:
            return router.db_for_write(self.cache_model_class)
        return router.db_for_read(self.cache_model_class)

    def _run(self, sql: str, params: List[Any], write: bool, guard: bool = False) -> List[tuple]:
        """Runs one statement and returns its rows. Until the cache is known to exist, or when
        guard is set, a statement inside a transaction runs in a savepoint, so that a missing
        cache (created here, then the statement retried) or an error the caller turns into a
        Python exception leaves the caller's transaction usable."""
        alias = self._alias(write)
        connection = connections[alias]
        for attempt in (1, 2):
            try:
                if (guard or not self._known) and connection.in_atomic_block:
                    with transaction.atomic(using=alias):
                        rows = self._fetch(connection, sql, params)
                else:
                    rows = self._fetch(connection, sql, params)
                self._known = True
                return rows
            except DatabaseError as error:
                if pgcode(error) != UNDEFINED_OBJECT or attempt == 2:
                    raise
                if connection.in_atomic_block and self._known and not guard:
                    raise  # the caller's transaction is aborted: nothing to retry in
                self._create_missing(alias)
        raise AssertionError("unreachable")

    def _fetch(self, connection: Any, sql: str, params: List[Any]) -> List[tuple]:
        """Runs sql on the connection. When nothing watches its queries (DEBUG's query log,
        execute wrappers such as a debug toolbar's), it skips Django's cursor wrapper, which
        costs about a fifth of a cache call, and runs on a DB-API cursor kept for the
        connection, with the same checks and error translation Django's wrapper makes."""
        raw = connection.connection
        if raw is None or connection.queries_logged or connection.execute_wrappers:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        cursor = self._cursor
        if cursor is None or cursor.connection is not raw or cursor.closed:
            connection.validate_thread_sharing()
            with connection.wrap_database_errors:
                cursor = self._cursor = raw.cursor()
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def _create_missing(self, alias: str) -> None:
        try:
            with transaction.atomic(using=alias):
                self.create(alias)
        except DatabaseError as error:
            if pgcode(error) != INSUFFICIENT_PRIVILEGE:
                raise
            raise ProgrammingError(
                "cachequeue cache %r does not exist and this role may not create it: run"
                " `manage.py cachequeue_createcache` as a role granted cachequeue_admin"
                % self.location
            ) from error

    def exists(self, alias: Optional[str] = None) -> bool:
        """Whether the cache exists (probed in a savepoint: the caller's transaction goes on)."""
        alias = alias or self._alias(False)
        try:
            with transaction.atomic(using=alias):
                self._fetch(
                    connections[alias], "SELECT cachequeue.cache_ttl(%s, 'x')", [self.location]
                )
            return True
        except DatabaseError as error:
            if pgcode(error) != UNDEFINED_OBJECT:
                raise
            return False

    def create(self, alias: Optional[str] = None) -> bool:
        """Creates the cache when it does not exist (needs cachequeue_admin); True if it did.
        An existing cache keeps its settings: the limits travel with every write anyway."""
        alias = alias or self._alias(True)
        created = not self.exists(alias)
        if created:
            self._fetch(
                connections[alias],
                "SELECT cachequeue.cache_create(%s, %s, %s, %s, %s)",
                [
                    self.location,
                    self.default_timeout,
                    self._max_entries,
                    self._cull_frequency,
                    self.unlogged,
                ],
            )
        self._known = True
        return created

    # ---- Django's cache API ----

    def get(self, key: Any, default: Any = None, version: Optional[int] = None) -> Any:
        rows = self._run(
            "SELECT cachequeue.cache_get(%s, %s)", [self.location, self._key(key, version)], False
        )
        value = rows[0][0]
        return default if value is None else decode(value)

    def _write(self, function: str, key: Any, value: Any, timeout: Any, version: Any) -> Any:
        rows = self._run(
            "SELECT cachequeue.%s(%%s, %%s, %%s, %%s, %%s, %%s)" % function,
            [
                self.location,
                self._key(key, version),
                encode(value, self.pickle_protocol),
                self._timeout(timeout),
                self._max_entries,
                self._cull_frequency,
            ],
            True,
        )
        return rows[0][0]

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Optional[int] = None
    ) -> None:
        self._write("cache_set", key, value, timeout, version)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Optional[int] = None
    ) -> bool:
        return bool(self._write("cache_add", key, value, timeout, version))

    def touch(
        self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Optional[int] = None
    ) -> bool:
        rows = self._run(
            "SELECT cachequeue.cache_touch(%s, %s, %s)",
            [self.location, self._key(key, version), self._timeout(timeout)],
            True,
        )
        return bool(rows[0][0])

    def delete(self, key: Any, version: Optional[int] = None) -> bool:
        rows = self._run(
            "SELECT cachequeue.cache_delete(%s, %s)",
            [self.location, self._key(key, version)],
            True,
        )
        return bool(rows[0][0])

    def has_key(self, key: Any, version: Optional[int] = None) -> bool:
        rows = self._run(
            "SELECT cachequeue.cache_has_key(%s, %s)",
            [self.location, self._key(key, version)],
            False,
        )
        return bool(rows[0][0])

    def get_many(self, keys: Iterable[Any], version: Optional[int] = None) -> Dict[Any, Any]:
        made = {self._key(key, version): key for key in keys}
        if not made:
            return {}
        rows = self._run(
            "SELECT key, value FROM cachequeue.cache_get_many(%s, %s::text[])",
            [self.location, list(made)],
            False,
        )
        found = {key: decode(value) for key, value in rows}
        # In the order the keys were asked for, as Django's own backends answer.
        return {made[key]: found[key] for key in made if key in found}

    def set_many(
        self, data: Dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: Optional[int] = None
    ) -> List[Any]:
        if not data:
            return []
        keys = [self._key(key, version) for key in data]
        values = [encode(value, self.pickle_protocol) for value in data.values()]
        self._run(
            "SELECT cachequeue.cache_set_many(%s, %s::text[], %s::bytea[], %s, %s, %s)",
            [
                self.location,
                keys,
                values,
                self._timeout(timeout),
                self._max_entries,
                self._cull_frequency,
            ],
            True,
        )
        return []  # all or nothing: an error raises instead

    def delete_many(self, keys: Iterable[Any], version: Optional[int] = None) -> None:
        made = [self._key(key, version) for key in keys]
        if made:
            self._run(
                "SELECT cachequeue.cache_delete_many(%s, %s::text[])", [self.location, made], True
            )

    def incr(self, key: Any, delta: int = 1, version: Optional[int] = None) -> Any:
        """Atomic in the database for integers, keeping the entry's expiry. Other values and
        deltas (floats, say) are read, added to in Python and written back with the time they had
        left, as Django's own backends do for every value."""
        made = self._key(key, version)
        try:
            if type(delta) is int and BIGINT_MIN <= delta <= BIGINT_MAX:
                rows = self._run(
                    "SELECT cachequeue.cache_incr(%s, %s, %s)",
                    [self.location, made, delta],
                    True,
                    guard=True,
                )
                return rows[0][0]
        except DatabaseError as error:
            code = pgcode(error)
            if code == NO_DATA_FOUND:
                raise ValueError("Key '%s' not found" % key) from None
            if code not in NOT_AN_INTEGER:
                raise
        rows = self._run(
            "SELECT cachequeue.cache_get(%s, %s), cachequeue.cache_ttl(%s, %s)",
            [self.location, made, self.location, made],
            True,
        )
        data, ttl = rows[0]
        if data is None:
            raise ValueError("Key '%s' not found" % key)
        value = decode(data) + delta
        timeout = None if ttl is None or math.isinf(ttl) else max(ttl, 0.001)
        self._write("cache_set", key, value, timeout, version)
        return value

    def clear(self) -> None:
        self._run("SELECT cachequeue.cache_clear(%s)", [self.location], True)


def _async_variant(name: str) -> Any:
    async def variant(self: CacheQueueCache, *args: Any, **kwargs: Any) -> Any:
        return await sync_to_async(getattr(self, name), thread_sensitive=True)(*args, **kwargs)

    variant.__name__ = "a" + name
    variant.__doc__ = "The async variant of %s(), run in Django's sync thread." % name
    return variant


# The async API Django 4 adds to every backend (aget, aset, ...), available on Django 3.2 too.
for _name in (
    "get add set touch delete has_key get_many set_many delete_many get_or_set incr decr"
    " incr_version decr_version clear close"
).split():
    setattr(CacheQueueCache, "a" + _name, _async_variant(_name))
