// The cache's SQL functions.
//
// Reads (get, get_many, has_key, ttl) probe the cache table's primary key directly, without
// the executor, and so do set and add (entries.cpp): that is what lets cache_get approach the
// speed of SELECT 1. The other writes run statements through SPI as the owner of the cache
// tables, with a search_path no caller can change.
//
// Culling counts nothing on the hot path: each cache has a sequence counting the new keys
// written since the last exact count. When that estimate passes max_entries, one backend (the
// one that gets the cache's advisory lock) counts exactly, removes expired entries and then
// the entries closest to expiry, and resets the sequence to what is left.
#include "args.hpp"
#include "boundary.hpp"
#include "cache_rules.hpp"
#include "catalog.hpp"
#include "commit_flush.hpp"
#include "counters.hpp"
#include "entries.hpp"
#include "spi.hpp"

extern "C" {
#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "storage/itemptr.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

#include <algorithm>
#include <cmath>

using cq::Error;
using cq::null_argument;
using cq::catalog::CacheInfo;
using cq::entries::Entries;
using cq::entries::Found;
using Elements = cq::args::Elements;
namespace rules = cq::cache;
namespace counters = cq::counters;
namespace state = cq::sqlstate;

namespace {

// Advisory lock class taken (with the cache id) by the backend that culls a cache.
constexpr int32 cull_lock_class = 0x63717565; // "cque"

// Argument checks. They throw before any PostgreSQL resource is taken.

CacheInfo* cache_arg(FunctionCallInfo fcinfo, int n)
{
    if (PG_ARGISNULL(n))
        null_argument("cache name");
    text* name = PG_GETARG_TEXT_PP(n);
    rules::check_name(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));
    cq::commit::note_cache_call();
    return cq::catalog::lookup(name);
}

text* key_arg(FunctionCallInfo fcinfo, int n)
{
    if (PG_ARGISNULL(n))
        null_argument("cache key");
    text* key = PG_GETARG_TEXT_PP(n);
    rules::check_key(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
    return key;
}

// The expiry of an entry written now: from the timeout argument n when the call has it,
// else the cache's default timeout.
rules::Expiry expiry_arg(FunctionCallInfo fcinfo, int n, const CacheInfo* info, TimestampTz now)
{
    if (PG_NARGS() > n)
        return rules::expiry_from_timeout(PG_ARGISNULL(n),
                                          PG_ARGISNULL(n) ? 0 : PG_GETARG_FLOAT8(n), now);
    return rules::expiry_from_timeout(!info->has_default_timeout, info->default_timeout, now);
}

struct Limits {
    int64 max_entries;
    int32 cull_frequency;
};

// The cache's limits, overridden by arguments n and n + 1 when given and not NULL.
Limits limits_arg(FunctionCallInfo fcinfo, int n, const CacheInfo* info)
{
    Limits limits{info->max_entries, info->cull_frequency};
    if (PG_NARGS() > n && !PG_ARGISNULL(n))
        limits.max_entries = PG_GETARG_INT64(n);
    if (PG_NARGS() > n + 1 && !PG_ARGISNULL(n + 1))
        limits.cull_frequency = PG_GETARG_INT32(n + 1);
    rules::check_limits(limits.max_entries, limits.cull_frequency);
    return limits;
}

// Orders keys byte by byte, as the "C" collation of the cache tables does.
int compare_keys(const void* left, const void* right)
{
    const text* a = DatumGetTextPP(*static_cast<const Datum*>(left));
    const text* b = DatumGetTextPP(*static_cast<const Datum*>(right));
    size_t len_a = VARSIZE_ANY_EXHDR(a), len_b = VARSIZE_ANY_EXHDR(b);
    int order = memcmp(VARDATA_ANY(a), VARDATA_ANY(b), std::min(len_a, len_b));
    if (order != 0)
        return order;
    return len_a < len_b ? -1 : len_a > len_b ? 1 : 0;
}

// Orders positions in a keys array by key, then by position (so that sorting is stable).
int compare_key_positions(const void* left, const void* right, void* arg)
{
    auto* keys = static_cast<const Datum*>(arg);
    int a = *static_cast<const int*>(left), b = *static_cast<const int*>(right);
    int order = compare_keys(&keys[a], &keys[b]);
    return order != 0 ? order : (a < b ? -1 : a > b ? 1 : 0);
}

void check_keys(const Elements& keys)
{
    for (int i = 0; i < keys.count; i++) {
        text* key = DatumGetTextPP(keys.values[i]);
        rules::check_key(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
        keys.values[i] = PointerGetDatum(key);
    }
}

Found probe_one(const CacheInfo* info, text* key, bool want_value)
{
    Entries entries = cq::entries::open(info, false);
    Found found = cq::entries::probe(entries, key, GetCurrentTimestamp(), want_value);
    cq::entries::close(entries);
    return found;
}

// Writes through SPI, as the owner of the cache tables.

int64 scalar_int64(const char* sql)
{
    int rc = SPI_execute(sql, false, 1);
    cq::spi::check(rc, SPI_OK_SELECT, sql);
    bool isnull;
    Datum value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    return isnull ? 0 : DatumGetInt64(value);
}

// Sets the count of entries written since the last exact count, once this transaction
// commits: a clear or cull that rolls back must leave the estimate as it was.
void reset_estimate(const CacheInfo* info, int64 entries)
{
    cq::catalog::reset_estimate_at_commit(info->seqid, entries);
}

int compare_positions(const void* left, const void* right)
{
    return ItemPointerCompare(const_cast<ItemPointer>(static_cast<const ItemPointerData*>(left)),
                              const_cast<ItemPointer>(static_cast<const ItemPointerData*>(right)));
}

// Deletes the rows whose positions sql selects (one parameter), skipping any row that a
// concurrent transaction changed or is changing: a cull never waits for a writer, and a row
// just written is no victim anyway. The positions stay valid because the caller's statement
// snapshot keeps the rows the selecting snapshot sees from being pruned.
int64 delete_selected(Entries& entries, const char* sql, Oid type, Datum value, bool isnull)
{
    char null = isnull ? 'n' : ' ';
    int rc = SPI_execute_with_args(sql, 1, &type, &value, &null, false, 0);
    cq::spi::check(rc, SPI_OK_SELECT, sql);
    // Delete in physical order, so that each page is read once however the rows were chosen.
    uint64 count = SPI_processed;
    auto* tids = static_cast<ItemPointerData*>(
        palloc_extended(sizeof(ItemPointerData) * std::max<uint64>(count, 1), MCXT_ALLOC_HUGE));
    for (uint64 i = 0; i < count; i++) {
        bool tid_isnull;
        Datum tid = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &tid_isnull);
        tids[i] = *reinterpret_cast<ItemPointer>(DatumGetPointer(tid));
    }
    SPI_freetuptable(SPI_tuptable);
    qsort(tids, count, sizeof(ItemPointerData), compare_positions);

    int64 deleted = 0;
    for (uint64 i = 0; i < count; i++) {
        if (cq::entries::remove(entries, &tids[i]))
            deleted++;
        CHECK_FOR_INTERRUPTS();
    }
    pfree(tids);
    CommandCounterIncrement();
    return deleted;
}

// Removes expired entries, then culls when more than max_entries are left, sparing the key
// just written (when keep is given). Returns the number of entries removed, or -1 when
// another session is culling this cache right now.
int64 cull(const CacheInfo* info, Limits limits, TimestampTz now, text* keep = nullptr)
{
    Datum got = DirectFunctionCall2(pg_try_advisory_xact_lock_int4, Int32GetDatum(cull_lock_class),
                                    Int32GetDatum(info->id));
    if (!DatumGetBool(got))
        return -1;

    Entries entries = cq::entries::open(info, true);
    char sql[320];
    snprintf(sql, sizeof sql,
             "SELECT ctid FROM cachequeue.cache_%d WHERE expires_at OPERATOR(pg_catalog.<=) $1",
             info->id);
    int64 removed = delete_selected(entries, sql, TIMESTAMPTZOID, TimestampTzGetDatum(now), false);

    snprintf(sql, sizeof sql, "SELECT pg_catalog.count(*) FROM cachequeue.cache_%d", info->id);
    int64 total = scalar_int64(sql);
    int64 victims = rules::cull_victims(total, limits.max_entries, limits.cull_frequency);
    if (victims > 0) {
        // Sort in memory: the victims' positions and expiries, about 130 bytes each.
        int nest_level = NewGUCNestLevel();
        char work_mem[32];
        int64 kilobytes = std::min<int64>(std::max<int64>(victims * 130 / 1024, 4096), 262144);
        snprintf(work_mem, sizeof work_mem, "%lld", static_cast<long long>(kilobytes));
        (void)set_config_option("work_mem", work_mem, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                                true, 0, false);
        snprintf(sql, sizeof sql,
                 "SELECT ctid FROM cachequeue.cache_%d WHERE key IS DISTINCT FROM $1"
                 " ORDER BY expires_at NULLS LAST, written_at LIMIT %lld",
                 info->id, static_cast<long long>(victims));
        int64 culled = delete_selected(entries, sql, TEXTOID, PointerGetDatum(keep), !keep);
        AtEOXact_GUC(true, nest_level);
        removed += culled;
        total -= culled;
    }
    cq::entries::close(entries);
    reset_estimate(info, total);
    counters::count_cache(info->id, counters::cache_culled, static_cast<uint64>(removed));
    return removed;
}

// Culls in an SPI session of its own, sparing keep.
void cull_now(const CacheInfo* info, Limits limits, TimestampTz now, text* keep)
{
    cq::spi::Session session = cq::spi::begin();
    cull(info, limits, now, keep);
    cq::spi::end(session);
}

// Counts a key just added; says whether the estimate of entries passed the limit.
bool count_new_key(const CacheInfo* info, Limits limits)
{
    return cq::catalog::next_estimate(info->seqid) > limits.max_entries;
}

// Deletes key; says whether it held a live value.
bool delete_key(CacheInfo* info, text* key, TimestampTz now)
{
    Datum values[2] = {PointerGetDatum(key), TimestampTzGetDatum(now)};
    int rc = SPI_execute_plan(cq::catalog::plan(info, cq::catalog::plan_delete), values, nullptr,
                              false, 0);
    cq::spi::check(rc, SPI_OK_DELETE_RETURNING, "cache delete");
    if (SPI_processed == 0)
        return false;
    bool isnull;
    Datum live = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    return DatumGetBool(live);
}

// Writes one entry (set or add) into open entries; says whether it was stored. A new key that
// takes the cache past its limit culls at once, or, when over_limit is given, sets it for
// the caller to cull once its other writes are done (a cull in the middle of several writes
// would hold the rows it deleted while waiting for the next key's row: a deadlock in waiting).
bool store(Entries& entries, CacheInfo* info, cq::entries::Write mode, text* key, bytea* value,
           rules::Expiry expiry, Limits limits, TimestampTz now, bool* over_limit = nullptr)
{
    if (expiry.kind == rules::Expiry::not_kept) {
        // Nothing is kept; set drops what was there, add says whether it could have stored.
        if (mode == cq::entries::Write::add)
            return !cq::entries::probe(entries, key, now, false).live;
        cq::spi::Session session = cq::spi::begin();
        delete_key(info, key, now);
        cq::spi::end(session);
        return false;
    }
    cq::entries::Written written =
        cq::entries::write(entries, info, mode, key, value, expiry, now);
    if (written.new_key && count_new_key(info, limits)) {
        if (over_limit)
            *over_limit = true;
        else
            cull_now(info, limits, now, key);
    }
    return written.stored;
}

bytea* value_arg(FunctionCallInfo fcinfo, int n)
{
    if (PG_ARGISNULL(n))
        throw Error(state::null_value_not_allowed, "cache value must not be NULL", {},
                    "Use cache_delete to remove a key.");
    return PG_GETARG_BYTEA_PP(n);
}

// set and add: (cache, key, value [, timeout [, max_entries, cull_frequency]]).
bool set_or_add(FunctionCallInfo fcinfo, cq::entries::Write mode)
{
    counters::Timer timer = counters::start();
    CacheInfo* info = cache_arg(fcinfo, 0);
    text* key = key_arg(fcinfo, 1);
    bytea* value = value_arg(fcinfo, 2);
    TimestampTz now = GetCurrentTimestamp();
    rules::Expiry expiry = expiry_arg(fcinfo, 3, info, now);
    Limits limits = limits_arg(fcinfo, 4, info);

    Entries entries = cq::entries::open(info, true);
    bool stored = store(entries, info, mode, key, value, expiry, limits, now);
    cq::entries::close(entries);
    counters::cache_operation(
        info->id, mode == cq::entries::Write::add ? counters::op_add : counters::op_set, timer, 0,
        0, stored ? 1 : 0);
    return stored;
}

int64 incr_by(FunctionCallInfo fcinfo, bool negate)
{
    counters::Timer timer = counters::start();
    CacheInfo* info = cache_arg(fcinfo, 0);
    text* key = key_arg(fcinfo, 1);
    if (PG_ARGISNULL(2))
        null_argument("delta");
    int64 delta = PG_GETARG_INT64(2);
    if (negate) {
        if (delta == PG_INT64_MIN)
            throw Error(state::numeric_value_out_of_range, "delta is out of range for decr");
        delta = -delta;
    }
    TimestampTz now = GetCurrentTimestamp();

    cq::spi::Session session = cq::spi::begin();
    Datum lock_values[2] = {PointerGetDatum(key), TimestampTzGetDatum(now)};
    int rc = SPI_execute_plan(cq::catalog::plan(info, cq::catalog::plan_lock_value), lock_values,
                              nullptr, false, 0);
    cq::spi::check(rc, SPI_OK_SELECT, "cache incr");
    if (SPI_processed == 0)
        ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
                        errmsg("cache key \"%s\" does not exist", text_to_cstring(key)),
                        errdetail("incr and decr change existing keys only."),
                        errhint("Set the key to a starting value first, such as '0'.")));
    bool isnull;
    Datum current = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    bytea* bytes = DatumGetByteaPP(current);
    int64 result = rules::add_counter(
        rules::parse_counter(VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes)), delta);

    char digits[24];
    int len = snprintf(digits, sizeof digits, "%lld", static_cast<long long>(result));
    Datum write_values[3] = {PointerGetDatum(key),
                             PointerGetDatum(cstring_to_text_with_len(digits, len)),
                             TimestampTzGetDatum(now)};
    rc = SPI_execute_plan(cq::catalog::plan(info, cq::catalog::plan_write_value), write_values,
                          nullptr, false, 0);
    cq::spi::check(rc, SPI_OK_UPDATE, "cache incr");
    cq::spi::end(session);
    counters::cache_operation(info->id, counters::op_incr, timer);
    return result;
}

