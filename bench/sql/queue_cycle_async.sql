-- cycle_async: cycle as cachequeue worker runs it, with cachequeue.synchronous_claim off: the
-- claim commits without waiting for the disk (a claim lost in a crash only makes its job run
-- again). The SET is sent with every transaction, a round trip that cycle does not pay.
SET cachequeue.synchronous_claim = off;
SELECT id, lease FROM cachequeue.job_claim(ARRAY['bench'], 'w' || :client_id::text) \gset
SELECT cachequeue.job_complete(:id, :lease);
