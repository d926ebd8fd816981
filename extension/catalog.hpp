// What a backend knows about the caches: settings and relation ids, kept in backend memory
// and dropped whenever cachequeue.caches changes (a relcache invalidation of that table).
#pragma once

extern "C" {
#include "postgres.h"
#include "executor/spi.h"
}

namespace cq::catalog {

// Statements each cache prepares once per backend (SPI plans kept across transactions).
enum Plan {
    plan_delete,
    plan_delete_many,
    plan_touch,
    plan_lock_value,
    plan_write_value,
    plan_count
};

// One cache as this backend last read it.
struct CacheInfo {
    char name[NAMEDATALEN]; // hash key: the cache's name
    bool valid;
    int32 id;
    Oid relid;   // cachequeue.cache_<id>
    Oid indexid; // its primary key on key
    Oid seqid;   // cachequeue.cache_<id>_count: entries written since the last recount
    bool has_default_timeout;
    double default_timeout;
    int64 max_entries;
    int32 cull_frequency;
    bool unlogged;
    SPIPlanPtr plans[plan_count];
};

// Registers the invalidation callback; called from _PG_init.
void init();

// The cache called name, or an undefined_object error (or nullptr when missing_ok).
CacheInfo* lookup(const text* name, bool missing_ok = false);

// Oid of cachequeue.caches, and of its owner: the role cache tables are read and written as.
Oid caches_relid();
Oid owner();

// Drops every remembered cache, in this backend and (at commit) in every other backend.
void invalidate();

// The cache's prepared statement kind, preparing it on first use (SPI must be connected).
SPIPlanPtr plan(CacheInfo* info, Plan kind);

// Sets sequence seqid to value when the transaction commits (not when it or the
// subtransaction rolls back). Used to lower a cache's estimate of its entries.
// Until then, next_estimate() counts from value for this transaction.
void reset_estimate_at_commit(Oid seqid, int64 value);

// Counts one more entry in sequence seqid and returns the estimate of entries.
int64 next_estimate(Oid seqid);

// The role a backend ran as before become_owner().
struct SavedUser {
    Oid user;
    int context;
};

// Switches to the owner of the cache tables, as foreign key triggers switch to a table's owner,
// so callers need EXECUTE on the function and no privilege on the tables. Plain data, no
// destructor: an error on the way aborts the (sub)transaction, which restores the user.
SavedUser become_owner();
void restore_user(SavedUser saved);

} // namespace cq::catalog
