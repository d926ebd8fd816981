-- set_hand: the same write as a hand-written upsert on the unlogged key/value table.
-- Variables from cache_bench.sh: nkeys, value (100 bytes, sent as a parameter).
\set id random(1, :nkeys)
INSERT INTO bench_hand VALUES ('k' || :id, :value, now() + interval '300 s')
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires;
