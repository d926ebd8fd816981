-- cycle: what a worker does for one job, as two transactions (autocommit): claim the next
-- job of queue 'bench', then complete it with its lease. The queue is preloaded so that it
-- never runs dry: \gset fails, and the client aborts, when the claim returns no row.
-- Needs -M prepared or extended: :id and :lease are then sent as parameters.
SELECT id, lease FROM cachequeue.job_claim(ARRAY['bench'], 'w' || :client_id::text) \gset
SELECT cachequeue.job_complete(:id, :lease);
