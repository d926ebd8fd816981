-- Culling: how many entries a write of a new key removes for several max_entries and
-- cull_frequency settings and per-call overrides, which entries go first, and cache_cull.
-- Keys get distinct timeouts wherever the order of victims matters, so that the order never
-- depends on two writes having the same timestamp.
\set SHOW_CONTEXT never
\pset null '(null)'
SET search_path = cachequeue, public;

-- The live keys of a cache, in order, as one line.
CREATE FUNCTION cq_keys(cache_name text) RETURNS text
LANGUAGE sql AS $$
    SELECT string_agg(key, ' ' ORDER BY key)
    FROM cachequeue.cache_get_many(cache_name,
        ARRAY(SELECT k FROM unnest(ARRAY[
            'k01', 'k02', 'k03', 'k04', 'k05', 'k06', 'k07', 'k08', 'k09', 'k10',
            'k11', 'k12', 'k13', 'new', 'near', 'far', 'never_old', 'never_new',
            'x', 'y', 'e1', 'e2']) AS k))
$$;

-- max_entries 10, cull_frequency 2: the 11th key leaves 11 - max(11 / 2, 11 - 10) = 6
SELECT cache_create('cull_10_2', default_timeout => 300, max_entries => 10, cull_frequency => 2);
SELECT cache_set('cull_10_2', 'k' || to_char(i, 'FM00'), 'x'::bytea, 100 + i)
FROM generate_series(1, 10) AS i;
SELECT total FROM cache_stats('cull_10_2');
SELECT cache_set('cull_10_2', 'k11', 'x'::bytea, 1);
SELECT total FROM cache_stats('cull_10_2');
SELECT cq_keys('cull_10_2');

-- cull_frequency 3: 6 keys over a limit of 5 lose max(6 / 3, 6 - 5) = 2
SELECT cache_create('cull_5_3', default_timeout => 300, max_entries => 5, cull_frequency => 3);
SELECT cache_set('cull_5_3', 'k' || to_char(i, 'FM00'), 'x'::bytea, 100 + i)
FROM generate_series(1, 6) AS i;
SELECT total FROM cache_stats('cull_5_3');
SELECT cq_keys('cull_5_3');

-- cull_frequency 1 removes everything but the key just written, as does 0
SELECT cache_create('cull_5_1', default_timeout => 300, max_entries => 5, cull_frequency => 1);
SELECT cache_set('cull_5_1', 'k' || to_char(i, 'FM00'), 'x'::bytea, 100 + i)
FROM generate_series(1, 6) AS i;
SELECT cq_keys('cull_5_1');
SELECT cache_create('cull_5_0', default_timeout => 300, max_entries => 5, cull_frequency => 0);
SELECT cache_set('cull_5_0', 'k' || to_char(i, 'FM00'), 'x'::bytea, 100 - i)
FROM generate_series(1, 6) AS i;
SELECT cq_keys('cull_5_0');

-- max_entries 1: every new key replaces the one before
SELECT cache_create('cull_1', default_timeout => 300, max_entries => 1, cull_frequency => 3);
SELECT cache_set('cull_1', 'k01', 'x'::bytea);
SELECT cache_set('cull_1', 'k02', 'x'::bytea);
SELECT cache_add('cull_1', 'k03', 'x'::bytea);
SELECT cq_keys('cull_1');

-- overwriting a key adds no entry and culls nothing
SELECT cache_create('cull_3', default_timeout => 300, max_entries => 3, cull_frequency => 3);
SELECT cache_set('cull_3', 'k' || to_char(i, 'FM00'), 'x'::bytea, 100 + i, max_entries => 100)
FROM generate_series(1, 5) AS i;
SELECT cache_set('cull_3', 'k01', 'y'::bytea, 200);
SELECT cache_set('cull_3', 'k02', 'y'::bytea, 200);
SELECT total FROM cache_stats('cull_3');
-- the next new key culls with the cache's limits: 6 - max(6 / 3, 6 - 3) = 3 are left
SELECT cache_set('cull_3', 'k06', 'x'::bytea, 150);
SELECT cq_keys('cull_3');

