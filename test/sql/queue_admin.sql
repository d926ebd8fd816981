-- Managing queues: create with defaults and with every setting, create again to update,
-- pause and resume, drop (with its jobs); name limits and invalid settings one per line.
-- Errors are shown with cq_try (see cache_setup).
\set SHOW_CONTEXT never
\pset null '(null)'
SET search_path = cachequeue, public;

-- create with the defaults, and with every setting given
SELECT queue_create('adm_q_defaults');
SELECT queue_create('adm_q_custom', max_retries => 7, timeout => '2 min', priority => 5);
SELECT queue_create('adm_q_positional', 0, '1 day', -3);
SELECT name, max_retries, timeout, priority, paused
FROM cachequeue.queues WHERE name LIKE 'adm_q%' ORDER BY name;
SELECT queue, queued, scheduled, running, succeeded, dead, cancelled, oldest_queued_age, paused
FROM queue_stats() WHERE queue LIKE 'adm_q%';

-- create again updates the settings, keeps the queue's id and its jobs
SELECT id AS custom_id FROM cachequeue.queues WHERE name = 'adm_q_custom' \gset
SELECT job_enqueue('adm_q_custom', 'kept') AS kept_job \gset
SELECT queue_create('adm_q_custom', max_retries => 1, timeout => '5 s', priority => -1);
SELECT id = :custom_id AS same_id, max_retries, timeout, priority, paused
FROM cachequeue.queues WHERE name = 'adm_q_custom';
SELECT task, status, priority AS job_priority FROM job_status(:kept_job);
-- a job enqueued now takes the new priority; the old one keeps its own
SELECT job_enqueue('adm_q_custom', 'new') AS new_job \gset
SELECT task, priority FROM job_status(:new_job);
-- create again with only the name puts the defaults back
SELECT queue_create('adm_q_custom');
SELECT max_retries, timeout, priority FROM cachequeue.queues WHERE name = 'adm_q_custom';

-- names: 1 to 52 bytes, compared exactly
SELECT queue_create(repeat('n', 52));
SELECT queue_create(repeat('é', 26));
SELECT queue_create('Adm_Q_Defaults');
SELECT queue_create('adm q with spaces');
SELECT name, octet_length(name) AS bytes FROM cachequeue.queues
WHERE name IN (repeat('n', 52), repeat('é', 26), 'Adm_Q_Defaults', 'adm q with spaces')
ORDER BY name COLLATE "C";
SELECT queue_drop(repeat('n', 52));
SELECT queue_drop(repeat('é', 26));
SELECT queue_drop('Adm_Q_Defaults');
SELECT queue_drop('adm q with spaces');
SELECT cq_try($$SELECT queue_create('')$$);
SELECT cq_try($$SELECT queue_create(repeat('n', 53))$$);
SELECT cq_try($$SELECT queue_create(repeat('é', 27))$$);
SELECT cq_try($$SELECT queue_create(NULL)$$);

-- max_retries: 0 to 1000
SELECT queue_create('adm_q_limits', max_retries => 0);
SELECT queue_create('adm_q_limits', max_retries => 1000);
SELECT max_retries FROM cachequeue.queues WHERE name = 'adm_q_limits';
SELECT cq_try($$SELECT queue_create('adm_q_limits', max_retries => -1)$$);
SELECT cq_try($$SELECT queue_create('adm_q_limits', max_retries => 1001)$$);
SELECT cq_try($$SELECT queue_create('adm_q_limits', max_retries => NULL)$$);

-- timeout: more than zero, at most a day
SELECT queue_create('adm_q_limits', timeout => '1 day');
SELECT queue_create('adm_q_limits', timeout => '24:00:00');
SELECT queue_create('adm_q_limits', timeout => '0.001 s');
SELECT timeout FROM cachequeue.queues WHERE name = 'adm_q_limits';
SELECT cq_try($$SELECT queue_create('adm_q_limits', timeout => '0 s')$$);
SELECT cq_try($$SELECT queue_create('adm_q_limits', timeout => '-1 s')$$);
SELECT cq_try($$SELECT queue_create('adm_q_limits', timeout => '24:00:00.000001')$$);
SELECT cq_try($$SELECT queue_create('adm_q_limits', timeout => '1 day 1 s')$$);
SELECT cq_try($$SELECT queue_create('adm_q_limits', timeout => '1 mon')$$);
SELECT cq_try($$SELECT queue_create('adm_q_limits', timeout => '1 mon -29 days')$$);
SELECT cq_try($$SELECT queue_create('adm_q_limits', timeout => NULL)$$);

