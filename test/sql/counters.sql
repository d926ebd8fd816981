-- Shared-memory counters and metrics() with cachequeue in shared_preload_libraries (as
-- scripts/test.sh starts its cluster). Without preload: test/e2e/counters_off.sh.
--
-- Counters are kept per database and object id; this suite's caches and queues are its own,
-- so other suites counting their objects cannot change what is shown here.
\set SHOW_CONTEXT never
\pset null '(null)'

-- one sample of metrics(): the value of the line NAME{database="<this db>",LABELS}
CREATE FUNCTION cq_metric(name text, labels text) RETURNS text
LANGUAGE sql AS $$
    SELECT pg_catalog.substring(line, ' (\S+)$')
    FROM pg_catalog.regexp_split_to_table(cachequeue.metrics(), E'\n') AS line
    WHERE pg_catalog.starts_with(line, name || '{database="' || current_database() || '",'
                                       || labels || '} ')
$$;

SELECT enabled, max_objects, hint FROM cachequeue.counters_status();
SELECT cachequeue.counters_reset();
SELECT cachequeue.metrics() LIKE E'%\ncachequeue_counters_enabled{database="'
                                 || current_database() || E'"} 1\n%' AS enabled_line;

-- the cache: hits and misses by get and get_many, sets by set, set_many and add (when stored)
SELECT cachequeue.cache_create('ctr');
SELECT cachequeue.cache_set('ctr', 'a', 'apple');
SELECT cachequeue.cache_set('ctr', 'gone', 'x', 0);           -- not kept: no set counted
SELECT cachequeue.cache_set_many('ctr', ARRAY['b', 'c', 'b'], ARRAY['1', '2', '3']::bytea[]);
SELECT cachequeue.cache_add('ctr', 'a', 'again');             -- not stored
SELECT cachequeue.cache_add('ctr', 'd', 'date');              -- stored
SELECT cachequeue.cache_get('ctr', 'a') IS NOT NULL AS hit,
       cachequeue.cache_get('ctr', 'nope') IS NULL AS miss;
SELECT count(*) FROM cachequeue.cache_get_many('ctr', ARRAY['a', 'b', 'x', 'y', 'a']);
SELECT cachequeue.cache_has_key('ctr', 'a'), cachequeue.cache_touch('ctr', 'a', 60),
       cachequeue.cache_delete('ctr', 'd'), cachequeue.cache_delete_many('ctr', ARRAY['c']);
SELECT cachequeue.cache_set('ctr', 'n', '1');
SELECT cachequeue.cache_incr('ctr', 'n'), cachequeue.cache_decr('ctr', 'n');
SELECT cq_try($$SELECT cachequeue.cache_incr('ctr', 'missing')$$);  -- an error: not timed
SELECT counter, cq_metric('cachequeue_cache_' || counter || '_total', 'cache="ctr"') AS value
FROM unnest(ARRAY['hits', 'misses', 'sets', 'culled_entries']) AS counter;
SELECT hits, misses FROM cachequeue.cache_stats('ctr');

-- cachequeue.track_counters = off: this session's calls are not counted (superusers only)
SET cachequeue.track_counters = off;
SELECT cachequeue.cache_get('ctr', 'a') IS NOT NULL AS hit_not_counted;
RESET cachequeue.track_counters;
SELECT hits, misses FROM cachequeue.cache_stats('ctr');

-- the latency histogram: one count per call, cumulative buckets, +Inf equal to the count
SELECT op, cq_metric('cachequeue_cache_operation_duration_seconds_count',
                     'cache="ctr",operation="' || op || '"') AS calls,
       cq_metric('cachequeue_cache_operation_duration_seconds_bucket',
                 'cache="ctr",operation="' || op || '",le="+Inf"') AS le_inf,
       cq_metric('cachequeue_cache_operation_duration_seconds_sum',
                 'cache="ctr",operation="' || op || '"')::numeric > 0 AS sum_positive
FROM unnest(ARRAY['get', 'get_many', 'has_key', 'set', 'set_many', 'add', 'touch', 'delete',
                  'delete_many', 'incr']) AS op;
WITH buckets AS (
    SELECT pg_catalog.substring(line, 'le="([^"]+)"') AS le,
           pg_catalog.substring(line, ' (\d+)$')::bigint AS n, ord
    FROM pg_catalog.regexp_split_to_table(cachequeue.metrics(), E'\n') WITH ORDINALITY
         AS t(line, ord)
    WHERE line LIKE 'cachequeue_cache_operation_duration_seconds_bucket{%cache="ctr",'
                    'operation="get",%')
SELECT count(*) AS buckets,
       bool_and(n >= coalesce(prev, 0)) AS cumulative,
       max(le) FILTER (WHERE ord = (SELECT max(ord) FROM buckets)) AS last_le
