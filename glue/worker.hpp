// `cachequeue worker`: claims jobs from the extension's queues and runs their handlers.
//
// One thread per connection (--connections, one by default) talks to the database (claims,
// heartbeats, completions, releases) for its share of the slots; each concurrency slot is a
// thread that runs one job at a time through handler.hpp. Jobs claimed
// in a batch wait in a local queue for a free slot, their leases kept by heartbeats.
#pragma once

#include "handler_spec.hpp"
#include "metrics.hpp"

#include <map>
#include <string>
#include <vector>

namespace cq::runner {

struct WorkerOptions {
    std::string conninfo;
    std::vector<std::string> queues;
    int batch_size = 1;
    int concurrency = 1;
    // Database connections, each with a loop of its own that claims for its share of the
    // slots (at most concurrency). With more than one, the worker name gets "/1", "/2"...
    int connections = 1;
    // Jobs a slot may send its long-lived handler before the first is answered (1: one at a
    // time); only jobs already claimed, of the same task, are sent ahead.
    int prefetch = 1;
    double grace_seconds = 30;
    // true: LISTEN for enqueues (direct connection); false: poll (transaction pooler).
    bool listen = true;
    // Polling back-off when a claim finds nothing: from poll_min doubling to poll_max.
    double poll_min_seconds = 0.05;
    double poll_max_seconds = 2.0;
    // Waits between reconnection attempts: doubling from 0.5 s up to this.
    double reconnect_max_seconds = 30;
    // Exit once this many jobs have finished (0: run until a signal). For tests and benches.
    long long max_jobs = 0;
    // Exit when a claim finds nothing and no job is running (for tests and benches).
    bool until_empty = false;
    std::string worker_name; // empty: host:pid
    std::map<std::string, HandlerSpec> handlers;
};

// Runs until SIGINT or SIGTERM (then drains: see docs/worker.md) or options.max_jobs;
// returns the process exit status.
int run_worker(const WorkerOptions& options, WorkerMetrics& metrics);

} // namespace cq::runner
