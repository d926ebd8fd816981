// Claim cursors (see claim_cursor.hpp).
#include "claim_cursor.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/sequence.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

#include <algorithm>

namespace cq::claim {

namespace {

struct Cursor {
    int32 queue_id; // hash key
    bool valid;
    Position last;
    uint64 generation;
    int64 requeued;         // jobs_requeued as read before the last scan from the front
    TimestampTz last_front; // when that scan started
    int64 front_every;      // microseconds between scans from the front
};

// A scan from the front at least this often, and more rarely when it is slow: its cost stays
// under 1/front_cost_share of the claims' time.
constexpr int64 min_front_every = USECS_PER_SEC;
constexpr int64 front_cost_share = 20;

HTAB* cursors = nullptr;
// Bumped by every rollback: a job that this backend claimed in the rolled-back transaction is
// waiting again, behind the cursor.
uint64 generation = 1;

void on_xact_event(XactEvent event, void*)
{
    if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
        generation++;
}

void on_subxact_event(SubXactEvent event, SubTransactionId, SubTransactionId, void*)
{
    if (event == SUBXACT_EVENT_ABORT_SUB)
        generation++;
}

Cursor* cursor_of(int32 queue_id)
{
    if (cursors == nullptr) {
        HASHCTL ctl;
        ctl.keysize = sizeof(int32);
        ctl.entrysize = sizeof(Cursor);
        ctl.hcxt = TopMemoryContext;
        cursors = hash_create("cachequeue claim cursors", 16, &ctl,
                              HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    }
    bool found;
    auto* cursor = static_cast<Cursor*>(hash_search(cursors, &queue_id, HASH_ENTER, &found));
    if (!found) {
        cursor->valid = false;
        cursor->generation = 0;
        cursor->requeued = 0;
        cursor->last_front = 0;
        cursor->front_every = min_front_every;
    }
    return cursor;
}

Oid requeued_sequence()
{
    Oid schema = get_namespace_oid("cachequeue", false);
    Oid seq = get_relname_relid("jobs_requeued", schema);
    if (!OidIsValid(seq))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("sequence cachequeue.jobs_requeued does not exist"),
                        errhint("Reinstall the extension: DROP EXTENSION cachequeue; CREATE "
                                "EXTENSION cachequeue;")));
    return seq;
}

} // namespace

void init()
{
    RegisterXactCallback(on_xact_event, nullptr);
    RegisterSubXactCallback(on_subxact_event, nullptr);
}

Plan plan(int32 queue_id, int32 default_priority, TimestampTz now)
{
    Cursor* cursor = cursor_of(queue_id);
    Plan plan{true, {}, 0};
    // last_value of the sequence, read without a transactional lock (setval at install time
    // made it non-NULL).
    plan.requeued = DatumGetInt64(
        DirectFunctionCall1(pg_sequence_last_value, ObjectIdGetDatum(requeued_sequence())));
    bool fresh = cursor->valid && cursor->generation == generation &&
                 cursor->requeued == plan.requeued && now >= cursor->last_front &&
                 now - cursor->last_front < cursor->front_every &&
                 // Below the default priority, new jobs of the queue land ahead of the cursor.
                 cursor->last.neg_priority <= -static_cast<int64>(default_priority);
    if (fresh) {
        plan.from_front = false;
        plan.after = cursor->last;
    }
    return plan;
}

void claimed(int32 queue_id, const Plan& plan, const Position* last, TimestampTz started,
             TimestampTz finished)
{
    Cursor* cursor = cursor_of(queue_id);
    if (plan.from_front) {
        cursor->requeued = plan.requeued;
        cursor->last_front = started;
        cursor->front_every = std::max(min_front_every, (finished - started) * front_cost_share);
        // A scan from the front that found nothing leaves the cursor where it was: every
        // job ahead of it was seen taken.
        if (last == nullptr && cursor->valid)
            cursor->generation = generation;
    }
    if (last != nullptr) {
        cursor->valid = true;
        cursor->last = *last;
        cursor->generation = generation;
    }
}

void signal_requeue()
{
    (void)nextval_internal(requeued_sequence(), false);
}

} // namespace cq::claim