-- priority: any integer, not NULL
SELECT queue_create('adm_q_limits', priority => 2147483647);
SELECT queue_create('adm_q_limits', priority => -2147483648);
SELECT priority FROM cachequeue.queues WHERE name = 'adm_q_limits';
SELECT cq_try($$SELECT queue_create('adm_q_limits', priority => NULL)$$);

-- a refused update changes nothing
SELECT max_retries, timeout, priority FROM cachequeue.queues WHERE name = 'adm_q_limits';

-- pause and resume: only the flag changes, twice in a row is fine
SELECT queue_pause('adm_q_defaults');
SELECT queue, paused FROM queue_stats() WHERE queue = 'adm_q_defaults';
SELECT queue_pause('adm_q_defaults');
SELECT paused FROM cachequeue.queues WHERE name = 'adm_q_defaults';
-- create again does not resume a paused queue
SELECT queue_create('adm_q_defaults', priority => 1);
SELECT paused, priority FROM cachequeue.queues WHERE name = 'adm_q_defaults';
SELECT queue_resume('adm_q_defaults');
SELECT queue_resume('adm_q_defaults');
SELECT queue, paused FROM queue_stats() WHERE queue = 'adm_q_defaults';
SELECT cq_try($$SELECT queue_pause('adm_q_missing')$$);
SELECT cq_try($$SELECT queue_resume('adm_q_missing')$$);
SELECT cq_try($$SELECT queue_pause('ADM_Q_DEFAULTS')$$);
SELECT cq_try($$SELECT queue_pause(NULL)$$);
SELECT cq_try($$SELECT queue_resume(NULL)$$);
SELECT cq_try($$SELECT queue_pause('')$$);
SELECT cq_try($$SELECT queue_resume(repeat('n', 53))$$);

-- drop deletes the queue's jobs, and only those
SELECT job_enqueue('adm_q_positional', 'other queue') AS other_job \gset
SELECT count(*) AS custom_jobs FROM cachequeue.jobs j
JOIN cachequeue.queues q ON q.id = j.queue_id WHERE q.name = 'adm_q_custom';
SELECT queue_drop('adm_q_custom');
SELECT count(*) AS custom_rows FROM cachequeue.queues WHERE name = 'adm_q_custom';
SELECT count(*) AS kept_job_rows FROM job_status(:kept_job);
SELECT count(*) AS new_job_rows FROM job_status(:new_job);
SELECT task, status FROM job_status(:other_job);
SELECT replace(cq_try($$SELECT job_cancel($$ || :kept_job || $$)$$), :'kept_job', 'N')
       AS cancel_dropped_job;
SELECT cq_try($$SELECT job_enqueue('adm_q_custom', 't')$$);
SELECT cq_try($$SELECT queue_drop('adm_q_custom')$$);
SELECT cq_try($$SELECT queue_drop(NULL)$$);
SELECT cq_try($$SELECT queue_drop('')$$);
-- a dropped queue can be created again, empty
SELECT queue_create('adm_q_custom');
SELECT queue, queued, scheduled, running, succeeded, dead, cancelled
FROM queue_stats() WHERE queue = 'adm_q_custom';

-- a drop rolled back keeps the queue and its jobs
BEGIN;
SELECT queue_drop('adm_q_positional');
SELECT count(*) AS rows_inside FROM cachequeue.queues WHERE name = 'adm_q_positional';
ROLLBACK;
SELECT task, status FROM job_status(:other_job);

-- a create rolled back leaves nothing
BEGIN;
SELECT queue_create('adm_q_rolled_back');
ROLLBACK;
SELECT count(*) AS rolled_back_rows FROM cachequeue.queues WHERE name = 'adm_q_rolled_back';

-- clean up
SELECT queue_drop('adm_q_defaults');
SELECT queue_drop('adm_q_custom');
SELECT queue_drop('adm_q_positional');
SELECT queue_drop('adm_q_limits');
SELECT count(*) AS queues_left FROM cachequeue.queues WHERE name LIKE 'adm_q%';
