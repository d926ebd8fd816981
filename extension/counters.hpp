// Counters in shared memory: cache hits, misses, sets, culls and operation latencies, and job
// events per queue, kept per database and cache or queue id.
//
// They exist only when cachequeue is in shared_preload_libraries: _PG_init then requests the
// memory and a named LWLock tranche, and the startup hook creates a hash table of at most
// cachequeue.counters_max_objects entries. Otherwise every call here returns at once and
// enabled() is false.
//
// Locking: an entry is found under the lock held shared and its counters are atomics, so
// concurrent backends count without waiting for each other; only a missing entry is inserted
// under the lock held exclusive (and reset removes entries under it). When the table is full,
// events of objects that have no entry yet are not counted, only added to `discarded`.
//
// Counters count calls, as pg_stat_statements does: an event is counted when the function has
// done it, whether or not the caller's transaction commits afterwards.
#pragma once

extern "C" {
#include "postgres.h"
}

#include <ctime>

namespace cq::counters {

// Per cache.
enum CacheCounter { cache_hits, cache_misses, cache_sets, cache_culled, cache_counter_count };

// Per queue.
enum QueueCounter {
    queue_enqueued,
    queue_claimed,
    queue_completed,
    queue_failed,
    queue_dead,
    queue_lease_expiries,
    queue_counter_count
};

// The timed cache operations (the operation label of the latency histogram).
enum Operation {
    op_get,
    op_get_many,
    op_has_key,
    op_set,
    op_set_many,
    op_add,
    op_touch,
    op_delete,
    op_delete_many,
    op_incr,
    op_count
};

// Upper bounds of the latency histogram's buckets, in seconds (as Prometheus' le label); a last
// bucket takes the rest.
constexpr int bucket_count = 17;
extern const char* const bucket_labels[bucket_count];
extern const char* const operation_names[op_count];

// While shared_preload_libraries is being loaded: defines cachequeue.counters_max_objects and
// cachequeue.track_counters (a superuser may stop a session's counting), and installs the
// shared memory hooks. Called from _PG_init.
void init();

// Whether the counters run (cachequeue was preloaded and its shared memory is attached).
bool enabled();

// The start of a timed operation: the clock is read only when the counters run and this
// session's calls are tracked.
struct Timer {
    timespec start;
    bool on;
};
Timer start();

// Times operation op of cache cache_id since timer and adds hits, misses and sets.
void cache_operation(int32 cache_id, Operation op, const Timer& timer, uint64 hits = 0,
                     uint64 misses = 0, uint64 sets = 0);

// Adds n to a counter of a cache or a queue of the current database.
void count_cache(int32 cache_id, CacheCounter counter, uint64 n);
void count_queue(int32 queue_id, QueueCounter counter, uint64 n);

// A copy of one object's counters, as plain data.
struct Snapshot {
    bool is_queue;
    int32 id;
    uint64 counts[queue_counter_count]; // indexed by CacheCounter or QueueCounter
    uint64 buckets[op_count][bucket_count + 1];
    uint64 sum_ns[op_count];
};

// Copies the counters of the current database's objects into palloc'd memory; *count is set
// to how many (zero when the counters do not run).
Snapshot* read(int* count);

// The hits and misses of a cache; false (and zeros) when the counters do not run.
bool cache_hits_misses(int32 cache_id, uint64* hits, uint64* misses);

// The table's use: entries of every database, its size, and the events not counted.
struct Usage {
    int64 objects;
    int64 max_objects;
    uint64 discarded;
};
Usage usage();

// Removes the current database's entries: their counters start again from zero.
void reset();

} // namespace cq::counters
