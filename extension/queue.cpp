// The job queue's SQL functions.
//
// Every state change of a job is one UPDATE guarded by the job's current state, run through
// SPI as the owner of the tables: a claim takes ready jobs with FOR UPDATE SKIP LOCKED and
// gives each a fresh lease token; complete, fail and heartbeat change a job only while the
// token they carry is still its lease (fencing), so a worker whose lease expired and whose job
// was claimed again cannot overwrite the work of the worker that took over.
#include "args.hpp"
#include "boundary.hpp"
#include "claim_cursor.hpp"
#include "counters.hpp"
#include "queue_rules.hpp"
#include "settings.hpp"
#include "spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "common/pg_prng.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
}

#include <string>

using cq::Error;
using cq::null_argument;
namespace counters = cq::counters;
namespace rules = cq::queue;
namespace state = cq::sqlstate;

namespace {

// Argument checks. They throw before any PostgreSQL resource is taken.

text* queue_arg(FunctionCallInfo fcinfo, int n)
{
    if (PG_ARGISNULL(n))
        null_argument("queue name");
    text* name = PG_GETARG_TEXT_PP(n);
    rules::check_name(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));
    return name;
}

text* task_arg(FunctionCallInfo fcinfo, int n)
{
    if (PG_ARGISNULL(n))
        null_argument("task");
    text* task = PG_GETARG_TEXT_PP(n);
    rules::check_task(VARDATA_ANY(task), VARSIZE_ANY_EXHDR(task));
    return task;
}

int64 job_arg(FunctionCallInfo fcinfo, int n)
{
    if (PG_ARGISNULL(n))
        null_argument("job id");
    return PG_GETARG_INT64(n);
}

pg_uuid_t* lease_arg(FunctionCallInfo fcinfo, int n)
{
    if (PG_ARGISNULL(n))
        null_argument("lease");
    return PG_GETARG_UUID_P(n);
}

// An interval as microseconds, months counted as 30 days (as interval comparison does).
int64 interval_us(const Interval* span)
{
    __int128 total = static_cast<__int128>(span->month) * DAYS_PER_MONTH * USECS_PER_DAY +
                     static_cast<__int128>(span->day) * USECS_PER_DAY + span->time;
    if (total > PG_INT64_MAX)
        return PG_INT64_MAX;
    if (total < PG_INT64_MIN)
        return PG_INT64_MIN;
    return static_cast<int64>(total);
}

Jsonb* payload_arg(Datum value, const char* what)
{
    Jsonb* payload = DatumGetJsonbP(value);
    if (!JB_ROOT_IS_OBJECT(payload) || JB_ROOT_IS_SCALAR(payload))
        throw Error(state::invalid_parameter_value, std::string(what) + " must be a JSON object",
                    {}, "Wrap other values in an object, such as {\"value\": 42}.");
    return payload;
}

// The run_at argument n when given: a finite time (an infinite one would never run, or
// break the age of the oldest job).
void check_run_at(FunctionCallInfo fcinfo, int n)
{
    if (!PG_ARGISNULL(n) && TIMESTAMP_NOT_FINITE(PG_GETARG_TIMESTAMPTZ(n)))
        throw Error(state::invalid_parameter_value, "run_at must be a finite time", {},
                    "Use NULL to run the job as soon as possible.");
}

struct QueueRow {
    int32 id;
    int32 priority;
    bool paused;
};

// Whether jobs enqueued with the priority and run_at arguments n and n + 1 may go ahead of
// the claim cursors: a priority other than the queue's, or a run time already past.
bool enqueued_ahead(FunctionCallInfo fcinfo, int n, const QueueRow& queue, TimestampTz now)
{
    return (!PG_ARGISNULL(n) && PG_GETARG_INT32(n) != queue.priority) ||
           (!PG_ARGISNULL(n + 1) && PG_GETARG_TIMESTAMPTZ(n + 1) < now);
}

// The queue called name (SPI connected), or an undefined_object error.
QueueRow find_queue(text* name)
{
    Oid type = TEXTOID;
    Datum value = PointerGetDatum(name);
    uint64 rows = cq::spi::run_saved("SELECT id, priority, paused FROM cachequeue.queues"
                                     " WHERE name OPERATOR(pg_catalog.=) $1",
                                     SPI_OK_SELECT, 1, &type, &value);
    if (rows == 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("queue \"%s\" does not exist", text_to_cstring(name)),
                        errhint("Create it with cachequeue.queue_create().")));
    return {DatumGetInt32(cq::spi::get(0, 1)), DatumGetInt32(cq::spi::get(0, 2)),
            DatumGetBool(cq::spi::get(0, 3))};
}

// Wakes the listeners of a queue once this transaction commits. PostgreSQL folds identical
// notifications of one transaction into one.
void notify_queue(text* name)
{
    char channel[NAMEDATALEN];
    snprintf(channel, sizeof channel, "cachequeue_%s", text_to_cstring(name));
    Async_Notify(channel, nullptr);
}

