-- Privileges: nothing is granted to PUBLIC; cachequeue_user runs every cache function but
-- create and drop; cachequeue_admin runs those too. Also checks that a caller's search_path
-- cannot make the extension run the caller's operators with the owner's rights.
\set SHOW_CONTEXT never
\pset null '(null)'
SET client_min_messages = warning;
DROP ROLE IF EXISTS cq_nobody;
DROP ROLE IF EXISTS cq_user;
DROP ROLE IF EXISTS cq_admin;
RESET client_min_messages;
CREATE ROLE cq_nobody;
CREATE ROLE cq_user IN ROLE cachequeue_user;
CREATE ROLE cq_admin IN ROLE cachequeue_admin;

-- who may execute what, from the catalogs
SELECT count(*) AS functions_public_may_run
FROM pg_proc p
WHERE p.pronamespace = 'cachequeue'::regnamespace
  AND (p.proacl IS NULL
       OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0));
SELECT p.oid::regprocedure AS function,
       has_function_privilege('cachequeue_user', p.oid, 'EXECUTE') AS "user",
       has_function_privilege('cachequeue_admin', p.oid, 'EXECUTE') AS admin,
       has_function_privilege('cq_nobody', p.oid, 'EXECUTE') AS nobody
FROM pg_proc p
WHERE p.pronamespace = 'cachequeue'::regnamespace
ORDER BY p.oid::regprocedure::text;
SELECT has_schema_privilege('cachequeue_user', 'cachequeue', 'USAGE') AS user_usage,
       has_schema_privilege('cq_nobody', 'cachequeue', 'USAGE') AS nobody_usage,
       has_table_privilege('cachequeue_user', 'cachequeue.caches', 'SELECT') AS user_reads_caches;

SELECT cachequeue.cache_create('priv');
SELECT 'cachequeue.cache_' || id AS priv_table FROM cachequeue.caches WHERE name = 'priv' \gset
SELECT cachequeue.cache_set('priv', 'k', 'by postgres'::bytea);

-- a role with neither role: refused by the schema first
SET ROLE cq_nobody;
SELECT cq_try($$SELECT cachequeue.cache_get('priv', 'k')$$);
RESET ROLE;
-- and with USAGE on the schema, refused by every function
GRANT USAGE ON SCHEMA cachequeue TO cq_nobody;
SET ROLE cq_nobody;
SELECT cq_try($$SELECT cachequeue.cache_get('priv', 'k')$$);
SELECT cq_try($$SELECT count(*) FROM cachequeue.cache_get_many('priv', ARRAY['k'])$$);
SELECT cq_try($$SELECT cachequeue.cache_has_key('priv', 'k')$$);
SELECT cq_try($$SELECT cachequeue.cache_ttl('priv', 'k')$$);
SELECT cq_try($$SELECT cachequeue.cache_set('priv', 'k', 'x'::bytea)$$);
SELECT cq_try($$SELECT cachequeue.cache_set('priv', 'k', 'x'::bytea, 60)$$);
SELECT cq_try($$SELECT cachequeue.cache_set_many('priv', ARRAY['k'], ARRAY['x']::bytea[])$$);
SELECT cq_try($$SELECT cachequeue.cache_set_many('priv', ARRAY['k'], ARRAY['x']::bytea[], 60)$$);
SELECT cq_try($$SELECT cachequeue.cache_add('priv', 'k2', 'x'::bytea)$$);
SELECT cq_try($$SELECT cachequeue.cache_add('priv', 'k2', 'x'::bytea, 60)$$);
SELECT cq_try($$SELECT cachequeue.cache_touch('priv', 'k')$$);
SELECT cq_try($$SELECT cachequeue.cache_touch('priv', 'k', 60)$$);
SELECT cq_try($$SELECT cachequeue.cache_delete('priv', 'k')$$);
SELECT cq_try($$SELECT cachequeue.cache_delete_many('priv', ARRAY['k'])$$);
SELECT cq_try($$SELECT cachequeue.cache_incr('priv', 'n')$$);
SELECT cq_try($$SELECT cachequeue.cache_decr('priv', 'n')$$);
SELECT cq_try($$SELECT cachequeue.cache_clear('priv')$$);
SELECT cq_try($$SELECT cachequeue.cache_cull('priv')$$);
SELECT cq_try($$SELECT cachequeue.cache_cleanup()$$);
SELECT cq_try($$SELECT count(*) FROM cachequeue.cache_stats()$$);
SELECT cq_try($$SELECT cachequeue.cache_create('priv_nobody')$$);
SELECT cq_try($$SELECT cachequeue.cache_drop('priv')$$);
SELECT cq_try($$SELECT count(*) FROM cachequeue.caches$$);
RESET ROLE;
REVOKE USAGE ON SCHEMA cachequeue FROM cq_nobody;
SELECT convert_from(cachequeue.cache_get('priv', 'k'), 'UTF8') AS untouched_by_nobody;

