// Commits of unlogged cache writes without a WAL-writer wake-up each (see commit_flush.hpp).
#include "commit_flush.hpp"

#include "settings.hpp"

extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "storage/lock.h"
}

namespace cq::commit {

namespace {

// Flush only when the unflushed WAL before the insert page is this short. A longer lag is
// another session's bulk of WAL: flushing it here would make this commit wait for it, and
// the WAL writer is about to flush it anyway.
constexpr XLogRecPtr max_lag = 4 * XLOG_BLCKSZ;

// Advisory lock field 4 for the lock the flushing backend holds, taken without waiting: a
// commit that comes while another backend flushes goes on (and wakes the WAL writer, as
// PostgreSQL does) instead of queueing behind that flush. Cluster-wide (database 0), as the
// WAL is.
constexpr uint16 flush_lock_kind = 0x6372;

bool called = false;

void flush_completed_pages()
{
#if PG_VERSION_NUM < 170000
    // A transaction that wrote WAL of its own commits synchronously, and its flush covers the
    // pages (or asynchronously, as synchronous_commit = off asked). A transaction without an
    // XID writes no commit record.
    if (XactLastRecEnd != 0 || !TransactionIdIsValid(GetTopTransactionIdIfAny()))
        return;
    XLogRecPtr insert = GetXLogInsertRecPtr();
    XLogRecPtr page = insert - insert % XLOG_BLCKSZ;
    XLogRecPtr flushed = GetFlushRecPtr(nullptr);
    if (page <= flushed || page - flushed > max_lag)
        return;
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, InvalidOid, 0, 0, flush_lock_kind);
    // Without reporting a full lock table either: this is an optimization, never a reason for
    // the commit to fail.
    if (LockAcquireExtended(&tag, ExclusiveLock, false, true, false, nullptr) != LOCKACQUIRE_OK)
        return;
    XLogFlush(page);
    LockRelease(&tag, ExclusiveLock, false);
#endif
}

void on_xact_event(XactEvent event, void*)
{
    if (event == XACT_EVENT_PRE_COMMIT && called && settings::unlogged_commit_flush)
        flush_completed_pages();
    if (event != XACT_EVENT_PRE_COMMIT && event != XACT_EVENT_PARALLEL_PRE_COMMIT &&
        event != XACT_EVENT_PRE_PREPARE)
        called = false;
}

} // namespace

void init()
{
    RegisterXactCallback(on_xact_event, nullptr);
}

void note_cache_call()
{
    called = true;
}

} // namespace cq::commit
