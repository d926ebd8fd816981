-- The array forms: get_many, set_many and delete_many, with duplicates, empty arrays and
-- every array error. Errors are shown with cq_try (see cache_setup).
\set SHOW_CONTEXT never
\pset null '(null)'
SET search_path = cachequeue, public;

SELECT cache_create('many', default_timeout => 300);

-- set_many stores every pair and returns the keys it did not store: none
SELECT cache_set_many('many', ARRAY['a', 'b', 'c'], ARRAY['1', '2', '3']::bytea[]);
SELECT key, convert_from(value, 'UTF8') AS value
FROM cache_get_many('many', ARRAY['a', 'b', 'c']) ORDER BY key;
SELECT cache_ttl('many', 'b') BETWEEN 299 AND 300 AS default_ttl;

-- get_many returns the hits only
SELECT key, convert_from(value, 'UTF8') AS value
FROM cache_get_many('many', ARRAY['c', 'missing', 'a']) ORDER BY key;
SELECT count(*) FROM cache_get_many('many', ARRAY['missing', 'also missing']);
SELECT count(*) FROM cache_get_many('many', ARRAY[]::text[]);

-- a key asked for twice is one hit
SELECT key, convert_from(value, 'UTF8') AS value
FROM cache_get_many('many', ARRAY['a', 'a', 'b']) ORDER BY key;

-- set_many with a timeout, NULL (never) and limits
SELECT cache_set_many('many', ARRAY['t1', 't2'], ARRAY['x', 'y']::bytea[], 60);
SELECT cache_ttl('many', 't1') BETWEEN 59 AND 60 AS t1_60,
    cache_ttl('many', 't2') BETWEEN 59 AND 60 AS t2_60;
SELECT cache_set_many('many', ARRAY['n1'], ARRAY['x']::bytea[], NULL);
SELECT cache_ttl('many', 'n1');
SELECT cache_set_many('many', ARRAY['a', 'b'], ARRAY['10', '20']::bytea[], 120, 1000, 2);
SELECT key, convert_from(value, 'UTF8') AS value,
    cache_ttl('many', key) BETWEEN 119 AND 120 AS ttl_120
FROM cache_get_many('many', ARRAY['a', 'b']) ORDER BY key;

-- set_many with zero or a negative timeout keeps nothing, and removes what was there
SELECT cache_set_many('many', ARRAY['t1', 'fresh'], ARRAY['x', 'y']::bytea[], 0);
SELECT cache_has_key('many', 't1') AS t1, cache_has_key('many', 'fresh') AS fresh;
SELECT cache_set_many('many', ARRAY['t2'], ARRAY['x']::bytea[], -5);
SELECT cache_has_key('many', 't2') AS t2;

-- an empty set_many stores nothing
SELECT cache_set_many('many', ARRAY[]::text[], ARRAY[]::bytea[]);

-- a key given twice: the last value wins
SELECT cache_set_many('many', ARRAY['dup', 'dup', 'dup'], ARRAY['one', 'two', 'three']::bytea[]);
SELECT convert_from(cache_get('many', 'dup'), 'UTF8') AS dup;

-- invalid arguments of set_many; none of them stores anything
SELECT cq_try($$SELECT cache_set_many(NULL, ARRAY['e1'], ARRAY['x']::bytea[])$$);
SELECT cq_try($$SELECT cache_set_many('', ARRAY['e1'], ARRAY['x']::bytea[])$$);
SELECT cq_try($$SELECT cache_set_many('no such cache', ARRAY['e1'], ARRAY['x']::bytea[])$$);
SELECT cq_try($$SELECT cache_set_many('many', NULL, ARRAY['x']::bytea[])$$);
SELECT cq_try($$SELECT cache_set_many('many', ARRAY['e1'], NULL)$$);
SELECT cq_try($$SELECT cache_set_many('many', ARRAY['e1', NULL], ARRAY['x', 'y']::bytea[])$$);
SELECT cq_try($$SELECT cache_set_many('many', ARRAY['e1', 'e2'], ARRAY['x', NULL]::bytea[])$$);
SELECT cq_try($$SELECT cache_set_many('many', ARRAY['e1', ''], ARRAY['x', 'y']::bytea[])$$);
SELECT cq_try($$SELECT cache_set_many('many',
    ARRAY['e1', repeat('k', 1025)], ARRAY['x', 'y']::bytea[])$$);
