-- Single-key operations: get, set, add, delete, has_key, ttl and touch, each with its
-- invalid inputs next to the valid ones. Errors are shown with cq_try (see cache_setup).
\set SHOW_CONTEXT never
\pset null '(null)'
SET search_path = cachequeue, public;

SELECT cache_create('basic', default_timeout => 300);

-- set and get
SELECT cache_set('basic', 'k1', 'v1'::bytea);
SELECT cache_get('basic', 'k1');
SELECT cache_set('basic', 'k1', 'v1 again'::bytea);
SELECT convert_from(cache_get('basic', 'k1'), 'UTF8') AS k1;
SELECT cache_set('basic', 'bin', '\x00ff0001'::bytea);
SELECT cache_get('basic', 'bin');
SELECT cache_set('basic', 'empty', ''::bytea);
SELECT cache_get('basic', 'empty') = ''::bytea AS empty_value_kept;
SELECT cache_get('basic', 'no such key');
SELECT cache_get('basic', 'K1');
SELECT cache_set('basic', 'with space/and%percent', 'x'::bytea);
SELECT cache_get('basic', 'with space/and%percent');
SELECT cache_set('basic', 'ключ', 'значение'::text::bytea);
SELECT convert_from(cache_get('basic', 'ключ'), 'UTF8') AS unicode_key;

-- invalid arguments of get
SELECT cq_try($$SELECT cache_get(NULL, 'k1')$$);
SELECT cq_try($$SELECT cache_get('basic', NULL)$$);
SELECT cq_try($$SELECT cache_get('', 'k1')$$);
SELECT cq_try($$SELECT cache_get('basic', '')$$);
SELECT cq_try($$SELECT cache_get('no such cache', 'k1')$$);
SELECT cq_try($$SELECT cache_get(repeat('c', 64), 'k1')$$);
SELECT cq_try($$SELECT cache_get('Basic', 'k1')$$);

-- invalid arguments of set
SELECT cq_try($$SELECT cache_set(NULL, 'k', 'v'::bytea)$$);
SELECT cq_try($$SELECT cache_set('basic', NULL, 'v'::bytea)$$);
SELECT cq_try($$SELECT cache_set('basic', 'k', NULL::bytea)$$);
SELECT cq_try($$SELECT cache_set('', 'k', 'v'::bytea)$$);
SELECT cq_try($$SELECT cache_set('basic', '', 'v'::bytea)$$);
SELECT cq_try($$SELECT cache_set('no such cache', 'k', 'v'::bytea)$$);
SELECT cq_try($$SELECT cache_set('basic', 'k', 'v'::bytea, 10, 0)$$);
SELECT cq_try($$SELECT cache_set('basic', 'k', 'v'::bytea, 10, NULL, -1)$$);
SELECT cache_has_key('basic', 'k') AS failed_sets_stored_nothing;

-- add stores only a missing key
SELECT cache_add('basic', 'a1', 'first'::bytea);
SELECT cache_add('basic', 'a1', 'second'::bytea);
SELECT convert_from(cache_get('basic', 'a1'), 'UTF8') AS a1;
SELECT cache_add('basic', 'a2', 'x'::bytea, 60);
SELECT cache_ttl('basic', 'a2') BETWEEN 59 AND 60 AS a2_ttl_60;
SELECT cache_add('basic', 'a3', 'x'::bytea, NULL);
SELECT cache_ttl('basic', 'a3');
SELECT cache_delete('basic', 'a1');
SELECT cache_add('basic', 'a1', 'third'::bytea);
SELECT convert_from(cache_get('basic', 'a1'), 'UTF8') AS a1;
SELECT cq_try($$SELECT cache_add(NULL, 'k', 'v'::bytea)$$);
SELECT cq_try($$SELECT cache_add('basic', NULL, 'v'::bytea)$$);
SELECT cq_try($$SELECT cache_add('basic', 'k', NULL::bytea)$$);
SELECT cq_try($$SELECT cache_add('basic', '', 'v'::bytea)$$);
SELECT cq_try($$SELECT cache_add('no such cache', 'k', 'v'::bytea)$$);
SELECT cq_try($$SELECT cache_add('basic', 'k', 'v'::bytea, 'NaN')$$);
SELECT cq_try($$SELECT cache_add('basic', 'k', 'v'::bytea, 10, 0)$$);
SELECT cq_try($$SELECT cache_add('basic', 'k', 'v'::bytea, 10, 5, -2)$$);
SELECT cache_has_key('basic', 'k') AS failed_adds_stored_nothing;

