-- Adding jobs: job_enqueue with its defaults and every argument, job_enqueue_many, unique
-- keys, priorities and run_at, and invalid inputs one per line next to the valid ones.
-- Job ids are shown relative to the first id of the suite; errors through cq_try.
\set SHOW_CONTEXT never
\pset null '(null)'
SET search_path = cachequeue, public;

SELECT queue_create('enq_a', max_retries => 2, priority => 4);
SELECT queue_create('enq_b');

-- enqueue with the defaults: an empty payload, the queue's priority, due at once
BEGIN;
SELECT job_enqueue('enq_a', 'send_mail') AS first_id \gset
SELECT id = :first_id AS same_id, queue, task, status, attempts, max_retries, priority,
       payload, result, last_error, errors, worker, lease_expires_at, started_at, finished_at
FROM job_status(:first_id);
SELECT run_at = now() AS due_now, enqueued_at = now() AS enqueued_now
FROM job_status(:first_id);
COMMIT;

-- every argument given
SELECT job_enqueue('enq_a', 'resize', '{"image": 7, "sizes": [1, 2]}', -1,
                   now() - interval '1 hour', 'img-7') - :first_id AS resize_id \gset
SELECT :resize_id AS resize_id;
SELECT task, status, priority, payload, run_at < now() AS in_the_past
FROM job_status(:first_id + :resize_id);
SELECT job_enqueue('enq_a', 'named', payload => '{"a": null}', priority => 9) - :first_id
       AS named_id;
SELECT priority, payload FROM job_status(:first_id + 2);
-- an explicit NULL priority or run_at means the default
SELECT job_enqueue('enq_a', 'nulls', '{}', NULL, NULL, NULL) - :first_id AS nulls_id;
SELECT priority, run_at <= now() AS due FROM job_status(:first_id + 3);
-- a priority of zero is a priority, not the default
SELECT job_enqueue('enq_a', 'zero', priority => 0) - :first_id AS zero_id;
SELECT priority FROM job_status(:first_id + 4);
-- extreme priorities, a unicode task and a large payload
SELECT job_enqueue('enq_b', 'max', priority => 2147483647) - :first_id AS max_id;
SELECT job_enqueue('enq_b', 'min', priority => -2147483648) - :first_id AS min_id;
SELECT job_enqueue('enq_b', 'задача', jsonb_build_object('text', repeat('x', 100000)))
       - :first_id AS big_id;
SELECT task, priority, length(payload ->> 'text') AS text_length
FROM cachequeue.jobs WHERE id BETWEEN :first_id + 5 AND :first_id + 7 ORDER BY id;
SELECT job_enqueue('enq_b', repeat('t', 200)) - :first_id AS long_task_id;

-- a future run_at makes the job scheduled, not queued
SELECT job_enqueue('enq_b', 'later', run_at => now() + interval '1 hour') - :first_id
       AS later_id;
SELECT status, run_at > now() AS in_the_future FROM job_status(:first_id + 9);
SELECT queue, queued, scheduled, running, succeeded, dead, cancelled,
       oldest_queued_age >= interval '1 hour' AS oldest_an_hour, paused
FROM queue_stats() WHERE queue LIKE 'enq%';

-- invalid arguments of job_enqueue
SELECT cq_try($$SELECT job_enqueue(NULL, 't')$$);
SELECT cq_try($$SELECT job_enqueue('', 't')$$);
SELECT cq_try($$SELECT job_enqueue(repeat('q', 53), 't')$$);
SELECT cq_try($$SELECT job_enqueue('enq_missing', 't')$$);
SELECT cq_try($$SELECT job_enqueue('ENQ_A', 't')$$);
SELECT cq_try($$SELECT job_enqueue('enq_a', NULL)$$);
SELECT cq_try($$SELECT job_enqueue('enq_a', '')$$);
SELECT cq_try($$SELECT job_enqueue('enq_a', repeat('t', 201))$$);
SELECT cq_try($$SELECT job_enqueue('enq_a', 't', NULL)$$);
SELECT cq_try($$SELECT job_enqueue('enq_a', 't', '[]')$$);
SELECT cq_try($$SELECT job_enqueue('enq_a', 't', '[{"a": 1}]')$$);
SELECT cq_try($$SELECT job_enqueue('enq_a', 't', '42')$$);
SELECT cq_try($$SELECT job_enqueue('enq_a', 't', '"text"')$$);
SELECT cq_try($$SELECT job_enqueue('enq_a', 't', 'true')$$);
SELECT cq_try($$SELECT job_enqueue('enq_a', 't', 'null')$$);
SELECT cq_try($$SELECT job_enqueue('enq_a', 't', unique_key => '')$$);
SELECT count(*) AS jobs_after_errors FROM cachequeue.jobs WHERE id >= :first_id;