-- add and set_many cull like set
SELECT cache_clear('cull_3');
SELECT cache_set('cull_3', 'k' || to_char(i, 'FM00'), 'x'::bytea, 100 + i)
FROM generate_series(1, 3) AS i;
SELECT cache_add('cull_3', 'k04', 'x'::bytea, 1, cull_frequency => 0);
SELECT cq_keys('cull_3');
SELECT cache_clear('cull_3');
SELECT cache_set_many('cull_3', ARRAY['k01', 'k02', 'k03', 'k04', 'k05'],
                      ARRAY['1', '2', '3', '4', '5']::bytea[]);
-- k04 and k05 each culled one older key (which one is not defined: all five expire at the
-- same time); k05, written last, was spared
SELECT total FROM cache_stats('cull_3');
SELECT cache_has_key('cull_3', 'k05') AS k05;
SELECT cache_clear('cull_3');
SELECT cache_set_many('cull_3', ARRAY['k01', 'k02', 'k03', 'k04'],
                      ARRAY['1', '2', '3', '4']::bytea[], 60, 3, 0);
SELECT cq_keys('cull_3');

-- per-call limits override the cache's for that call only
SELECT cache_create('cull_big', default_timeout => 300, max_entries => 300, cull_frequency => 3);
SELECT cache_set('cull_big', 'k' || to_char(i, 'FM00'), 'x'::bytea, 100 + i)
FROM generate_series(1, 4) AS i;
SELECT cache_set('cull_big', 'k05', 'x'::bytea, 100, 4, 0);
SELECT cq_keys('cull_big');
SELECT cache_set('cull_big', 'k' || to_char(i, 'FM00'), 'x'::bytea, 100 + i, NULL, 0)
FROM generate_series(6, 9) AS i;
SELECT cq_keys('cull_big');
SELECT cache_set('cull_big', 'k10', 'x'::bytea, 100, 4);
SELECT cq_keys('cull_big');
SELECT cache_add('cull_big', 'k11', 'x'::bytea, 200, 2, 2);
SELECT cq_keys('cull_big');
SELECT max_entries, cull_frequency FROM cache_stats('cull_big');

-- the victims: closest to expiry first, entries that never expire last, then the oldest
SELECT cache_create('cull_order', default_timeout => 300, max_entries => 4, cull_frequency => 2);
SELECT cache_set('cull_order', 'never_old', 'x'::bytea, NULL);
SELECT cache_set('cull_order', 'never_new', 'x'::bytea, NULL);
SELECT cache_set('cull_order', 'far', 'x'::bytea, 1000);
SELECT cache_set('cull_order', 'near', 'x'::bytea, 100);
SELECT cq_keys('cull_order');
-- 5 entries: max(5 / 2, 5 - 4) = 2 go, near and far; new is spared though it expires sooner
SELECT cache_set('cull_order', 'new', 'x'::bytea, 500);
SELECT cq_keys('cull_order');
SELECT cache_set('cull_order', 'x', 'x'::bytea, NULL);
-- new (it expires) and then never_old (the oldest that never expires) go
SELECT cache_set('cull_order', 'y', 'x'::bytea, NULL);
SELECT cq_keys('cull_order');

-- expired entries go first, and when that is enough nothing live is culled
SELECT cache_clear('cull_order');
SELECT cache_set('cull_order', 'e1', 'x'::bytea, 0.2);
SELECT cache_set('cull_order', 'e2', 'x'::bytea, 0.2);
SELECT cache_set('cull_order', 'k01', 'x'::bytea, 100);
SELECT cache_set('cull_order', 'k02', 'x'::bytea, 100);
SELECT pg_sleep(0.3);
SELECT cache_set('cull_order', 'k03', 'x'::bytea, 100);
SELECT total, active, expired FROM cache_stats('cull_order');
SELECT cq_keys('cull_order');

