// Direct reads and writes of a cache table.
#include "entries.hpp"

extern "C" {
#include "access/genam.h"
#include "access/heapam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "storage/lock.h"
#include "utils/fmgroids.h"
#include "common/hashfn.h"
#include "utils/snapmgr.h"
}

namespace cq::entries {

namespace {

// Advisory lock field 4 for a key about to be inserted (1 and 2 are taken by the SQL-level
// advisory lock functions).
constexpr uint16 key_lock_kind = 0x6371;

bool is_live(bool has_expiry, TimestampTz expires_at, TimestampTz now)
{
    return !has_expiry || expires_at > now;
}

// The row found for a key by a dirty-snapshot probe: its position, its expiry, and the
// transaction to wait for when another one is changing it.
struct Current {
    bool found;
    ItemPointerData tid;
    bool has_expiry;
    TimestampTz expires_at;
    TransactionId wait_for;
};

Current probe_current(Entries& entries, text* key)
{
    Current current{};
    SnapshotData dirty;
    InitDirtySnapshot(dirty);
    ScanKeyData scankey;
    ScanKeyInit(&scankey, 1, BTEqualStrategyNumber, F_TEXTEQ, PointerGetDatum(key));
    IndexScanDesc scan = index_beginscan(entries.heap, entries.index, &dirty, 1, 0);
    index_rescan(scan, &scankey, 1, nullptr, 0);
    if (index_getnext_slot(scan, ForwardScanDirection, entries.slot)) {
        current.found = true;
        current.tid = entries.slot->tts_tid;
        bool isnull;
        Datum expires = slot_getattr(entries.slot, col_expires_at, &isnull);
        current.has_expiry = !isnull;
        current.expires_at = isnull ? 0 : DatumGetTimestampTz(expires);
        if (TransactionIdIsValid(dirty.xmin))
            current.wait_for = dirty.xmin;
        else if (TransactionIdIsValid(dirty.xmax))
            current.wait_for = dirty.xmax;
        ExecClearTuple(entries.slot);
    }
    index_endscan(scan);
    return current;
}

// The lock that serializes inserts of one key. It is held only from the probe that finds no
// row to the insertion of the index entry: from then on, the dirty-snapshot probe of any
// other writer sees the new row and waits for this transaction instead.
LOCKTAG key_lock(const catalog::CacheInfo* info, text* key)
{
    uint32 hash = hash_bytes(reinterpret_cast<const unsigned char*>(VARDATA_ANY(key)),
                             VARSIZE_ANY_EXHDR(key));
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, static_cast<uint32>(info->id), hash, key_lock_kind);
    return tag;
}

HeapTuple form_entry(Entries& entries, text* key, bytea* value, cache::Expiry expiry,
                     TimestampTz now)
{
    Datum values[4] = {PointerGetDatum(key), PointerGetDatum(value),
                       TimestampTzGetDatum(expiry.at_us), TimestampTzGetDatum(now)};
    bool nulls[4] = {false, false, expiry.kind == cache::Expiry::never, false};
    return heap_form_tuple(RelationGetDescr(entries.heap), values, nulls);
}

void insert_index_entry(Entries& entries, text* key, ItemPointer tid)
{
    Datum values[1] = {PointerGetDatum(key)};
    bool nulls[1] = {false};
    IndexInfo* index_info = BuildIndexInfo(entries.index);
    index_insert(entries.index, values, nulls, tid, entries.heap, UNIQUE_CHECK_YES, false,
                 index_info);
}

} // namespace

Entries open(const catalog::CacheInfo* info, bool for_write)
{
    LOCKMODE mode = for_write ? RowExclusiveLock : AccessShareLock;
    if (for_write)
        PreventCommandIfReadOnly("a cache write"); // the executor's check, which we bypass
    Entries entries;
    entries.heap = try_table_open(info->relid, mode);
    if (entries.heap == nullptr)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("cache \"%s\" was dropped by another session", info->name)));
    entries.index = index_open(info->indexid, mode);
    entries.slot = table_slot_create(entries.heap, nullptr);
    return entries;
}