// Why a fenced change of job id with lease found nothing to change: the job is missing
// (no_data_found) or lease is not its current lease any more (lease_lost).
[[noreturn]] void fencing_error(int64 id, pg_uuid_t* lease, const char* action)
{
    Oid types[1] = {INT8OID};
    Datum values[1] = {Int64GetDatum(id)};
    uint64 rows = cq::spi::run_saved("SELECT status, worker"
                                     " FROM cachequeue.jobs WHERE id OPERATOR(pg_catalog.=) $1",
                                     SPI_OK_SELECT, 1, types, values);
    (void)lease;
    if (rows == 0)
        ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
                        errmsg("job %lld does not exist", static_cast<long long>(id)),
                        errdetail("It may have been purged, or its queue dropped.")));
    char* status = TextDatumGetCString(cq::spi::get(0, 1));
    bool isnull;
    Datum worker = cq::spi::get(0, 2, &isnull);
    const char* holder = isnull ? "another worker" : TextDatumGetCString(worker);
    if (strcmp(status, "running") == 0)
        ereport(ERROR,
                (errcode(MAKE_SQLSTATE('Q', 'L', '0', '0', '1')),
                 errmsg("cannot %s job %lld: the lease is not current", action,
                        static_cast<long long>(id)),
                 errdetail("The job is running under another lease, held by \"%s\".", holder),
                 errhint("Stop working on the job; its current worker will finish it.")));
    ereport(ERROR, (errcode(MAKE_SQLSTATE('Q', 'L', '0', '0', '1')),
                    errmsg("cannot %s job %lld: the lease is not current", action,
                           static_cast<long long>(id)),
                    errdetail("The job's status is now \"%s\".", status)));
}

// Handles expired leases as failed attempts: the job is queued again at once, or dead when
// it has no attempts left.
uint64 reap(TimestampTz now)
{
    Oid type = TIMESTAMPTZOID;
    Datum value = TimestampTzGetDatum(now);
    uint64 rows = cq::spi::run_saved(
        "WITH expired AS (SELECT id FROM cachequeue.jobs WHERE status = 'running'"
        " AND lease_expires_at OPERATOR(pg_catalog.<=) $1"
        " FOR UPDATE SKIP LOCKED)"
        " UPDATE cachequeue.jobs j SET"
        " status = CASE WHEN j.attempts OPERATOR(pg_catalog.>) q.max_retries"
        "   THEN 'dead' ELSE 'queued' END,"
        " run_at = $1, lease_expires_at = NULL,"
        " finished_at = CASE WHEN j.attempts OPERATOR(pg_catalog.>) q.max_retries"
        "   THEN $1 END,"
        " last_error = 'lease expired',"
        " errors = j.errors OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array("
        "   pg_catalog.jsonb_build_object('attempt', j.attempts, 'error', 'lease expired',"
        "   'at', $1, 'worker', j.worker))"
        " FROM expired, cachequeue.queues q"
        " WHERE j.id OPERATOR(pg_catalog.=) expired.id"
        " AND q.id OPERATOR(pg_catalog.=) j.queue_id"
        " RETURNING j.queue_id, j.status = 'dead'",
        SPI_OK_UPDATE_RETURNING, 1, &type, &value);
    for (uint64 i = 0; i < rows; i++) {
        int32 queue_id = DatumGetInt32(cq::spi::get(i, 1));
        counters::count_queue(queue_id, counters::queue_lease_expiries, 1);
        counters::count_queue(queue_id, counters::queue_failed, 1);
        counters::count_queue(queue_id, counters::queue_dead, DatumGetBool(cq::spi::get(i, 2)));
    }
    return rows;
}

// Counts events per queue from the queue ids of n events, given by id(i): one count_queue call
// for each run of equal ids.
template <typename QueueIdOf>
void count_by_queue(uint64 n, QueueIdOf id, counters::QueueCounter counter)
{
    uint64 run = 0;
    for (uint64 i = 0; i < n; i++) {
        run++;
        if (i + 1 == n || id(i + 1) != id(i)) {
            counters::count_queue(id(i), counter, run);
            run = 0;
        }
    }
}

// Counts, per queue, the rows of the last SPI result whose queue id is in column col.
void count_rows_by_queue(uint64 rows, int col, counters::QueueCounter counter)
{
    count_by_queue(
        rows, [col](uint64 i) { return DatumGetInt32(cq::spi::get(i, col)); }, counter);
}

// Copies the first rows of the last SPI result into the function's result set.
void put_rows(FunctionCallInfo fcinfo, uint64 rows)
{
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    int natts = rsinfo->setDesc->natts;
    auto* row = static_cast<Datum*>(palloc(sizeof(Datum) * natts));
    auto* nulls = static_cast<bool*>(palloc(sizeof(bool) * natts));
    for (uint64 i = 0; i < rows; i++) {
        for (int col = 0; col < natts; col++)
            row[col] = cq::spi::get(i, col + 1, &nulls[col]);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
    }
}

struct Claimable {
    ArrayType* ids; // int4[] of the queues that may be claimed from
    int count;
    int32 first_priority; // the default priority of the first of them
};

