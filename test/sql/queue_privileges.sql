-- Privileges of the job queue: nothing for PUBLIC; cachequeue_producer enqueues, cancels and
-- reads; cachequeue_worker claims and reports; cachequeue_admin does both and manages queues.
-- Every boundary is tried with a member role; refused calls raise 42501 and change nothing.
-- Also checks that a caller's operators never run inside the queue functions.
\set SHOW_CONTEXT never
\pset null '(null)'
SET client_min_messages = warning;
DROP ROLE IF EXISTS q_nobody;
DROP ROLE IF EXISTS q_producer;
DROP ROLE IF EXISTS q_worker;
DROP ROLE IF EXISTS q_admin;
RESET client_min_messages;
CREATE ROLE q_nobody;
CREATE ROLE q_producer IN ROLE cachequeue_producer;
CREATE ROLE q_worker IN ROLE cachequeue_worker;
CREATE ROLE q_admin IN ROLE cachequeue_admin;

-- who may execute what, from the catalogs
SELECT count(*) AS queue_functions_public_may_run
FROM pg_proc p
WHERE p.pronamespace = 'cachequeue'::regnamespace
  AND (p.proname LIKE 'queue\_%' OR p.proname LIKE 'job\_%')
  AND (p.proacl IS NULL
       OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0));
SELECT p.proname AS function,
       has_function_privilege('cachequeue_producer', p.oid, 'EXECUTE') AS producer,
       has_function_privilege('cachequeue_worker', p.oid, 'EXECUTE') AS worker,
       has_function_privilege('cachequeue_admin', p.oid, 'EXECUTE') AS admin,
       has_function_privilege('q_nobody', p.oid, 'EXECUTE') AS nobody
FROM pg_proc p
WHERE p.pronamespace = 'cachequeue'::regnamespace
  AND (p.proname LIKE 'queue\_%' OR p.proname LIKE 'job\_%')
ORDER BY p.proname;
-- the queue roles reach no cache function, and cachequeue_user no queue function
SELECT count(*) FILTER (WHERE has_function_privilege('cachequeue_producer', p.oid, 'EXECUTE')
                           OR has_function_privilege('cachequeue_worker', p.oid, 'EXECUTE'))
       AS cache_functions_for_queue_roles
FROM pg_proc p
WHERE p.pronamespace = 'cachequeue'::regnamespace AND p.proname LIKE 'cache\_%';
SELECT count(*) FILTER (WHERE has_function_privilege('cachequeue_user', p.oid, 'EXECUTE'))
       AS queue_functions_for_cache_users
FROM pg_proc p
WHERE p.pronamespace = 'cachequeue'::regnamespace
  AND (p.proname LIKE 'queue\_%' OR p.proname LIKE 'job\_%');
-- the tables are reached only through the functions
SELECT r.rolname, t.tab,
       has_table_privilege(r.rolname, t.tab, 'SELECT') AS "select",
       has_table_privilege(r.rolname, t.tab, 'INSERT, UPDATE, DELETE') AS write
FROM (VALUES ('cachequeue_producer'), ('cachequeue_worker'), ('cachequeue_admin')) r(rolname),
     (VALUES ('cachequeue.queues'), ('cachequeue.jobs')) t(tab)
ORDER BY 1, 2;
SELECT pg_has_role('cachequeue_admin', 'cachequeue_producer', 'MEMBER') AS admin_produces,
       pg_has_role('cachequeue_admin', 'cachequeue_worker', 'MEMBER') AS admin_works,
       pg_has_role('cachequeue_worker', 'cachequeue_producer', 'MEMBER') AS worker_produces,
       pg_has_role('cachequeue_producer', 'cachequeue_worker', 'MEMBER') AS producer_works;

SELECT cachequeue.queue_create('priv_q');
SELECT cachequeue.job_enqueue('priv_q', 'by postgres') AS pg_job \gset
SELECT id - :pg_job AS id, lease AS pg_lease
FROM cachequeue.job_claim(ARRAY['priv_q'], 'postgres') \gset
SELECT :id AS claimed_by_postgres;

