-- enqueue_batch: 100 jobs added by one job_enqueue_many call; the array of payloads is built
-- in the statement (queue 'bench'). One transaction here is 100 jobs.
SELECT count(*) FROM cachequeue.job_enqueue_many('bench', 'send_email',
    ARRAY(SELECT '{"n": 1}'::jsonb FROM generate_series(1, 100)));
