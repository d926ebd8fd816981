// Running SQL from the extension: SPI sessions as the owner of the extension's tables, with
// a search_path that no caller can plant an operator, a function or a type in.
#pragma once

#include "catalog.hpp"

extern "C" {
#include "postgres.h"
#include "executor/spi.h"
}

namespace cq::spi {

struct Session {
    catalog::SavedUser user;
    int guc_level;
};

// Connects SPI as the owner of the tables, search_path pinned to pg_catalog.
Session begin();
void end(Session session);

// Raises an internal error when an SPI call did not return what it should.
void check(int rc, int expected, const char* what);

// Runs sql with its parameters; returns the rows it processed (an error unless rc matches).
uint64 run(const char* sql, int expected, int nargs = 0, const Oid* types = nullptr,
           const Datum* values = nullptr, const char* nulls = nullptr);

// The same for a statement whose text is a string literal: it is planned once per backend
// and the plan kept (keyed by the literal's address).
uint64 run_saved(const char* sql, int expected, int nargs = 0, const Oid* types = nullptr,
                 const Datum* values = nullptr, const char* nulls = nullptr);

// run_saved for a statement whose best plan does not depend on its parameters' values (a probe
// of an index by key, a LIMIT given as a parameter): it is planned once, with the parameters
// unknown, where run_saved's plan cache may plan it again at every call.
uint64 run_generic(const char* sql, int expected, int nargs = 0, const Oid* types = nullptr,
                   const Datum* values = nullptr, const char* nulls = nullptr);

// Column col (from 1) of result row n.
Datum get(uint64 row, int col, bool* isnull = nullptr);

} // namespace cq::spi
