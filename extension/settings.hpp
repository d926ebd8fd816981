// cachequeue's server settings (GUCs), defined when the library loads.
#pragma once

namespace cq::settings {

// cachequeue.synchronous_claim: when off, a transaction that claims jobs commits
// asynchronously (see README, Configuration).
extern bool synchronous_claim;

// cachequeue.unlogged_commit_flush: when on, a transaction whose only writes went to unlogged
// tables flushes the completed WAL pages before it commits (see commit_flush.hpp).
extern bool unlogged_commit_flush;

void define();

} // namespace cq::settings