-- a rolled back enqueue leaves no job
BEGIN;
SELECT job_enqueue('enq_b', 'rolled back') > 0 AS enqueued;
ROLLBACK;
SELECT count(*) AS rolled_back_jobs FROM cachequeue.jobs WHERE task = 'rolled back';

-- unique_key: an unfinished job holding the key is the answer, nothing is added
SELECT job_enqueue('enq_a', 'sync', '{"n": 1}', unique_key => 'user-1') AS sync_id \gset
SELECT job_enqueue('enq_a', 'sync', '{"n": 2}', unique_key => 'user-1') = :sync_id
       AS same_job;
SELECT job_enqueue('enq_a', 'other task', '{"n": 3}', priority => 99,
                   unique_key => 'user-1') = :sync_id AS same_job_for_any_task;
SELECT task, payload, priority FROM job_status(:sync_id);
SELECT count(*) AS holders FROM cachequeue.jobs WHERE unique_key = 'user-1';
-- keys are per queue and exact
SELECT job_enqueue('enq_b', 'sync', unique_key => 'user-1') <> :sync_id AS other_queue_new;
SELECT job_enqueue('enq_a', 'sync', unique_key => 'USER-1') <> :sync_id AS other_case_new;
SELECT job_enqueue('enq_a', 'sync', unique_key => 'user-1 ') <> :sync_id AS trailing_new;
-- jobs without a key never collide
SELECT count(DISTINCT job_enqueue('enq_a', 'no key')) AS distinct_ids
FROM generate_series(1, 3);
-- a scheduled job holds its key too
SELECT job_enqueue('enq_a', 'sched', run_at => now() + interval '1 day',
                   unique_key => 'sched') AS sched_id \gset
SELECT job_enqueue('enq_a', 'sched', unique_key => 'sched') = :sched_id AS same_scheduled;
-- a running job holds its key
SELECT queue_create('enq_run');
SELECT job_enqueue('enq_run', 'run', unique_key => 'run') AS run_id \gset
SELECT id = :run_id AS claimed_it, lease AS run_lease
FROM job_claim(ARRAY['enq_run'], 'enq-worker') \gset
SELECT :'claimed_it' AS claimed_it;
SELECT job_enqueue('enq_run', 'run', unique_key => 'run') = :run_id AS same_running;
-- once the holder finished, the key can be used again: succeeded
SELECT job_complete(:run_id, :'run_lease');
SELECT job_enqueue('enq_run', 'run', unique_key => 'run') <> :run_id AS new_after_success;
-- cancelled
SELECT job_cancel(:sync_id);
SELECT job_enqueue('enq_a', 'sync', '{"n": 4}', unique_key => 'user-1') AS sync2_id \gset
SELECT :sync2_id <> :sync_id AS new_after_cancel;
SELECT payload FROM job_status(:sync2_id);
-- dead: a queue without retries, one failed attempt
SELECT queue_create('enq_once', max_retries => 0);
SELECT job_enqueue('enq_once', 'once', unique_key => 'k') AS once_id \gset
SELECT lease AS once_lease FROM job_claim(ARRAY['enq_once'], 'enq-worker') \gset
SELECT job_fail(:once_id, :'once_lease', 'boom');
SELECT job_enqueue('enq_once', 'once', unique_key => 'k') <> :once_id AS new_after_dead;
SELECT count(*) AS rows_with_key FROM cachequeue.jobs j
JOIN cachequeue.queues q ON q.id = j.queue_id WHERE q.name = 'enq_once';
-- a failed attempt that is retried keeps holding the key
SELECT job_enqueue('enq_a', 'retried', priority => 100, unique_key => 'r') AS retried_id \gset
SELECT lease AS retried_lease FROM job_claim(ARRAY['enq_a'], 'enq-worker') \gset
SELECT job_fail(:retried_id, :'retried_lease', 'try again', '1 hour');
SELECT job_enqueue('enq_a', 'retried', unique_key => 'r') = :retried_id AS same_after_retry;