// The queue name arguments of job_claim as ids of queues that may be claimed from.
Claimable claimable_queues(FunctionCallInfo fcinfo, int n)
{
    cq::args::Elements names = cq::args::array(fcinfo, n, "queues", TEXTOID);
    if (names.count == 0)
        throw Error(state::invalid_parameter_value, "queues must name at least one queue");
    for (int i = 0; i < names.count; i++) {
        text* name = DatumGetTextPP(names.values[i]);
        rules::check_name(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));
    }

    // Unknown names are errors; paused queues are left out.
    Oid type = TEXTARRAYOID;
    Datum value = PointerGetDatum(PG_GETARG_ARRAYTYPE_P(n));
    cq::spi::run_saved("SELECT DISTINCT n.name, q.id, q.paused, q.priority"
                       " FROM pg_catalog.unnest($1) AS n(name)"
                       " LEFT JOIN cachequeue.queues q ON q.name OPERATOR(pg_catalog.=) n.name",
                       SPI_OK_SELECT, 1, &type, &value);
    auto* ids = static_cast<Datum*>(palloc(sizeof(Datum) * SPI_processed));
    int claimable = 0;
    int32 first_priority = 0;
    for (uint64 i = 0; i < SPI_processed; i++) {
        bool isnull;
        Datum id = cq::spi::get(i, 2, &isnull);
        if (isnull)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                            errmsg("queue \"%s\" does not exist",
                                   TextDatumGetCString(cq::spi::get(i, 1)))));
        if (DatumGetBool(cq::spi::get(i, 3)))
            continue;
        if (claimable == 0)
            first_priority = DatumGetInt32(cq::spi::get(i, 4));
        ids[claimable++] = id;
    }
    return {construct_array(ids, claimable, INT4OID, 4, true, TYPALIGN_INT), claimable,
            first_priority};
}

} // namespace

CQ_FUNCTION(queue_create)
{
    text* name = queue_arg(fcinfo, 0);
    if (PG_ARGISNULL(1))
        null_argument("max_retries");
    if (PG_ARGISNULL(2))
        null_argument("timeout");
    if (PG_ARGISNULL(3))
        null_argument("priority");
    rules::check_max_retries(PG_GETARG_INT32(1));
    rules::check_timeout(interval_us(PG_GETARG_INTERVAL_P(2)));

    cq::spi::Session session = cq::spi::begin();
    Oid types[4] = {TEXTOID, INT4OID, INTERVALOID, INT4OID};
    Datum values[4] = {PointerGetDatum(name), PG_GETARG_DATUM(1), PG_GETARG_DATUM(2),
                       PG_GETARG_DATUM(3)};
    cq::spi::run_saved("INSERT INTO cachequeue.queues (name, max_retries, timeout, priority)"
                       " VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE"
                       " SET max_retries = excluded.max_retries, timeout = excluded.timeout,"
                       " priority = excluded.priority",
                       SPI_OK_INSERT, 4, types, values);
    cq::spi::end(session);
    PG_RETURN_VOID();
}

namespace {

// queue_drop, queue_pause and queue_resume: one statement on the queue's row.
void change_queue(FunctionCallInfo fcinfo, const char* sql, int expected)
{
    text* name = queue_arg(fcinfo, 0);
    cq::spi::Session session = cq::spi::begin();
    Oid type = TEXTOID;
    Datum value = PointerGetDatum(name);
    if (cq::spi::run_saved(sql, expected, 1, &type, &value) == 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("queue \"%s\" does not exist", text_to_cstring(name))));
    cq::spi::end(session);
}

} // namespace

CQ_FUNCTION(queue_drop)
{
    change_queue(fcinfo, "DELETE FROM cachequeue.queues WHERE name OPERATOR(pg_catalog.=) $1",
                 SPI_OK_DELETE);
    PG_RETURN_VOID();
}

CQ_FUNCTION(queue_pause)
{
    change_queue(fcinfo,
                 "UPDATE cachequeue.queues SET paused = true"
                 " WHERE name OPERATOR(pg_catalog.=) $1",
                 SPI_OK_UPDATE);
    PG_RETURN_VOID();
}

CQ_FUNCTION(queue_resume)
{
    change_queue(fcinfo,
                 "UPDATE cachequeue.queues SET paused = false"
                 " WHERE name OPERATOR(pg_catalog.=) $1",
                 SPI_OK_UPDATE);
    PG_RETURN_VOID();
}

CQ_FUNCTION(job_enqueue)
{
    text* queue = queue_arg(fcinfo, 0);
    text* task = task_arg(fcinfo, 1);
    if (PG_ARGISNULL(2))
        null_argument("payload");
    Jsonb* payload = payload_arg(PG_GETARG_DATUM(2), "payload");
    bool has_key = !PG_ARGISNULL(5);
    text* unique_key = has_key ? PG_GETARG_TEXT_PP(5) : nullptr;
    if (has_key && VARSIZE_ANY_EXHDR(unique_key) == 0)
        throw Error(state::invalid_parameter_value, "unique_key must not be empty", {},
                    "Use NULL for a job without a unique key.");
    check_run_at(fcinfo, 4);
    TimestampTz now = GetCurrentTransactionStartTimestamp();

    cq::spi::Session session = cq::spi::begin();
    QueueRow row = find_queue(queue);
    Oid types[7] = {INT4OID, TEXTOID, JSONBOID, INT4OID, TIMESTAMPTZOID, TEXTOID, TIMESTAMPTZOID};
    Datum values[7] = {Int32GetDatum(row.id),
                       PointerGetDatum(task),
                       PointerGetDatum(payload),
                       PG_ARGISNULL(3) ? Int32GetDatum(row.priority) : PG_GETARG_DATUM(3),
                       PG_ARGISNULL(4) ? TimestampTzGetDatum(now) : PG_GETARG_DATUM(4),
                       PointerGetDatum(unique_key),
                       TimestampTzGetDatum(now)};
    char nulls[7] = {' ', ' ', ' ', ' ', ' ', has_key ? ' ' : 'n', ' '};

    // With a unique key held by an unfinished job, that job's id is the answer. The holder may
    // finish between the insert and the look-up: then insert again.
    int64 id = 0;
    bool inserted = false;
    for (bool found = false; !found;) {
        uint64 rows = cq::spi::run_saved(
            "INSERT INTO cachequeue.jobs (queue_id, task, payload, priority, run_at,"
            " unique_key, enqueued_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (queue_id, unique_key) WHERE unique_key IS NOT NULL"
            " AND status IN ('queued', 'running') DO NOTHING RETURNING id",
            SPI_OK_INSERT_RETURNING, 7, types, values, nulls);
        inserted = rows > 0;
        if (rows == 0)
            rows = cq::spi::run_saved("SELECT id FROM cachequeue.jobs"
                                      " WHERE queue_id OPERATOR(pg_catalog.=) $1"
                                      " AND unique_key OPERATOR(pg_catalog.=) $6"
                                      " AND status IN ('queued', 'running')",
                                      SPI_OK_SELECT, 7, types, values, nulls);
        if (rows > 0) {
            id = DatumGetInt64(cq::spi::get(0, 1));
            found = true;
        }
        CHECK_FOR_INTERRUPTS();
    }
    if (inserted && enqueued_ahead(fcinfo, 3, row, now))
        cq::claim::signal_requeue();
    counters::count_queue(row.id, counters::queue_enqueued, inserted ? 1 : 0);
    cq::spi::end(session);
    if (inserted)
        notify_queue(queue);
    PG_RETURN_INT64(id);
}

