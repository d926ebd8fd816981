-- get_cache: one read through the cache API (cache 'bench', 10,000 live keys).
-- Variables from cache_bench.sh: nkeys.
\set id random(1, :nkeys)
SELECT cachequeue.cache_get('bench', 'k' || :id);
