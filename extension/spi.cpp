// SPI sessions of the extension.
#include "spi.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace cq::spi {

Session begin()
{
    Session session{catalog::become_owner(), NewGUCNestLevel()};
    (void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                            GUC_ACTION_SAVE, true, 0, false);
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    return session;
}

void end(Session session)
{
    SPI_finish();
    AtEOXact_GUC(true, session.guc_level);
    catalog::restore_user(session.user);
}

void check(int rc, int expected, const char* what)
{
    if (rc != expected)
        elog(ERROR, "cachequeue: %s failed: %s", what, SPI_result_code_string(rc));
}

uint64 run(const char* sql, int expected, int nargs, const Oid* types, const Datum* values,
           const char* nulls)
{
    int rc = SPI_execute_with_args(sql, nargs, const_cast<Oid*>(types), const_cast<Datum*>(values),
                                   nulls, false, 0);
    check(rc, expected, sql);
    return SPI_processed;
}

namespace {

uint64 run_kept(const char* sql, int cursor_options, int expected, int nargs, const Oid* types,
                const Datum* values, const char* nulls)
{
    struct Saved {
        const char* sql;
        SPIPlanPtr plan;
    };
    static Saved saved[64];
    static int count = 0;

    SPIPlanPtr plan = nullptr;
    for (int i = 0; i < count && plan == nullptr; i++)
        if (saved[i].sql == sql)
            plan = saved[i].plan;
    if (plan == nullptr) {
        if (count == lengthof(saved))
            elog(ERROR, "cachequeue: too many saved statements");
        plan = SPI_prepare_cursor(sql, nargs, const_cast<Oid*>(types), cursor_options);
        if (plan == nullptr)
            elog(ERROR, "cachequeue: could not prepare \"%s\": %s", sql,
                 SPI_result_code_string(SPI_result));
        SPI_keepplan(plan);
        saved[count++] = {sql, plan};
    }
    int rc = SPI_execute_plan(plan, const_cast<Datum*>(values), nulls, false, 0);
    check(rc, expected, sql);
    return SPI_processed;
}

} // namespace

uint64 run_saved(const char* sql, int expected, int nargs, const Oid* types, const Datum* values,
                 const char* nulls)
{
    return run_kept(sql, 0, expected, nargs, types, values, nulls);
}

uint64 run_generic(const char* sql, int expected, int nargs, const Oid* types, const Datum* values,
                   const char* nulls)
{
    return run_kept(sql, CURSOR_OPT_GENERIC_PLAN, expected, nargs, types, values, nulls);
}

Datum get(uint64 row, int col, bool* isnull)
{
    bool null;
    Datum value = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &null);
    if (isnull)
        *isnull = null;
    return value;
}

} // namespace cq::spi
