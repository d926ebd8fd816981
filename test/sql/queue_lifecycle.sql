-- A job's life after the claim: heartbeat, complete, fail with retries until dead (with its
-- errors history and backoff), cancel, retry, expired leases (job_reap and claims), purge,
-- queue_stats and job_status. Fencing: a stale, finished or forged lease is refused with
-- QL001 and changes nothing. Job ids are relative to the first job of the suite.
\set SHOW_CONTEXT never
\pset null '(null)'
SET search_path = cachequeue, public;

-- Makes a leased job's lease run out now, as its queue's timeout would: tests of expiry then
-- need no sleep, which a busy machine could stretch past the lease being tested.
CREATE FUNCTION public.lc_expire(job bigint) RETURNS void
LANGUAGE sql AS $$
UPDATE cachequeue.jobs SET lease_expires_at = clock_timestamp() - interval '1 second'
WHERE id = job AND lease_expires_at IS NOT NULL
$$;

-- Like cq_try, and also prints the error's detail; job job is shown as "job J" so that the
-- output does not depend on identity values.
CREATE FUNCTION public.lc_try(stmt text, job bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    result text;
    detail text;
BEGIN
    EXECUTE stmt INTO result;
    RETURN 'ok: ' || coalesce(result, '(null)');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN regexp_replace('ERROR ' || SQLSTATE || ': ' || SQLERRM
                          || CASE WHEN detail <> '' THEN ' / ' || detail ELSE '' END,
                          'job ' || job || '\M', 'job J', 'g');
END
$$;

SELECT queue_create('lc', max_retries => 2, timeout => '30 s');
SELECT queue_create('lc_once', max_retries => 0);

-- complete: succeeded, the result stored, the lease gone
SELECT job_enqueue('lc', 'complete me', '{"x": 1}') AS first_id \gset
SELECT id = :first_id AS claimed, lease AS l1 FROM job_claim(ARRAY['lc'], 'w-a') \gset
SELECT :'claimed' AS claimed;
SELECT job_complete(:first_id, :'l1', '{"answer": 42}');
SELECT status, attempts, result, worker, last_error, errors, lease_expires_at,
       finished_at BETWEEN started_at AND clock_timestamp() AS finished
FROM job_status(:first_id);
-- completing twice with the same lease is refused, and so are heartbeat and fail
SELECT lc_try(format('SELECT job_complete(%s, %L)', :first_id, :'l1'), :first_id);
SELECT lc_try(format('SELECT job_complete(%s, %L, %L)', :first_id, :'l1', '{"answer": 0}'),
              :first_id);
SELECT lc_try(format('SELECT job_heartbeat(%s, %L)', :first_id, :'l1'), :first_id);
SELECT lc_try(format('SELECT job_fail(%s, %L, %L)', :first_id, :'l1', 'late'), :first_id);
SELECT status, attempts, result, last_error, errors FROM job_status(:first_id);
-- complete without a result
SELECT job_enqueue('lc', 'no result') AS nr_id \gset
SELECT lease AS nr_lease FROM job_claim(ARRAY['lc'], 'w-a') \gset
SELECT job_complete(:nr_id, :'nr_lease');
SELECT status, result FROM job_status(:nr_id);

-- heartbeat: a new lease end, now plus the queue's timeout
SELECT job_enqueue('lc', 'long job') AS hb_id \gset
SELECT lease AS hb_lease FROM job_claim(ARRAY['lc'], 'w-a') \gset
BEGIN;
SELECT job_heartbeat(:hb_id, :'hb_lease') AS hb_end \gset
SELECT :'hb_end'::timestamptz BETWEEN now() + interval '30 s'
                                   AND clock_timestamp() + interval '30 s' AS end_in_30_s;
SELECT lease_expires_at = :'hb_end'::timestamptz AS stored, status, attempts
FROM job_status(:hb_id);
COMMIT;
-- the longer lease follows a new timeout of the queue
SELECT queue_create('lc', max_retries => 2, timeout => '1 hour');
SELECT job_heartbeat(:hb_id, :'hb_lease') BETWEEN now() + interval '1 hour'
                                              AND clock_timestamp() + interval '1 hour'
       AS end_in_an_hour;
SELECT queue_create('lc', max_retries => 2, timeout => '30 s');
-- the same lease still completes the job
SELECT job_complete(:hb_id, :'hb_lease', '{"done": true}');
SELECT status, result FROM job_status(:hb_id);

-- forged leases: refused, nothing changes
SELECT job_enqueue('lc', 'forged') AS fg_id \gset
SELECT lc_try(format('SELECT job_complete(%s, %L)', :fg_id, gen_random_uuid()), :fg_id);
SELECT lease AS fg_lease FROM job_claim(ARRAY['lc'], 'w-a') \gset
SELECT lc_try(format('SELECT job_complete(%s, %L)', :fg_id, gen_random_uuid()), :fg_id);
SELECT lc_try(format('SELECT job_heartbeat(%s, %L)', :fg_id,
                     '00000000-0000-0000-0000-000000000000'), :fg_id);
SELECT lc_try(format('SELECT job_fail(%s, %L, %L)', :fg_id, gen_random_uuid(), 'x'), :fg_id);
SELECT status, attempts, worker, result, last_error, errors FROM job_status(:fg_id);
SELECT lease = :'fg_lease' AS same_lease FROM cachequeue.jobs WHERE id = :fg_id;
-- a lease of another job is no lease for this one
SELECT job_enqueue('lc', 'other') AS other_id \gset
SELECT lease AS other_lease FROM job_claim(ARRAY['lc'], 'w-b') \gset
SELECT lc_try(format('SELECT job_complete(%s, %L)', :fg_id, :'other_lease'), :fg_id);
SELECT job_complete(:fg_id, :'fg_lease');
SELECT job_complete(:other_id, :'other_lease');
SELECT status FROM job_status(:fg_id);

-- unknown jobs and invalid arguments
SELECT cq_try($$SELECT job_complete(0, gen_random_uuid())$$);
SELECT cq_try($$SELECT job_complete(-1, gen_random_uuid(), '{}')$$);
SELECT cq_try($$SELECT job_heartbeat(9223372036854775807, gen_random_uuid())$$);
SELECT cq_try($$SELECT job_fail(0, gen_random_uuid(), 'e')$$);
SELECT cq_try($$SELECT job_complete(NULL, gen_random_uuid())$$);
SELECT cq_try($$SELECT job_complete(0, NULL)$$);
SELECT cq_try($$SELECT job_heartbeat(NULL, gen_random_uuid())$$);
SELECT cq_try($$SELECT job_heartbeat(0, NULL)$$);
SELECT cq_try($$SELECT job_fail(NULL, gen_random_uuid(), 'e')$$);
SELECT cq_try($$SELECT job_fail(0, NULL, 'e')$$);
SELECT cq_try($$SELECT job_fail(0, gen_random_uuid(), NULL)$$);
SELECT cq_try($$SELECT job_fail(0, gen_random_uuid(), 'e', '-1 s')$$);
SELECT cq_try($$SELECT job_cancel(0)$$);
SELECT cq_try($$SELECT job_cancel(NULL)$$);
SELECT cq_try($$SELECT job_retry(0)$$);
SELECT cq_try($$SELECT job_retry(NULL)$$);
SELECT cq_try($$SELECT count(*) FROM job_status(NULL)$$);
SELECT count(*) AS unknown_rows FROM job_status(0);
-- a refused fail changes nothing
SELECT job_enqueue('lc', 'fail args') AS fa_id \gset
SELECT lease AS fa_lease FROM job_claim(ARRAY['lc'], 'w-a') \gset
SELECT lc_try(format('SELECT job_fail(%s, %L, NULL)', :fa_id, :'fa_lease'), :fa_id);
SELECT lc_try(format('SELECT job_fail(%s, %L, %L, %L)', :fa_id, :'fa_lease', 'e', '-1 s'),
              :fa_id);
SELECT lc_try(format('SELECT job_fail(%s, %L, %L, %L)', :fa_id, :'fa_lease', 'e',
                     '1 day -25 hours'), :fa_id);
SELECT status, attempts, last_error, errors FROM job_status(:fa_id);
SELECT job_complete(:fa_id, :'fa_lease');

-- fail: max_retries 2 means three attempts; the third failure is final
SELECT job_enqueue('lc', 'flaky', priority => 50) AS fl_id \gset
SELECT clock_timestamp() AS fl_start \gset
SELECT lease AS fl_1, attempt FROM job_claim(ARRAY['lc'], 'w-a') \gset
SELECT :attempt AS attempt;
SELECT job_fail(:fl_id, :'fl_1', 'boom', '0 s');
SELECT status, attempts, last_error, jsonb_array_length(errors) AS failures,
       errors @> '[{"attempt": 1, "error": "boom", "worker": "w-a"}]' AS recorded,
       run_at <= clock_timestamp() AS due, lease_expires_at, finished_at
FROM job_status(:fl_id);
-- the first lease is stale now
SELECT lc_try(format('SELECT job_complete(%s, %L)', :fl_id, :'fl_1'), :fl_id);
SELECT lease AS fl_2, attempt FROM job_claim(ARRAY['lc'], 'w-b') \gset
SELECT :attempt AS attempt;
-- and refused as taken over while another worker holds the job
SELECT lc_try(format('SELECT job_complete(%s, %L)', :fl_id, :'fl_1'), :fl_id);
SELECT lc_try(format('SELECT job_fail(%s, %L, %L)', :fl_id, :'fl_1', 'stale'), :fl_id);
SELECT job_fail(:fl_id, :'fl_2', 'bang', '0 s');
SELECT lease AS fl_3, attempt FROM job_claim(ARRAY['lc'], 'w-c') \gset
SELECT :attempt AS attempt;
SELECT job_fail(:fl_id, :'fl_3', 'crash', '0 s');
SELECT status, attempts, max_retries, last_error, lease_expires_at,
       finished_at BETWEEN started_at AND clock_timestamp() AS finished
FROM job_status(:fl_id);
SELECT e ->> 'attempt' AS attempt, e ->> 'error' AS error, e ->> 'worker' AS worker,
       (e ->> 'at')::timestamptz BETWEEN :'fl_start' AND clock_timestamp() AS at_ok
FROM job_status(:fl_id) s, jsonb_array_elements(s.errors) e;
-- a dead job is not claimed, and its last lease is refused
SELECT count(*) AS claimed_dead FROM job_claim(ARRAY['lc'], 'w-a', 10);
SELECT lc_try(format('SELECT job_fail(%s, %L, %L)', :fl_id, :'fl_3', 'again'), :fl_id);
SELECT lc_try(format('SELECT job_complete(%s, %L)', :fl_id, :'fl_3'), :fl_id);
-- max_retries 0: the first failure is final
SELECT job_enqueue('lc_once', 'once') AS once_id \gset
SELECT lease AS once_lease FROM job_claim(ARRAY['lc_once'], 'w-a') \gset
SELECT job_fail(:once_id, :'once_lease', 'no retries');
SELECT status, attempts, errors @> '[{"attempt": 1, "error": "no retries"}]' AS recorded
FROM job_status(:once_id);
-- an empty error message is an error message
SELECT job_enqueue('lc_once', 'empty error') AS ee_id \gset
SELECT lease AS ee_lease FROM job_claim(ARRAY['lc_once'], 'w-a') \gset
SELECT job_fail(:ee_id, :'ee_lease', '');
SELECT status, last_error = '' AS empty_kept FROM job_status(:ee_id);

-- the retry delay: retry_in when given, else a backoff of 2^attempt s, jittered by +-25 %
SELECT job_enqueue('lc', 'later') AS lt_id \gset
SELECT lease AS lt_lease FROM job_claim(ARRAY['lc'], 'w-a') \gset
BEGIN;
SELECT job_fail(:lt_id, :'lt_lease', 'wait an hour', '1 hour');
SELECT status, run_at BETWEEN now() + interval '1 hour'
                          AND clock_timestamp() + interval '1 hour' AS in_an_hour
FROM job_status(:lt_id);
COMMIT;
SELECT job_enqueue('lc', 'backoff', priority => 60) AS bo_id \gset
SELECT lease AS bo_lease FROM job_claim(ARRAY['lc'], 'w-a') \gset
SELECT clock_timestamp() AS before_fail \gset
SELECT job_fail(:bo_id, :'bo_lease', 'first failure');
SELECT status, run_at >= :'before_fail'::timestamptz + interval '1.5 s'
               AND run_at < clock_timestamp() + interval '2.5 s' AS backoff_2_s
FROM job_status(:bo_id);
-- waiting for a retry counts as scheduled, and is not claimed before its time
SELECT queue, queued, scheduled, running FROM queue_stats() WHERE queue = 'lc';
SELECT count(*) AS claimed_early FROM job_claim(ARRAY['lc'], 'w-a', 10);
SELECT job_cancel(:bo_id) AS cancel_backoff;

-- cancel: a queued job
SELECT job_enqueue('lc', 'cancel queued') AS cq_id \gset
SELECT job_cancel(:cq_id);
SELECT status, attempts, finished_at IS NOT NULL AS finished FROM job_status(:cq_id);
SELECT job_cancel(:cq_id);
SELECT count(*) AS claimed_cancelled FROM job_claim(ARRAY['lc'], 'w-a', 10);
-- a running job: its worker can no longer heartbeat, complete or fail it
SELECT job_enqueue('lc', 'cancel running') AS cr_id \gset
SELECT lease AS cr_lease FROM job_claim(ARRAY['lc'], 'w-a') \gset
SELECT job_cancel(:cr_id);
SELECT lc_try(format('SELECT job_heartbeat(%s, %L)', :cr_id, :'cr_lease'), :cr_id);
SELECT lc_try(format('SELECT job_complete(%s, %L)', :cr_id, :'cr_lease'), :cr_id);
SELECT lc_try(format('SELECT job_fail(%s, %L, %L)', :cr_id, :'cr_lease', 'x'), :cr_id);
SELECT status, attempts, result, last_error, lease_expires_at FROM job_status(:cr_id);
-- finished jobs are not cancelled
SELECT job_cancel(:first_id) AS cancel_succeeded, job_cancel(:fl_id) AS cancel_dead;
SELECT status FROM job_status(:first_id);
-- a scheduled job can be cancelled
SELECT job_cancel(:lt_id) AS cancel_scheduled;

-- retry: a dead job is queued again with fresh attempts and its history kept
SELECT job_retry(:fl_id);
SELECT status, attempts, finished_at, jsonb_array_length(errors) AS failures, last_error,
       run_at <= clock_timestamp() AS due
FROM job_status(:fl_id);
SELECT id = :fl_id AS same_job, attempt FROM job_claim(ARRAY['lc'], 'w-d');
SELECT job_retry(:fl_id) AS retry_running;
-- a cancelled job too, queued or running when it was cancelled
SELECT job_retry(:cq_id) AS retry_cancelled, job_retry(:cr_id) AS retry_cancelled_running;
SELECT status, attempts FROM job_status(:cr_id);
SELECT lc_try(format('SELECT job_complete(%s, %L)', :cr_id, :'cr_lease'), :cr_id);
-- but not a queued or succeeded one
SELECT job_retry(:cq_id) AS retry_queued, job_retry(:first_id) AS retry_succeeded;
SELECT status FROM job_status(:first_id);

-- expired leases: lc_expire ends a lease when the test needs it, and leases that must not
-- run out are an hour long
SELECT queue_create('lc_reap', max_retries => 1, timeout => '1 hour');
SELECT queue_create('lc_reap_once', max_retries => 0, timeout => '1 hour');
SELECT queue_create('lc_reap_claim', timeout => '1 s');
SELECT job_enqueue('lc_reap', 'r1') AS r1 \gset
SELECT job_enqueue('lc_reap', 'r2') AS r2 \gset
SELECT job_enqueue('lc_reap_once', 'r3') AS r3 \gset
SELECT job_enqueue('lc_reap_claim', 'r4') AS r4 \gset
SELECT job_enqueue('lc', 'not expired', priority => 100) AS ne_id \gset
SELECT lease AS r4_lease FROM job_claim(ARRAY['lc_reap_claim'], 'w-r') \gset
SELECT lease AS ne_lease FROM job_claim(ARRAY['lc'], 'w-r') \gset
SELECT lease AS r1_lease FROM job_claim(ARRAY['lc_reap'], 'w-r') \gset
SELECT lease AS r2_lease FROM job_claim(ARRAY['lc_reap'], 'w-r') \gset
SELECT lease AS r3_lease FROM job_claim(ARRAY['lc_reap_once'], 'w-r') \gset
SELECT lc_expire(:r4);
-- a session's claims reap expired leases at most once a second: wait for the next one
SELECT pg_sleep(1.05);
-- r4's lease has run out: a claim handles it first, and gets the job again
SELECT id = :r4 AS same_job, attempt, task FROM job_claim(ARRAY['lc_reap_claim'], 'w-s');
SELECT status, attempts, worker, last_error,
       errors @> '[{"attempt": 1, "error": "lease expired", "worker": "w-r"}]' AS recorded
FROM job_status(:r4);
SELECT lc_try(format('SELECT job_complete(%s, %L)', :r4, :'r4_lease'), :r4);
SELECT lc_try(format('SELECT job_heartbeat(%s, %L)', :r4, :'r4_lease'), :r4);
-- leases that have not run out are left alone; r2 keeps its lease by heartbeat
SELECT task, status, attempts FROM cachequeue.jobs WHERE id IN (:r1, :r2, :r3) ORDER BY task;
SELECT job_heartbeat(:r2, :'r2_lease') > clock_timestamp() AS r2_extended;
SELECT lc_expire(:r1), lc_expire(:r3);
-- job_reap: r1 queued again at once, r3 (no retries) dead, r2 and the 30 s lease untouched
SELECT job_reap() AS reaped;
SELECT task, status, attempts, last_error, lease_expires_at IS NULL AS lease_gone,
       finished_at IS NOT NULL AS finished, run_at <= clock_timestamp() AS due,
       errors @> '[{"attempt": 1, "error": "lease expired", "worker": "w-r"}]' AS recorded,
       jsonb_array_length(errors) AS failures
FROM cachequeue.jobs WHERE id IN (:r1, :r2, :r3, :ne_id) ORDER BY task;
SELECT job_reap() AS reaped_again;
SELECT lc_try(format('SELECT job_complete(%s, %L)', :r1, :'r1_lease'), :r1);
SELECT lc_try(format('SELECT job_heartbeat(%s, %L)', :r3, :'r3_lease'), :r3);
SELECT job_complete(:r2, :'r2_lease');
SELECT job_complete(:ne_id, :'ne_lease');
SELECT id = :r1 AS same_job, attempt FROM job_claim(ARRAY['lc_reap'], 'w-s');
-- a dead job from an expired lease can be retried
SELECT job_retry(:r3);
SELECT status, attempts FROM job_status(:r3);

-- stats of the queue, counted by status
SELECT queue, queued, scheduled, running, succeeded, dead, cancelled,
       oldest_queued_age > interval '0' AS has_oldest, paused
FROM queue_stats() WHERE queue LIKE 'lc%';

-- purge: only finished jobs that finished before the horizon
SELECT count(*) AS lc_jobs FROM cachequeue.jobs WHERE id >= :first_id;
SELECT job_purge('1 hour') AS purged_none;
-- (cq is queued again: it has no finish time to age, and keeps none, see below)
UPDATE cachequeue.jobs SET finished_at = now() - interval '2 hours'
WHERE id IN (:first_id, :fg_id, :once_id, :cq_id, :r2) AND finished_at IS NOT NULL;
-- A finish time goes with a finished status, a lease end with a running one: the fenced
-- changes and job_retry find jobs by those columns (check_violation on a hand-made mix).
SELECT cq_try(format('UPDATE cachequeue.jobs SET finished_at = now() WHERE id = %s', :cq_id));
SELECT cq_try(format('UPDATE cachequeue.jobs SET lease_expires_at = now() WHERE id = %s',
                     :cq_id));
SELECT cq_try(format('UPDATE cachequeue.jobs SET finished_at = NULL WHERE id = %s', :r2));
UPDATE cachequeue.jobs SET finished_at = now() - interval '30 min' WHERE id = :nr_id;
SELECT job_purge('1 hour') AS purged;
SELECT count(*) AS kept FROM cachequeue.jobs
WHERE id IN (:first_id, :fg_id, :once_id, :cq_id, :r2);
SELECT count(*) AS purged_rows FROM job_status(:first_id);
SELECT status FROM job_status(:cq_id);
SELECT status FROM job_status(:nr_id);
SELECT job_purge('10 min') AS purged_30_min_old;
SELECT cq_try($$SELECT job_purge(NULL)$$);
SELECT cq_try($$SELECT job_purge('-1 s')$$);
SELECT cq_try($$SELECT job_purge('1 day -25 hours')$$);
SELECT cq_try($$SELECT job_purge('1 mon -31 days')$$);
SELECT job_purge('0 s') AS purged_all_finished;
SELECT status, count(*) FROM cachequeue.jobs WHERE id >= :first_id GROUP BY status
ORDER BY status;

-- extreme values: a retry far in the future must not wrap around into the past, a purge
-- horizon before any timestamp purges nothing, and an infinite run_at must not break
-- queue_stats (whether such values are refused or accepted)
SELECT queue_create('lc_far');
SELECT job_enqueue('lc_far', 'far') AS far_id \gset
SELECT lease AS far_lease FROM job_claim(ARRAY['lc_far'], 'w-a') \gset
SELECT regexp_replace(cq_try(format('SELECT job_fail(%s, %L, %L, %L)', :far_id, :'far_lease',
                                    'e', '300000 years')), ':.*', '')
       IN ('ok', 'ERROR 22008', 'ERROR 22023') AS handled;
SELECT count(*) AS claimed_now FROM job_claim(ARRAY['lc_far'], 'w-b');
SELECT cq_try(format('SELECT run_at::text FROM job_status(%s)', :far_id)) LIKE 'ok: %'
       AS run_at_readable;
SELECT cq_try($$SELECT job_purge('100000000 years')$$);
SELECT regexp_replace(cq_try($$SELECT job_enqueue('lc_far', 'never', run_at => 'infinity')$$),
                      ':.*', '') IN ('ok', 'ERROR 22008', 'ERROR 22023') AS handled;
SELECT regexp_replace(cq_try($$SELECT job_enqueue('lc_far', 'always',
                                                  run_at => '-infinity')$$),
                      ':.*', '') IN ('ok', 'ERROR 22008', 'ERROR 22023') AS handled;
SELECT cq_try($$SELECT count(*) FROM queue_stats() WHERE queue = 'lc_far'$$);
SELECT queue_drop('lc_far');

-- clean up
SELECT queue_drop('lc');
SELECT queue_drop('lc_once');
SELECT queue_drop('lc_reap');
SELECT queue_drop('lc_reap_once');
SELECT queue_drop('lc_reap_claim');
DROP FUNCTION public.lc_try(text, bigint);
DROP FUNCTION public.lc_expire(bigint);
