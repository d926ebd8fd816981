// Backend-local knowledge of the caches, and the prepared statements of each.
#include "catalog.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "storage/lmgr.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

#include <algorithm>
#include <cstdio>

#include "errors.hpp"

namespace cq::catalog {

namespace {

HTAB* caches = nullptr;
Oid known_caches_relid = InvalidOid;
Oid known_owner = InvalidOid;

// Column numbers of cachequeue.caches.
enum {
    col_id = 1,
    col_name,
    col_default_timeout,
    col_max_entries,
    col_cull_frequency,
    col_unlogged
};

// Estimate resets waiting for the transaction to commit (in TopTransactionContext).
struct PendingReset {
    Oid seqid;
    int64 value; // the exact count, taken when the sequence stood at `at`
    int64 at;
    int64 last; // the sequence's latest value seen by this transaction
};
List* pending_resets = NIL;

void apply_pending_resets()
{
    // The list runs newest first; only the newest reset of each sequence counts.
    List* done = NIL;
    ListCell* lc;
    foreach (lc, pending_resets) {
        auto* reset = static_cast<PendingReset*>(lfirst(lc));
        if (list_member_oid(done, reset->seqid))
            continue;
        done = lappend_oid(done, reset->seqid);
        // The cache may have been dropped since, in this very transaction.
        if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(reset->seqid)))
            continue;
        SavedUser saved = become_owner();
        int64 estimate = reset->value + (reset->last - reset->at);
        DirectFunctionCall3(setval3_oid, ObjectIdGetDatum(reset->seqid),
                            Int64GetDatum(std::max<int64>(estimate, 0)), BoolGetDatum(true));
        restore_user(saved);
    }
    pending_resets = NIL;
}

void on_xact_event(XactEvent event, void*)
{
    if (event == XACT_EVENT_PRE_COMMIT && pending_resets != NIL)
        apply_pending_resets();
    else if (event != XACT_EVENT_PARALLEL_PRE_COMMIT)
        pending_resets = NIL; // rolled back or prepared: a higher estimate is the safe one
}

void on_subxact_event(SubXactEvent event, SubTransactionId, SubTransactionId, void*)
{
    // Conservative: any rolled-back savepoint forgets every pending reset.
    if (event == SUBXACT_EVENT_ABORT_SUB)
        pending_resets = NIL;
}

void forget_all()
{
    known_caches_relid = InvalidOid;
    known_owner = InvalidOid;
    if (caches == nullptr)
        return;
    HASH_SEQ_STATUS status;
    hash_seq_init(&status, caches);
    while (auto* info = static_cast<CacheInfo*>(hash_seq_search(&status)))
        info->valid = false;
}

void on_relcache_invalidation(Datum, Oid relid)
{
    if (relid == InvalidOid || relid == known_caches_relid)
        forget_all();
}

Oid schema_oid()
{
    return get_namespace_oid("cachequeue", false);
}

Oid relation_in_schema(const char* name)
{
    Oid relid = get_relname_relid(name, schema_oid());
    if (!OidIsValid(relid))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("relation \"cachequeue.%s\" does not exist", name),
                        errhint("The cachequeue extension may be damaged; recreate the cache.")));
    return relid;
}

void free_plans(CacheInfo* info)
{
    for (auto& plan : info->plans) {
        if (plan != nullptr)
            SPI_freeplan(plan);
        plan = nullptr;
    }
}

