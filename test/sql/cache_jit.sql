-- The cache functions under JIT compilation with inlining, which uses the extension's
-- bitcode: a cheap check that the bitcode PGXS installs is sound.
\set SHOW_CONTEXT never
SET search_path = cachequeue, public;
SET jit = on;
SELECT pg_jit_available() AS jit_available;
SET jit_above_cost = 0;
SET jit_inline_above_cost = 0;
SET jit_optimize_above_cost = 0;

SELECT cache_create('jit');
SELECT count(cache_set('jit', 'k' || i, convert_to('v' || i, 'UTF8')))
FROM generate_series(1, 100) i;
SELECT count(*) FILTER (WHERE convert_from(cache_get('jit', 'k' || i), 'UTF8') = 'v' || i)
    AS hits
FROM generate_series(1, 120) i;
SELECT sum(cache_incr('jit', 'n')) FROM (SELECT cache_set('jit', 'n', '0'::bytea)) s,
    generate_series(1, 10);
SELECT cache_drop('jit');
RESET jit_above_cost;
RESET jit_inline_above_cost;
RESET jit_optimize_above_cost;
