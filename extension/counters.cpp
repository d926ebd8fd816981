// Counters in shared memory (see counters.hpp).
#include "counters.hpp"

extern "C" {
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
}

namespace cq::counters {

const char* const bucket_labels[bucket_count] = {
    "0.00001", "0.000025", "0.00005", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005",
    "0.01",    "0.025",    "0.05",    "0.1",    "0.25",    "0.5",    "1",     "2.5"};
const char* const operation_names[op_count] = {"get",         "get_many", "has_key", "set",
                                               "set_many",    "add",      "touch",   "delete",
                                               "delete_many", "incr"};

namespace {

constexpr const char* tranche_name = "cachequeue";

// The bucket bounds in nanoseconds, for the hot path.
constexpr uint64 bucket_bounds_ns[bucket_count] = {
    10000,    25000,    50000,    100000,    250000,    500000,    1000000,    2500000,   5000000,
    10000000, 25000000, 50000000, 100000000, 250000000, 500000000, 1000000000, 2500000000};

enum Kind : int32 { kind_cache = 1, kind_queue = 2 };

struct Key {
    Oid dbid;
    int32 kind;
    int32 id;
};

struct Entry {
    Key key;
    pg_atomic_uint64 counts[queue_counter_count];
    pg_atomic_uint64 buckets[op_count][bucket_count + 1];
    pg_atomic_uint64 sum_ns[op_count];
};

struct Shared {
    LWLock* lock;
    pg_atomic_uint64 discarded;
};

int max_objects = 1000;
bool track = true;
Shared* shared = nullptr;
HTAB* table = nullptr;
shmem_request_hook_type prev_shmem_request = nullptr;
shmem_startup_hook_type prev_shmem_startup = nullptr;

Size shared_size()
{
    return add_size(MAXALIGN(sizeof(Shared)), hash_estimate_size(max_objects, sizeof(Entry)));
}

void on_shmem_request()
{
    if (prev_shmem_request)
        prev_shmem_request();
    RequestAddinShmemSpace(shared_size());
    RequestNamedLWLockTranche(tranche_name, 1);
}

void on_shmem_startup()
{
    if (prev_shmem_startup)
        prev_shmem_startup();
    shared = nullptr;
    table = nullptr;

    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found;
    auto* state =
        static_cast<Shared*>(ShmemInitStruct("cachequeue counters", sizeof(Shared), &found));
    if (!found) {
        state->lock = &(GetNamedLWLockTranche(tranche_name))->lock;
        pg_atomic_init_u64(&state->discarded, 0);
    }
    HASHCTL info;
    info.keysize = sizeof(Key);
    info.entrysize = sizeof(Entry);
    table = ShmemInitHash("cachequeue counters table", max_objects, max_objects, &info,
                          HASH_ELEM | HASH_BLOBS);
    LWLockRelease(AddinShmemInitLock);
    shared = state;
}

// Inserts the entry of key (the lock held exclusive); nullptr when the table is full.
Entry* insert(const Key& key)
{
    bool found;
    if (hash_get_num_entries(table) >= max_objects) {
        auto* entry = static_cast<Entry*>(hash_search(table, &key, HASH_FIND, &found));
        return entry;
    }
    auto* entry = static_cast<Entry*>(hash_search(table, &key, HASH_ENTER_NULL, &found));
    if (entry != nullptr && !found) {
        for (auto& count : entry->counts)
            pg_atomic_init_u64(&count, 0);
        for (auto& op : entry->buckets)
            for (auto& bucket : op)
                pg_atomic_init_u64(&bucket, 0);
        for (auto& sum : entry->sum_ns)
            pg_atomic_init_u64(&sum, 0);
    }
    return entry;
}

// Runs add on the entry of (kind, id) in the current database, creating the entry when
// missing: the lock is held shared to find it, exclusive only to insert it.
template <typename Add>
void with_entry(Kind kind, int32 id, Add add)
{
    Key key{MyDatabaseId, kind, id};
    LWLockAcquire(shared->lock, LW_SHARED);
    auto* entry = static_cast<Entry*>(hash_search(table, &key, HASH_FIND, nullptr));
    if (entry == nullptr) {
        LWLockRelease(shared->lock);
        LWLockAcquire(shared->lock, LW_EXCLUSIVE);
        entry = insert(key);
    }
    if (entry != nullptr)
        add(entry);
    else
        pg_atomic_fetch_add_u64(&shared->discarded, 1);
    LWLockRelease(shared->lock);
}

uint64 elapsed_ns(const timespec& start)
{
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64 ns =
        static_cast<int64>(now.tv_sec - start.tv_sec) * 1000000000 + (now.tv_nsec - start.tv_nsec);
    return ns > 0 ? static_cast<uint64>(ns) : 0;
}

} // namespace

void init()
{
    // A PGC_POSTMASTER setting can only be defined while the server starts: a library loaded
    // by a backend later (not preloaded) defines nothing and has no counters.
    if (!process_shared_preload_libraries_in_progress)
        return;
    DefineCustomIntVariable(
        "cachequeue.counters_max_objects",
        "Sets the number of caches and queues, over all databases, that the shared-memory "
        "counters keep.",
        "Needs cachequeue in shared_preload_libraries. When the table is full, the events of "
        "caches and queues not in it yet are not counted.",
        &max_objects, 1000, 10, 1000000, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("cachequeue.track_counters",
                             "Sets whether this session's calls add to the counters.",
                             "Only superusers may change it, so that no role hides its activity.",
                             &track, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    prev_shmem_request = shmem_request_hook;
    shmem_request_hook = on_shmem_request;
    prev_shmem_startup = shmem_startup_hook;
    shmem_startup_hook = on_shmem_startup;
}

bool enabled()
{
    return table != nullptr;
}

Timer start()
{
    Timer timer{};
    timer.on = enabled() && track;
    if (timer.on)
        clock_gettime(CLOCK_MONOTONIC, &timer.start);
    return timer;
}

void cache_operation(int32 cache_id, Operation op, const Timer& timer, uint64 hits, uint64 misses,
                     uint64 sets)
{
    if (!timer.on || !enabled())
        return;
    uint64 ns = elapsed_ns(timer.start);
    int bucket = 0;
    while (bucket < bucket_count && ns > bucket_bounds_ns[bucket])
        bucket++;
    with_entry(kind_cache, cache_id, [&](Entry* entry) {
        pg_atomic_fetch_add_u64(&entry->buckets[op][bucket], 1);
        pg_atomic_fetch_add_u64(&entry->sum_ns[op], ns);
        if (hits)
            pg_atomic_fetch_add_u64(&entry->counts[cache_hits], hits);
        if (misses)
            pg_atomic_fetch_add_u64(&entry->counts[cache_misses], misses);
        if (sets)
            pg_atomic_fetch_add_u64(&entry->counts[cache_sets], sets);
    });
}

void count_cache(int32 cache_id, CacheCounter counter, uint64 n)
{
    if (!enabled() || !track || n == 0)
        return;
    with_entry(kind_cache, cache_id,
               [&](Entry* entry) { pg_atomic_fetch_add_u64(&entry->counts[counter], n); });
}

void count_queue(int32 queue_id, QueueCounter counter, uint64 n)
{
    if (!enabled() || !track || n == 0)
        return;
    with_entry(kind_queue, queue_id,
               [&](Entry* entry) { pg_atomic_fetch_add_u64(&entry->counts[counter], n); });
}

Snapshot* read(int* count)
{
    *count = 0;
    if (!enabled())
        return nullptr;
    LWLockAcquire(shared->lock, LW_SHARED);
    long entries = hash_get_num_entries(table);
    auto* copies = static_cast<Snapshot*>(palloc0(sizeof(Snapshot) * (entries + 1)));
    HASH_SEQ_STATUS scan;
    hash_seq_init(&scan, table);
    int n = 0;
    for (auto* entry = static_cast<Entry*>(hash_seq_search(&scan)); entry != nullptr;
         entry = static_cast<Entry*>(hash_seq_search(&scan))) {
        if (entry->key.dbid != MyDatabaseId || n >= entries)
            continue;
        Snapshot& copy = copies[n++];
        copy.is_queue = entry->key.kind == kind_queue;
        copy.id = entry->key.id;
        for (int i = 0; i < queue_counter_count; i++)
            copy.counts[i] = pg_atomic_read_u64(&entry->counts[i]);
        for (int op = 0; op < op_count; op++) {
            for (int b = 0; b <= bucket_count; b++)
                copy.buckets[op][b] = pg_atomic_read_u64(&entry->buckets[op][b]);
            copy.sum_ns[op] = pg_atomic_read_u64(&entry->sum_ns[op]);
        }
    }
    LWLockRelease(shared->lock);
    *count = n;
    return copies;
}

bool cache_hits_misses(int32 cache_id, uint64* hits, uint64* misses)
{
    *hits = *misses = 0;
    if (!enabled())
        return false;
    Key key{MyDatabaseId, kind_cache, cache_id};
    LWLockAcquire(shared->lock, LW_SHARED);
    auto* entry = static_cast<Entry*>(hash_search(table, &key, HASH_FIND, nullptr));
    if (entry != nullptr) {
        *hits = pg_atomic_read_u64(&entry->counts[cache_hits]);
        *misses = pg_atomic_read_u64(&entry->counts[cache_misses]);
    }
    LWLockRelease(shared->lock);
    return true;
}

Usage usage()
{
    Usage result{0, max_objects, 0};
    if (!enabled())
        return result;
    LWLockAcquire(shared->lock, LW_SHARED);
    result.objects = hash_get_num_entries(table);
    LWLockRelease(shared->lock);
    result.discarded = pg_atomic_read_u64(&shared->discarded);
    return result;
}

void reset()
{
    if (!enabled())
        return;
    LWLockAcquire(shared->lock, LW_EXCLUSIVE);
    HASH_SEQ_STATUS scan;
    hash_seq_init(&scan, table);
    for (auto* entry = static_cast<Entry*>(hash_seq_search(&scan)); entry != nullptr;
         entry = static_cast<Entry*>(hash_seq_search(&scan))) {
        if (entry->key.dbid == MyDatabaseId)
            hash_search(table, &entry->key, HASH_REMOVE, nullptr);
    }
    LWLockRelease(shared->lock);
}

} // namespace cq::counters