CQ_FUNCTION(job_enqueue_many)
{
    text* queue = queue_arg(fcinfo, 0);
    text* task = task_arg(fcinfo, 1);
    cq::args::Elements payloads = cq::args::array(fcinfo, 2, "payloads", JSONBOID);
    for (int i = 0; i < payloads.count; i++)
        payload_arg(payloads.values[i], "each payload");
    check_run_at(fcinfo, 4);
    TimestampTz now = GetCurrentTransactionStartTimestamp();

    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    cq::spi::Session session = cq::spi::begin();
    QueueRow row = find_queue(queue);
    Oid types[6] = {INT4OID, TEXTOID, JSONBARRAYOID, INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
    Datum values[6] = {Int32GetDatum(row.id),
                       PointerGetDatum(task),
                       PointerGetDatum(PG_GETARG_ARRAYTYPE_P(2)),
                       PG_ARGISNULL(3) ? Int32GetDatum(row.priority) : PG_GETARG_DATUM(3),
                       PG_ARGISNULL(4) ? TimestampTzGetDatum(now) : PG_GETARG_DATUM(4),
                       TimestampTzGetDatum(now)};
    uint64 rows = cq::spi::run_saved(
        "INSERT INTO cachequeue.jobs (queue_id, task, payload, priority, run_at, enqueued_at)"
        " SELECT $1, $2, p.payload, $4, $5, $6"
        " FROM pg_catalog.unnest($3) WITH ORDINALITY AS p(payload, n) ORDER BY p.n"
        " RETURNING id",
        SPI_OK_INSERT_RETURNING, 6, types, values);
    put_rows(fcinfo, rows);
    counters::count_queue(row.id, counters::queue_enqueued, rows);
    if (rows > 0 && enqueued_ahead(fcinfo, 3, row, now))
        cq::claim::signal_requeue();
    cq::spi::end(session);
    if (rows > 0)
        notify_queue(queue);
    return (Datum)0;
}

namespace {

// The claim: $1 the queue (or queues), $2 now, $3 batch_size, $4 the worker. It leases the
// jobs that the "picked" part chose and returns them in claim order, with each one's priority
// and run_at after the columns of job_claim's result (for the claim cursor), then its queue id.
// Its plan is made once, for any batch size: the chosen ids are probed in the primary key as
// an array, which a plan made without knowing how many there are can rely on, where a join
// could turn into a hash of the whole table.
#define CLAIM_LEASES                                                                              \
    " claimed AS (UPDATE cachequeue.jobs j SET status = 'running',"                               \
    "   attempts = j.attempts OPERATOR(pg_catalog.+) 1,"                                          \
    "   lease = pg_catalog.gen_random_uuid(),"                                                    \
    "   lease_expires_at = $2 OPERATOR(pg_catalog.+) q.timeout,"                                  \
    "   worker = $4, started_at = $2"                                                             \
    "   FROM cachequeue.queues q"                                                                 \
    "   WHERE j.id OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT id FROM picked))"                     \
    "   AND q.id OPERATOR(pg_catalog.=) j.queue_id"                                               \
    "   RETURNING j.id, q.name, j.task, j.payload, j.attempts, j.lease,"                          \
    "   j.lease_expires_at, j.priority, j.run_at, j.queue_id)"                                    \
    " SELECT id, name, task, payload, attempts, lease, lease_expires_at, priority, run_at,"       \
    " queue_id FROM claimed ORDER BY priority DESC, run_at, id"

// Claim order, as the ready index holds it.
#define CLAIM_ORDER " (OPERATOR(pg_catalog.-) j.priority::pg_catalog.int8), j.run_at, j.id"

// One queue from the front of its ready index.
const char* const claim_from_front_sql =
    "WITH picked AS (SELECT j.id FROM cachequeue.jobs j"
    "   WHERE j.queue_id OPERATOR(pg_catalog.=) $1 AND j.status = 'queued'"
    "   AND j.run_at OPERATOR(pg_catalog.<=) $2"
    "   ORDER BY" CLAIM_ORDER " LIMIT $3 FOR UPDATE SKIP LOCKED)," CLAIM_LEASES;

// One queue after the job ($5, $6, $7) in claim order: the claim cursor.
const char* const claim_after_sql =
    "WITH picked AS (SELECT j.id FROM cachequeue.jobs j"
    "   WHERE j.queue_id OPERATOR(pg_catalog.=) $1 AND j.status = 'queued'"
    "   AND j.run_at OPERATOR(pg_catalog.<=) $2"
    "   AND (" CLAIM_ORDER ") OPERATOR(pg_catalog.>) ($5, $6, $7)"
    "   ORDER BY" CLAIM_ORDER " LIMIT $3 FOR UPDATE SKIP LOCKED)," CLAIM_LEASES;

const char* const claim_from_many_sql =
    "WITH picked AS (SELECT j.id FROM cachequeue.jobs j"
    "   WHERE j.queue_id OPERATOR(pg_catalog.=) ANY ($1) AND j.status = 'queued'"
    "   AND j.run_at OPERATOR(pg_catalog.<=) $2"
    "   ORDER BY j.priority DESC, j.run_at, j.id LIMIT $3 FOR UPDATE SKIP LOCKED)," CLAIM_LEASES;

// A claim from one queue (see claim_cursor.hpp): from its cursor when it has a fresh one,
// else from the front.
uint64 claim_from_one(int32 queue_id, int32 default_priority, TimestampTz now, int32 batch_size,
                      text* worker)
{
    cq::claim::Plan plan = cq::claim::plan(queue_id, default_priority, now);
    Oid types[7] = {INT4OID, TIMESTAMPTZOID, INT4OID, TEXTOID, INT8OID, TIMESTAMPTZOID, INT8OID};
    Datum values[7] = {Int32GetDatum(queue_id),
                       TimestampTzGetDatum(now),
                       Int32GetDatum(batch_size),
                       PointerGetDatum(worker),
                       Int64GetDatum(plan.after.neg_priority),
                       TimestampTzGetDatum(plan.after.run_at),
                       Int64GetDatum(plan.after.id)};
    uint64 rows = plan.from_front
                      ? cq::spi::run_generic(claim_from_front_sql, SPI_OK_SELECT, 4, types, values)
                      : cq::spi::run_generic(claim_after_sql, SPI_OK_SELECT, 7, types, values);
    cq::claim::Position last;
    if (rows > 0) {
        last.id = DatumGetInt64(cq::spi::get(rows - 1, 1));
        last.neg_priority = -static_cast<int64>(DatumGetInt32(cq::spi::get(rows - 1, 8)));
        last.run_at = DatumGetTimestampTz(cq::spi::get(rows - 1, 9));
    }
    cq::claim::claimed(queue_id, plan, rows > 0 ? &last : nullptr, now,
                       plan.from_front ? GetCurrentTimestamp() : now);
    return rows;
}

} // namespace

CQ_FUNCTION(job_claim)
{
    if (PG_ARGISNULL(1))
        null_argument("worker");
    text* worker = PG_GETARG_TEXT_PP(1);
    if (VARSIZE_ANY_EXHDR(worker) == 0)
        throw Error(state::invalid_parameter_value, "worker must not be empty", {},
                    "Name the worker, such as host:pid, so that a job shows who ran it.");
    if (PG_ARGISNULL(2))
        null_argument("batch_size");
    int32 batch_size = PG_GETARG_INT32(2);
    rules::check_batch_size(batch_size);
    TimestampTz now = GetCurrentTimestamp();

    // A claim lost in a crash only makes the job run again, as a dead worker's would: where
    // the caller allows it, the claim does not wait for its commit to reach the disk.
    if (!cq::settings::synchronous_claim)
        (void)set_config_option("synchronous_commit", "off", PGC_USERSET, PGC_S_SESSION,
                                GUC_ACTION_LOCAL, true, 0, false);

    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    cq::spi::Session session = cq::spi::begin();
    Claimable queues = claimable_queues(fcinfo, 0);

    // Expired leases first (of every queue): their jobs are claimable again even where
    // nothing runs job_reap. Once a second per backend is enough for that, and spares every
    // other claim the scan.
    static TimestampTz last_reap = 0;
    if (now - last_reap >= USECS_PER_SEC || now < last_reap) {
        if (reap(now) > 0)
            cq::claim::signal_requeue();
        last_reap = now;
    }

    // One queue: its ready index gives the jobs in claim order, and the scan stops after
    // batch_size rows it could lock. Several queues: the due jobs of all are sorted first.
    // Rows that other workers are claiming are skipped, never waited for.
    uint64 rows = 0;
    if (queues.count == 1) {
        rows = claim_from_one(reinterpret_cast<int32*>(ARR_DATA_PTR(queues.ids))[0],
                              queues.first_priority, now, batch_size, worker);
    } else if (queues.count > 1) {
        Oid types[4] = {INT4ARRAYOID, TIMESTAMPTZOID, INT4OID, TEXTOID};
        Datum values[4] = {PointerGetDatum(queues.ids), TimestampTzGetDatum(now),
                           Int32GetDatum(batch_size), PointerGetDatum(worker)};
        rows = cq::spi::run_generic(claim_from_many_sql, SPI_OK_SELECT, 4, types, values);
    }
    count_rows_by_queue(rows, 10, counters::queue_claimed);
    put_rows(fcinfo, rows);
    cq::spi::end(session);
    return (Datum)0;
}

namespace {

// Runs sql (in an SPI session), a change of job $1 made only while $2 is its lease, with $3 the
// current time; raises the fencing error when it changed nothing.
void change_leased_job(int64 id, pg_uuid_t* lease, const char* sql, int expected,
                       const char* action)
{
    Oid types[3] = {INT8OID, UUIDOID, TIMESTAMPTZOID};
    Datum values[3] = {Int64GetDatum(id), UUIDPGetDatum(lease),
                       TimestampTzGetDatum(GetCurrentTimestamp())};
    if (cq::spi::run_saved(sql, expected, 3, types, values) == 0)
        fencing_error(id, lease, action);
}

} // namespace

CQ_FUNCTION(job_heartbeat)
{
    int64 id = job_arg(fcinfo, 0);
    pg_uuid_t* lease = lease_arg(fcinfo, 1);
    cq::spi::Session session = cq::spi::begin();
    change_leased_job(id, lease,
                      "UPDATE cachequeue.jobs j"
                      " SET lease_expires_at = $3 OPERATOR(pg_catalog.+) q.timeout"
                      " FROM cachequeue.queues q WHERE j.id OPERATOR(pg_catalog.=) $1"
                      " AND j.lease OPERATOR(pg_catalog.=) $2 AND j.lease_expires_at IS NOT NULL"
                      " AND q.id OPERATOR(pg_catalog.=) j.queue_id"
                      " RETURNING j.lease_expires_at",
                      SPI_OK_UPDATE_RETURNING, "extend the lease of");
    TimestampTz expires = DatumGetTimestampTz(cq::spi::get(0, 1));
    cq::spi::end(session);
    PG_RETURN_TIMESTAMPTZ(expires);
}

CQ_FUNCTION(job_complete)
{
    int64 id = job_arg(fcinfo, 0);
    pg_uuid_t* lease = lease_arg(fcinfo, 1);
    cq::spi::Session session = cq::spi::begin();
    Oid types[4] = {INT8OID, UUIDOID, JSONBOID, TIMESTAMPTZOID};
    Datum values[4] = {Int64GetDatum(id), UUIDPGetDatum(lease),
                       PG_ARGISNULL(2) ? (Datum)0 : PG_GETARG_DATUM(2),
                       TimestampTzGetDatum(GetCurrentTimestamp())};
    char nulls[4] = {' ', ' ', PG_ARGISNULL(2) ? 'n' : ' ', ' '};
    uint64 rows =
        cq::spi::run_saved("UPDATE cachequeue.jobs SET status = 'succeeded', result = $3,"
                           " finished_at = $4, lease_expires_at = NULL"
                           " WHERE id OPERATOR(pg_catalog.=) $1"
                           " AND lease OPERATOR(pg_catalog.=) $2 AND lease_expires_at IS NOT NULL"
                           " RETURNING queue_id",
                           SPI_OK_UPDATE_RETURNING, 4, types, values, nulls);
    if (rows == 0)
        fencing_error(id, lease, "complete");
    count_rows_by_queue(rows, 1, counters::queue_completed);
    cq::spi::end(session);
    PG_RETURN_VOID();
}

CQ_FUNCTION(job_complete_many)
{
    int count = cq::args::array(fcinfo, 0, "ids", INT8OID).count;
    int leases = cq::args::array(fcinfo, 1, "leases", UUIDOID).count;
    int results = 0;
    if (!PG_ARGISNULL(2)) {
        ArrayType* array = PG_GETARG_ARRAYTYPE_P(2);
        if (ARR_NDIM(array) > 1)
            throw Error(state::array_subscript_error, "results must be a one-dimensional array");
        results = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
    }
    if (leases != count || (!PG_ARGISNULL(2) && results != count))
        throw Error(state::array_subscript_error,
                    "ids, leases and results must have the same length",
                    std::to_string(count) + " ids, " + std::to_string(leases) + " leases" +
                        (PG_ARGISNULL(2) ? "." : ", " + std::to_string(results) + " results."));

    // One statement completes every job still leased with the token given; the ids it did
    // not complete come back, so that the worker knows which results were not recorded.
    cq::spi::Session session = cq::spi::begin();
    Oid types[4] = {INT8ARRAYOID, UUIDARRAYOID, JSONBARRAYOID, TIMESTAMPTZOID};
    Datum values[4] = {PointerGetDatum(PG_GETARG_ARRAYTYPE_P(0)),
                       PointerGetDatum(PG_GETARG_ARRAYTYPE_P(1)),
                       PG_ARGISNULL(2) ? (Datum)0 : PointerGetDatum(PG_GETARG_ARRAYTYPE_P(2)),
                       TimestampTzGetDatum(GetCurrentTimestamp())};
    char nulls[4] = {' ', ' ', PG_ARGISNULL(2) ? 'n' : ' ', ' '};
    cq::spi::run_saved(
        "WITH batch AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($1),"
        "   pg_catalog.unnest($2), pg_catalog.unnest($3)) AS b(id, lease, result)),"
        " done AS (UPDATE cachequeue.jobs j SET status = 'succeeded', result = b.result,"
        "   finished_at = $4, lease_expires_at = NULL FROM batch b"
        "   WHERE j.id OPERATOR(pg_catalog.=) b.id AND j.lease OPERATOR(pg_catalog.=) b.lease"
        "   AND j.lease_expires_at IS NOT NULL RETURNING j.id, j.queue_id)"
        " SELECT COALESCE(pg_catalog.array_agg(DISTINCT b.id), '{}'),"
        " ARRAY(SELECT d.queue_id FROM done d ORDER BY d.queue_id) FROM batch b"
        " WHERE NOT EXISTS (SELECT 1 FROM done d WHERE d.id OPERATOR(pg_catalog.=) b.id)",
        SPI_OK_SELECT, 4, types, values, nulls);
    Datum missed = SPI_datumTransfer(cq::spi::get(0, 1), false, -1);
    // The queue ids of the jobs completed, sorted: a count per queue.
    ArrayType* queue_ids = DatumGetArrayTypeP(cq::spi::get(0, 2));
    const auto* ids = reinterpret_cast<const int32*>(ARR_DATA_PTR(queue_ids));
    count_by_queue(
        ArrayGetNItems(ARR_NDIM(queue_ids), ARR_DIMS(queue_ids)),
        [ids](uint64 i) { return ids[i]; }, counters::queue_completed);
    cq::spi::end(session);
    PG_RETURN_DATUM(missed);
}

CQ_FUNCTION(job_release)
{
    int64 id = job_arg(fcinfo, 0);
    pg_uuid_t* lease = lease_arg(fcinfo, 1);
    cq::spi::Session session = cq::spi::begin();
    // The claim counted an attempt that the job did not get: take it back.
    change_leased_job(id, lease,
                      "UPDATE cachequeue.jobs SET status = 'queued', run_at = $3,"
                      " lease_expires_at = NULL,"
                      " attempts = GREATEST(attempts OPERATOR(pg_catalog.-) 1, 0)"
                      " WHERE id OPERATOR(pg_catalog.=) $1"
                      " AND lease OPERATOR(pg_catalog.=) $2 AND lease_expires_at IS NOT NULL",
                      SPI_OK_UPDATE, "release");
    cq::claim::signal_requeue();
    cq::spi::end(session);
    PG_RETURN_VOID();
}

CQ_FUNCTION(job_fail)
{
    int64 id = job_arg(fcinfo, 0);
    pg_uuid_t* lease = lease_arg(fcinfo, 1);
    if (PG_ARGISNULL(2))
        null_argument("error");
    bool has_delay = !PG_ARGISNULL(3);
    int64 delay_us = has_delay ? interval_us(PG_GETARG_INTERVAL_P(3)) : 0;
    if (has_delay)
        rules::check_retry_in(delay_us);
    TimestampTz now = GetCurrentTimestamp();

    cq::spi::Session session = cq::spi::begin();
    Oid types[2] = {INT8OID, UUIDOID};
    Datum values[2] = {Int64GetDatum(id), UUIDPGetDatum(lease)};
    uint64 rows = cq::spi::run_saved(
        "SELECT j.attempts, q.max_retries, j.queue_id FROM cachequeue.jobs j"
        " JOIN cachequeue.queues q ON q.id OPERATOR(pg_catalog.=) j.queue_id"
        " WHERE j.id OPERATOR(pg_catalog.=) $1"
        " AND j.lease OPERATOR(pg_catalog.=) $2 AND j.lease_expires_at IS NOT NULL"
        " FOR UPDATE OF j",
        SPI_OK_SELECT, 2, types, values);
    if (rows == 0)
        fencing_error(id, lease, "fail");
    int32 attempts = DatumGetInt32(cq::spi::get(0, 1));
    int32 max_retries = DatumGetInt32(cq::spi::get(0, 2));
    int32 queue_id = DatumGetInt32(cq::spi::get(0, 3));
    bool dead = attempts > max_retries;
    if (!has_delay)
        delay_us = static_cast<int64>(
            rules::backoff_seconds(attempts, pg_prng_double(&pg_global_prng_state)) * 1e6);

    Oid update_types[5] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, BOOLOID};
    Datum update_values[5] = {Int64GetDatum(id), PG_GETARG_DATUM(2), TimestampTzGetDatum(now),
                              TimestampTzGetDatum(now + delay_us), BoolGetDatum(dead)};
    cq::spi::run_saved("UPDATE cachequeue.jobs SET"
                       " status = CASE WHEN $5 THEN 'dead' ELSE 'queued' END,"
                       " run_at = CASE WHEN $5 THEN run_at ELSE $4 END,"
                       " finished_at = CASE WHEN $5 THEN $3 END, lease_expires_at = NULL,"
                       " last_error = $2,"
                       " errors = errors OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array("
                       "   pg_catalog.jsonb_build_object('attempt', attempts, 'error', $2,"
                       "   'at', $3, 'worker', worker))"
                       " WHERE id OPERATOR(pg_catalog.=) $1",
                       SPI_OK_UPDATE, 5, update_types, update_values);
    if (!dead)
        cq::claim::signal_requeue();
    counters::count_queue(queue_id, counters::queue_failed, 1);
    counters::count_queue(queue_id, counters::queue_dead, dead);
    cq::spi::end(session);
    PG_RETURN_TEXT_P(cstring_to_text(dead ? "dead" : "queued"));
}