-- delete says whether a value was there
SELECT cache_set('basic', 'd1', 'x'::bytea);
SELECT cache_delete('basic', 'd1');
SELECT cache_delete('basic', 'd1');
SELECT cache_get('basic', 'd1');
SELECT cache_delete('basic', 'never set');
SELECT cq_try($$SELECT cache_delete(NULL, 'd1')$$);
SELECT cq_try($$SELECT cache_delete('basic', NULL)$$);
SELECT cq_try($$SELECT cache_delete('basic', '')$$);
SELECT cq_try($$SELECT cache_delete('no such cache', 'd1')$$);

-- has_key
SELECT cache_has_key('basic', 'k1');
SELECT cache_has_key('basic', 'empty');
SELECT cache_has_key('basic', 'no such key');
SELECT cq_try($$SELECT cache_has_key(NULL, 'k1')$$);
SELECT cq_try($$SELECT cache_has_key('basic', NULL)$$);
SELECT cq_try($$SELECT cache_has_key('basic', '')$$);
SELECT cq_try($$SELECT cache_has_key('no such cache', 'k1')$$);

-- ttl: seconds left, Infinity without expiry, NULL when missing
SELECT cache_set('basic', 't_default', 'x'::bytea);
SELECT cache_ttl('basic', 't_default') BETWEEN 299 AND 300 AS default_ttl_300;
SELECT cache_set('basic', 't_10', 'x'::bytea, 10);
SELECT cache_ttl('basic', 't_10') BETWEEN 9 AND 10 AS ttl_10;
SELECT cache_set('basic', 't_never', 'x'::bytea, NULL);
SELECT cache_ttl('basic', 't_never');
SELECT cache_ttl('basic', 'no such key');
SELECT cq_try($$SELECT cache_ttl(NULL, 't_10')$$);
SELECT cq_try($$SELECT cache_ttl('basic', NULL)$$);
SELECT cq_try($$SELECT cache_ttl('basic', '')$$);
SELECT cq_try($$SELECT cache_ttl('no such cache', 't_10')$$);

-- touch gives a live key a new expiry from now
SELECT cache_touch('basic', 't_10');
SELECT cache_ttl('basic', 't_10') BETWEEN 299 AND 300 AS touched_to_default;
SELECT cache_touch('basic', 't_10', 50);
SELECT cache_ttl('basic', 't_10') BETWEEN 49 AND 50 AS touched_to_50;
SELECT cache_touch('basic', 't_10', NULL);
SELECT cache_ttl('basic', 't_10');
SELECT cache_touch('basic', 't_never', 20);
SELECT cache_ttl('basic', 't_never') BETWEEN 19 AND 20 AS touched_to_20;
SELECT convert_from(cache_get('basic', 't_never'), 'UTF8') AS touch_keeps_value;
SELECT cache_touch('basic', 'no such key');
SELECT cache_touch('basic', 'no such key', 60);
SELECT cache_has_key('basic', 'no such key') AS touch_creates_nothing;
-- touch with zero or a negative timeout deletes the key
SELECT cache_touch('basic', 't_10', 0);
SELECT cache_has_key('basic', 't_10');
SELECT cache_touch('basic', 't_10', 0);
SELECT cache_touch('basic', 't_never', -1);
SELECT cache_get('basic', 't_never');
SELECT cq_try($$SELECT cache_touch(NULL, 'k1')$$);
SELECT cq_try($$SELECT cache_touch('basic', NULL)$$);
SELECT cq_try($$SELECT cache_touch('basic', '')$$);
SELECT cq_try($$SELECT cache_touch('no such cache', 'k1')$$);
SELECT cq_try($$SELECT cache_touch('basic', 'k1', 'NaN')$$);
SELECT cq_try($$SELECT cache_touch('basic', 'k1', 1e11)$$);
SELECT cache_ttl('basic', 'k1') BETWEEN 299 AND 300 AS failed_touch_kept_ttl;

