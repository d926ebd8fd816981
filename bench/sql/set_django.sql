-- set_django: the statements Django 3.2's DatabaseCache.set sends for a key that exists
-- (django/core/cache/backends/db.py, _base_set with mode 'set'):
--   1. SELECT COUNT(*) on the cache table, in autocommit, outside the transaction;
--      Django culls when the count is above MAX_ENTRIES (kept above 10,000 here: no cull);
--   2. transaction.atomic(): SELECT the row's key and expiry, then UPDATE value and expiry
--      (INSERT instead when the SELECT found nothing; never here, the table is preloaded).
-- The value is the base64 text of the pickled 100-byte value, as Django stores it.
-- Variables from cache_bench.sh: nkeys, b64.
\set id random(1, :nkeys)
SELECT COUNT(*) FROM django_cache;
BEGIN;
SELECT cache_key, expires FROM django_cache WHERE cache_key = 'k' || :id;
UPDATE django_cache SET value = :b64, expires = now() + interval '300 s'
    WHERE cache_key = 'k' || :id;
COMMIT;
