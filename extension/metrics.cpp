// The operations functions: metrics() (the Prometheus text exposition), counters_status() and
// counters_reset().
//
// metrics() builds its text in a StringInfo (palloc'd, no destructor) so that the SPI calls it
// makes between appends may raise errors safely. Counters come from shared memory, figures
// about entries and jobs from the tables, read as the extension's owner.
#include "boundary.hpp"
#include "counters.hpp"
#include "spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

namespace counters = cq::counters;

namespace {

constexpr const char* off_hint =
    "Add cachequeue to shared_preload_libraries and restart PostgreSQL.";

// A label value as the text format wants it: backslash, double quote and newline escaped.
char* label_value(const char* value)
{
    StringInfoData out;
    initStringInfo(&out);
    for (const char* c = value; *c; c++) {
        if (*c == '\\')
            appendStringInfoString(&out, "\\\\");
        else if (*c == '"')
            appendStringInfoString(&out, "\\\"");
        else if (*c == '\n')
            appendStringInfoString(&out, "\\n");
        else
            appendStringInfoChar(&out, *c);
    }
    return out.data;
}

void family(StringInfo out, const char* name, const char* type, const char* help)
{
    appendStringInfo(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

// The caches or queues of the current database: ids and escaped names, in name order.
struct Objects {
    int count;
    int32* ids;
    char** names;
};

const counters::Snapshot* find(const counters::Snapshot* snaps, int count, bool is_queue, int32 id)
{
    for (int i = 0; i < count; i++)
        if (snaps[i].is_queue == is_queue && snaps[i].id == id)
            return &snaps[i];
    return nullptr;
}

// Reads "SELECT id, name ..." results into Objects (SPI connected).
Objects list_objects(const char* sql)
{
    uint64 rows = cq::spi::run_saved(sql, SPI_OK_SELECT);
    Objects objects{static_cast<int>(rows), static_cast<int32*>(palloc(sizeof(int32) * rows + 1)),
                    static_cast<char**>(palloc(sizeof(char*) * rows + 1))};
    for (uint64 i = 0; i < rows; i++) {
        objects.ids[i] = DatumGetInt32(cq::spi::get(i, 1));
        objects.names[i] = label_value(TextDatumGetCString(cq::spi::get(i, 2)));
    }
    return objects;
}

struct Counter {
    int index;
    const char* name;
    const char* help;
};

// One counter family over caches or queues: zero for an object counted nowhere yet.
void counter_family(StringInfo out, const char* db, const Objects& objects, const char* label,
                    const Counter& counter, const counters::Snapshot* snaps, int count,
                    bool is_queue)
{
    family(out, counter.name, "counter", counter.help);
    for (int i = 0; i < objects.count; i++) {
        const counters::Snapshot* snap = find(snaps, count, is_queue, objects.ids[i]);
        appendStringInfo(out, "%s{database=\"%s\",%s=\"%s\"} " UINT64_FORMAT "\n", counter.name,
                         db, label, objects.names[i], snap ? snap->counts[counter.index] : 0);
    }
}

void latency_family(StringInfo out, const char* db, const Objects& caches,
                    const counters::Snapshot* snaps, int count)
{
    const char* name = "cachequeue_cache_operation_duration_seconds";
    family(out, name, "histogram", "Time taken by cache operations, by operation.");
    for (int i = 0; i < caches.count; i++) {
        const counters::Snapshot* snap = find(snaps, count, false, caches.ids[i]);
        for (int op = 0; op < counters::op_count; op++) {
            char labels[256 + NAMEDATALEN * 2];
            snprintf(labels, sizeof labels, "database=\"%s\",cache=\"%s\",operation=\"%s\"", db,
                     caches.names[i], counters::operation_names[op]);
            uint64 cumulative = 0;
            for (int b = 0; b <= counters::bucket_count; b++) {
                cumulative += snap ? snap->buckets[op][b] : 0;
                appendStringInfo(out, "%s_bucket{%s,le=\"%s\"} " UINT64_FORMAT "\n", name, labels,
                                 b < counters::bucket_count ? counters::bucket_labels[b] : "+Inf",
                                 cumulative);
            }
            uint64 ns = snap ? snap->sum_ns[op] : 0;
            appendStringInfo(out, "%s_sum{%s} " UINT64_FORMAT ".%09u\n", name, labels,
                             ns / 1000000000, static_cast<unsigned>(ns % 1000000000));
            appendStringInfo(out, "%s_count{%s} " UINT64_FORMAT "\n", name, labels, cumulative);
        }
    }
}

// Entries and expired entries of each cache, counted in its table.
void entries_families(StringInfo out, const char* db, const Objects& caches)
{
    auto* totals = static_cast<int64*>(palloc0(sizeof(int64) * (caches.count + 1)));
    auto* expired = static_cast<int64*>(palloc0(sizeof(int64) * (caches.count + 1)));
    Oid type = TIMESTAMPTZOID;
    Datum now = TimestampTzGetDatum(GetCurrentTimestamp());
    for (int i = 0; i < caches.count; i++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER"
                 " (WHERE expires_at OPERATOR(pg_catalog.<=) $1) FROM cachequeue.cache_%d",
                 caches.ids[i]);
        cq::spi::run(sql, SPI_OK_SELECT, 1, &type, &now);
        totals[i] = DatumGetInt64(cq::spi::get(0, 1));
        expired[i] = DatumGetInt64(cq::spi::get(0, 2));
    }
    family(out, "cachequeue_cache_entries", "gauge",
           "Entries in the cache's table, expired ones included.");
    for (int i = 0; i < caches.count; i++)
        appendStringInfo(out, "cachequeue_cache_entries{database=\"%s\",cache=\"%s\"} %lld\n", db,
                         caches.names[i], static_cast<long long>(totals[i]));
    family(out, "cachequeue_cache_expired_entries", "gauge",
           "Expired entries still in the cache's table (until a cleanup or a cull).");
    for (int i = 0; i < caches.count; i++)
        appendStringInfo(out,
                         "cachequeue_cache_expired_entries{database=\"%s\",cache=\"%s\"} %lld\n",
                         db, caches.names[i], static_cast<long long>(expired[i]));
}

// Jobs by status, depth, age of the oldest waiting job and pause state of each queue.
void queue_gauges(StringInfo out, const char* db)
{
    static const char* const statuses[] = {"queued",    "scheduled", "running",
                                           "succeeded", "dead",      "cancelled"};
    // queue_stats() runs as the extension's owner here, who may execute it.
    uint64 rows =
        cq::spi::run_saved("SELECT queue, queued, scheduled, running, succeeded, dead, cancelled,"
                           " COALESCE(pg_catalog.date_part('epoch', oldest_queued_age), 0), paused"
                           " FROM cachequeue.queue_stats()",
                           SPI_OK_SELECT);

    family(out, "cachequeue_queue_jobs", "gauge", "Jobs in the queue, by status.");
    for (uint64 i = 0; i < rows; i++) {
        char* queue = label_value(TextDatumGetCString(cq::spi::get(i, 1)));
        for (int s = 0; s < 6; s++)
            appendStringInfo(out,
                             "cachequeue_queue_jobs{database=\"%s\",queue=\"%s\",status=\"%s\"}"
                             " %lld\n",
                             db, queue, statuses[s],
                             static_cast<long long>(DatumGetInt64(cq::spi::get(i, 2 + s))));
    }
    family(out, "cachequeue_queue_depth", "gauge", "Jobs ready to run now (queued and due).");
    for (uint64 i = 0; i < rows; i++)
        appendStringInfo(out, "cachequeue_queue_depth{database=\"%s\",queue=\"%s\"} %lld\n", db,
                         label_value(TextDatumGetCString(cq::spi::get(i, 1))),
                         static_cast<long long>(DatumGetInt64(cq::spi::get(i, 2))));
    family(out, "cachequeue_queue_oldest_waiting_seconds", "gauge",
           "How long the oldest job ready to run has waited since its run time (0 when none).");
    for (uint64 i = 0; i < rows; i++)
        appendStringInfo(out,
                         "cachequeue_queue_oldest_waiting_seconds{database=\"%s\",queue=\"%s\"}"
                         " %.6f\n",
                         db, label_value(TextDatumGetCString(cq::spi::get(i, 1))),
                         DatumGetFloat8(cq::spi::get(i, 8)));
    family(out, "cachequeue_queue_paused", "gauge", "1 when the queue is paused, else 0.");
    for (uint64 i = 0; i < rows; i++)
        appendStringInfo(out, "cachequeue_queue_paused{database=\"%s\",queue=\"%s\"} %d\n", db,
                         label_value(TextDatumGetCString(cq::spi::get(i, 1))),
                         DatumGetBool(cq::spi::get(i, 9)) ? 1 : 0);
}

constexpr Counter cache_counters[] = {
    {counters::cache_hits, "cachequeue_cache_hits_total",
     "Keys found live by cache_get and cache_get_many."},
    {counters::cache_misses, "cachequeue_cache_misses_total",
     "Keys missing or expired in cache_get and cache_get_many."},
    {counters::cache_sets, "cachequeue_cache_sets_total",
     "Values written by cache_set, cache_set_many and cache_add."},
    {counters::cache_culled, "cachequeue_cache_culled_entries_total",
     "Entries removed by culls (expired ones included), automatic or by cache_cull."},
};

constexpr Counter queue_counters[] = {
    {counters::queue_enqueued, "cachequeue_queue_jobs_enqueued_total", "Jobs enqueued."},
    {counters::queue_claimed, "cachequeue_queue_jobs_claimed_total",
     "Jobs claimed (each attempt)."},
    {counters::queue_completed, "cachequeue_queue_jobs_completed_total", "Jobs completed."},
    {counters::queue_failed, "cachequeue_queue_jobs_failed_total",
     "Failed attempts: job_fail calls and expired leases."},
    {counters::queue_dead, "cachequeue_queue_jobs_dead_total",
     "Jobs that became dead (no attempts left)."},
    {counters::queue_lease_expiries, "cachequeue_queue_lease_expiries_total",
     "Leases that expired before their job was completed or failed."},
};

} // namespace

CQ_FUNCTION(metrics)
{
    StringInfoData out;
    initStringInfo(&out);
    char* db = label_value(get_database_name(MyDatabaseId));
    bool on = counters::enabled();
    int count = 0;
    counters::Snapshot* snaps = counters::read(&count);

    family(&out, "cachequeue_counters_enabled", "gauge",
           "1 when cachequeue's shared-memory counters run (cachequeue preloaded), else 0.");
    if (!on)
        appendStringInfo(&out, "# cachequeue: the counters are off. %s\n", off_hint);
    appendStringInfo(&out, "cachequeue_counters_enabled{database=\"%s\"} %d\n", db, on ? 1 : 0);

    cq::spi::Session session = cq::spi::begin();
    Objects caches = list_objects("SELECT id, name FROM cachequeue.caches ORDER BY name");
    Objects queues = list_objects("SELECT id, name FROM cachequeue.queues ORDER BY name");
    if (on) {
        for (const Counter& counter : cache_counters)
            counter_family(&out, db, caches, "cache", counter, snaps, count, false);
        latency_family(&out, db, caches, snaps, count);
    }
    entries_families(&out, db, caches);
    if (on)
        for (const Counter& counter : queue_counters)
            counter_family(&out, db, queues, "queue", counter, snaps, count, true);
    queue_gauges(&out, db);
    cq::spi::end(session);
    PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
}

CQ_FUNCTION(counters_status)
{
    counters::Usage usage = counters::usage();
    bool on = counters::enabled();
    const char* hint = nullptr;
    if (!on)
        hint = off_hint;
    else if (usage.objects >= usage.max_objects)
        hint = "The table is full: run cachequeue.counters_reset() in databases whose caches or "
               "queues were dropped, or raise cachequeue.counters_max_objects (restart).";

    InitMaterializedSRF(fcinfo, 0);
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    Datum values[5] = {BoolGetDatum(on), Int64GetDatum(usage.objects),
                       Int64GetDatum(usage.max_objects),
                       Int64GetDatum(static_cast<int64>(usage.discarded)),
                       hint ? PointerGetDatum(cstring_to_text(hint)) : (Datum)0};
    bool nulls[5] = {false, !on, !on, !on, hint == nullptr};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    return (Datum)0;
}

CQ_FUNCTION(counters_reset)
{
    if (!counters::enabled())
        ereport(NOTICE,
                (errmsg("cachequeue's shared-memory counters are off"), errhint("%s", off_hint)));
    counters::reset();
    PG_RETURN_VOID();
}
