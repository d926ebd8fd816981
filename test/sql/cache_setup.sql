-- Shared helpers for the cache suites, and the state CREATE EXTENSION leaves behind.
--
-- Every error in these suites is shown through cq_try: it runs one statement and prints
-- "ERROR <sqlstate>: <message>" instead of letting psql print the error with its context,
-- so the expected output shows the SQLSTATE and no line-dependent detail.
\set SHOW_CONTEXT never

CREATE FUNCTION public.cq_try(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    EXECUTE stmt INTO result;
    RETURN 'ok: ' || coalesce(result, '(null)');
EXCEPTION WHEN OTHERS THEN
    RETURN 'ERROR ' || SQLSTATE || ': ' || SQLERRM;
END
$$;

-- The helper itself: a value, a NULL, a void result and an error.
SELECT cq_try($$SELECT 42$$);
SELECT cq_try($$SELECT NULL::text$$);
SELECT cq_try($$SELECT pg_catalog.pg_sleep(0)$$);
SELECT cq_try($$SELECT 1 / 0$$);

-- CREATE EXTENSION made the cache "default" with Django's defaults.
SELECT name, default_timeout, max_entries, cull_frequency, unlogged
FROM cachequeue.caches ORDER BY name;
SELECT c.relpersistence
FROM cachequeue.caches k
JOIN pg_class c ON c.oid = ('cachequeue.cache_' || k.id)::regclass
WHERE k.name = 'default';

-- The roles exist, and the admin role includes the user role.
SELECT rolname, rolcanlogin FROM pg_roles
WHERE rolname IN ('cachequeue_user', 'cachequeue_admin') ORDER BY rolname;
SELECT pg_has_role('cachequeue_admin', 'cachequeue_user', 'MEMBER') AS admin_is_user;