-- writes inside a transaction are seen by its later statements
BEGIN;
SELECT cache_set('basic', 'tx', 'in tx'::bytea);
SELECT convert_from(cache_get('basic', 'tx'), 'UTF8') AS tx;
SELECT cache_delete('basic', 'tx');
SELECT cache_get('basic', 'tx');
ROLLBACK;

-- several writes of one key in one transaction and in one statement
BEGIN;
SELECT cache_set('basic', 'multi', 'first'::bytea);
SELECT cache_delete('basic', 'multi');
SELECT cache_set('basic', 'multi', 'second'::bytea);
SELECT cache_add('basic', 'multi', 'refused'::bytea);
COMMIT;
SELECT convert_from(cache_get('basic', 'multi'), 'UTF8') AS multi;
SELECT cache_set('basic', 's1', 'a'::bytea), cache_set('basic', 's1', 'b'::bytea),
       cache_add('basic', 's2', 'a'::bytea) AS add_a,
       cache_add('basic', 's2', 'b'::bytea) AS add_b;
SELECT convert_from(cache_get('basic', 's1'), 'UTF8') AS s1,
    convert_from(cache_get('basic', 's2'), 'UTF8') AS s2;

-- savepoints undo the writes made after them
BEGIN;
SELECT cache_set('basic', 'sp', 'one'::bytea);
SAVEPOINT a;
SELECT cache_set('basic', 'sp', 'two'::bytea);
SELECT cache_delete('basic', 'sp');
ROLLBACK TO SAVEPOINT a;
SELECT cache_add('basic', 'sp', 'three'::bytea);
SAVEPOINT b;
SELECT cache_delete('basic', 'sp');
SELECT cache_add('basic', 'sp', 'four'::bytea);
ROLLBACK TO SAVEPOINT b;
COMMIT;
SELECT convert_from(cache_get('basic', 'sp'), 'UTF8') AS sp;

-- a read-only transaction reads the cache but writes nothing
BEGIN READ ONLY;
SELECT convert_from(cache_get('basic', 'sp'), 'UTF8') AS sp;
SELECT cache_has_key('basic', 'sp'), cache_ttl('basic', 'sp') > 0 AS has_ttl;
SELECT cq_try($$SELECT cache_set('basic', 'sp', 'x'::bytea)$$);
SELECT cq_try($$SELECT cache_set('basic', 'ro_new', 'x'::bytea)$$);
SELECT cq_try($$SELECT cache_set('basic', 'sp', 'x'::bytea, 0)$$);
SELECT cq_try($$SELECT cache_add('basic', 'ro_new', 'x'::bytea)$$);
SELECT cq_try($$SELECT cache_set_many('basic', ARRAY['ro_new'], ARRAY['x']::bytea[])$$);
SELECT cq_try($$SELECT cache_touch('basic', 'sp')$$);
SELECT cq_try($$SELECT cache_touch('basic', 'sp', 0)$$);
SELECT cq_try($$SELECT cache_delete('basic', 'sp')$$);
SELECT cq_try($$SELECT cache_delete_many('basic', ARRAY['sp'])$$);
SELECT cq_try($$SELECT cache_incr('basic', 'sp')$$);
SELECT cq_try($$SELECT cache_clear('basic')$$);
SELECT cq_try($$SELECT cache_cull('basic')$$);
SELECT cq_try($$SELECT cache_cleanup('basic')$$);
SELECT cq_try($$SELECT cache_create('basic_ro')$$);
SELECT cq_try($$SELECT cache_drop('basic')$$);
COMMIT;
SELECT convert_from(cache_get('basic', 'sp'), 'UTF8') AS sp,
    cache_has_key('basic', 'ro_new') AS ro_new;

SELECT cache_drop('basic');