namespace {

// job_cancel and job_retry: a guarded change of one job; false when its state did not allow
// it, no_data_found when there is no such job. requeues: the change makes the job claimable.
bool change_job(int64 id, const char* sql, bool requeues)
{
    cq::spi::Session session = cq::spi::begin();
    Oid types[2] = {INT8OID, TIMESTAMPTZOID};
    Datum values[2] = {Int64GetDatum(id), TimestampTzGetDatum(GetCurrentTimestamp())};
    bool changed = cq::spi::run_saved(sql, SPI_OK_UPDATE, 2, types, values) > 0;
    if (!changed &&
        cq::spi::run_saved("SELECT 1 FROM cachequeue.jobs WHERE id OPERATOR(pg_catalog.=) $1",
                           SPI_OK_SELECT, 1, types, values) == 0)
        ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
                        errmsg("job %lld does not exist", static_cast<long long>(id))));
    if (changed && requeues)
        cq::claim::signal_requeue();
    cq::spi::end(session);
    return changed;
}

} // namespace

CQ_FUNCTION(job_cancel)
{
    PG_RETURN_BOOL(change_job(job_arg(fcinfo, 0),
                              "UPDATE cachequeue.jobs SET status = 'cancelled', finished_at = $2,"
                              " lease_expires_at = NULL WHERE id OPERATOR(pg_catalog.=) $1"
                              " AND status IN ('queued', 'running')",
                              false));
}