// Management: each cache's table and sequence, members of the extension.

void make_member(const char* relname)
{
    if (creating_extension)
        return; // CREATE EXTENSION records membership itself
    Oid relid = get_relname_relid(relname, get_namespace_oid("cachequeue", false));
    ObjectAddress object{RelationRelationId, relid, 0};
    ObjectAddress extension{ExtensionRelationId, get_extension_oid("cachequeue", false), 0};
    recordDependencyOn(&object, &extension, DEPENDENCY_EXTENSION);
}

void release_member(const char* relname)
{
    Oid relid = get_relname_relid(relname, get_namespace_oid("cachequeue", false));
    if (!OidIsValid(relid))
        return;
    deleteDependencyRecordsForSpecific(RelationRelationId, relid, DEPENDENCY_EXTENSION,
                                       ExtensionRelationId,
                                       get_extension_oid("cachequeue", false));
}

void run_ddl(const char* sql)
{
    int rc = SPI_execute(sql, false, 0);
    cq::spi::check(rc, SPI_OK_UTILITY, sql);
}

void create_storage(int32 id, bool unlogged)
{
    const char* persistence = unlogged ? "UNLOGGED " : "";
    char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE %1$sTABLE cachequeue.cache_%2$d (key text COLLATE \"C\" NOT NULL,"
             " value bytea NOT NULL, expires_at timestamptz, written_at timestamptz NOT NULL,"
             " CONSTRAINT cache_%2$d_pkey PRIMARY KEY (key)) USING heap WITH (fillfactor = 90)",
             persistence, id);
    run_ddl(sql);
    snprintf(sql, sizeof sql,
             "CREATE %1$sSEQUENCE cachequeue.cache_%2$d_count AS bigint MINVALUE 0 START 1",
             persistence, id);
    run_ddl(sql);

    char relname[NAMEDATALEN];
    snprintf(relname, sizeof relname, "cache_%d", id);
    make_member(relname);
    snprintf(relname, sizeof relname, "cache_%d_count", id);
    make_member(relname);
}

