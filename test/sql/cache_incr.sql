-- incr and decr: integer values stored as decimal text, bigint limits, the errors of each
-- kind, and the expiry they keep.
\set SHOW_CONTEXT never
\pset null '(null)'
SET search_path = cachequeue, public;

SELECT cache_create('counters', default_timeout => 300);

-- counting up and down
SELECT cache_set('counters', 'n', '0'::bytea);
SELECT cache_incr('counters', 'n');
SELECT cache_incr('counters', 'n', 10);
SELECT cache_incr('counters', 'n', -3);
SELECT cache_decr('counters', 'n');
SELECT cache_decr('counters', 'n', 20);
SELECT cache_decr('counters', 'n', -5);
SELECT cache_incr('counters', 'n', 0);
-- the value is stored as decimal text
SELECT convert_from(cache_get('counters', 'n'), 'UTF8') AS n;
SELECT cache_get('counters', 'n') = '-8'::bytea AS stored_as_text;

-- values written by a client in other decimal spellings
SELECT cache_set('counters', 'plus', '+41'::bytea);
SELECT cache_incr('counters', 'plus');
SELECT cache_set('counters', 'zeros', '007'::bytea);
SELECT cache_incr('counters', 'zeros');
SELECT cache_set('counters', 'neg', '-5'::bytea);
SELECT cache_incr('counters', 'neg', 2);
SELECT cache_set('counters', 'minus_zero', '-0'::bytea);
SELECT cache_incr('counters', 'minus_zero');
SELECT convert_from(cache_get('counters', 'zeros'), 'UTF8') AS zeros_rewritten;

-- many increments in one statement add up
SELECT cache_set('counters', 'many', '0'::bytea);
SELECT count(cache_incr('counters', 'many')) FROM generate_series(1, 100);
SELECT convert_from(cache_get('counters', 'many'), 'UTF8') AS many;

-- a missing or expired key is an error, and incr creates nothing
SELECT cq_try($$SELECT cache_incr('counters', 'missing')$$);
SELECT cq_try($$SELECT cache_decr('counters', 'missing', 5)$$);
SELECT cache_has_key('counters', 'missing') AS incr_created_nothing;
SELECT cache_set('counters', 'short', '1'::bytea, 0.2);
SELECT pg_sleep(0.3);
SELECT cq_try($$SELECT cache_incr('counters', 'short')$$);

-- values that are not integers
SELECT cache_set('counters', 'word', 'abc'::bytea);
SELECT cq_try($$SELECT cache_incr('counters', 'word')$$);
SELECT cache_set('counters', 'empty', ''::bytea);
SELECT cq_try($$SELECT cache_incr('counters', 'empty')$$);
SELECT cache_set('counters', 'sign', '-'::bytea);
SELECT cq_try($$SELECT cache_incr('counters', 'sign')$$);
SELECT cache_set('counters', 'float', '1.5'::bytea);
SELECT cq_try($$SELECT cache_incr('counters', 'float')$$);
SELECT cache_set('counters', 'spaces', ' 42'::bytea);
SELECT cq_try($$SELECT cache_decr('counters', 'spaces')$$);
SELECT cache_set('counters', 'trailing', '42 '::bytea);
SELECT cq_try($$SELECT cache_incr('counters', 'trailing')$$);
SELECT cache_set('counters', 'nul', '\x3400'::bytea);
SELECT cq_try($$SELECT cache_incr('counters', 'nul')$$);
SELECT convert_from(cache_get('counters', 'word'), 'UTF8') AS word_unchanged;

-- the bigint range
SELECT cache_set('counters', 'big', '9223372036854775806'::bytea);
SELECT cache_incr('counters', 'big');
SELECT cq_try($$SELECT cache_incr('counters', 'big')$$);
SELECT convert_from(cache_get('counters', 'big'), 'UTF8') AS big_unchanged;
SELECT cache_set('counters', 'small', '-9223372036854775807'::bytea);
SELECT cache_decr('counters', 'small');
SELECT cq_try($$SELECT cache_decr('counters', 'small')$$);
SELECT cq_try($$SELECT cache_incr('counters', 'small', -1)$$);
SELECT cache_incr('counters', 'small', 9223372036854775807);
SELECT cache_set('counters', 'zero', '0'::bytea);
SELECT cache_incr('counters', 'zero', -9223372036854775808);
SELECT cache_set('counters', 'zero', '0'::bytea);
SELECT cq_try($$SELECT cache_decr('counters', 'zero', -9223372036854775808)$$);
SELECT convert_from(cache_get('counters', 'zero'), 'UTF8') AS zero_unchanged;
SELECT cache_set('counters', 'toolong', '9223372036854775808'::bytea);
SELECT cq_try($$SELECT cache_incr('counters', 'toolong', 0)$$);
SELECT cache_set('counters', 'toosmall', '-9223372036854775809'::bytea);
SELECT cq_try($$SELECT cache_incr('counters', 'toosmall', 0)$$);

-- invalid arguments
SELECT cq_try($$SELECT cache_incr(NULL, 'n')$$);
SELECT cq_try($$SELECT cache_incr('counters', NULL)$$);
SELECT cq_try($$SELECT cache_incr('counters', 'n', NULL)$$);
SELECT cq_try($$SELECT cache_decr('counters', 'n', NULL)$$);
SELECT cq_try($$SELECT cache_incr('', 'n')$$);
SELECT cq_try($$SELECT cache_incr('counters', '')$$);
SELECT cq_try($$SELECT cache_decr('counters', '')$$);
SELECT cq_try($$SELECT cache_incr('no such cache', 'n')$$);
SELECT cq_try($$SELECT cache_decr('no such cache', 'n')$$);
SELECT convert_from(cache_get('counters', 'n'), 'UTF8') AS n_unchanged;

-- incr keeps the entry's expiry
SELECT cache_set('counters', 'ttl', '1'::bytea, 100);
SELECT cache_incr('counters', 'ttl');
SELECT cache_ttl('counters', 'ttl') BETWEEN 99 AND 100 AS ttl_kept_100;
SELECT cache_set('counters', 'forever', '1'::bytea, NULL);
SELECT cache_decr('counters', 'forever');
SELECT cache_ttl('counters', 'forever');
SELECT cache_set('counters', 'soon', '1'::bytea, 0.2);
SELECT cache_incr('counters', 'soon');
SELECT pg_sleep(0.3);
SELECT cache_get('counters', 'soon');

-- an increment in a transaction that rolls back is undone
BEGIN;
SELECT cache_incr('counters', 'many', 1000);
ROLLBACK;
SELECT convert_from(cache_get('counters', 'many'), 'UTF8') AS many_after_rollback;

SELECT cache_drop('counters');
