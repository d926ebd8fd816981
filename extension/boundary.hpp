// The one place where C++ meets PostgreSQL's error handling.
//
// Every SQL-callable function is an extern "C" shim that hands its C++ body to cq::run(). The
// body may throw cq::Error (a user error with its SQLSTATE) or any other exception; run()
// catches everything, copies what it needs into plain buffers, leaves the catch block, and only
// then raises the PostgreSQL error. No object with a destructor is alive when ereport longjmps.
//
// Inside a body, a call into PostgreSQL that can raise while C++ objects are alive goes through
// cq::pg(): it catches the PostgreSQL error and rethrows it as cq::PgError, so destructors run
// on the way out; run() then re-raises the original error with its SQLSTATE and message.
// Nothing may call into PostgreSQL after catching a PgError but before leaving the body.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/memutils.h"
}

#include <exception>
#include <utility>

#include "errors.hpp"

namespace cq {

// A PostgreSQL error caught by cq::pg(), carried as C++ until the boundary re-raises it.
class PgError : public std::exception
{
public:
    explicit PgError(ErrorData* data) : data_(data) {}
    ErrorData* data() const { return data_; }
    const char* what() const noexcept override { return data_->message; }

private:
    ErrorData* data_;
};

using Body = Datum (*)(FunctionCallInfo);

// Runs body inside the catch-all and raises whatever it threw as a PostgreSQL error.
Datum run(FunctionCallInfo fcinfo, Body body);

// Rethrows the PostgreSQL error in flight (called from PG_CATCH only).
[[noreturn]] void rethrow_pg_error(MemoryContext context);

// Runs fn, which calls PostgreSQL, and turns a PostgreSQL error into a thrown PgError.
// fn itself must own no object with a destructor across the calls it makes.
template <typename Fn>
auto pg(Fn&& fn) -> decltype(fn())
{
    MemoryContext context = CurrentMemoryContext;
    if constexpr (std::is_void_v<decltype(fn())>) {
        bool failed = false;
        PG_TRY();
        {
            fn();
        }
        PG_CATCH();
        {
            failed = true;
        }
        PG_END_TRY();
        if (failed)
            rethrow_pg_error(context);
    } else {
        decltype(fn()) result{};
        bool failed = false;
        PG_TRY();
        {
            result = fn();
        }
        PG_CATCH();
        {
            failed = true;
        }
        PG_END_TRY();
        if (failed)
            rethrow_pg_error(context);
        return result;
    }
}

} // namespace cq

// Defines the extern "C" entry point NAME whose body is the C++ function NAME##_body.
#define CQ_FUNCTION(name)                                                                         \
    static Datum name##_body(FunctionCallInfo fcinfo);                                            \
    extern "C" {                                                                                  \
    PG_FUNCTION_INFO_V1(name);                                                                    \
    Datum name(PG_FUNCTION_ARGS)                                                                  \
    {                                                                                             \
        return cq::run(fcinfo, name##_body);                                                      \
    }                                                                                             \
    }                                                                                             \
    static Datum name##_body(FunctionCallInfo fcinfo)
