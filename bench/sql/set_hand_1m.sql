-- set_hand_1m: set_hand on a table of 1,000,000 rows, no culling: the part of the 1M/10k gap
-- that comes from the size of the data alone.
-- Variables from cache_bench.sh: nkeys (1,000,000), value.
\set id random(1, :nkeys)
INSERT INTO bench_hand_1m VALUES ('k' || :id, :value, now() + interval '300 s')
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires;