-- job_enqueue_many: one job per payload, ids in payload order
SELECT array_agg(id ORDER BY n) AS ids_in_order
FROM (SELECT id - min(id) OVER () AS id, row_number() OVER () AS n
      FROM job_enqueue_many('enq_b', 'batch2',
                            ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}']::jsonb[])
           AS m(id)) s;
SELECT task, payload ->> 'n' AS n, priority, status, run_at <= now() AS due
FROM cachequeue.jobs WHERE task = 'batch2' ORDER BY id;
-- the payload comes back under the id returned for it
CREATE TEMP TABLE enq_returned AS
SELECT id, row_number() OVER () AS n
FROM job_enqueue_many('enq_b', 'batch3',
                      ARRAY['{"k": "a"}', '{"k": "b"}', '{"k": "c"}', '{"k": "d"}']::jsonb[])
     AS m(id);
SELECT r.n, j.payload ->> 'k' AS k
FROM enq_returned r JOIN cachequeue.jobs j ON j.id = r.id ORDER BY r.n;
DROP TABLE enq_returned;
-- priority and run_at apply to every job
SELECT count(*) AS scheduled_jobs
FROM job_enqueue_many('enq_b', 'batch4', ARRAY['{}', '{}']::jsonb[], 7,
                      now() + interval '1 hour');
SELECT priority, run_at > now() AS in_the_future, count(*)
FROM cachequeue.jobs WHERE task = 'batch4' GROUP BY 1, 2;
-- the queue's priority when none is given
SELECT count(*) FROM job_enqueue_many('enq_a', 'batch5', ARRAY['{}']::jsonb[]);
SELECT priority FROM cachequeue.jobs WHERE task = 'batch5';
-- an empty array adds nothing
SELECT count(*) AS no_rows FROM job_enqueue_many('enq_b', 'empty', ARRAY[]::jsonb[]);
SELECT count(*) AS no_rows FROM job_enqueue_many('enq_b', 'empty', '{}'::jsonb[]);
SELECT count(*) AS empty_jobs FROM cachequeue.jobs WHERE task = 'empty';

-- invalid arguments of job_enqueue_many; a refused batch adds no job at all
SELECT cq_try($$SELECT count(*) FROM job_enqueue_many(NULL, 't', ARRAY['{}']::jsonb[])$$);
SELECT cq_try($$SELECT count(*) FROM job_enqueue_many('', 't', ARRAY['{}']::jsonb[])$$);
SELECT cq_try($$SELECT count(*) FROM job_enqueue_many('enq_no', 't', ARRAY['{}']::jsonb[])$$);
SELECT cq_try($$SELECT count(*) FROM job_enqueue_many('enq_no', 't', ARRAY[]::jsonb[])$$);
SELECT cq_try($$SELECT count(*) FROM job_enqueue_many('enq_b', NULL, ARRAY['{}']::jsonb[])$$);
SELECT cq_try($$SELECT count(*) FROM job_enqueue_many('enq_b', '', ARRAY['{}']::jsonb[])$$);
SELECT cq_try($$SELECT count(*) FROM job_enqueue_many('enq_b', 'bad', NULL)$$);
SELECT cq_try($$SELECT count(*) FROM job_enqueue_many('enq_b', 'bad',
                                                      ARRAY['{}', NULL]::jsonb[])$$);
SELECT cq_try($$SELECT count(*) FROM job_enqueue_many('enq_b', 'bad',
                                                      ARRAY[['{}'], ['{}']]::jsonb[])$$);
SELECT cq_try($$SELECT count(*) FROM job_enqueue_many('enq_b', 'bad',
                                                      ARRAY['{}', '[]']::jsonb[])$$);
SELECT cq_try($$SELECT count(*) FROM job_enqueue_many('enq_b', 'bad',
                                                      ARRAY['{}', '1']::jsonb[])$$);
SELECT cq_try($$SELECT count(*) FROM job_enqueue_many('enq_b', 'bad',
                                                      ARRAY['"s"']::jsonb[])$$);
SELECT count(*) AS bad_jobs FROM cachequeue.jobs WHERE task = 'bad';

-- clean up
SELECT queue_drop('enq_a');
SELECT queue_drop('enq_b');
SELECT queue_drop('enq_once');
SELECT queue_drop('enq_run');
SELECT count(*) AS jobs_left FROM cachequeue.jobs WHERE id >= :first_id;