-- a role with neither: refused by the schema first
SET ROLE q_nobody;
SELECT cq_try($$SELECT cachequeue.job_enqueue('priv_q', 't')$$);
SELECT cq_try($$SELECT count(*) FROM cachequeue.queue_stats()$$);
RESET ROLE;
-- and with USAGE on the schema, by every function
GRANT USAGE ON SCHEMA cachequeue TO q_nobody;
SET ROLE q_nobody;
SELECT cq_try($$SELECT cachequeue.queue_create('priv_nobody')$$);
SELECT cq_try($$SELECT cachequeue.queue_drop('priv_q')$$);
SELECT cq_try($$SELECT cachequeue.queue_pause('priv_q')$$);
SELECT cq_try($$SELECT cachequeue.queue_resume('priv_q')$$);
SELECT cq_try($$SELECT cachequeue.job_enqueue('priv_q', 't')$$);
SELECT cq_try($$SELECT count(*) FROM cachequeue.job_enqueue_many('priv_q', 't',
                                                                   ARRAY['{}']::jsonb[])$$);
SELECT cq_try($$SELECT count(*) FROM cachequeue.job_claim(ARRAY['priv_q'], 'nobody')$$);
SELECT cq_try(format('SELECT cachequeue.job_heartbeat(%s, %L)', :pg_job, :'pg_lease'));
SELECT cq_try(format('SELECT cachequeue.job_complete(%s, %L)', :pg_job, :'pg_lease'));
SELECT cq_try(format('SELECT cachequeue.job_fail(%s, %L, %L)', :pg_job, :'pg_lease', 'e'));
SELECT cq_try(format('SELECT cachequeue.job_release(%s, %L)', :pg_job, :'pg_lease'));
SELECT cq_try(format('SELECT cachequeue.job_cancel(%s)', :pg_job));
SELECT cq_try(format('SELECT cachequeue.job_retry(%s)', :pg_job));
SELECT cq_try($$SELECT cachequeue.job_reap()$$);
SELECT cq_try($$SELECT cachequeue.job_purge('0 s')$$);
SELECT cq_try($$SELECT count(*) FROM cachequeue.queue_stats()$$);
SELECT cq_try(format('SELECT count(*) FROM cachequeue.job_status(%s)', :pg_job));
SELECT cq_try($$SELECT count(*) FROM cachequeue.jobs$$);
SELECT cq_try($$SELECT count(*) FROM cachequeue.queues$$);
RESET ROLE;
REVOKE USAGE ON SCHEMA cachequeue FROM q_nobody;
SELECT status, worker FROM cachequeue.job_status(:pg_job);

-- a producer enqueues, cancels and reads, but neither claims nor manages queues
SET ROLE q_producer;
SELECT cachequeue.job_enqueue('priv_q', 'by producer', '{"n": 1}') AS prod_job \gset
SELECT count(*) AS enqueued_many
FROM cachequeue.job_enqueue_many('priv_q', 'by producer', ARRAY['{"n": 2}']::jsonb[]);
SELECT cachequeue.job_enqueue('priv_q', 'unique', unique_key => 'k') AS uniq_job \gset
SELECT cachequeue.job_enqueue('priv_q', 'unique', unique_key => 'k') = :uniq_job AS same_job;
SELECT task, status, payload FROM cachequeue.job_status(:prod_job);
SELECT queue, queued, running FROM cachequeue.queue_stats() WHERE queue = 'priv_q';
SELECT cachequeue.job_cancel(:uniq_job);
SELECT cq_try($$SELECT count(*) FROM cachequeue.job_claim(ARRAY['priv_q'], 'producer')$$);
SELECT cq_try(format('SELECT cachequeue.job_heartbeat(%s, %L)', :pg_job, :'pg_lease'));
SELECT cq_try(format('SELECT cachequeue.job_complete(%s, %L)', :pg_job, :'pg_lease'));
SELECT cq_try(format('SELECT cachequeue.job_fail(%s, %L, %L)', :pg_job, :'pg_lease', 'e'));
SELECT cq_try(format('SELECT cachequeue.job_release(%s, %L)', :pg_job, :'pg_lease'));
SELECT cq_try($$SELECT cachequeue.job_reap()$$);
SELECT cq_try(format('SELECT cachequeue.job_retry(%s)', :uniq_job));
SELECT cq_try($$SELECT cachequeue.job_purge('0 s')$$);
SELECT cq_try($$SELECT cachequeue.queue_create('priv_producer')$$);
SELECT cq_try($$SELECT cachequeue.queue_create('priv_q', max_retries => 9)$$);
SELECT cq_try($$SELECT cachequeue.queue_pause('priv_q')$$);
SELECT cq_try($$SELECT cachequeue.queue_resume('priv_q')$$);
SELECT cq_try($$SELECT cachequeue.queue_drop('priv_q')$$);
SELECT cq_try($$SELECT count(*) FROM cachequeue.jobs$$);
SELECT cq_try($$UPDATE cachequeue.jobs SET status = 'succeeded' RETURNING 1$$);
RESET ROLE;
SELECT status, worker FROM cachequeue.job_status(:pg_job);
SELECT status FROM cachequeue.job_status(:uniq_job);
SELECT max_retries, paused FROM cachequeue.queues WHERE name = 'priv_q';
SELECT count(*) AS priv_producer_created FROM cachequeue.queues WHERE name = 'priv_producer';

