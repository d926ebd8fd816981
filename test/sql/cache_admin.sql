-- Managing caches: create, update, drop, clear and stats; logged and unlogged storage; name
-- limits; dropping and recreating "default"; what a rolled back transaction leaves behind.
\set SHOW_CONTEXT never
\pset null '(null)'
SET search_path = cachequeue, public;

-- The storage of a cache: persistence of its table, primary key and counter sequence.
CREATE FUNCTION cq_storage(cache_name text) RETURNS text
LANGUAGE sql AS $$
    SELECT string_agg(c.relkind::text || ':' || c.relpersistence::text, ' ' ORDER BY c.relkind)
    FROM cachequeue.caches k
    JOIN pg_class c ON c.relname IN ('cache_' || k.id, 'cache_' || k.id || '_pkey',
                                     'cache_' || k.id || '_count')
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'cachequeue'
    WHERE k.name = cache_name
$$;

-- create with the defaults, and with every setting given
SELECT cache_create('adm_defaults');
SELECT cache_create('adm_custom', default_timeout => 60, max_entries => 1000,
                    cull_frequency => 0, unlogged => false);
SELECT cache_create('adm_forever', NULL, 5, 1, true);
SELECT name, default_timeout, max_entries, cull_frequency, unlogged
FROM cachequeue.caches WHERE name LIKE 'adm%' ORDER BY name;
SELECT cq_storage('adm_defaults') AS defaults, cq_storage('adm_custom') AS custom;
SELECT cache, total, active, expired, hits, misses, max_entries, default_timeout,
       cull_frequency, unlogged, size_bytes > 0 AS has_size
FROM cache_stats() WHERE cache LIKE 'adm%';

-- create on an existing cache updates its settings and keeps its entries and storage
SELECT id AS custom_id FROM cachequeue.caches WHERE name = 'adm_custom' \gset
SELECT cache_set('adm_custom', 'k', 'kept'::bytea);
SELECT cache_create('adm_custom', default_timeout => 30, max_entries => 10,
                    cull_frequency => 2, unlogged => false);
SELECT id = :custom_id AS same_id, default_timeout, max_entries, cull_frequency, unlogged
FROM cachequeue.caches WHERE name = 'adm_custom';
SELECT convert_from(cache_get('adm_custom', 'k'), 'UTF8') AS k;
-- the new default timeout applies to the next write
SELECT cache_set('adm_custom', 'k2', 'x'::bytea);
SELECT cache_ttl('adm_custom', 'k2') BETWEEN 29 AND 30 AS ttl_30;
SELECT cache_create('adm_custom', default_timeout => NULL, unlogged => false);
SELECT cache_set('adm_custom', 'k3', 'x'::bytea);
SELECT cache_ttl('adm_custom', 'k3');
SELECT default_timeout, max_entries, cull_frequency FROM cache_stats('adm_custom');

-- switching between logged and unlogged keeps the entries
SELECT cache_create('adm_custom', unlogged => true);
SELECT cq_storage('adm_custom');
SELECT unlogged FROM cache_stats('adm_custom');
SELECT convert_from(cache_get('adm_custom', 'k'), 'UTF8') AS k_after_unlogged;
SELECT cache_set('adm_custom', 'k4', 'x'::bytea);
SELECT cache_create('adm_custom', unlogged => false);
SELECT cq_storage('adm_custom');
SELECT count(*) AS entries_after_logged
FROM cache_get_many('adm_custom', ARRAY['k', 'k2', 'k3', 'k4']);
SELECT cache_create('adm_custom', unlogged => false);
SELECT cq_storage('adm_custom');

