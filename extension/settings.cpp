// cachequeue's server settings.
#include "settings.hpp"

extern "C" {
#include "postgres.h"
#include "utils/guc.h"
}

namespace cq::settings {

bool synchronous_claim = true;

void define()
{
    DefineCustomBoolVariable(
        "cachequeue.synchronous_claim",
        "Sets whether a transaction that claims jobs waits for its commit to be flushed.",
        "When off, job_claim makes its transaction commit asynchronously: a crash may forget "
        "a claim made just before it, and the job is then claimed again, as when a worker "
        "dies. Only turn it off where claims run in transactions of their own.",
        &synchronous_claim, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("cachequeue");
}

} // namespace cq::settings