void close(Entries& entries)
{
    ExecDropSingleTupleTableSlot(entries.slot);
    index_close(entries.index, NoLock);
    table_close(entries.heap, NoLock);
}

Found probe(Entries& entries, text* key, TimestampTz now, bool want_value)
{
    Found found{};
    ScanKeyData scankey;
    ScanKeyInit(&scankey, 1, BTEqualStrategyNumber, F_TEXTEQ, PointerGetDatum(key));
    Snapshot snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
    IndexScanDesc scan = index_beginscan(entries.heap, entries.index, snapshot, 1, 0);
    index_rescan(scan, &scankey, 1, nullptr, 0);
    if (index_getnext_slot(scan, ForwardScanDirection, entries.slot)) {
        bool isnull;
        Datum expires = slot_getattr(entries.slot, col_expires_at, &isnull);
        found.has_expiry = !isnull;
        found.expires_at = isnull ? 0 : DatumGetTimestampTz(expires);
        found.live = is_live(found.has_expiry, found.expires_at, now);
        if (found.live && want_value) {
            Datum value = slot_getattr(entries.slot, col_value, &isnull);
            found.value = DatumGetByteaPCopy(value);
        }
        ExecClearTuple(entries.slot);
    }
    index_endscan(scan);
    return found;
}

Written write(Entries& entries, const catalog::CacheInfo* info, Write mode, text* key,
              bytea* value, cache::Expiry expiry, TimestampTz now)
{
    // Make this transaction's earlier writes (even within this statement) updatable.
    CommandCounterIncrement();
    CommandId cid = GetCurrentCommandId(true);
    LOCKTAG lock_tag; // set when an insert first needs the key's lock
    bool key_locked = false;

    for (;;) {
        CHECK_FOR_INTERRUPTS();
        Current current = probe_current(entries, key);
        if (TransactionIdIsValid(current.wait_for)) {
            // Another transaction is inserting, updating or deleting this row: wait for it.
            if (key_locked)
                LockRelease(&lock_tag, ExclusiveLock, false);
            key_locked = false;
            XactLockTableWait(current.wait_for, entries.heap, &current.tid, XLTW_InsertIndex);
            continue;
        }

        if (!current.found) {
            // Inserts of one key are serialized by a lock; look again once it is held.
            if (!key_locked) {
                lock_tag = key_lock(info, key);
                (void)LockAcquire(&lock_tag, ExclusiveLock, false, false);
                key_locked = true;
                continue;
            }
            HeapTuple tuple = form_entry(entries, key, value, expiry, now);
            heap_insert(entries.heap, tuple, cid, 0, nullptr);
            insert_index_entry(entries, key, &tuple->t_self);
            LockRelease(&lock_tag, ExclusiveLock, false);
            heap_freetuple(tuple);
            return {true, true};
        }
        if (key_locked)
            LockRelease(&lock_tag, ExclusiveLock, false);
        key_locked = false;

        if (mode == Write::add && is_live(current.has_expiry, current.expires_at, now))
            return {false, false};

        HeapTuple tuple = form_entry(entries, key, value, expiry, now);
        TM_FailureData failure;
        LockTupleMode lock_mode;
        TM_Result result = heap_update(entries.heap, &current.tid, tuple, cid, InvalidSnapshot,
                                       true, &failure, &lock_mode);
        switch (result) {
        case TM_Ok:
            if (!HeapTupleIsHeapOnly(tuple))
                insert_index_entry(entries, key, &tuple->t_self);
            heap_freetuple(tuple);
            return {true, false};
        case TM_Updated:
        case TM_Deleted:
            // Changed by a transaction that committed meanwhile: start over.
            heap_freetuple(tuple);
            continue;
        default:
            elog(ERROR, "cachequeue: unexpected result %d updating a cache entry",
                 static_cast<int>(result));
        }
    }
}

bool remove(Entries& entries, ItemPointer tid)
{
    TM_FailureData failure;
    TM_Result result = heap_delete(entries.heap, tid, GetCurrentCommandId(true), InvalidSnapshot,
                                   false, &failure, false);
    return result == TM_Ok;
}

} // namespace cq::entries