-- invalid arguments of create; none creates or changes anything
SELECT cq_try($$SELECT cache_create(NULL)$$);
SELECT cq_try($$SELECT cache_create('')$$);
SELECT cq_try($$SELECT cache_create(repeat('n', 64))$$);
SELECT cq_try($$SELECT cache_create(repeat('é', 32))$$);
SELECT cq_try($$SELECT cache_create('adm_bad', default_timeout => 'NaN')$$);
SELECT cq_try($$SELECT cache_create('adm_bad', default_timeout => 1e11)$$);
SELECT cq_try($$SELECT cache_create('adm_bad', max_entries => NULL)$$);
SELECT cq_try($$SELECT cache_create('adm_bad', max_entries => 0)$$);
SELECT cq_try($$SELECT cache_create('adm_bad', max_entries => -5)$$);
SELECT cq_try($$SELECT cache_create('adm_bad', cull_frequency => NULL)$$);
SELECT cq_try($$SELECT cache_create('adm_bad', cull_frequency => -1)$$);
SELECT cq_try($$SELECT cache_create('adm_bad', unlogged => NULL)$$);
SELECT cq_try($$SELECT cache_create('adm_custom', max_entries => 0)$$);
SELECT cq_try($$SELECT cache_create('adm_custom', cull_frequency => -1)$$);
SELECT count(*) AS bad_created FROM cachequeue.caches WHERE name = 'adm_bad';
SELECT default_timeout, max_entries, cull_frequency FROM cache_stats('adm_custom');

-- names: 63 bytes is the limit, in bytes not characters; case and punctuation count
SELECT cache_create(repeat('n', 63));
SELECT cache_set(repeat('n', 63), 'k', 'x'::bytea);
SELECT convert_from(cache_get(repeat('n', 63), 'k'), 'UTF8') AS long_name;
SELECT cache_create(repeat('é', 31) || 'x');
SELECT cache FROM cache_stats(repeat('é', 31) || 'x');
SELECT cache_create('Adm Mixed');
SELECT cache_create('adm mixed');
SELECT cache_create('adm''quote"');
SELECT cache_set('Adm Mixed', 'k', 'upper'::bytea);
SELECT cache_set('adm mixed', 'k', 'lower'::bytea);
SELECT cache_set('adm''quote"', 'k', 'quote'::bytea);
SELECT convert_from(cache_get('Adm Mixed', 'k'), 'UTF8') AS upper,
       convert_from(cache_get('adm mixed', 'k'), 'UTF8') AS lower,
       convert_from(cache_get('adm''quote"', 'k'), 'UTF8') AS quote;
SELECT cache_drop(repeat('n', 63));
SELECT cache_drop(repeat('é', 31) || 'x');
SELECT cache_drop('Adm Mixed');
SELECT cache_drop('adm mixed');
SELECT cache_drop('adm''quote"');

-- clear empties one cache
SELECT cache_set_many('adm_defaults', ARRAY['a', 'b', 'c'], ARRAY['1', '2', '3']::bytea[]);
SELECT cache_set('adm_forever', 'a', 'x'::bytea);
SELECT cache_clear('adm_defaults');
SELECT cache, total FROM cache_stats() WHERE cache IN ('adm_defaults', 'adm_forever');
SELECT cache_get('adm_defaults', 'a');
SELECT cache_clear('adm_defaults');
SELECT cache_set('adm_defaults', 'a', 'again'::bytea);
SELECT convert_from(cache_get('adm_defaults', 'a'), 'UTF8') AS a;
SELECT cq_try($$SELECT cache_clear(NULL)$$);
SELECT cq_try($$SELECT cache_clear('')$$);
SELECT cq_try($$SELECT cache_clear('no such cache')$$);
SELECT cq_try($$SELECT cache_clear(repeat('c', 64))$$);

-- stats of one cache, and its errors
SELECT cache, total, active, expired, hits, misses, max_entries, default_timeout,
       cull_frequency, unlogged, size_bytes > 0 AS has_size
FROM cache_stats('adm_forever');
SELECT cq_try($$SELECT count(*) FROM cache_stats('')$$);
SELECT cq_try($$SELECT count(*) FROM cache_stats('no such cache')$$);
SELECT cq_try($$SELECT count(*) FROM cache_stats(repeat('c', 64))$$);

