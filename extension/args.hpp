// Argument checks shared by the SQL functions of the cache and the queue.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

namespace cq::args {

// The elements of a one-dimensional array argument.
struct Elements {
    Datum* values;
    int count;
};

// Argument n, an array of type elements: NULL, NULL elements and more than one dimension are
// errors naming the argument as what.
Elements array(FunctionCallInfo fcinfo, int n, const char* what, Oid type);

} // namespace cq::args
