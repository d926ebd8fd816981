-- Claim cursors: a claim from one queue starts where this session's last claim stopped
-- (claim_cursor.hpp). Each case below puts a job ahead of the cursor and checks that the
-- next claim still takes it first: a job with a priority of its own, a past run time, a
-- retry, a reaped lease, a retried dead job, a rolled-back claim, and new jobs of the
-- queue's priority once the cursor has moved below it. (A scan from the front, which at
-- least once a second replaces the cursor, gives the same answers.)
\set SHOW_CONTEXT never
SET search_path = cachequeue, public;

SELECT queue_create('cur', max_retries => 1);
SELECT count(*) FROM job_enqueue_many('cur', 'plain',
    ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}', '{"n": 4}', '{"n": 5}', '{"n": 6}']::jsonb[]);
CREATE TEMP TABLE taken (seq serial, job bigint, lease uuid, payload jsonb);
CREATE FUNCTION pg_temp.take() RETURNS text LANGUAGE sql AS $$
    INSERT INTO taken (job, lease, payload)
    SELECT id, lease, payload FROM cachequeue.job_claim(ARRAY['cur'], 'w')
    RETURNING payload ->> 'n'
$$;

SELECT pg_temp.take() AS first;
-- a job with its own priority
SELECT job_enqueue('cur', 'urgent', '{"n": "urgent"}', priority => 5) AS urgent \gset
SELECT pg_temp.take() AS expect_urgent;
SELECT pg_temp.take() AS expect_2;
-- a run time in the past
SELECT job_enqueue('cur', 'late', '{"n": "late"}', run_at => now() - interval '1 hour') > 0
       AS enqueued;
SELECT pg_temp.take() AS expect_late;
-- a retry now of the urgent job
SELECT job_fail(:urgent, (SELECT lease FROM taken WHERE job = :urgent), 'boom', '0 s');
SELECT pg_temp.take() AS expect_urgent_again;
-- its lease runs out and is reaped: queued again (its last attempt is then spent)
UPDATE cachequeue.jobs SET lease_expires_at = now() - interval '1 min' WHERE id = :urgent;
SELECT job_reap() AS reaped;
SELECT status FROM job_status(:urgent);
-- dead now: a retried dead job
SELECT job_retry(:urgent) AS retried;
SELECT pg_temp.take() AS expect_urgent_retried;
SELECT pg_temp.take() AS expect_3;
-- a rolled-back claim: the job is waiting again, ahead of the cursor
BEGIN;
SELECT pg_temp.take() AS rolled_back_4;
ROLLBACK;
SELECT pg_temp.take() AS expect_4;
-- a job given back by its worker (job_release): claimable at once, its attempt not counted
SELECT pg_temp.take() AS expect_5;
SELECT job_release(job, lease) FROM taken WHERE payload ->> 'n' = '5';
SELECT status, attempts FROM cachequeue.jobs WHERE payload ->> 'n' = '5' AND queue_id =
    (SELECT id FROM cachequeue.queues WHERE name = 'cur');
SELECT regexp_replace(cq_try(format('SELECT job_release(%s, %L)', job, lease)),
                      'job \d+:', 'job N:') AS released_twice
FROM taken WHERE payload ->> 'n' = '5';
SELECT regexp_replace(cq_try(format('SELECT job_release(%s, %L)', job, gen_random_uuid())),
                      'job \d+:', 'job N:') AS forged
FROM taken WHERE payload ->> 'n' = '5';
SELECT cq_try('SELECT job_release(NULL, gen_random_uuid())') AS null_id;
SELECT cq_try('SELECT job_release(1, NULL)') AS null_lease;
SELECT cq_try('SELECT job_release(0, gen_random_uuid())') AS unknown_job;
-- the cursor goes below the queue's priority; a new job of the queue's priority comes first
SELECT job_enqueue('cur', 'low', '{"n": "low1"}', priority => -1) > 0 AS enqueued;
SELECT job_enqueue('cur', 'low', '{"n": "low2"}', priority => -1) > 0 AS enqueued;
SELECT pg_temp.take() AS expect_5, pg_temp.take() AS expect_6, pg_temp.take() AS expect_low1;
SELECT job_enqueue('cur', 'plain', '{"n": 7}') > 0 AS enqueued_7;
SELECT pg_temp.take() AS expect_7, pg_temp.take() AS expect_low2, pg_temp.take() AS empty;

-- every job was taken once per claim, none twice at a time
SELECT count(*) AS claims, count(DISTINCT lease) AS leases FROM taken;
SELECT queue_drop('cur');
