// Module entry point: the magic block and start-up work of cachequeue.so.
#include "catalog.hpp"
#include "claim_cursor.hpp"
#include "commit_flush.hpp"
#include "counters.hpp"
#include "settings.hpp"

extern "C" {
#include "fmgr.h"

PG_MODULE_MAGIC;

void _PG_init(void);

void _PG_init(void)
{
    cq::commit::init(); // first: its commit callback must run after the others'
    cq::catalog::init();
    cq::claim::init();
    // Before settings::define(), which reserves the "cachequeue" prefix: that drops the
    // placeholders of settings not defined yet, and with them their configured values.
    cq::counters::init();
    cq::settings::define();
}
}
