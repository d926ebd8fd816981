-- set_cache: one write through the cache API, default timeout (cache 'bench', keys that all
-- exist already, so each set replaces a value).
-- Variables from cache_bench.sh: nkeys, value (100 bytes, sent as a parameter).
\set id random(1, :nkeys)
SELECT cachequeue.cache_set('bench', 'k' || :id, :value);
