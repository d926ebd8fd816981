-- claim_10k: the cycle (claim, complete) with 10,000 jobs waiting in queue 'bench'. A third
-- transaction enqueues one job, as a producer keeping pace would, so that the number waiting
-- stays at 10,000 for the whole run. Compared with claim_1m, which differs only in the
-- preload.
SELECT id, lease FROM cachequeue.job_claim(ARRAY['bench'], 'w' || :client_id::text) \gset
SELECT cachequeue.job_complete(:id, :lease);
SELECT cachequeue.job_enqueue('bench', 'send_email', '{"to": "x"}');