void set_persistence(int32 id, bool unlogged)
{
    const char* persistence = unlogged ? "UNLOGGED" : "LOGGED";
    char sql[256];
    snprintf(sql, sizeof sql, "ALTER TABLE cachequeue.cache_%d SET %s", id, persistence);
    run_ddl(sql);
    snprintf(sql, sizeof sql, "ALTER SEQUENCE cachequeue.cache_%d_count SET %s", id, persistence);
    run_ddl(sql);
}

// Finds the row of a cache, locked: its id and persistence; false when there is none.
bool lock_cache_row(text* name, int32* id, bool* unlogged)
{
    Oid type = TEXTOID;
    Datum value = PointerGetDatum(name);
    int rc = SPI_execute_with_args("SELECT id, unlogged FROM cachequeue.caches"
                                   " WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE",
                                   1, &type, &value, nullptr, false, 0);
    cq::spi::check(rc, SPI_OK_SELECT, "cache lookup");
    if (SPI_processed == 0)
        return false;
    bool isnull;
    *id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    *unlogged =
        DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
    return true;
}

// The names of every cache, or just of name when given (checked to exist).
Elements cache_names(FunctionCallInfo fcinfo, int n)
{
    if (!PG_ARGISNULL(n)) {
        CacheInfo* info = cache_arg(fcinfo, n);
        Datum* names = static_cast<Datum*>(palloc(sizeof(Datum)));
        names[0] = PointerGetDatum(cstring_to_text(info->name));
        return {names, 1};
    }
    cq::spi::Session session = cq::spi::begin();
    int rc = SPI_execute("SELECT name FROM cachequeue.caches ORDER BY name", true, 0);
    cq::spi::check(rc, SPI_OK_SELECT, "cache list");
    auto count = static_cast<int>(SPI_processed);
    Datum* names = static_cast<Datum*>(SPI_palloc(sizeof(Datum) * (count + 1)));
    for (int i = 0; i < count; i++) {
        bool isnull;
        Datum name = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
        names[i] = SPI_datumTransfer(name, false, -1);
    }
    cq::spi::end(session);
    return {names, count};
}

} // namespace

