-- set_cache_10k: writes to cache 'bench10k' (max_entries 10,000, preloaded with 10,000 keys)
-- with keys drawn from a range 10% larger, so new keys keep arriving and culling runs.
-- Variables from cache_bench.sh: nkeys (11,000 when measured), value.
\set id random(1, :nkeys)
SELECT cachequeue.cache_set('bench10k', 'k' || :id, :value);
