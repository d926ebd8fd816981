-- A short tour of the cachequeue cache; run by scripts/demo.sh (psql -X -v ON_ERROR_STOP=1).
-- It drops its cache at the end, so it can run again and again.
\set ON_ERROR_STOP on
\set QUIET on
\pset null '(null)'

\echo
\echo '-- Removing the demo cache of an earlier run, if there is one'
SELECT cachequeue.cache_drop('demo')
WHERE EXISTS (SELECT 1 FROM cachequeue.caches WHERE name = 'demo') \g /dev/null

\echo
\echo '-- Creating cache "demo": entries live 60 s by default, at most 1000 of them'
SELECT 'created' AS cache_create
FROM cachequeue.cache_create('demo', default_timeout => 60, max_entries => 1000);

\echo '-- Storing greeting = hello'
SELECT 'stored' AS cache_set
FROM cachequeue.cache_set('demo', 'greeting', 'hello'::bytea);

\echo '-- Reading it back (values are bytea; convert_from turns them into text)'
SELECT convert_from(cachequeue.cache_get('demo', 'greeting'), 'UTF8') AS greeting;

\echo '-- cache_add stores a key only if it is not there yet'
SELECT cachequeue.cache_add('demo', 'greeting', 'bonjour'::bytea) AS add_greeting_again;
SELECT cachequeue.cache_add('demo', 'farewell', 'goodbye'::bytea) AS add_farewell;
SELECT convert_from(cachequeue.cache_get('demo', 'greeting'), 'UTF8') AS greeting_still;

\echo '-- A counter: set visits to 0, then count two visits with cache_incr'
SELECT 'stored' AS cache_set
FROM cachequeue.cache_set('demo', 'visits', '0'::bytea);
SELECT cachequeue.cache_incr('demo', 'visits') AS visits;
SELECT cachequeue.cache_incr('demo', 'visits') AS visits;

\echo '-- Seconds left before greeting expires'
SELECT round(cachequeue.cache_ttl('demo', 'greeting')::numeric, 1) AS ttl_seconds;

\echo '-- Several keys at once: set a and b, then get a, b and a missing key zzz'
SELECT cachequeue.cache_set_many('demo', ARRAY['a', 'b'], ARRAY['1'::bytea, '2'::bytea])
    AS cache_set_many;
SELECT key, convert_from(value, 'UTF8') AS value
FROM cachequeue.cache_get_many('demo', ARRAY['a', 'b', 'zzz'])
ORDER BY key;

\echo '-- Deleting a: true the first time, false once it is gone'
SELECT cachequeue.cache_delete('demo', 'a') AS deleted;
SELECT cachequeue.cache_delete('demo', 'a') AS deleted_again;

\echo '-- Statistics of the demo cache'
\x on
SELECT * FROM cachequeue.cache_stats('demo');
\x off

\echo '-- Dropping the demo cache'
SELECT 'dropped' AS cache_drop FROM cachequeue.cache_drop('demo');

\echo
\echo '-- A job queue: create "demo_email", enqueue a job, claim it as a worker, complete it'
SELECT cachequeue.queue_drop('demo_email')
WHERE EXISTS (SELECT 1 FROM cachequeue.queues WHERE name = 'demo_email') \g /dev/null
SELECT 'created' AS queue_create
FROM cachequeue.queue_create('demo_email', max_retries => 3, timeout => '30 s', priority => 5);
SELECT cachequeue.job_enqueue('demo_email', 'send_email', '{"to": "ana@example.org"}') AS id
\gset
SELECT :id AS enqueued_job;
SELECT id, task, attempt, lease
FROM cachequeue.job_claim(ARRAY['demo_email'], 'demo-worker') \gset claimed_
SELECT :claimed_id AS claimed_job, :'claimed_task' AS task, :claimed_attempt AS attempt;

\echo '-- Completing it needs the lease the claim returned'
SELECT 'completed' AS job_complete
FROM cachequeue.job_complete(:claimed_id, :'claimed_lease', '{"sent": true}');
SELECT status, attempts, result FROM cachequeue.job_status(:id);
SELECT queue, queued, running, succeeded, dead FROM cachequeue.queue_stats()
WHERE queue = 'demo_email';
SELECT 'dropped' AS queue_drop FROM cachequeue.queue_drop('demo_email');