CQ_FUNCTION(cache_create)
{
    if (PG_ARGISNULL(0))
        null_argument("cache name");
    text* name = PG_GETARG_TEXT_PP(0);
    rules::check_name(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));
    bool has_timeout = !PG_ARGISNULL(1);
    double timeout = has_timeout ? PG_GETARG_FLOAT8(1) : 0;
    rules::check_default_timeout(!has_timeout, timeout);
    if (PG_ARGISNULL(2))
        null_argument("max_entries");
    if (PG_ARGISNULL(3))
        null_argument("cull_frequency");
    if (PG_ARGISNULL(4))
        null_argument("unlogged");
    int64 max_entries = PG_GETARG_INT64(2);
    int32 cull_frequency = PG_GETARG_INT32(3);
    bool unlogged = PG_GETARG_BOOL(4);
    rules::check_limits(max_entries, cull_frequency);

    cq::spi::Session session = cq::spi::begin();
    Oid types[5] = {TEXTOID, FLOAT8OID, INT8OID, INT4OID, BOOLOID};
    Datum values[5] = {PointerGetDatum(name), Float8GetDatum(timeout), Int64GetDatum(max_entries),
                       Int32GetDatum(cull_frequency), BoolGetDatum(unlogged)};
    char nulls[5] = {' ', has_timeout ? ' ' : 'n', ' ', ' ', ' '};
    int32 id;
    bool was_unlogged;
    if (lock_cache_row(name, &id, &was_unlogged)) {
        int rc = SPI_execute_with_args(
            "UPDATE cachequeue.caches SET default_timeout = $2, max_entries = $3,"
            " cull_frequency = $4, unlogged = $5 WHERE name OPERATOR(pg_catalog.=) $1",
            5, types, values, nulls, false, 0);
        cq::spi::check(rc, SPI_OK_UPDATE, "cache update");
        if (was_unlogged != unlogged)
            set_persistence(id, unlogged);
    } else {
        int rc = SPI_execute_with_args(
            "INSERT INTO cachequeue.caches (name, default_timeout, max_entries,"
            " cull_frequency, unlogged) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            5, types, values, nulls, false, 0);
        cq::spi::check(rc, SPI_OK_INSERT_RETURNING, "cache insert");
        bool isnull;
        id =
            DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
        create_storage(id, unlogged);
    }
    cq::catalog::invalidate();
    cq::spi::end(session);
    PG_RETURN_VOID();
}

