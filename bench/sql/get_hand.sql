-- get_hand: the same read written by hand against an unlogged key/value table.
-- Variables from cache_bench.sh: nkeys.
\set id random(1, :nkeys)
SELECT value FROM bench_hand WHERE key = 'k' || :id AND expires > now();
