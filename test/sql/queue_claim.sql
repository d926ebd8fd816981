-- Claiming jobs: the order across queues (priority, then run_at, then id), what a claim
-- returns and records, batch sizes, paused queues, scheduled jobs, rolled back claims and
-- invalid inputs one per line. Job ids are relative to the first job of the suite.
\set SHOW_CONTEXT never
\pset null '(null)'
SET search_path = cachequeue, public;

SELECT queue_create('clm_low', timeout => '45 s');
SELECT queue_create('clm_high', priority => 10);
SELECT queue_create('clm_paused');
SELECT queue_create('clm_empty');

-- Jobs named by the order they must be claimed in. Same priority: earlier run_at first;
-- same priority and run_at: lower id first. Priorities come from the queue unless given.
SELECT job_enqueue('clm_low', 'c07', run_at => now() - interval '3 min') AS first_id \gset
SELECT job_enqueue('clm_low', 'c09', run_at => now() - interval '1 min') - :first_id AS id;
SELECT job_enqueue('clm_low', 'c08', run_at => now() - interval '2 min') - :first_id AS id;
SELECT job_enqueue('clm_high', 'c03', run_at => now() - interval '1 min') - :first_id AS id;
SELECT job_enqueue('clm_high', 'c02', run_at => now() - interval '2 min') - :first_id AS id;
SELECT job_enqueue('clm_low', 'c01', priority => 20) - :first_id AS id;
SELECT job_enqueue('clm_high', 'c06', priority => 5) - :first_id AS id;
SELECT job_enqueue('clm_low', 'c10', priority => -5, run_at => now() - interval '1 day')
       - :first_id AS id;
SELECT count(*)
FROM job_enqueue_many('clm_high', 'c04_c05', ARRAY['{"n": 4}', '{"n": 5}']::jsonb[],
                      run_at => now() - interval '30 s');
SELECT queue, queued, scheduled, running FROM queue_stats() WHERE queue LIKE 'clm%';

-- one at a time, across both queues
SELECT task, payload, queue, attempt FROM job_claim(ARRAY['clm_low', 'clm_high'], 'w1');
SELECT task, payload, queue, attempt FROM job_claim(ARRAY['clm_high', 'clm_low'], 'w1');
SELECT task, payload, queue, attempt FROM job_claim(ARRAY['clm_low', 'clm_high'], 'w1');
-- a batch comes back in claim order
SELECT task, payload, queue, attempt
FROM job_claim(ARRAY['clm_low', 'clm_high'], 'w1', batch_size => 3);
-- only the queues named
SELECT task, queue FROM job_claim(ARRAY['clm_low'], 'w1');
-- a batch larger than what is left takes the rest
SELECT task, queue FROM job_claim(ARRAY['clm_high', 'clm_low'], 'w1', 1000);
SELECT count(*) AS nothing_left FROM job_claim(ARRAY['clm_low', 'clm_high'], 'w1', 10);
SELECT count(*) AS empty_queue FROM job_claim(ARRAY['clm_empty'], 'w1');
SELECT queue, queued, scheduled, running FROM queue_stats() WHERE queue LIKE 'clm%';

-- what a claim records: running, one attempt, the worker, a lease of the queue's timeout
SELECT job_enqueue('clm_low', 'record') AS record_id \gset
BEGIN;
SELECT id - :first_id AS id, queue, task, attempt, lease IS NOT NULL AS has_lease,
       lease_expires_at BETWEEN now() + interval '45 s'
                            AND clock_timestamp() + interval '45 s' AS expires_in_45_s
FROM job_claim(ARRAY['clm_low'], 'worker-7');
SELECT status, attempts, worker, started_at BETWEEN now() AND clock_timestamp() AS started,
       lease_expires_at BETWEEN now() + interval '45 s'
                            AND clock_timestamp() + interval '45 s' AS expires_in_45_s,
       finished_at, result, last_error, errors
FROM job_status(:record_id);
COMMIT;
-- each job of a batch gets its own lease
SELECT count(*) FROM job_enqueue_many('clm_low', 'leases', array_fill('{}'::jsonb, ARRAY[5]));
SELECT count(*) AS claimed, count(DISTINCT lease) AS leases, count(DISTINCT id) AS ids,
       bool_and(attempt = 1) AS first_attempts, bool_and(task = 'leases') AS all_leases
FROM job_claim(ARRAY['clm_low'], 'w1', 5);

-- a rolled back claim leaves the job as it was
SELECT job_enqueue('clm_low', 'rolled back') AS rb_id \gset
BEGIN;
SELECT task FROM job_claim(ARRAY['clm_low'], 'w1');
ROLLBACK;
SELECT status, attempts, worker, started_at FROM job_status(:rb_id);
SELECT task, attempt FROM job_claim(ARRAY['clm_low'], 'w1');