CQ_FUNCTION(cache_drop)
{
    if (PG_ARGISNULL(0))
        null_argument("cache name");
    text* name = PG_GETARG_TEXT_PP(0);
    rules::check_name(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));

    cq::spi::Session session = cq::spi::begin();
    int32 id;
    bool unlogged;
    if (!lock_cache_row(name, &id, &unlogged))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("cache \"%s\" does not exist", text_to_cstring(name))));
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM cachequeue.caches WHERE id = %d", id);
    cq::spi::run(sql, SPI_OK_DELETE);
    char relname[NAMEDATALEN];
    snprintf(relname, sizeof relname, "cache_%d", id);
    release_member(relname);
    snprintf(relname, sizeof relname, "cache_%d_count", id);
    release_member(relname);
    snprintf(sql, sizeof sql, "DROP TABLE cachequeue.cache_%d", id);
    run_ddl(sql);
    snprintf(sql, sizeof sql, "DROP SEQUENCE cachequeue.cache_%d_count", id);
    run_ddl(sql);
    cq::catalog::invalidate();
    cq::spi::end(session);
    PG_RETURN_VOID();
}

CQ_FUNCTION(cache_get)
{
    counters::Timer timer = counters::start();
    CacheInfo* info = cache_arg(fcinfo, 0);
    text* key = key_arg(fcinfo, 1);
    Found found = probe_one(info, key, true);
    counters::cache_operation(info->id, counters::op_get, timer, found.live, !found.live);
    if (!found.live)
        PG_RETURN_NULL();
    PG_RETURN_BYTEA_P(found.value);
}

