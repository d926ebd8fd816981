// The error boundary: C++ exceptions in, PostgreSQL errors out.
#include "boundary.hpp"

#include <cstdio>
#include <cstring>
#include <new>

namespace cq {

namespace {

// What run() keeps of an exception after its catch block has closed: plain data only.
struct Failure {
    enum Kind { none, postgres, user, other } kind = none;
    ErrorData* data = nullptr;
    int sqlstate = 0;
    char message[512] = {};
    char detail[1024] = {};
    char hint[512] = {};
};

void copy_text(char* dest, size_t size, const char* src)
{
    std::snprintf(dest, size, "%s", src ? src : "");
}

int to_sqlstate(const char* code)
{
    return MAKE_SQLSTATE(code[0], code[1], code[2], code[3], code[4]);
}

} // namespace

[[noreturn]] void rethrow_pg_error(MemoryContext context)
{
    MemoryContextSwitchTo(context);
    ErrorData* data = CopyErrorData();
    FlushErrorState();
    throw PgError(data);
}

Datum run(FunctionCallInfo fcinfo, Body body)
{
    Failure failure;
    Datum result = (Datum)0;

    try {
        result = body(fcinfo);
    } catch (const PgError& e) {
        failure.kind = Failure::postgres;
        failure.data = e.data();
    } catch (const Error& e) {
        failure.kind = Failure::user;
        failure.sqlstate = to_sqlstate(e.code());
        copy_text(failure.message, sizeof failure.message, e.what());
        copy_text(failure.detail, sizeof failure.detail, e.detail().c_str());
        copy_text(failure.hint, sizeof failure.hint, e.hint().c_str());
    } catch (const std::bad_alloc&) {
        failure.kind = Failure::other;
        failure.sqlstate = ERRCODE_OUT_OF_MEMORY;
        copy_text(failure.message, sizeof failure.message, "out of memory");
    } catch (const std::exception& e) {
        failure.kind = Failure::other;
        failure.sqlstate = ERRCODE_INTERNAL_ERROR;
        copy_text(failure.message, sizeof failure.message, e.what());
    } catch (...) {
        failure.kind = Failure::other;
        failure.sqlstate = ERRCODE_INTERNAL_ERROR;
        copy_text(failure.message, sizeof failure.message, "unexpected C++ exception");
    }

    // Every catch block has closed: raising a PostgreSQL error is safe from here on.
    switch (failure.kind) {
    case Failure::none:
        return result;
    case Failure::postgres:
        ReThrowError(failure.data);
    case Failure::user:
        ereport(ERROR, (errcode(failure.sqlstate), errmsg_internal("%s", failure.message),
                        failure.detail[0] ? errdetail_internal("%s", failure.detail) : 0,
                        failure.hint[0] ? errhint("%s", failure.hint) : 0));
        break;
    case Failure::other:
        ereport(ERROR, (errcode(failure.sqlstate),
                        errmsg("cachequeue internal error: %s", failure.message)));
        break;
    }
    pg_unreachable();
}

} // namespace cq
