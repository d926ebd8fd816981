-- enqueue: one job added through the queue API, in its own transaction (queue 'bench').
SELECT cachequeue.job_enqueue('bench', 'send_email', '{"to": "x"}');