-- drop removes the cache and its storage
SELECT id AS forever_id FROM cachequeue.caches WHERE name = 'adm_forever' \gset
SELECT cache_drop('adm_forever');
SELECT to_regclass('cachequeue.cache_' || :forever_id) AS table_left,
       to_regclass('cachequeue.cache_' || :forever_id || '_count') AS sequence_left;
SELECT cq_try($$SELECT cache_get('adm_forever', 'a')$$);
SELECT cq_try($$SELECT cache_set('adm_forever', 'a', 'x'::bytea)$$);
SELECT cq_try($$SELECT cache_drop('adm_forever')$$);
SELECT cq_try($$SELECT cache_drop(NULL)$$);
SELECT cq_try($$SELECT cache_drop('')$$);
SELECT cq_try($$SELECT cache_drop(repeat('c', 64))$$);
-- a dropped name can be created again, empty
SELECT cache_create('adm_forever');
SELECT cache_get('adm_forever', 'a');
SELECT total FROM cache_stats('adm_forever');

-- "default" can be dropped and recreated like any other cache
SELECT cache_set('default', 'adm', 'x'::bytea);
SELECT cache_drop('default');
SELECT cq_try($$SELECT cache_get('default', 'adm')$$);
SELECT cache_create('default');
SELECT cache_get('default', 'adm');
SELECT cache, total, max_entries, default_timeout, cull_frequency, unlogged
FROM cache_stats('default');
SELECT cq_storage('default');

-- a transaction that rolls back leaves no trace: writes, deletes, clears, creates, drops
SELECT cache_set('adm_defaults', 'rb', 'before'::bytea);
BEGIN;
SELECT cache_set('adm_defaults', 'rb', 'during'::bytea);
SELECT cache_set('adm_defaults', 'rb_new', 'x'::bytea);
ROLLBACK;
SELECT convert_from(cache_get('adm_defaults', 'rb'), 'UTF8') AS rb,
       cache_get('adm_defaults', 'rb_new') AS rb_new;
BEGIN;
SELECT cache_delete('adm_defaults', 'rb');
SELECT cache_clear('adm_defaults');
ROLLBACK;
SELECT convert_from(cache_get('adm_defaults', 'rb'), 'UTF8') AS rb;
BEGIN;
SELECT cache_create('adm_rolled_back');
SELECT cache_set('adm_rolled_back', 'k', 'x'::bytea);
ROLLBACK;
SELECT cq_try($$SELECT cache_get('adm_rolled_back', 'k')$$);
BEGIN;
SELECT cache_drop('adm_defaults');
ROLLBACK;
SELECT convert_from(cache_get('adm_defaults', 'rb'), 'UTF8') AS rb_after_drop_rollback;
BEGIN;
SELECT cache_create('adm_custom', default_timeout => 5, unlogged => true);
ROLLBACK;
SELECT default_timeout, unlogged FROM cache_stats('adm_custom');
SELECT cq_storage('adm_custom');
BEGIN;
SELECT cache_set('adm_defaults', 'sp', 'kept'::bytea);
SAVEPOINT s;
SELECT cache_set('adm_defaults', 'sp', 'undone'::bytea);
SELECT cache_set('adm_defaults', 'sp_new', 'x'::bytea);
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT convert_from(cache_get('adm_defaults', 'sp'), 'UTF8') AS sp,
       cache_get('adm_defaults', 'sp_new') AS sp_new;

-- the cache tables belong to the extension: DROP EXTENSION removes them all
SELECT count(*) AS member_tables
FROM cachequeue.caches k
JOIN pg_depend d ON d.objid = ('cachequeue.cache_' || k.id)::regclass
    AND d.classid = 'pg_class'::regclass AND d.deptype = 'e';
SELECT count(*) AS caches FROM cachequeue.caches;
DROP EXTENSION cachequeue;
SELECT count(*) AS tables_left FROM pg_class WHERE relname ~ '^cache_[0-9]+';
CREATE EXTENSION cachequeue;
SELECT cache, total FROM cache_stats();

DROP FUNCTION cq_storage(text);
