// Commits of unlogged cache writes without a WAL-writer wake-up each.
//
// Why: a transaction whose only writes went to unlogged tables commits asynchronously. On
// PostgreSQL 15, such a commit signals the WAL writer (a kill(2)) whenever the WAL before the
// page its commit record ends on is not all flushed yet. With the default wal_writer_flush_after,
// the WAL writer flushes only every wal_writer_delay, so nearly every commit signals it: on a busy
// cache that is a wake-up of the WAL writer per cache write, a large share of the CPU a write
// takes (a quarter of a Django set, measured on a virtual machine).
//
// What: before such a transaction commits, when the WAL insert position has moved onto a page
// after the flushed one, and only by a few pages, the backend flushes the WAL itself. The
// commits that follow on the same page then find it flushed and signal no one: one WAL flush
// for each page of commit records (about 8 kB, some 200 commits) instead of a signal for
// each. Only the commit that flushes waits for it; the others go on. Off with
// cachequeue.unlogged_commit_flush. Compiled out from PostgreSQL 17, whose asynchronous commits
// wake the WAL writer only when it has enough to flush.
#pragma once

namespace cq::commit {

// Registers the transaction callback. Call before any other module registers one: callbacks
// run in the reverse order of registration, and this one must come after the others' work at
// commit (which may write WAL of its own).
void init();

// Notes that this transaction called a cache function: its commit is then looked at.
void note_cache_call();

} // namespace cq::commit