// Reads the row of cachequeue.caches for name into info; false when there is none.
bool load(const text* name, CacheInfo* info)
{
    Relation rel = table_open(caches_relid(), AccessShareLock);
    Oid index = relation_in_schema("caches_name_key");

    ScanKeyData key;
    ScanKeyInit(&key, col_name, BTEqualStrategyNumber, F_TEXTEQ, PointerGetDatum(name));
    Snapshot snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
    SysScanDesc scan = systable_beginscan(rel, index, true, snapshot, 1, &key);
    HeapTuple tuple = systable_getnext(scan);
    bool found = HeapTupleIsValid(tuple);
    if (found) {
        TupleDesc desc = RelationGetDescr(rel);
        bool isnull;
        info->id = DatumGetInt32(heap_getattr(tuple, col_id, desc, &isnull));
        Datum timeout = heap_getattr(tuple, col_default_timeout, desc, &isnull);
        info->has_default_timeout = !isnull;
        info->default_timeout = isnull ? 0 : DatumGetFloat8(timeout);
        info->max_entries = DatumGetInt64(heap_getattr(tuple, col_max_entries, desc, &isnull));
        info->cull_frequency =
            DatumGetInt32(heap_getattr(tuple, col_cull_frequency, desc, &isnull));
        info->unlogged = DatumGetBool(heap_getattr(tuple, col_unlogged, desc, &isnull));
    }
    systable_endscan(scan);
    table_close(rel, NoLock);
    if (!found)
        return false;

    char relname[NAMEDATALEN];
    snprintf(relname, sizeof relname, "cache_%d", info->id);
    info->relid = relation_in_schema(relname);
    snprintf(relname, sizeof relname, "cache_%d_pkey", info->id);
    info->indexid = relation_in_schema(relname);
    snprintf(relname, sizeof relname, "cache_%d_count", info->id);
    info->seqid = relation_in_schema(relname);
    return true;
}

// The text of each prepared statement; %1$s is the cache's table.
const char* plan_sql(Plan kind)
{
    switch (kind) {
    case plan_delete:
        return "DELETE FROM %1$s WHERE key OPERATOR(pg_catalog.=) $1"
               " RETURNING expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) $2";
    case plan_delete_many:
        return "DELETE FROM %1$s WHERE key OPERATOR(pg_catalog.=) ANY ($1)"
               " RETURNING expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) $2";
    case plan_touch:
        return "UPDATE %1$s SET expires_at = $2 WHERE key OPERATOR(pg_catalog.=) $1"
               " AND (expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) $3)";
    case plan_lock_value:
        return "SELECT value FROM %1$s WHERE key OPERATOR(pg_catalog.=) $1"
               " AND (expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) $2)"
               " FOR UPDATE";
    case plan_write_value:
        return "UPDATE %1$s SET value = $2, written_at = $3"
               " WHERE key OPERATOR(pg_catalog.=) $1";
    case plan_count:
        break;
    }
    return nullptr;
}

void plan_types(Plan kind, Oid* types, int* count)
{
    switch (kind) {
    case plan_delete:
        types[0] = TEXTOID, types[1] = TIMESTAMPTZOID, *count = 2;
        return;
    case plan_delete_many:
        types[0] = TEXTARRAYOID, types[1] = TIMESTAMPTZOID, *count = 2;
        return;
    case plan_touch:
        types[0] = TEXTOID, types[1] = TIMESTAMPTZOID, types[2] = TIMESTAMPTZOID, *count = 3;
        return;
    case plan_lock_value:
        types[0] = TEXTOID, types[1] = TIMESTAMPTZOID, *count = 2;
        return;
    case plan_write_value:
        types[0] = TEXTOID, types[1] = BYTEAOID, types[2] = TIMESTAMPTZOID, *count = 3;
        return;
    case plan_count:
        break;
    }
    *count = 0;
}

} // namespace

void init()
{
    CacheRegisterRelcacheCallback(on_relcache_invalidation, (Datum)0);
    RegisterXactCallback(on_xact_event, nullptr);
    RegisterSubXactCallback(on_subxact_event, nullptr);
}

void reset_estimate_at_commit(Oid seqid, int64 value)
{
    int64 at = nextval_internal(seqid, false);
    MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
    auto* reset = static_cast<PendingReset*>(palloc(sizeof(PendingReset)));
    *reset = PendingReset{seqid, value, at, at};
    pending_resets = lcons(reset, pending_resets);
    MemoryContextSwitchTo(old);
}

