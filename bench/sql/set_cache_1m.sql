-- set_cache_1m: as set_cache_10k, on cache 'bench1m' (max_entries 1,000,000, preloaded with
-- 1,000,000 keys): the cost of a set must not grow with the size of the cache.
-- Variables from cache_bench.sh: nkeys (1,100,000 when measured), value.
\set id random(1, :nkeys)
SELECT cachequeue.cache_set('bench1m', 'k' || :id, :value);