-- a worker claims and reports, but neither enqueues, cancels nor manages queues
SET ROLE q_worker;
SELECT id = :prod_job AS first_in_line, task, attempt, lease AS w_lease
FROM cachequeue.job_claim(ARRAY['priv_q'], 'q_worker') \gset
SELECT :'first_in_line' AS first_in_line, :'task' AS task, :attempt AS attempt;
SELECT cachequeue.job_heartbeat(:prod_job, :'w_lease') > now() AS extended;
SELECT cachequeue.job_complete(:prod_job, :'w_lease', '{"ok": true}');
SELECT id AS w2_job, lease AS w2_lease FROM cachequeue.job_claim(ARRAY['priv_q'], 'q_worker')
\gset
SELECT cachequeue.job_release(:w2_job, :'w2_lease');
SELECT status FROM cachequeue.job_status(:w2_job);
SELECT id AS w2_job, lease AS w2_lease FROM cachequeue.job_claim(ARRAY['priv_q'], 'q_worker')
\gset
SELECT cachequeue.job_fail(:w2_job, :'w2_lease', 'worker failed', '1 hour');
SELECT cachequeue.job_reap() >= 0 AS reaped;
SELECT status, result, worker FROM cachequeue.job_status(:prod_job);
SELECT status, last_error FROM cachequeue.job_status(:w2_job);
SELECT queue, queued, scheduled, running, succeeded FROM cachequeue.queue_stats()
WHERE queue = 'priv_q';
-- the lease of a job claimed by someone else is still refused by fencing, not by privileges
SELECT regexp_replace(cq_try(format('SELECT cachequeue.job_complete(%s, %L)', :pg_job,
                                    gen_random_uuid())), 'job [0-9]+', 'job J');
SELECT cq_try($$SELECT cachequeue.job_enqueue('priv_q', 't')$$);
SELECT cq_try($$SELECT count(*) FROM cachequeue.job_enqueue_many('priv_q', 't',
                                                                   ARRAY['{}']::jsonb[])$$);
SELECT cq_try(format('SELECT cachequeue.job_cancel(%s)', :w2_job));
SELECT cq_try(format('SELECT cachequeue.job_retry(%s)', :uniq_job));
SELECT cq_try($$SELECT cachequeue.job_purge('0 s')$$);
SELECT cq_try($$SELECT cachequeue.queue_create('priv_worker')$$);
SELECT cq_try($$SELECT cachequeue.queue_pause('priv_q')$$);
SELECT cq_try($$SELECT cachequeue.queue_resume('priv_q')$$);
SELECT cq_try($$SELECT cachequeue.queue_drop('priv_q')$$);
SELECT cq_try($$SELECT count(*) FROM cachequeue.jobs$$);
SELECT cq_try($$SELECT count(*) FROM cachequeue.queues$$);
RESET ROLE;
SELECT status FROM cachequeue.job_status(:w2_job);
SELECT status FROM cachequeue.job_status(:uniq_job);