-- a member of cachequeue_user uses caches but cannot create or drop them
SET ROLE cq_user;
SELECT cachequeue.cache_set('priv', 'k', 'by cq_user'::bytea);
SELECT convert_from(cachequeue.cache_get('priv', 'k'), 'UTF8') AS k;
SELECT cachequeue.cache_set('priv', 'n', '1'::bytea, 60);
SELECT cachequeue.cache_incr('priv', 'n', 5);
SELECT cachequeue.cache_decr('priv', 'n');
SELECT cachequeue.cache_add('priv', 'a', 'x'::bytea);
SELECT cachequeue.cache_touch('priv', 'a', 30);
SELECT cachequeue.cache_ttl('priv', 'a') BETWEEN 29 AND 30 AS ttl_30;
SELECT cachequeue.cache_has_key('priv', 'a');
SELECT cachequeue.cache_set_many('priv', ARRAY['m1', 'm2'], ARRAY['1', '2']::bytea[]);
SELECT key FROM cachequeue.cache_get_many('priv', ARRAY['m1', 'm2', 'k']) ORDER BY key;
SELECT cachequeue.cache_delete('priv', 'a');
SELECT cachequeue.cache_delete_many('priv', ARRAY['m1', 'm2']);
SELECT cachequeue.cache_cull('priv');
SELECT cachequeue.cache_cleanup('priv');
SELECT cache, total, size_bytes > 0 AS has_size FROM cachequeue.cache_stats('priv');
SELECT cq_try($$SELECT cachequeue.cache_create('priv_user')$$);
SELECT cq_try($$SELECT cachequeue.cache_create('priv', max_entries => 1000)$$);
SELECT cq_try($$SELECT cachequeue.cache_drop('priv')$$);
SELECT cq_try($$SELECT count(*) FROM cachequeue.caches$$);
SELECT regexp_replace(cq_try('SELECT count(*) FROM ' || :'priv_table'),
    'cache_[0-9]+', 'cache_N') AS cache_table;
SELECT cachequeue.cache_clear('priv');
RESET ROLE;
SELECT count(*) AS priv_user_created FROM cachequeue.caches WHERE name = 'priv_user';
SELECT max_entries FROM cachequeue.cache_stats('priv');
SELECT convert_from(cachequeue.cache_get('priv', 'k'), 'UTF8') AS cleared;

-- a member of cachequeue_admin does both
SET ROLE cq_admin;
SELECT cachequeue.cache_create('priv_admin', default_timeout => 60);
SELECT cachequeue.cache_set('priv_admin', 'k', 'by cq_admin'::bytea);
SELECT convert_from(cachequeue.cache_get('priv_admin', 'k'), 'UTF8') AS k;
SELECT cachequeue.cache_create('priv_admin', default_timeout => 120);
SELECT default_timeout FROM cachequeue.cache_stats('priv_admin');
SELECT cachequeue.cache_drop('priv_admin');
RESET ROLE;
SELECT count(*) AS priv_admin_left FROM cachequeue.caches WHERE name = 'priv_admin';

-- the extension's own statements must not resolve operators through the caller's
-- search_path: an operator the caller defines must never run, least of all as the owner
SELECT cachequeue.cache_create('priv_attack', max_entries => 2, cull_frequency => 2);
CREATE SCHEMA cq_attack;
GRANT USAGE, CREATE ON SCHEMA cq_attack TO cq_user;
SET ROLE cq_user;
CREATE FUNCTION cq_attack.text_eq(a text, b text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'caller''s operator ran as %', current_user;
    RETURN a OPERATOR(pg_catalog.=) b;
END
$$;
CREATE OPERATOR cq_attack.= (LEFTARG = text, RIGHTARG = text, FUNCTION = cq_attack.text_eq);
SET search_path = cq_attack, pg_catalog;
-- a3 goes over max_entries 2 and culls a1
SELECT cachequeue.cache_set('priv_attack', 'a1', 'x'::bytea, 100);
SELECT cachequeue.cache_set('priv_attack', 'a2', 'x'::bytea, 200);
SELECT cachequeue.cache_set('priv_attack', 'a3', 'x'::bytea, 300);
-- per-call limits let the cache grow to 4; cache_cull then removes a2 and a3
SELECT cachequeue.cache_add('priv_attack', 'a4', 'x'::bytea, 400, 5);
SELECT cachequeue.cache_set_many('priv_attack', ARRAY['a5'], ARRAY['x']::bytea[], 500, 5);
SELECT cachequeue.cache_cull('priv_attack');
SELECT key FROM cachequeue.cache_get_many('priv_attack', ARRAY['a1', 'a2', 'a3', 'a4', 'a5'])
ORDER BY key;
SELECT total FROM cachequeue.cache_stats('priv_attack');
SELECT cachequeue.cache_cleanup('priv_attack');
SELECT cachequeue.cache_delete_many('priv_attack', ARRAY['a4']);
RESET search_path;
RESET ROLE;
SET client_min_messages = warning;
DROP SCHEMA cq_attack CASCADE;
RESET client_min_messages;
SELECT cachequeue.cache_drop('priv_attack');

SELECT cachequeue.cache_drop('priv');
DROP ROLE cq_nobody;
DROP ROLE cq_user;
DROP ROLE cq_admin;