CQ_FUNCTION(job_retry)
{
    PG_RETURN_BOOL(change_job(job_arg(fcinfo, 0),
                              "UPDATE cachequeue.jobs j SET status = 'queued', attempts = 0,"
                              " run_at = $2, finished_at = NULL"
                              " WHERE j.id OPERATOR(pg_catalog.=) $1"
                              " AND j.finished_at IS NOT NULL AND j.status <> 'succeeded'"
                              " AND NOT EXISTS (SELECT 1 FROM cachequeue.jobs o"
                              "   WHERE o.queue_id OPERATOR(pg_catalog.=) j.queue_id"
                              "   AND o.unique_key OPERATOR(pg_catalog.=) j.unique_key"
                              "   AND o.status IN ('queued', 'running'))",
                              true));
}

CQ_FUNCTION(job_reap)
{
    cq::spi::Session session = cq::spi::begin();
    uint64 handled = reap(GetCurrentTimestamp());
    if (handled > 0)
        cq::claim::signal_requeue();
    cq::spi::end(session);
    PG_RETURN_INT64(static_cast<int64>(handled));
}

CQ_FUNCTION(job_purge)
{
    if (PG_ARGISNULL(0))
        null_argument("older_than");
    int64 older_than = interval_us(PG_GETARG_INTERVAL_P(0));
    if (older_than < 0)
        throw Error(state::invalid_parameter_value, "older_than must not be negative");
    TimestampTz cutoff;
    if (__builtin_sub_overflow(GetCurrentTimestamp(), older_than, &cutoff) ||
        cutoff < MIN_TIMESTAMP)
        PG_RETURN_INT64(0); // nothing finished that long ago

    cq::spi::Session session = cq::spi::begin();
    Oid type = TIMESTAMPTZOID;
    Datum value = TimestampTzGetDatum(cutoff);
    uint64 rows = cq::spi::run_saved("DELETE FROM cachequeue.jobs"
                                     " WHERE status IN ('succeeded', 'dead', 'cancelled')"
                                     " AND finished_at OPERATOR(pg_catalog.<) $1",
                                     SPI_OK_DELETE, 1, &type, &value);
    cq::spi::end(session);
    PG_RETURN_INT64(static_cast<int64>(rows));
}

