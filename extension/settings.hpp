// cachequeue's server settings (GUCs), defined when the library loads.
#pragma once

namespace cq::settings {

// cachequeue.synchronous_claim: when off, a transaction that claims jobs commits
// asynchronously (see README, Configuration).
extern bool synchronous_claim;

void define();

} // namespace cq::settings
