// Claim cursors: where a backend's last claim from a queue stopped, so that the next claim can
// start its index scan there instead of at the front of the queue.
//
// Why: every claimed job leaves its "queued" row version in the ready index until VACUUM can
// remove it, and VACUUM cannot while any session holds an older snapshot. A claim that starts
// at the front walks all those dead entries, so its cost grows with the age of the oldest
// snapshot. From the cursor it walks only the jobs claimed since by other workers.
//
// A job can become claimable ahead of a cursor: a retry, a reaped lease, or a job enqueued
// with a priority of its own or a past run time. Those events advance a sequence
// (jobs_requeued); a claim that sees it move scans from the front once. A cursor that has gone
// below the queue's default priority, a rolled-back transaction, and a timer (at least every
// second) also force a scan from the front, which also covers the few events that the sequence
// cannot order (a retry committed while the other claim was scanning).
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/timestamp.h"
}

namespace cq::claim {

// A job's place in claim order: -priority (as int8, so that it cannot overflow), run_at, id.
struct Position {
    int64 neg_priority;
    TimestampTz run_at;
    int64 id;
};

struct Plan {
    bool from_front;
    Position after; // when !from_front: scan the jobs after this one
    int64 requeued; // the sequence as read before the scan
};

// Registers the transaction callbacks; called from _PG_init.
void init();

// How the next claim from queue_id should scan. Inside an SPI session (reads jobs_requeued).
Plan plan(int32 queue_id, int32 default_priority, TimestampTz now);

// After a claim from queue_id: the last job it took (when it took any), and how long a scan
// from the front took (when it was one).
void claimed(int32 queue_id, const Plan& plan, const Position* last, TimestampTz started,
             TimestampTz finished);

// Advances jobs_requeued. Inside an SPI session.
void signal_requeue();

} // namespace cq::claim
