// cachequeue's server settings.
#include "settings.hpp"

extern "C" {
#include "postgres.h"
#include "utils/guc.h"
}

namespace cq::settings {

bool synchronous_claim = true;
bool unlogged_commit_flush = true;

void define()
{
    DefineCustomBoolVariable(
        "cachequeue.synchronous_claim",
        "Sets whether a transaction that claims jobs waits for its commit to be flushed.",
        "When off, job_claim makes its transaction commit asynchronously: a crash may forget "
        "a claim made just before it, and the job is then claimed again, as when a worker "
        "dies. Only turn it off where claims run in transactions of their own.",
        &synchronous_claim, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable(
        "cachequeue.unlogged_commit_flush",
        "Sets whether a transaction that wrote only to unlogged caches flushes the WAL's "
        "completed pages before it commits.",
        "On, such a commit finds the WAL flushed and does not wake the WAL writer; the cost is "
        "one WAL flush for each page of commit records, made by the commit that starts it.",
        &unlogged_commit_flush, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("cachequeue");
}

} // namespace cq::settings
