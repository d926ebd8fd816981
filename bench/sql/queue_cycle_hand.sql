-- cycle_hand: the same cycle hand-written on a plain table, the usual SKIP LOCKED queue:
-- mark the oldest queued job of queue 'bench' running, then mark it done (two transactions).
-- Table hand_jobs, partial index on (queue, id) WHERE status = 'queued'.
UPDATE hand_jobs SET status = 'running', locked_by = 'w' || :client_id::text,
    locked_at = now()
    WHERE id = (SELECT id FROM hand_jobs WHERE queue = 'bench' AND status = 'queued'
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING id \gset
UPDATE hand_jobs SET status = 'done' WHERE id = :id;