-- cache_cull: expired entries, then the same rule with the cache's limits
SELECT cache_create('cull_now', default_timeout => 300, max_entries => 300, cull_frequency => 2);
SELECT cache_set('cull_now', 'k' || to_char(i, 'FM00'), 'x'::bytea, 100 + i)
FROM generate_series(1, 10) AS i;
SELECT cache_set('cull_now', 'e1', 'x'::bytea, 0.2);
SELECT cache_set('cull_now', 'e2', 'x'::bytea, 0.2);
SELECT pg_sleep(0.3);
SELECT cache_cull('cull_now');
SELECT total FROM cache_stats('cull_now');
SELECT cache_create('cull_now', default_timeout => 300, max_entries => 4, cull_frequency => 2);
-- 10 live entries over a limit of 4: max(10 / 2, 10 - 4) = 6 go
SELECT cache_cull('cull_now');
SELECT cq_keys('cull_now');
SELECT cache_cull('cull_now');
SELECT cache_set('cull_now', 'k' || to_char(i, 'FM00'), 'x'::bytea, 100 + i, 100)
FROM generate_series(1, 6) AS i;
-- 10 entries, cull_frequency 3: max(10 / 3, 10 - 4) = 6 go
SELECT cache_create('cull_now', default_timeout => 300, max_entries => 4, cull_frequency => 3);
SELECT cache_cull('cull_now');
SELECT cq_keys('cull_now');
SELECT cache_set('cull_now', 'k' || to_char(i, 'FM00'), 'x'::bytea, 100 + i, 100)
FROM generate_series(1, 3) AS i;
SELECT cache_create('cull_now', default_timeout => 300, max_entries => 4, cull_frequency => 0);
SELECT cache_cull('cull_now');
SELECT total FROM cache_stats('cull_now');
SELECT cq_try($$SELECT cache_cull(NULL)$$);
SELECT cq_try($$SELECT cache_cull('')$$);
SELECT cq_try($$SELECT cache_cull('no such cache')$$);
SELECT cq_try($$SELECT cache_cull(repeat('c', 64))$$);

-- a clear or a cull that rolls back leaves the cache as full as before, and the next
-- new key must still cull it back under max_entries
SELECT cache_create('cull_rb', default_timeout => 300, max_entries => 5, cull_frequency => 2);
SELECT cache_set('cull_rb', 'k' || to_char(i, 'FM00'), 'x'::bytea, 100 + i)
FROM generate_series(1, 5) AS i;
BEGIN;
SELECT cache_clear('cull_rb');
ROLLBACK;
SELECT total FROM cache_stats('cull_rb');
-- k06 makes 6: max(6 / 2, 1) = 3 go; k07 and k08 bring it back to 5
SELECT cache_set('cull_rb', 'k' || to_char(i, 'FM00'), 'x'::bytea, 100 + i)
FROM generate_series(6, 8) AS i;
SELECT total FROM cache_stats('cull_rb');
SELECT cq_keys('cull_rb');

SELECT cache_clear('cull_rb');
SELECT cache_set('cull_rb', 'k' || to_char(i, 'FM00'), 'x'::bytea, 100 + i, 100)
FROM generate_series(1, 8) AS i;
BEGIN;
SELECT cache_cull('cull_rb');
ROLLBACK;
SELECT total FROM cache_stats('cull_rb');
-- k09 makes 9: max(9 / 2, 9 - 5) = 4 go
SELECT cache_set('cull_rb', 'k09', 'x'::bytea, 109);
SELECT total FROM cache_stats('cull_rb');
SELECT cq_keys('cull_rb');

SELECT cache_drop(name) FROM cachequeue.caches WHERE name LIKE 'cull%' ORDER BY name;
DROP FUNCTION cq_keys(text);
