-- Timeouts and expiry: default, NULL, zero, negative, infinite, NaN and huge timeouts; an
-- expired entry is invisible to every read and write before cleanup removes it.
\set SHOW_CONTEXT never
\pset null '(null)'
SET search_path = cachequeue, public;

SELECT cache_create('exp', default_timeout => 0.2);
SELECT cache_create('exp_never', default_timeout => NULL);

-- which timeouts are accepted
SELECT cache_set('exp', 'inf', 'x'::bytea, 'Infinity');
SELECT cache_ttl('exp', 'inf');
SELECT cache_set('exp', 'max', 'x'::bytea, 1e10);
SELECT cache_ttl('exp', 'max') BETWEEN 1e10 - 1 AND 1e10 AS ttl_1e10;
SELECT cache_set('exp', 'tiny', 'x'::bytea, 1e-9);
SELECT cq_try($$SELECT cache_set('exp', 'bad', 'x'::bytea, 'NaN')$$);
SELECT cq_try($$SELECT cache_set('exp', 'bad', 'x'::bytea, 1e10 + 1)$$);
SELECT cq_try($$SELECT cache_set('exp', 'bad', 'x'::bytea, 1e300)$$);
SELECT cache_has_key('exp', 'bad') AS bad_timeouts_stored_nothing;
SELECT cq_try($$SELECT cache_create('exp_bad', default_timeout => 'NaN')$$);
SELECT cq_try($$SELECT cache_create('exp_bad', default_timeout => 1e11)$$);
SELECT count(*) AS exp_bad_created FROM cachequeue.caches WHERE name = 'exp_bad';

-- zero, negative and -Infinity timeouts keep nothing and remove what was there
SELECT cache_set('exp', 'z', 'x'::bytea, NULL);
SELECT cache_set('exp', 'z', 'y'::bytea, 0);
SELECT cache_get('exp', 'z');
SELECT cache_set('exp', 'z', 'x'::bytea, NULL);
SELECT cache_set('exp', 'z', 'y'::bytea, -1);
SELECT cache_get('exp', 'z');
SELECT cache_set('exp', 'z', 'x'::bytea, NULL);
SELECT cache_set('exp', 'z', 'y'::bytea, '-Infinity');
SELECT cache_get('exp', 'z');
SELECT cache_set('exp', 'z', 'y'::bytea, 0);
SELECT cache_get('exp', 'z');
-- add with such a timeout stores nothing and says whether the key was absent
SELECT cache_add('exp', 'z', 'y'::bytea, 0);
SELECT cache_has_key('exp', 'z');
SELECT cache_add('exp', 'inf', 'y'::bytea, -1);
SELECT convert_from(cache_get('exp', 'inf'), 'UTF8') AS inf_unchanged;

-- a cache without a default timeout keeps entries forever
SELECT cache_set('exp_never', 'k', 'x'::bytea);
SELECT cache_ttl('exp_never', 'k');
SELECT cache_add('exp_never', 'a', 'x'::bytea);
SELECT cache_ttl('exp_never', 'a');
SELECT cache_set('exp_never', 'short', 'x'::bytea, 0.2);
SELECT cache_touch('exp_never', 'short');
SELECT cache_ttl('exp_never', 'short');

-- entries that expire: default timeout, explicit timeout, add, set_many, touch
SELECT cache_set('exp', 'd', '1'::bytea);
SELECT cache_set('exp', 'e', '2'::bytea, 0.2);
SELECT cache_add('exp', 'a', '3'::bytea);
SELECT cache_set_many('exp', ARRAY['m1', 'm2'], ARRAY['4', '5']::bytea[]);
SELECT cache_set('exp', 'touched', '6'::bytea, NULL);
SELECT cache_touch('exp', 'touched', 0.2);
SELECT cache_set('exp', 'keep', '7'::bytea, NULL);
SELECT cache_ttl('exp', 'd') BETWEEN 0 AND 0.2 AS d_ttl_short;
SELECT cache_has_key('exp', 'e') AS e_live;
SELECT count(*) AS live_before
FROM cache_get_many('exp', ARRAY['d', 'e', 'a', 'm1', 'm2', 'touched']);
SELECT pg_sleep(0.3);

-- expired: no read sees them
SELECT cache_get('exp', 'd');
SELECT cache_get('exp', 'touched');
SELECT cache_has_key('exp', 'e');
SELECT cache_ttl('exp', 'a');
SELECT count(*) AS live_after FROM cache_get_many('exp',
    ARRAY['d', 'e', 'a', 'm1', 'm2', 'touched']);
SELECT convert_from(cache_get('exp', 'keep'), 'UTF8') AS keep;
SELECT convert_from(cache_get('exp_never', 'k'), 'UTF8') AS never_expires;

-- but they are still stored until cleanup
SELECT cache, total, active, expired FROM cache_stats('exp');

-- expired: no write treats them as present
SELECT cache_touch('exp', 'd');
SELECT cache_touch('exp', 'd', 60);
SELECT cache_has_key('exp', 'd') AS touch_revived_nothing;
SELECT cache_delete('exp', 'e');
SELECT cache_delete_many('exp', ARRAY['m1', 'm2']);
SELECT cq_try($$SELECT cache_incr('exp', 'touched')$$);
SELECT cq_try($$SELECT cache_decr('exp', 'touched')$$);
SELECT cache_add('exp', 'a', 'new'::bytea, 60);
SELECT convert_from(cache_get('exp', 'a'), 'UTF8') AS a,
    cache_ttl('exp', 'a') BETWEEN 59 AND 60 AS a_ttl_60;
-- (delete and delete_many may or may not have removed the expired rows they were given)
SELECT cache, active, expired > 0 AS some_expired FROM cache_stats('exp');

-- cleanup removes the expired entries only and counts them
SELECT expired AS expired_before FROM cache_stats('exp') \gset
SELECT cache_cleanup('exp') = :expired_before AS cleanup_counted_them;
SELECT cache_cleanup('exp');
SELECT cache, total, active, expired FROM cache_stats('exp');
SELECT convert_from(cache_get('exp', 'keep'), 'UTF8') AS keep_survives_cleanup;

-- cleanup of every cache at once
SELECT cache_set('exp', 'x1', 'x'::bytea);
SELECT cache_set('exp', 'x2', 'x'::bytea);
SELECT cache_set('exp_never', 'x3', 'x'::bytea, 0.2);
SELECT pg_sleep(0.3);
SELECT cache_cleanup();
SELECT cache_set('exp', 'x4', 'x'::bytea);
SELECT pg_sleep(0.3);
SELECT cache_cleanup(NULL);
SELECT cache, total, active, expired FROM cache_stats() WHERE cache LIKE 'exp%' ORDER BY cache;
SELECT cq_try($$SELECT cache_cleanup('')$$);
SELECT cq_try($$SELECT cache_cleanup('no such cache')$$);
SELECT cq_try($$SELECT cache_cleanup(repeat('c', 64))$$);

-- expiry follows the clock, not the start of the transaction
BEGIN;
SELECT cache_set('exp', 'in_tx', 'x'::bytea, 0.2);
SELECT cache_has_key('exp', 'in_tx');
SELECT pg_sleep(0.3);
SELECT cache_has_key('exp', 'in_tx');
SELECT cache_add('exp', 'in_tx', 'y'::bytea);
COMMIT;

SELECT cache_drop('exp');
SELECT cache_drop('exp_never');