int64 next_estimate(Oid seqid)
{
    int64 next = nextval_internal(seqid, false);
    ListCell* lc;
    foreach (lc, pending_resets) {
        auto* reset = static_cast<PendingReset*>(lfirst(lc));
        if (reset->seqid == seqid) {
            reset->last = next;
            return reset->value + (next - reset->at);
        }
    }
    return next;
}

Oid caches_relid()
{
    if (!OidIsValid(known_caches_relid)) {
        Oid relid = relation_in_schema("caches");
        Relation rel = table_open(relid, AccessShareLock);
        known_owner = rel->rd_rel->relowner;
        table_close(rel, AccessShareLock);
        known_caches_relid = relid;
    }
    return known_caches_relid;
}

Oid owner()
{
    caches_relid();
    return known_owner;
}

CacheInfo* lookup(const text* name, bool missing_ok)
{
    int len = VARSIZE_ANY_EXHDR(name);
    if (len <= 0 || len >= NAMEDATALEN) {
        if (missing_ok)
            return nullptr;
        ereport(ERROR,
                (errcode(ERRCODE_UNDEFINED_OBJECT),
                 errmsg("cache \"%.*s\" does not exist", len > 63 ? 63 : len, VARDATA_ANY(name))));
    }
    if (caches == nullptr) {
        HASHCTL ctl = {};
        ctl.keysize = NAMEDATALEN;
        ctl.entrysize = sizeof(CacheInfo);
        ctl.hcxt = CacheMemoryContext;
        caches =
            hash_create("cachequeue caches", 16, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
    }
    char key[NAMEDATALEN] = {};
    memcpy(key, VARDATA_ANY(name), len);

    // Apply invalidations first: they may forget the entry found below. (Opening the cache's
    // table later applies newer ones; a cache dropped meanwhile is then reported as such.)
    AcceptInvalidationMessages();
    caches_relid();
    bool found;
    auto* info = static_cast<CacheInfo*>(hash_search(caches, key, HASH_ENTER, &found));
    if (!found) {
        info->valid = false;
        for (auto& plan : info->plans)
            plan = nullptr;
    }
    if (info->valid)
        return info;

    free_plans(info);
    if (!load(name, info)) {
        hash_search(caches, key, HASH_REMOVE, nullptr);
        if (missing_ok)
            return nullptr;
        ereport(ERROR,
                (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("cache \"%s\" does not exist", key),
                 errhint("Create it with cachequeue.cache_create('%s').", key)));
    }
    info->valid = true;
    return info;
}

void invalidate()
{
    CacheInvalidateRelcacheByRelid(caches_relid());
    forget_all();
}

SPIPlanPtr plan(CacheInfo* info, Plan kind)
{
    if (info->plans[kind] != nullptr)
        return info->plans[kind];
    char table[NAMEDATALEN + 16];
    snprintf(table, sizeof table, "cachequeue.cache_%d", info->id);
    char* sql = psprintf(plan_sql(kind), table);
    Oid types[4];
    int count;
    plan_types(kind, types, &count);
    SPIPlanPtr prepared = SPI_prepare(sql, count, types);
    if (prepared == nullptr)
        elog(ERROR, "could not prepare cachequeue statement: %s",
             SPI_result_code_string(SPI_result));
    SPI_keepplan(prepared);
    info->plans[kind] = prepared;
    pfree(sql);
    return prepared;
}

SavedUser become_owner()
{
    SavedUser saved;
    GetUserIdAndSecContext(&saved.user, &saved.context);
    SetUserIdAndSecContext(owner(), saved.context | SECURITY_LOCAL_USERID_CHANGE);
    return saved;
}

void restore_user(SavedUser saved)
{
    SetUserIdAndSecContext(saved.user, saved.context);
}

} // namespace cq::catalog