FROM (SELECT le, n, ord, lag(n) OVER (ORDER BY ord) AS prev FROM buckets) b;

-- culls: entries removed by a cull (automatic on a write, or cache_cull)
SELECT cachequeue.cache_create('ctr_cull', max_entries => 4, cull_frequency => 2);
SELECT cachequeue.cache_set('ctr_cull', 'k' || i, 'v') FROM generate_series(1, 5) i;
SELECT 5 - (SELECT total FROM cachequeue.cache_stats('ctr_cull')) AS removed,
       cq_metric('cachequeue_cache_culled_entries_total', 'cache="ctr_cull"') AS culled;
SELECT cq_metric('cachequeue_cache_entries', 'cache="ctr_cull"') AS entries,
       cq_metric('cachequeue_cache_expired_entries', 'cache="ctr_cull"') AS expired;

-- label values are escaped: backslash, double quote, newline
SELECT cachequeue.cache_create(E'q"uo\\te\nnl');
SELECT cachequeue.cache_get(E'q"uo\\te\nnl', 'k');
SELECT cq_metric('cachequeue_cache_misses_total', 'cache="q\"uo\\te\nnl"') AS escaped_misses;
SELECT cachequeue.cache_drop(E'q"uo\\te\nnl');

-- the queue: enqueued, claimed, completed, failed attempts, dead, lease expiries
SELECT cachequeue.queue_create('ctr_q', max_retries => 1, timeout => '1 hour');
SELECT cachequeue.queue_create('ctr_q2', max_retries => 0, timeout => '1 hour');
SELECT cachequeue.queue_create('ctr_lease', max_retries => 1, timeout => '1 microsecond');
SELECT cachequeue.job_enqueue('ctr_q', 't', '{}') > 0 AS enqueued;
SELECT cachequeue.job_enqueue('ctr_q', 't', '{}', unique_key => 'u') > 0 AS enqueued;
SELECT cachequeue.job_enqueue('ctr_q', 't', '{}', unique_key => 'u') > 0 AS not_again;
SELECT count(*) FROM cachequeue.job_enqueue_many('ctr_q', 't', ARRAY['{}', '{}']::jsonb[]);
SELECT count(*) FROM cachequeue.job_enqueue_many('ctr_q2', 't', ARRAY['{}', '{}']::jsonb[]);
CREATE TEMP TABLE claimed AS
    SELECT id, queue, lease, row_number() OVER (PARTITION BY queue ORDER BY id) AS n
    FROM cachequeue.job_claim(ARRAY['ctr_q', 'ctr_q2'], 'w', 6);
SELECT queue, count(*) FROM claimed GROUP BY queue ORDER BY queue;
-- complete the first of ctr_q, then a batch of the second of ctr_q and the first of ctr_q2
SELECT cachequeue.job_complete(id, lease) FROM claimed WHERE queue = 'ctr_q' AND n = 1;
SELECT cachequeue.job_complete_many(array_agg(id), array_agg(lease))
FROM claimed WHERE (queue, n) IN (('ctr_q', 2), ('ctr_q2', 1));
-- fail the third of ctr_q twice (dead on its second attempt), the second of ctr_q2 once (dead)
SELECT cachequeue.job_fail(id, lease, 'boom', '0 s') FROM claimed
WHERE queue = 'ctr_q' AND n = 3;
SELECT cachequeue.job_fail(id, lease, 'boom') FROM cachequeue.job_claim(ARRAY['ctr_q'], 'w');
SELECT cachequeue.job_fail(id, lease, 'boom') FROM claimed WHERE queue = 'ctr_q2' AND n = 2;
-- a lease of a microsecond expires at once: reaped, queued again, then reaped dead
SELECT cachequeue.job_enqueue('ctr_lease', 't', '{}') > 0 AS enqueued;
SELECT count(*) FROM cachequeue.job_claim(ARRAY['ctr_lease'], 'w');
SELECT cachequeue.job_reap() >= 1 AS reaped;
SELECT count(*) FROM cachequeue.job_claim(ARRAY['ctr_lease'], 'w');
SELECT cachequeue.job_reap() >= 1 AS reaped;
SELECT q, c, cq_metric(CASE c WHEN 'lease_expiries' THEN 'cachequeue_queue_lease_expiries_total'
                       ELSE 'cachequeue_queue_jobs_' || c || '_total' END,
                       'queue="' || q || '"') AS value
FROM unnest(ARRAY['ctr_q', 'ctr_q2', 'ctr_lease']) WITH ORDINALITY AS qs(q, qn),
     unnest(ARRAY['enqueued', 'claimed', 'completed', 'failed', 'dead', 'lease_expiries'])
     WITH ORDINALITY AS cs(c, cn)
ORDER BY qn, cn;

