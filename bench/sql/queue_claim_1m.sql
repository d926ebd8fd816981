-- claim_1m: claim_10k with 1,000,000 jobs waiting in queue 'bench' (claim, complete, and
-- enqueue one job to keep the count steady): the cost of a claim must not grow with the
-- number of jobs waiting.
SELECT id, lease FROM cachequeue.job_claim(ARRAY['bench'], 'w' || :client_id::text) \gset
SELECT cachequeue.job_complete(:id, :lease);
SELECT cachequeue.job_enqueue('bench', 'send_email', '{"to": "x"}');