namespace {

// Runs a query whose result is the function's result set, row for row.
void return_rows(FunctionCallInfo fcinfo, const char* sql, int nargs, Oid* types, Datum* values)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    cq::spi::Session session = cq::spi::begin();
    put_rows(fcinfo, cq::spi::run_saved(sql, SPI_OK_SELECT, nargs, types, values));
    cq::spi::end(session);
}

} // namespace

CQ_FUNCTION(queue_stats)
{
    Oid type = TIMESTAMPTZOID;
    Datum now = TimestampTzGetDatum(GetCurrentTimestamp());
    return_rows(fcinfo,
                "SELECT q.name,"
                " pg_catalog.count(j.id) FILTER (WHERE j.status = 'queued'"
                "   AND j.run_at OPERATOR(pg_catalog.<=) $1),"
                " pg_catalog.count(j.id) FILTER (WHERE j.status = 'queued'"
                "   AND j.run_at OPERATOR(pg_catalog.>) $1),"
                " pg_catalog.count(j.id) FILTER (WHERE j.status = 'running'),"
                " pg_catalog.count(j.id) FILTER (WHERE j.status = 'succeeded'),"
                " pg_catalog.count(j.id) FILTER (WHERE j.status = 'dead'),"
                " pg_catalog.count(j.id) FILTER (WHERE j.status = 'cancelled'),"
                " $1 OPERATOR(pg_catalog.-) pg_catalog.min(j.run_at) FILTER"
                "   (WHERE j.status = 'queued' AND j.run_at OPERATOR(pg_catalog.<=) $1),"
                " q.paused"
                " FROM cachequeue.queues q"
                " LEFT JOIN cachequeue.jobs j ON j.queue_id OPERATOR(pg_catalog.=) q.id"
                " GROUP BY q.id ORDER BY q.name",
                1, &type, &now);
    return (Datum)0;
}

CQ_FUNCTION(job_status)
{
    Oid type = INT8OID;
    Datum id = Int64GetDatum(job_arg(fcinfo, 0));
    return_rows(fcinfo,
                "SELECT j.id, q.name, j.task, j.status, j.attempts, q.max_retries, j.priority,"
                " j.payload, j.result, j.last_error, j.errors, j.worker, j.run_at,"
                " j.lease_expires_at, j.enqueued_at, j.started_at, j.finished_at"
                " FROM cachequeue.jobs j JOIN cachequeue.queues q"
                " ON q.id OPERATOR(pg_catalog.=) j.queue_id"
                " WHERE j.id OPERATOR(pg_catalog.=) $1",
                1, &type, &id);
    return (Datum)0;
}