-- an admin does all of it
SET ROLE q_admin;
SELECT cachequeue.queue_create('priv_admin', max_retries => 0, timeout => '1 min');
SELECT cachequeue.queue_create('priv_admin', max_retries => 1);
SELECT cachequeue.queue_pause('priv_admin');
SELECT cachequeue.queue_resume('priv_admin');
SELECT cachequeue.job_enqueue('priv_admin', 'by admin') AS adm_job \gset
SELECT count(*) AS enqueued_many
FROM cachequeue.job_enqueue_many('priv_admin', 'by admin', ARRAY['{}']::jsonb[], -1);
SELECT id = :adm_job AS same_job, lease AS adm_lease
FROM cachequeue.job_claim(ARRAY['priv_admin'], 'q_admin') \gset
SELECT :'same_job' AS same_job;
SELECT cachequeue.job_heartbeat(:adm_job, :'adm_lease') > now() AS extended;
SELECT cachequeue.job_fail(:adm_job, :'adm_lease', 'first', '0 s');
SELECT lease AS adm_lease FROM cachequeue.job_claim(ARRAY['priv_admin'], 'q_admin') \gset
SELECT cachequeue.job_fail(:adm_job, :'adm_lease', 'second');
SELECT cachequeue.job_retry(:adm_job);
SELECT cachequeue.job_cancel(:adm_job);
SELECT cachequeue.job_retry(:uniq_job);
SELECT cachequeue.job_reap() >= 0 AS reaped;
SELECT cachequeue.job_purge('1 day');
SELECT status, attempts, jsonb_array_length(errors) AS failures
FROM cachequeue.job_status(:adm_job);
SELECT queue, queued, cancelled FROM cachequeue.queue_stats() WHERE queue = 'priv_admin';
SELECT cachequeue.queue_drop('priv_admin');
SELECT cq_try($$SELECT count(*) FROM cachequeue.jobs$$);
RESET ROLE;
SELECT count(*) AS priv_admin_left FROM cachequeue.queues WHERE name = 'priv_admin';
SELECT status FROM cachequeue.job_status(:uniq_job);

-- the queue functions must not resolve operators through the caller's search_path: an
-- operator the caller defines must never run, least of all as the extension's owner
CREATE SCHEMA q_attack;
GRANT USAGE, CREATE ON SCHEMA q_attack TO q_admin;
SET ROLE q_admin;
CREATE FUNCTION q_attack.text_eq(a text, b text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'caller''s operator ran as %', current_user;
    RETURN a OPERATOR(pg_catalog.=) b;
END
$$;
CREATE OPERATOR q_attack.= (LEFTARG = text, RIGHTARG = text, FUNCTION = q_attack.text_eq);
CREATE FUNCTION q_attack.int_eq(a integer, b integer) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'caller''s integer operator ran as %', current_user;
    RETURN a OPERATOR(pg_catalog.=) b;
END
$$;
CREATE OPERATOR q_attack.= (LEFTARG = integer, RIGHTARG = integer,
                            FUNCTION = q_attack.int_eq);
SET search_path = q_attack, pg_catalog;
SELECT cachequeue.queue_create('priv_attack', max_retries => 0, timeout => '1 min');
SELECT cachequeue.job_enqueue('priv_attack', 'a', unique_key => 'k') AS atk_job \gset
SELECT cachequeue.job_enqueue('priv_attack', 'a', unique_key => 'k') = :atk_job AS same_job;
SELECT count(*) FROM cachequeue.job_enqueue_many('priv_attack', 'b', ARRAY['{}']::jsonb[]);
SELECT id = :atk_job AS same_job, lease AS atk_lease
FROM cachequeue.job_claim(ARRAY['priv_attack'], 'attacker') \gset
SELECT cachequeue.job_heartbeat(:atk_job, :'atk_lease') > now() AS extended;
SELECT cachequeue.job_complete(:atk_job, :'atk_lease');
SELECT regexp_replace(public.cq_try(format('SELECT cachequeue.job_fail(%s, %L, %L)',
                                           :atk_job, :'atk_lease', 'x')),
                      'job [0-9]+', 'job J');
SELECT id AS atk2_job, lease AS atk2_lease
FROM cachequeue.job_claim(ARRAY['priv_attack'], 'attacker') \gset
SELECT cachequeue.job_fail(:atk2_job, :'atk2_lease', 'x');
SELECT cachequeue.job_retry(:atk2_job);
SELECT cachequeue.job_cancel(:atk2_job);
SELECT cachequeue.job_reap() >= 0 AS reaped;
SELECT cachequeue.job_purge('1 day') AS purged;
SELECT status FROM cachequeue.job_status(:atk_job);
SELECT queue, queued, succeeded FROM cachequeue.queue_stats()
WHERE queue OPERATOR(pg_catalog.=) 'priv_attack';
SELECT cachequeue.queue_pause('priv_attack');
SELECT cachequeue.queue_resume('priv_attack');
SELECT cachequeue.queue_drop('priv_attack');
RESET search_path;
RESET ROLE;
SET client_min_messages = warning;
DROP SCHEMA q_attack CASCADE;
RESET client_min_messages;

-- clean up
SELECT cachequeue.queue_drop('priv_q');
DROP ROLE q_nobody;
DROP ROLE q_producer;
DROP ROLE q_worker;
DROP ROLE q_admin;
