// Direct access to a cache table through its primary key, without the executor: the hot
// paths (get, set, add) pay for one index probe and one heap change, not for a query plan.
#pragma once

#include "cache_rules.hpp"
#include "catalog.hpp"

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
#include "executor/tuptable.h"
#include "utils/rel.h"
}

namespace cq::entries {

// Columns of a cache table.
enum { col_key = 1, col_value, col_expires_at, col_written_at };

struct Entries {
    Relation heap;
    Relation index;
    TupleTableSlot* slot;
};

// Opens a cache's table and primary key, for reading or for writing.
Entries open(const catalog::CacheInfo* info, bool for_write);
void close(Entries& entries);

struct Found {
    bool live;
    bool has_expiry;
    TimestampTz expires_at;
    bytea* value; // a copy in the caller's memory context, when asked for
};

// Looks key up in the statement's snapshot.
Found probe(Entries& entries, text* key, TimestampTz now, bool want_value);

enum class Write { set, add };

struct Written {
    bool stored;  // false: add found a live value
    bool new_key; // the key had no row before (the cache grew)
};

// Writes key = value (set), or only when key is missing or expired (add). Safe against
// concurrent writers of the same key: inserts take a lock on the key, updates retry when the
// row changed under them.
Written write(Entries& entries, const catalog::CacheInfo* info, Write mode, text* key,
              bytea* value, cache::Expiry expiry, TimestampTz now);

// Deletes the row at tid unless another transaction has changed it or is changing it; says
// whether it deleted. Never waits.
bool remove(Entries& entries, ItemPointer tid);

} // namespace cq::entries