SELECT cq_try($$SELECT cache_set_many('many', ARRAY['e1', 'e2'], ARRAY['x']::bytea[])$$);
SELECT cq_try($$SELECT cache_set_many('many', ARRAY['e1'], ARRAY['x', 'y']::bytea[])$$);
SELECT cq_try($$SELECT cache_set_many('many', ARRAY['e1'], ARRAY[]::bytea[])$$);
SELECT cq_try($$SELECT cache_set_many('many',
    ARRAY[['e1', 'e2'], ['e3', 'e4']], ARRAY['w', 'x', 'y', 'z']::bytea[])$$);
SELECT cq_try($$SELECT cache_set_many('many', ARRAY['e1', 'e2'], ARRAY[['x'], ['y']]::bytea[])$$);
SELECT cq_try($$SELECT cache_set_many('many', ARRAY['e1'], ARRAY['x']::bytea[], 'NaN')$$);
SELECT cq_try($$SELECT cache_set_many('many', ARRAY['e1'], ARRAY['x']::bytea[], 1e11)$$);
SELECT cq_try($$SELECT cache_set_many('many', ARRAY['e1'], ARRAY['x']::bytea[], 10, 0)$$);
SELECT cq_try($$SELECT cache_set_many('many', ARRAY['e1'], ARRAY['x']::bytea[], 10, 5, -1)$$);
SELECT count(*) AS stored_by_failed_calls
FROM cache_get_many('many', ARRAY['e1', 'e2', 'e3', 'e4']);

-- invalid arguments of get_many
SELECT cq_try($$SELECT count(*) FROM cache_get_many(NULL, ARRAY['a'])$$);
SELECT cq_try($$SELECT count(*) FROM cache_get_many('', ARRAY['a'])$$);
SELECT cq_try($$SELECT count(*) FROM cache_get_many('no such cache', ARRAY['a'])$$);
SELECT cq_try($$SELECT count(*) FROM cache_get_many('many', NULL)$$);
SELECT cq_try($$SELECT count(*) FROM cache_get_many('many', ARRAY['a', NULL])$$);
SELECT cq_try($$SELECT count(*) FROM cache_get_many('many', ARRAY['a', ''])$$);
SELECT cq_try($$SELECT count(*) FROM cache_get_many('many', ARRAY['a', repeat('k', 1025)])$$);
SELECT cq_try($$SELECT count(*) FROM cache_get_many('many', ARRAY[['a'], ['b']])$$);

-- delete_many counts the live keys it deleted; a duplicate or missing key counts nothing
SELECT cache_set_many('many', ARRAY['d1', 'd2', 'd3'], ARRAY['1', '2', '3']::bytea[]);
SELECT cache_delete_many('many', ARRAY['d1', 'd2', 'missing']);
SELECT cache_delete_many('many', ARRAY['d1', 'd2']);
SELECT cache_delete_many('many', ARRAY['d3', 'd3']);
SELECT cache_delete_many('many', ARRAY[]::text[]);
SELECT count(*) AS left_over FROM cache_get_many('many', ARRAY['d1', 'd2', 'd3']);
SELECT cq_try($$SELECT cache_delete_many(NULL, ARRAY['a'])$$);
SELECT cq_try($$SELECT cache_delete_many('', ARRAY['a'])$$);
SELECT cq_try($$SELECT cache_delete_many('no such cache', ARRAY['a'])$$);
SELECT cq_try($$SELECT cache_delete_many('many', NULL)$$);
SELECT cq_try($$SELECT cache_delete_many('many', ARRAY['a', NULL])$$);
SELECT cq_try($$SELECT cache_delete_many('many', ARRAY['a', ''])$$);
SELECT cq_try($$SELECT cache_delete_many('many', ARRAY['a', repeat('k', 1025)])$$);
SELECT cq_try($$SELECT cache_delete_many('many', ARRAY[['a'], ['b']])$$);
SELECT cache_has_key('many', 'a') AS failed_deletes_kept_a;

-- a set_many in a transaction that rolls back leaves nothing behind
BEGIN;
SELECT cache_set_many('many', ARRAY['r1', 'r2'], ARRAY['1', '2']::bytea[]);
ROLLBACK;
SELECT count(*) AS rolled_back FROM cache_get_many('many', ARRAY['r1', 'r2']);

SELECT cache_drop('many');