CQ_FUNCTION(cache_has_key)
{
    counters::Timer timer = counters::start();
    CacheInfo* info = cache_arg(fcinfo, 0);
    text* key = key_arg(fcinfo, 1);
    bool live = probe_one(info, key, false).live;
    counters::cache_operation(info->id, counters::op_has_key, timer);
    PG_RETURN_BOOL(live);
}

CQ_FUNCTION(cache_ttl)
{
    CacheInfo* info = cache_arg(fcinfo, 0);
    text* key = key_arg(fcinfo, 1);
    TimestampTz now = GetCurrentTimestamp();
    Entries entries = cq::entries::open(info, false);
    Found found = cq::entries::probe(entries, key, now, false);
    cq::entries::close(entries);
    if (!found.live)
        PG_RETURN_NULL();
    if (!found.has_expiry)
        PG_RETURN_FLOAT8(get_float8_infinity());
    PG_RETURN_FLOAT8(static_cast<double>(found.expires_at - now) / USECS_PER_SEC);
}

CQ_FUNCTION(cache_get_many)
{
    counters::Timer timer = counters::start();
    CacheInfo* info = cache_arg(fcinfo, 0);
    Elements keys = cq::args::array(fcinfo, 1, "keys", TEXTOID);
    check_keys(keys);

    // One row per distinct key; probing in key order also walks the index in order.
    qsort(keys.values, keys.count, sizeof(Datum), compare_keys);

    InitMaterializedSRF(fcinfo, 0);
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    TimestampTz now = GetCurrentTimestamp();
    Entries entries = cq::entries::open(info, false);
    uint64 hits = 0, misses = 0;
    for (int i = 0; i < keys.count; i++) {
        if (i > 0 && compare_keys(&keys.values[i - 1], &keys.values[i]) == 0)
            continue;
        text* key = DatumGetTextPP(keys.values[i]);
        Found found = cq::entries::probe(entries, key, now, true);
        (found.live ? hits : misses)++;
        if (!found.live)
            continue;
        Datum values[2] = {PointerGetDatum(key), PointerGetDatum(found.value)};
        bool nulls[2] = {false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        pfree(found.value);
    }
    cq::entries::close(entries);
    counters::cache_operation(info->id, counters::op_get_many, timer, hits, misses);
    return (Datum)0;
}

CQ_FUNCTION(cache_set)
{
    set_or_add(fcinfo, cq::entries::Write::set);
    PG_RETURN_VOID();
}

CQ_FUNCTION(cache_add)
{
    PG_RETURN_BOOL(set_or_add(fcinfo, cq::entries::Write::add));
}

CQ_FUNCTION(cache_set_many)
{
    counters::Timer timer = counters::start();
    CacheInfo* info = cache_arg(fcinfo, 0);
    Elements keys = cq::args::array(fcinfo, 1, "keys", TEXTOID);
    Elements values = cq::args::array(fcinfo, 2, "values", BYTEAOID);
    if (keys.count != values.count)
        throw Error(state::array_subscript_error, "keys and values must have the same length",
                    "There are " + std::to_string(keys.count) + " keys and " +
                        std::to_string(values.count) + " values.");
    check_keys(keys);
    TimestampTz now = GetCurrentTimestamp();
    rules::Expiry expiry = expiry_arg(fcinfo, 3, info, now);
    Limits limits = limits_arg(fcinfo, 4, info);

    // Write in key order, the last value of a key repeated: concurrent calls then lock their
    // rows in one order and cannot deadlock with each other.
    auto* order = static_cast<int*>(palloc(sizeof(int) * std::max(keys.count, 1)));
    for (int i = 0; i < keys.count; i++)
        order[i] = i;
    qsort_arg(order, keys.count, sizeof(int), compare_key_positions, keys.values);

    Entries entries = cq::entries::open(info, true);
    bool over_limit = false;
    uint64 sets = 0;
    for (int n = 0; n < keys.count; n++) {
        int i = order[n];
        if (n + 1 < keys.count && compare_keys(&keys.values[i], &keys.values[order[n + 1]]) == 0)
            continue; // a later value of the same key wins
        sets += store(entries, info, cq::entries::Write::set, DatumGetTextPP(keys.values[i]),
                      DatumGetByteaPP(values.values[i]), expiry, limits, now, &over_limit);
    }
    cq::entries::close(entries);
    if (over_limit)
        cull_now(info, limits, now, DatumGetTextPP(keys.values[keys.count - 1]));
    counters::cache_operation(info->id, counters::op_set_many, timer, 0, 0, sets);
    // Every write succeeds or the whole call fails: no key is ever left out.
    PG_RETURN_ARRAYTYPE_P(construct_empty_array(TEXTOID));
}

CQ_FUNCTION(cache_touch)
{
    counters::Timer timer = counters::start();
    CacheInfo* info = cache_arg(fcinfo, 0);
    text* key = key_arg(fcinfo, 1);
    TimestampTz now = GetCurrentTimestamp();
    rules::Expiry expiry = expiry_arg(fcinfo, 2, info, now);

    cq::spi::Session session = cq::spi::begin();
    bool touched;
    if (expiry.kind == rules::Expiry::not_kept) {
        touched = delete_key(info, key, now);
    } else {
        Datum values[3] = {PointerGetDatum(key), TimestampTzGetDatum(expiry.at_us),
                           TimestampTzGetDatum(now)};
        char nulls[3] = {' ', expiry.kind == rules::Expiry::never ? 'n' : ' ', ' '};
        int rc = SPI_execute_plan(cq::catalog::plan(info, cq::catalog::plan_touch), values, nulls,
                                  false, 0);
        cq::spi::check(rc, SPI_OK_UPDATE, "cache touch");
        touched = SPI_processed > 0;
    }
    cq::spi::end(session);
    counters::cache_operation(info->id, counters::op_touch, timer);
    PG_RETURN_BOOL(touched);
}

CQ_FUNCTION(cache_delete)
{
    counters::Timer timer = counters::start();
    CacheInfo* info = cache_arg(fcinfo, 0);
    text* key = key_arg(fcinfo, 1);
    cq::spi::Session session = cq::spi::begin();
    bool deleted = delete_key(info, key, GetCurrentTimestamp());
    cq::spi::end(session);
    counters::cache_operation(info->id, counters::op_delete, timer);
    PG_RETURN_BOOL(deleted);
}

CQ_FUNCTION(cache_delete_many)
{
    counters::Timer timer = counters::start();
    CacheInfo* info = cache_arg(fcinfo, 0);
    Elements keys = cq::args::array(fcinfo, 1, "keys", TEXTOID);
    check_keys(keys);
    cq::spi::Session session = cq::spi::begin();
    Datum values[2] = {PointerGetDatum(PG_GETARG_ARRAYTYPE_P(1)),
                       TimestampTzGetDatum(GetCurrentTimestamp())};
    int rc = SPI_execute_plan(cq::catalog::plan(info, cq::catalog::plan_delete_many), values,
                              nullptr, false, 0);
    cq::spi::check(rc, SPI_OK_DELETE_RETURNING, "cache delete_many");
    int64 deleted = 0;
    for (uint64 i = 0; i < SPI_processed; i++) {
        bool isnull;
        Datum live = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
        deleted += DatumGetBool(live) ? 1 : 0;
    }
    cq::spi::end(session);
    counters::cache_operation(info->id, counters::op_delete_many, timer);
    PG_RETURN_INT64(deleted);
}

CQ_FUNCTION(cache_incr)
{
    PG_RETURN_INT64(incr_by(fcinfo, false));
}

CQ_FUNCTION(cache_decr)
{
    PG_RETURN_INT64(incr_by(fcinfo, true));
}

CQ_FUNCTION(cache_clear)
{
    CacheInfo* info = cache_arg(fcinfo, 0);
    cq::spi::Session session = cq::spi::begin();
    char sql[128];
    snprintf(sql, sizeof sql, "TRUNCATE cachequeue.cache_%d", info->id);
    run_ddl(sql);
    reset_estimate(info, 0);
    cq::spi::end(session);
    PG_RETURN_VOID();
}

CQ_FUNCTION(cache_cull)
{
    CacheInfo* info = cache_arg(fcinfo, 0);
    cq::spi::Session session = cq::spi::begin();
    int64 removed =
        cull(info, Limits{info->max_entries, info->cull_frequency}, GetCurrentTimestamp());
    cq::spi::end(session);
    PG_RETURN_INT64(removed < 0 ? 0 : removed);
}

CQ_FUNCTION(cache_cleanup)
{
    Elements names = cache_names(fcinfo, 0);
    int64 removed = 0;
    TimestampTz now = GetCurrentTimestamp();
    for (int i = 0; i < names.count; i++) {
        CacheInfo* info = cq::catalog::lookup(DatumGetTextPP(names.values[i]), true);
        if (info == nullptr)
            continue; // dropped since the list was read
        cq::spi::Session session = cq::spi::begin();
        char sql[256];
        snprintf(sql, sizeof sql,
                 "DELETE FROM cachequeue.cache_%d WHERE expires_at OPERATOR(pg_catalog.<=) $1",
                 info->id);
        Oid type = TIMESTAMPTZOID;
        Datum value = TimestampTzGetDatum(now);
        removed += static_cast<int64>(cq::spi::run(sql, SPI_OK_DELETE, 1, &type, &value));
        snprintf(sql, sizeof sql, "SELECT pg_catalog.count(*) FROM cachequeue.cache_%d", info->id);
        reset_estimate(info, scalar_int64(sql));
        cq::spi::end(session);
    }
    PG_RETURN_INT64(removed);
}

CQ_FUNCTION(cache_stats)
{
    Elements names = cache_names(fcinfo, 0);
    InitMaterializedSRF(fcinfo, 0);
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    TimestampTz now = GetCurrentTimestamp();
    for (int i = 0; i < names.count; i++) {
        CacheInfo* info = cq::catalog::lookup(DatumGetTextPP(names.values[i]), true);
        if (info == nullptr)
            continue;
        cq::spi::Session session = cq::spi::begin();
        char sql[512];
        snprintf(sql, sizeof sql,
                 "SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE expires_at"
                 " IS NULL OR expires_at OPERATOR(pg_catalog.>) $1),"
                 " pg_catalog.pg_total_relation_size('cachequeue.cache_%d')"
                 " FROM cachequeue.cache_%d",
                 info->id, info->id);
        Oid type = TIMESTAMPTZOID;
        Datum param = TimestampTzGetDatum(now);
        int rc = SPI_execute_with_args(sql, 1, &type, &param, nullptr, false, 1);
        cq::spi::check(rc, SPI_OK_SELECT, "cache stats");
        bool isnull;
        HeapTuple row = SPI_tuptable->vals[0];
        int64 total = DatumGetInt64(SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull));
        int64 active = DatumGetInt64(SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &isnull));
        int64 size = DatumGetInt64(SPI_getbinval(row, SPI_tuptable->tupdesc, 3, &isnull));
        cq::spi::end(session);
        uint64 hits, misses;
        bool counted = counters::cache_hits_misses(info->id, &hits, &misses);

        Datum values[11] = {names.values[i],
                            Int64GetDatum(total),
                            Int64GetDatum(active),
                            Int64GetDatum(total - active),
                            Int64GetDatum(static_cast<int64>(hits)),
                            Int64GetDatum(static_cast<int64>(misses)),
                            Int64GetDatum(info->max_entries),
                            Float8GetDatum(info->default_timeout),
                            Int32GetDatum(info->cull_frequency),
                            BoolGetDatum(info->unlogged),
                            Int64GetDatum(size)};
        bool nulls[11] = {};
        nulls[4] = nulls[5] = !counted; // hits and misses: NULL without the counters
        nulls[7] = !info->has_default_timeout;
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum)0;
}
