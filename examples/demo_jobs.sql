-- Demo jobs for the three queues of examples/queue_config.json, as the Django application
-- would enqueue them (in its own transactions, next to its data).
SELECT count(*) AS emails FROM cachequeue.job_enqueue_many('email', 'send_email',
    ARRAY['{"to": "radiologist@example.org"}', '{"to": "referrer@example.org"}',
          '{"subject": "no address"}']::jsonb[]);
SELECT count(*) AS reports FROM cachequeue.job_enqueue_many('report', 'generate_report',
    ARRAY['{"study": 7}', '{"study": 8}', '{"study": 9}']::jsonb[]);
SELECT cachequeue.job_enqueue('export', 'export_data', '{"study": 7}') > 0 AS export_enqueued;
