-- Completing a batch of jobs in one call: job_complete_many records every result whose
-- lease is current and returns the ids it could not complete; invalid inputs one per line.
\set SHOW_CONTEXT never
\pset null '(null)'
SET search_path = cachequeue, public;

SELECT queue_create('batch_q');
SELECT count(*) FROM job_enqueue_many('batch_q', 't',
    ARRAY(SELECT jsonb_build_object('n', i) FROM generate_series(1, 6) i));

-- claim four, complete them with their results: nothing left over
SELECT array_agg(id ORDER BY id) AS ids, array_agg(lease ORDER BY id) AS leases
FROM job_claim(ARRAY['batch_q'], 'w1', 4) \gset
SELECT job_complete_many(:'ids', :'leases',
    ARRAY(SELECT jsonb_build_object('done', i) FROM generate_series(1, 4) i)) AS not_completed;
SELECT j.status, count(*), count(j.result) AS with_result
FROM jobs j JOIN queues q ON q.id = j.queue_id WHERE q.name = 'batch_q'
GROUP BY 1 ORDER BY 1;

-- the same leases again: every id comes back, nothing changes
SELECT job_complete_many(:'ids', :'leases') = :'ids'::bigint[] AS all_refused;

-- claim the last two; one lease is forged: only the other job completes, without result
SELECT array_agg(id ORDER BY id) AS ids2, array_agg(lease ORDER BY id) AS leases2
FROM job_claim(ARRAY['batch_q'], 'w2', 2) \gset
SELECT cardinality(job_complete_many(:'ids2',
    ARRAY[(:'leases2'::uuid[])[1], gen_random_uuid()])) AS refused;
SELECT j.status, count(*), count(j.result) AS with_result
FROM jobs j JOIN queues q ON q.id = j.queue_id WHERE q.name = 'batch_q'
GROUP BY 1 ORDER BY 1;

-- an empty batch, and an id that does not exist
SELECT job_complete_many('{}', '{}') AS empty_batch;
SELECT job_complete_many(ARRAY[-1::bigint], ARRAY[gen_random_uuid()]) AS unknown_id;

-- invalid arguments
SELECT cq_try($$SELECT job_complete_many(NULL, '{}')$$);
SELECT cq_try($$SELECT job_complete_many('{}', NULL)$$);
SELECT cq_try($$SELECT job_complete_many('{1, NULL}',
    ARRAY[gen_random_uuid(), gen_random_uuid()])$$);
SELECT cq_try($$SELECT job_complete_many('{1}', ARRAY[NULL::uuid])$$);
SELECT cq_try($$SELECT job_complete_many('{1, 2}', ARRAY[gen_random_uuid()])$$);
SELECT cq_try($$SELECT job_complete_many('{1}', ARRAY[gen_random_uuid()], '{}')$$);
SELECT cq_try($$SELECT job_complete_many('{{1}}', ARRAY[[gen_random_uuid()]])$$);

SELECT queue_drop('batch_q');
