-- cycle_batch: a worker that takes 100 jobs at a time, as two transactions: claim 100 jobs
-- of queue 'bench' (their ids and leases kept as two array variables), then complete them
-- all in one job_complete_many call. One transaction here is 100 jobs when the claim gets
-- 100; a claim that gets fewer (or none: the arrays are then empty) is counted from the
-- table, and the script reports the jobs actually done.
WITH c AS (SELECT * FROM cachequeue.job_claim(ARRAY['bench'], 'w' || :client_id::text, 100))
SELECT coalesce(array_agg(id), '{}') AS ids, coalesce(array_agg(lease), '{}') AS leases
    FROM c \gset
SELECT cachequeue.job_complete_many(:ids::bigint[], :leases::uuid[]);