-- gauges from the tables: jobs by status, depth, oldest waiting age, paused
SELECT cachequeue.job_enqueue('ctr_q', 't', '{}', run_at => now() + interval '1 hour') > 0
       AS scheduled;
SELECT cachequeue.queue_pause('ctr_q2');
SELECT cachequeue.job_enqueue('ctr_q2', 't', '{}') > 0 AS due_while_paused;
SELECT s, cq_metric('cachequeue_queue_jobs', 'queue="ctr_q",status="' || s || '"') AS jobs
FROM unnest(ARRAY['queued', 'scheduled', 'running', 'succeeded', 'dead', 'cancelled'])
     WITH ORDINALITY AS t(s, n) ORDER BY n;
SELECT cq_metric('cachequeue_queue_depth', 'queue="ctr_q"') AS depth,
       cq_metric('cachequeue_queue_depth', 'queue="ctr_q2"') AS q2_depth,
       cq_metric('cachequeue_queue_oldest_waiting_seconds', 'queue="ctr_q"') AS age_none,
       cq_metric('cachequeue_queue_oldest_waiting_seconds', 'queue="ctr_q2"')::float8 >= 0
           AS q2_age_ok,
       cq_metric('cachequeue_queue_paused', 'queue="ctr_q"') AS q_paused,
       cq_metric('cachequeue_queue_paused', 'queue="ctr_q2"') AS q2_paused;
SELECT right(cachequeue.metrics(), 1) = E'\n' AS ends_with_newline;

-- reset: this database's counters start again from zero
SELECT cachequeue.counters_reset();
SELECT cq_metric('cachequeue_cache_hits_total', 'cache="ctr"') AS hits,
       cq_metric('cachequeue_queue_jobs_enqueued_total', 'queue="ctr_q"') AS enqueued,
       cq_metric('cachequeue_queue_depth', 'queue="ctr_q"') AS depth_stays;
SELECT hits, misses FROM cachequeue.cache_stats('ctr');

-- privileges: metrics() for pg_monitor, admins and workers; reset for admins only
SET client_min_messages = warning;
DROP ROLE IF EXISTS ctr_monitor;
DROP ROLE IF EXISTS ctr_user;
DROP ROLE IF EXISTS ctr_worker;
DROP ROLE IF EXISTS ctr_admin;
RESET client_min_messages;
CREATE ROLE ctr_monitor IN ROLE pg_monitor;
CREATE ROLE ctr_user IN ROLE cachequeue_user;
CREATE ROLE ctr_worker IN ROLE cachequeue_worker;
CREATE ROLE ctr_admin IN ROLE cachequeue_admin;
SELECT r AS role,
       has_function_privilege(r, 'cachequeue.metrics()', 'EXECUTE') AS metrics,
       has_function_privilege(r, 'cachequeue.counters_status()', 'EXECUTE') AS status,
       has_function_privilege(r, 'cachequeue.counters_reset()', 'EXECUTE') AS reset
FROM unnest(ARRAY['ctr_monitor', 'ctr_user', 'ctr_worker', 'ctr_admin', 'public']) AS r;
SET ROLE ctr_monitor;
SELECT cachequeue.metrics() LIKE '%cachequeue_queue_depth{%' AS monitor_reads;
SELECT cq_try($$SELECT cachequeue.counters_reset()$$);
SELECT cq_try($$SELECT cachequeue.cache_get('ctr', 'a')$$);
RESET ROLE;
SET ROLE ctr_user;
SELECT cq_try($$SELECT set_config('cachequeue.track_counters', 'off', false)$$);
SELECT cq_try($$SELECT length(cachequeue.metrics()) > 0$$);
SELECT enabled FROM cachequeue.counters_status();
SELECT cq_try($$SELECT cachequeue.counters_reset()$$);
RESET ROLE;
SET ROLE ctr_worker;
SELECT cq_try($$SELECT length(cachequeue.metrics()) > 0$$);
SELECT cq_try($$SELECT cachequeue.counters_reset()$$);
RESET ROLE;
SET ROLE ctr_admin;
SELECT cachequeue.cache_get('ctr', 'a') IS NOT NULL AS hit;
SELECT cq_try($$SELECT cachequeue.counters_reset()$$);
RESET ROLE;
SELECT cq_metric('cachequeue_cache_hits_total', 'cache="ctr"') AS hits_after_admin_reset;

-- clean up
SELECT cachequeue.cache_drop('ctr'), cachequeue.cache_drop('ctr_cull');
SELECT cachequeue.queue_drop(q) FROM unnest(ARRAY['ctr_q', 'ctr_q2', 'ctr_lease']) q;
DROP ROLE ctr_monitor, ctr_user, ctr_worker, ctr_admin;
DROP FUNCTION cq_metric(text, text);
