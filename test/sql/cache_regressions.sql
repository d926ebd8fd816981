-- Regression tests for bugs fixed in the cache, one block each.
\set SHOW_CONTEXT never
SET search_path = cachequeue, public;

-- Many new keys in one transaction: each insert's key lock is released once its index entry
-- exists (holding them all until commit ran out of lock table space).
SELECT cache_create('regr_many', max_entries => 1000000);
SELECT cache_set_many('regr_many', array_agg('k' || i), array_agg('v'::bytea))
FROM generate_series(1, 20000) i;
SELECT count(*) AS set_one_by_one
FROM (SELECT cache_set('regr_many', 'n' || i, 'v'::bytea) FROM generate_series(1, 20000) i) s;
SELECT total FROM cache_stats('regr_many');
SELECT count(*) AS locks_left FROM pg_locks
WHERE locktype = 'advisory' AND pid = pg_backend_pid();
SELECT cache_drop('regr_many');

-- A bulk load far past max_entries culls once its writes are done, and the estimate it
-- leaves after commit lets the next write cull again.
SELECT cache_create('regr_bulk', max_entries => 10, cull_frequency => 2);
SELECT cache_set_many('regr_bulk', array_agg('k' || i), array_agg('v'::bytea))
FROM generate_series(1, 500) i;
SELECT total <= 10 AS within_limit FROM cache_stats('regr_bulk');
SELECT cache_set('regr_bulk', 'k' || i, 'v'::bytea) FROM generate_series(501, 520) i \g /dev/null
SELECT total <= 10 AS still_within_limit FROM cache_stats('regr_bulk');
SELECT cache_has_key('regr_bulk', 'k520') AS last_key_kept;
SELECT cache_drop('regr_bulk');

-- The same key twice in one statement updates the row inserted earlier in that statement.
SELECT cache_create('regr_twice');
SELECT cache_set('regr_twice', 'same', v::bytea) FROM (VALUES ('one'), ('two')) t(v);
SELECT convert_from(cache_get('regr_twice', 'same'), 'UTF8') AS same;
SELECT cache_add('regr_twice', 'added', v::bytea) FROM (VALUES ('one'), ('two')) t(v);
SELECT convert_from(cache_get('regr_twice', 'added'), 'UTF8') AS added;
SELECT cache_drop('regr_twice');
