-- Size limits: keys of 250 and 1024 bytes work and 1025 bytes are refused, counted in bytes;
-- a 10 MB value round-trips through every way of writing and reading it.
\set SHOW_CONTEXT never
\pset null '(null)'
SET search_path = cachequeue, public;

SELECT cache_create('large', default_timeout => 300);

-- keys: memcached's 250 bytes, then the 1024-byte limit
SELECT cache_set('large', repeat('k', 250), '250'::bytea);
SELECT convert_from(cache_get('large', repeat('k', 250)), 'UTF8') AS key_250;
SELECT cache_set('large', repeat('k', 1024), '1024'::bytea);
SELECT convert_from(cache_get('large', repeat('k', 1024)), 'UTF8') AS key_1024;
SELECT cache_add('large', repeat('a', 1024), 'x'::bytea);
SELECT cache_has_key('large', repeat('a', 1024)),
    cache_ttl('large', repeat('a', 1024)) > 0 AS has_ttl;
SELECT cache_touch('large', repeat('a', 1024), 60);
SELECT cache_set_many('large', ARRAY[repeat('m', 1024), repeat('n', 1023)],
    ARRAY['m', 'n']::bytea[]);
SELECT length(key) AS key_length, convert_from(value, 'UTF8') AS value
FROM cache_get_many('large', ARRAY[repeat('m', 1024), repeat('n', 1023)]) ORDER BY key;
SELECT cache_set('large', repeat('k', 1023) || 'c', '5'::bytea);
SELECT cache_incr('large', repeat('k', 1023) || 'c');
SELECT cache_delete('large', repeat('a', 1024));
SELECT cache_delete_many('large', ARRAY[repeat('m', 1024), repeat('n', 1023)]);
-- 1024 bytes in two-byte characters is fine, one more character is not
SELECT cache_set('large', repeat('é', 512), 'x'::bytea);
SELECT cache_has_key('large', repeat('é', 512));
SELECT cq_try($$SELECT cache_set('large', repeat('é', 513), 'x'::bytea)$$);
-- 1025 bytes is refused everywhere
SELECT cq_try($$SELECT cache_get('large', repeat('k', 1025))$$);
SELECT cq_try($$SELECT cache_set('large', repeat('k', 1025), 'x'::bytea)$$);
SELECT cq_try($$SELECT cache_set('large', repeat('k', 1025), 'x'::bytea, 60)$$);
SELECT cq_try($$SELECT cache_add('large', repeat('k', 1025), 'x'::bytea)$$);
SELECT cq_try($$SELECT cache_has_key('large', repeat('k', 1025))$$);
SELECT cq_try($$SELECT cache_ttl('large', repeat('k', 1025))$$);
SELECT cq_try($$SELECT cache_touch('large', repeat('k', 1025))$$);
SELECT cq_try($$SELECT cache_delete('large', repeat('k', 1025))$$);
SELECT cq_try($$SELECT cache_incr('large', repeat('k', 1025))$$);
SELECT cq_try($$SELECT cache_decr('large', repeat('k', 1025))$$);
SELECT cq_try($$SELECT cache_set_many('large', ARRAY[repeat('k', 1025)], ARRAY['x']::bytea[])$$);
SELECT cq_try($$SELECT count(*) FROM cache_get_many('large', ARRAY[repeat('k', 1025)])$$);
SELECT cq_try($$SELECT cache_delete_many('large', ARRAY[repeat('k', 1025)])$$);
SELECT cq_try($$SELECT cache_set('large', repeat('k', 100000), 'x'::bytea)$$);

-- a 10 MB value (not compressible, so it is stored out of line as it is)
CREATE TEMP TABLE big AS
SELECT string_agg(sha512(int8send(i)), ''::bytea) AS value
FROM generate_series(1, 10 * 1024 * 1024 / 64) AS i;
SELECT length(value) AS bytes FROM big;
SELECT cache_set('large', 'big', value) FROM big;
SELECT length(cache_get('large', 'big')) AS bytes,
    md5(cache_get('large', 'big')) = md5(value) AS same
FROM big;
-- overwritten by a second large value, then by a small one
SELECT cache_set('large', 'big', value || '\x01'::bytea, 60) FROM big;
SELECT md5(cache_get('large', 'big')) = md5(value || '\x01'::bytea) AS same_again FROM big;
SELECT cache_set('large', 'big', 'small'::bytea);
SELECT convert_from(cache_get('large', 'big'), 'UTF8') AS big;
-- add, set_many and get_many with large values
SELECT cache_add('large', 'big_add', value) FROM big;
SELECT cache_add('large', 'big_add', 'x'::bytea);
SELECT md5(cache_get('large', 'big_add')) = md5(value) AS add_same FROM big;
SELECT cache_set_many('large', ARRAY['big1', 'big2'], ARRAY[value, substr(value, 2)]) FROM big;
SELECT g.key, length(g.value) AS bytes,
       md5(g.value) = md5(CASE g.key WHEN 'big1' THEN b.value ELSE substr(b.value, 2) END) AS same
FROM big b, cache_get_many('large', ARRAY['big1', 'big2']) AS g ORDER BY g.key;
-- a compressible 10 MB value
SELECT cache_set('large', 'zeros', convert_to(repeat('0', 10 * 1024 * 1024), 'UTF8'));
SELECT length(cache_get('large', 'zeros')) AS bytes,
       md5(cache_get('large', 'zeros')) = md5(repeat('0', 10 * 1024 * 1024)) AS same;
SELECT cache_delete('large', 'zeros');
SELECT cache, total, active, size_bytes > 10 * 1024 * 1024 AS over_10mb FROM cache_stats('large');
-- a large value written in a transaction that rolls back is not there
BEGIN;
SELECT cache_set('large', 'big_rb', value) FROM big;
ROLLBACK;
SELECT cache_get('large', 'big_rb');

DROP TABLE big;
SELECT cache_drop('large');