-- a paused queue gives nothing, enqueue still works; resumed, its jobs come out
SELECT queue_pause('clm_paused');
SELECT job_enqueue('clm_paused', 'p1', priority => 100) - :first_id AS p1;
SELECT job_enqueue('clm_low', 'not paused') - :first_id AS not_paused;
SELECT count(*) AS from_paused FROM job_claim(ARRAY['clm_paused'], 'w1');
SELECT task FROM job_claim(ARRAY['clm_paused', 'clm_low'], 'w1', 10);
SELECT queue, queued, running, paused FROM queue_stats() WHERE queue = 'clm_paused';
SELECT queue_resume('clm_paused');
SELECT task, attempt FROM job_claim(ARRAY['clm_paused'], 'w1');
-- pausing does not touch running jobs
SELECT job_enqueue('clm_paused', 'p2') AS p2_id \gset
SELECT lease AS p2_lease FROM job_claim(ARRAY['clm_paused'], 'w1') \gset
SELECT queue_pause('clm_paused');
SELECT job_complete(:p2_id, :'p2_lease');
SELECT status FROM job_status(:p2_id);
SELECT queue_resume('clm_paused');

-- scheduled jobs wait for their run_at
SELECT job_enqueue('clm_empty', 'tomorrow', run_at => now() + interval '1 day') AS tomorrow
\gset
SELECT job_enqueue('clm_empty', 'soon', run_at => clock_timestamp() + interval '0.3 s')
       AS soon \gset
SELECT count(*) AS before_run_at FROM job_claim(ARRAY['clm_empty'], 'w1', 10);
SELECT queue, queued, scheduled FROM queue_stats() WHERE queue = 'clm_empty';
SELECT pg_sleep(0.35);
SELECT queue, queued, scheduled FROM queue_stats() WHERE queue = 'clm_empty';
SELECT task FROM job_claim(ARRAY['clm_empty'], 'w1', 10);
SELECT status FROM job_status(:tomorrow);

-- a queue named twice is claimed from once, and the batch is still filled
SELECT queue_create('clm_twice');
SELECT count(*)
FROM job_enqueue_many('clm_twice', 'twice', ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}']::jsonb[]);
SELECT payload FROM job_claim(ARRAY['clm_twice', 'clm_twice'], 'w1', 2);
SELECT payload, attempt FROM job_claim(ARRAY['clm_twice', 'clm_twice'], 'w1', 2);

-- invalid arguments; a refused claim takes nothing
SELECT job_enqueue('clm_low', 'untouched') AS untouched_id \gset
SELECT cq_try($$SELECT count(*) FROM job_claim(NULL, 'w1')$$);
SELECT cq_try($$SELECT count(*) FROM job_claim(ARRAY[]::text[], 'w1')$$);
SELECT cq_try($$SELECT count(*) FROM job_claim('{}', 'w1')$$);
SELECT cq_try($$SELECT count(*) FROM job_claim(ARRAY[NULL]::text[], 'w1')$$);
SELECT cq_try($$SELECT count(*) FROM job_claim(ARRAY['clm_low', NULL], 'w1')$$);
SELECT cq_try($$SELECT count(*) FROM job_claim(ARRAY['clm_low', 'clm_missing'], 'w1')$$);
SELECT cq_try($$SELECT count(*) FROM job_claim(ARRAY['clm_missing'], 'w1')$$);
SELECT cq_try($$SELECT count(*) FROM job_claim(ARRAY['CLM_LOW'], 'w1')$$);
SELECT cq_try($$SELECT count(*) FROM job_claim(ARRAY[''], 'w1')$$);
SELECT cq_try($$SELECT count(*) FROM job_claim(ARRAY[repeat('q', 53)], 'w1')$$);
SELECT cq_try($$SELECT count(*) FROM job_claim(ARRAY[['clm_low'], ['clm_high']], 'w1')$$);
SELECT cq_try($$SELECT count(*) FROM job_claim(ARRAY['clm_low'], NULL)$$);
SELECT cq_try($$SELECT count(*) FROM job_claim(ARRAY['clm_low'], '')$$);
SELECT cq_try($$SELECT count(*) FROM job_claim(ARRAY['clm_low'], 'w1', 0)$$);
SELECT cq_try($$SELECT count(*) FROM job_claim(ARRAY['clm_low'], 'w1', -1)$$);
SELECT cq_try($$SELECT count(*) FROM job_claim(ARRAY['clm_low'], 'w1', 1001)$$);
SELECT cq_try($$SELECT count(*) FROM job_claim(ARRAY['clm_low'], 'w1', NULL)$$);
SELECT status, attempts FROM job_status(:untouched_id);
-- the largest batch is allowed
SELECT count(*) AS claimed FROM job_claim(ARRAY['clm_low'], 'w1', 1000);

-- cachequeue.synchronous_claim = off makes the claiming transaction commit asynchronously,
-- and only that transaction
SHOW synchronous_commit;
SELECT count(*) FROM job_enqueue_many('clm_low', 'async', ARRAY['{}', '{}']::jsonb[]);
SET cachequeue.synchronous_claim = off;
BEGIN;
SELECT task FROM job_claim(ARRAY['clm_low'], 'w1');
SHOW synchronous_commit;
COMMIT;
SHOW synchronous_commit;
RESET cachequeue.synchronous_claim;
BEGIN;
SELECT task FROM job_claim(ARRAY['clm_low'], 'w1');
SHOW synchronous_commit;
COMMIT;

-- clean up
SELECT queue_drop('clm_low');
SELECT queue_drop('clm_high');
SELECT queue_drop('clm_paused');
SELECT queue_drop('clm_empty');
SELECT queue_drop('clm_twice');
