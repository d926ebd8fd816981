// `cachequeue doctor` (see doctor.hpp): one function per check, each reading what it needs
// with plain statements, so that it works behind a transaction pooler too.
#include "doctor.hpp"

#include "table.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <functional>

namespace cq::runner {

const char* to_string(Severity severity)
{
    switch (severity) {
    case Severity::ok:
        return "ok";
    case Severity::info:
        return "info";
    case Severity::warning:
        return "warning";
    case Severity::critical:
        return "critical";
    }
    return "unknown";
}

namespace {

// Thresholds (docs/commands.md lists them).
constexpr double connections_warning = 0.75, connections_critical = 0.90;
constexpr double slow_statement_ms = 1000;
constexpr long long expired_entries_min = 1000;
constexpr long long lookups_min = 1000;
constexpr double hit_rate_min = 0.5;
constexpr double oldest_waiting_seconds = 300;
constexpr long long dead_tuples_min = 10000;
constexpr double dead_ratio_max = 0.2;

using Findings = std::vector<Finding>;

long long as_int(const Result& result, int row, int col)
{
    return result.is_null(row, col) ? 0 : std::strtoll(result.get(row, col).c_str(), nullptr, 10);
}

double as_double(const Result& result, int row, int col)
{
    return result.is_null(row, col) ? 0 : std::strtod(result.get(row, col).c_str(), nullptr);
}

std::string duration_text(double seconds)
{
    if (seconds < 120)
        return fmt::format("{:.0f} s", seconds);
    if (seconds < 7200)
        return fmt::format("{:.0f} min", seconds / 60);
    return fmt::format("{:.1f} h", seconds / 3600);
}

void check_connections(Connection& db, Findings& out)
{
    Result r = db.exec("SELECT (SELECT count(*) FROM pg_catalog.pg_stat_activity"
                       "        WHERE backend_type = 'client backend'),"
                       " current_setting('max_connections')::int,"
                       " current_setting('superuser_reserved_connections')::int");
    long long used = as_int(r, 0, 0), max = as_int(r, 0, 1), reserved = as_int(r, 0, 2);
    long long usable = std::max(1LL, max - reserved);
    double ratio = static_cast<double>(used) / static_cast<double>(usable);
    Finding f{"connections", Severity::ok,
              fmt::format("{} of {} connections in use ({:.0f}%; {} more reserved for "
                          "superusers)",
                          used, usable, ratio * 100, reserved),
              ""};
    if (ratio >= connections_warning) {
        f.severity = ratio >= connections_critical ? Severity::critical : Severity::warning;
        f.suggestion = "connect the application and workers through a pooler (PgBouncer, "
                       "Supabase's on port 6543) or raise max_connections";
    }
    out.push_back(f);
}

void check_slow_statements(Connection& db, Findings& out)
{
    Result schema = db.exec("SELECT n.nspname FROM pg_catalog.pg_extension e"
                            " JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
                            " WHERE e.extname = 'pg_stat_statements'");
    if (schema.rows() == 0) {
        out.push_back({"slow_statements", Severity::info,
                       "pg_stat_statements is not installed: the slowest statements are unknown",
                       "add pg_stat_statements to shared_preload_libraries, restart, and run "
                       "CREATE EXTENSION pg_stat_statements"});
        return;
    }
    Result r =
        db.exec("SELECT round(mean_exec_time::numeric, 1), calls,"
                " left(regexp_replace(query, '\\s+', ' ', 'g'), 80) FROM " +
                db.quote_identifier(schema.get(0, 0)) +
                ".pg_stat_statements WHERE dbid = (SELECT oid FROM pg_catalog.pg_database"
                " WHERE datname = current_database()) ORDER BY mean_exec_time DESC LIMIT 3");
    if (r.rows() == 0) {
        out.push_back({"slow_statements", Severity::ok, "no statement recorded yet", ""});
        return;
    }
    for (int row = 0; row < r.rows(); row++) {
        double mean = as_double(r, row, 0);
        bool slow = mean >= slow_statement_ms;
        out.push_back({"slow_statements", slow ? Severity::warning : Severity::info,
                       fmt::format("mean {} ms over {} calls: {}", r.get(row, 0), r.get(row, 1),
                                   printable(r.get(row, 2))),
                       slow ? "run it with EXPLAIN (ANALYZE, BUFFERS) and look for a missing "
                              "index or a lock wait"
                            : ""});
    }
}

bool check_extension(Connection& db, Findings& out)
{
    Result r = db.exec("SELECT extversion FROM pg_catalog.pg_extension"
                       " WHERE extname = 'cachequeue'");
    if (r.rows() == 0) {
        out.push_back({"extension", Severity::critical,
                       "the cachequeue extension is not installed in this database",
                       "CREATE EXTENSION cachequeue (as a superuser), or connect to the "
                       "database that has it"});
        return false;
    }
    out.push_back({"extension", Severity::ok, "cachequeue " + r.get(0, 0) + " installed", ""});
    return true;
}

void check_caches(Connection& db, Findings& out)
{
    Result r = db.exec("SELECT cache, total, expired, hits, misses"
                       " FROM cachequeue.cache_stats() ORDER BY cache");
    long long total = 0, expired = 0;
    bool flagged = false;
    for (int row = 0; row < r.rows(); row++) {
        std::string name = printable(r.get(row, 0));
        long long rows = as_int(r, row, 1), old = as_int(r, row, 2);
        total += rows;
        expired += old;
        if (old >= expired_entries_min && old * 2 > rows) {
            flagged = true;
            out.push_back({"cache", Severity::warning,
                           fmt::format("cache {}: {} of {} entries have expired", name, old, rows),
                           "expired entries stay until cachequeue.cache_cleanup() runs: "
                           "schedule it with SELECT * FROM cachequeue.schedule_maintenance()"});
        }
        if (!r.is_null(row, 3) && !r.is_null(row, 4)) {
            long long hits = as_int(r, row, 3), misses = as_int(r, row, 4);
            double rate = hits + misses > 0 ? static_cast<double>(hits) / (hits + misses) : 1;
            if (hits + misses >= lookups_min && rate < hit_rate_min) {
                flagged = true;
                out.push_back({"cache", Severity::warning,
                               fmt::format("cache {}: hit rate {:.0f}% over {} lookups", name,
                                           rate * 100, hits + misses),
                               "raise the cache's default_timeout or max_entries with "
                               "cachequeue.cache_create"});
            }
        }
    }
    if (!flagged)
        out.push_back(
            {"cache", Severity::ok,
             fmt::format("{} cache(s), {} entries of which {} expired", r.rows(), total, expired),
             ""});
}

void check_queues(Connection& db, Findings& out)
{
    Result r = db.exec("SELECT queue, queued, scheduled, running, dead,"
                       " extract(epoch FROM oldest_queued_age), paused"
                       " FROM cachequeue.queue_stats() ORDER BY queue");
    if (r.rows() == 0) {
        out.push_back({"queue", Severity::info, "no queue exists",
                       "create the queues with cachequeue queue sync"});
        return;
    }
    for (int row = 0; row < r.rows(); row++) {
        std::string name = printable(r.get(row, 0));
        long long queued = as_int(r, row, 1), running = as_int(r, row, 3),
                  dead = as_int(r, row, 4);
        bool paused = r.get(row, 6) == "t";
        bool flagged = false;
        if (dead > 0) {
            flagged = true;
            out.push_back({"queue", Severity::warning,
                           fmt::format("queue {}: {} dead job(s)", name, dead),
                           "read their errors with cachequeue queue status ID, then retry "
                           "them with cachequeue queue retry ID or purge them"});
        }
        if (paused) {
            flagged = true;
            out.push_back({"queue", Severity::info,
                           fmt::format("queue {} is paused with {} job(s) ready", name, queued),
                           "SELECT cachequeue.queue_resume('" + name + "') to let it run"});
        } else if (!r.is_null(row, 5) && as_double(r, row, 5) >= oldest_waiting_seconds) {
            flagged = true;
            out.push_back(
                {"queue", Severity::warning,
                 fmt::format("queue {}: the oldest ready job has waited {} ({} ready)", name,
                             duration_text(as_double(r, row, 5)), queued),
                 "start a worker for it (cachequeue worker " + name + "), or more of them"});
        }
        if (!flagged)
            out.push_back({"queue", Severity::ok,
                           fmt::format("queue {}: {} ready, {} scheduled, {} running", name,
                                       queued, as_int(r, row, 2), running),
                           ""});
    }
}

void check_stuck_jobs(Connection& db, Findings& out)
{
    Result r = db.exec("SELECT q.name, count(*), min(j.id),"
                       " max(extract(epoch FROM now() - j.lease_expires_at))"
                       " FROM cachequeue.jobs AS j JOIN cachequeue.queues AS q"
                       " ON q.id = j.queue_id WHERE j.status = 'running'"
                       " AND j.lease_expires_at < now() GROUP BY q.name ORDER BY q.name");
    for (int row = 0; row < r.rows(); row++) {
        out.push_back(
            {"stuck_jobs", Severity::warning,
             fmt::format("queue {}: {} running job(s) whose lease expired up to {} ago "
                         "(first: job {})",
                         printable(r.get(row, 0)), r.get(row, 1),
                         duration_text(as_double(r, row, 3)), r.get(row, 2)),
             "their worker stopped or hangs: SELECT cachequeue.job_reap() queues them again "
             "(a worker's claim or the scheduled reap does it too)"});
    }
    if (r.rows() == 0)
        out.push_back({"stuck_jobs", Severity::ok, "no running job has an expired lease", ""});
}

void check_tables(Connection& db, Findings& out)
{
    Result r = db.exec(
        "SELECT c.relname, pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size(c.oid)),"
        " pg_catalog.pg_size_pretty(pg_catalog.pg_indexes_size(c.oid)),"
        " coalesce(s.n_live_tup, 0), coalesce(s.n_dead_tup, 0)"
        " FROM pg_catalog.pg_class AS c"
        " JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace"
        " LEFT JOIN pg_catalog.pg_stat_all_tables AS s ON s.relid = c.oid"
        " WHERE n.nspname = 'cachequeue' AND c.relkind = 'r'"
        " ORDER BY pg_catalog.pg_total_relation_size(c.oid) DESC, c.relname LIMIT 10");
    for (int row = 0; row < r.rows(); row++) {
        std::string table = "cachequeue." + printable(r.get(row, 0));
        long long live = as_int(r, row, 3), dead = as_int(r, row, 4);
        double ratio = live + dead > 0 ? static_cast<double>(dead) / (live + dead) : 0;
        bool bloated = dead >= dead_tuples_min && ratio > dead_ratio_max;
        out.push_back({"tables", bloated ? Severity::warning : Severity::ok,
                       fmt::format("{}: {} (indexes {}), {} live and {} dead rows ({:.0f}% dead)",
                                   table, r.get(row, 1), r.get(row, 2), live, dead, ratio * 100),
                       bloated
                           ? "VACUUM " + table +
                                 "; purge finished jobs on a schedule, and look for transactions "
                                 "left open (pg_stat_activity.xact_start)"
                           : ""});
    }
}

void check_maintenance(Connection& db, Findings& out)
{
    Result has_cron = db.exec("SELECT pg_catalog.to_regclass('cron.job') IS NOT NULL");
    if (has_cron.get(0, 0) != "t") {
        Result setting = db.exec("SELECT current_setting('cron.database_name', true),"
                                 " current_database()");
        if (!setting.is_null(0, 0) && setting.get(0, 0) != setting.get(0, 1)) {
            out.push_back(
                {"maintenance", Severity::info,
                 "pg_cron runs in database " + printable(setting.get(0, 0)) +
                     ": its jobs cannot be checked from here",
                 "in that database: SELECT j.jobname, d.status, d.start_time FROM cron.job j "
                 "JOIN cron.job_run_details d USING (jobid) WHERE j.jobname LIKE "
                 "'cachequeue-%@" +
                     printable(setting.get(0, 1)) + "' ORDER BY d.start_time DESC"});
        } else {
            out.push_back({"maintenance", Severity::warning,
                           "pg_cron is not available here: no scheduled cleanup, reaping or "
                           "purging",
                           "set up pg_cron and run SELECT * FROM "
                           "cachequeue.schedule_maintenance() (README: Scheduled maintenance)"});
        }
        return;
    }

    // Each of the maintenance jobs: scheduled? active? failed runs in the last day?
    Result r = db.exec(
        "SELECT m.job_name, j.jobid, j.active, f.failures, f.message"
        " FROM cachequeue.maintenance_jobs() AS m"
        " LEFT JOIN cron.job AS j ON j.jobname = m.job_name"
        " LEFT JOIN LATERAL (SELECT count(*) OVER () AS failures, d.return_message AS message"
        "   FROM cron.job_run_details AS d WHERE d.jobid = j.jobid AND d.status = 'failed'"
        "   AND d.start_time > now() - interval '1 day'"
        "   ORDER BY d.start_time DESC LIMIT 1) AS f ON true"
        " ORDER BY m.job_name");
    int scheduled = 0;
    std::vector<std::string> missing;
    bool flagged = false;
    for (int row = 0; row < r.rows(); row++) {
        std::string name = printable(r.get(row, 0));
        if (r.is_null(row, 1)) {
            missing.push_back(name);
            continue;
        }
        scheduled++;
        if (r.get(row, 2) != "t") {
            flagged = true;
            out.push_back({"maintenance", Severity::warning, name + " is scheduled but inactive",
                           "SELECT cron.alter_job(" + r.get(row, 1) + ", active => true)"});
        }
        if (!r.is_null(row, 3)) {
            flagged = true;
            out.push_back(
                {"maintenance", Severity::warning,
                 fmt::format("{}: {} run(s) failed in the last 24 h, the latest: {}", name,
                             r.get(row, 3), printable(r.get_optional(row, 4).value_or("?"))),
                 "SELECT status, return_message, start_time FROM cron.job_run_details WHERE "
                 "jobid = " +
                     r.get(row, 1) + " ORDER BY start_time DESC LIMIT 5"});
        }
    }
    if (scheduled == 0) {
        out.push_back({"maintenance", Severity::warning,
                       "no maintenance job is scheduled for this database",
                       "SELECT * FROM cachequeue.schedule_maintenance()"});
    } else if (!missing.empty()) {
        std::string names;
        for (const std::string& name : missing)
            names += (names.empty() ? "" : ", ") + name;
        out.push_back({"maintenance", Severity::info,
                       fmt::format("{} of {} maintenance jobs scheduled (not: {})", scheduled,
                                   r.rows(), names),
                       "SELECT * FROM cachequeue.schedule_maintenance() schedules all three"});
    } else if (!flagged) {
        out.push_back({"maintenance", Severity::ok,
                       fmt::format("{} of {} maintenance jobs scheduled, no failed run in the "
                                   "last 24 h",
                                   scheduled, r.rows()),
                       ""});
    }
}

// Runs one check; an SQL error it meets (missing privileges, say) becomes an info finding.
void run_check(const char* name, Connection& db, Findings& out,
               const std::function<void(Connection&, Findings&)>& check)
{
    try {
        check(db, out);
    } catch (const DbError& error) {
        if (error.connection_lost())
            throw;
        out.push_back({name, Severity::info, "could not check: " + printable(error.what()),
                       "run cachequeue doctor as a superuser or the extension's owner"});
    }
}

} // namespace

std::vector<Finding> run_doctor(Connection& db)
{
    Findings out;
    run_check("connections", db, out, check_connections);
    run_check("slow_statements", db, out, check_slow_statements);
    bool installed = true;
    run_check("extension", db, out,
              [&installed](Connection& c, Findings& f) { installed = check_extension(c, f); });
    if (!installed)
        return out;
    run_check("cache", db, out, check_caches);
    run_check("queue", db, out, check_queues);
    run_check("stuck_jobs", db, out, check_stuck_jobs);
    run_check("tables", db, out, check_tables);
    run_check("maintenance", db, out, check_maintenance);
    return out;
}

int doctor_exit_code(const std::vector<Finding>& findings)
{
    Severity worst = Severity::ok;
    for (const Finding& f : findings)
        worst = std::max(worst, f.severity);
    if (worst == Severity::critical)
        return exit_doctor_critical;
    if (worst == Severity::warning)
        return exit_doctor_warning;
    return 0;
}

void print_findings(std::ostream& out, const std::string& database,
                    const std::vector<Finding>& findings, bool json)
{
    if (json) {
        nlohmann::ordered_json doc;
        doc["database"] = database;
        doc["findings"] = nlohmann::ordered_json::array();
        nlohmann::ordered_json counts = {{"ok", 0}, {"info", 0}, {"warning", 0}, {"critical", 0}};
        for (const Finding& f : findings) {
            doc["findings"].push_back({{"check", f.check},
                                       {"severity", to_string(f.severity)},
                                       {"message", f.message},
                                       {"suggestion", f.suggestion}});
            counts[to_string(f.severity)] = counts[to_string(f.severity)].get<int>() + 1;
        }
        doc["counts"] = counts;
        out << doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
        return;
    }
    out << "cachequeue doctor: database " << printable(database) << '\n';
    for (const Finding& f : findings) {
        out << fmt::format("{:<8} {:<15} {}\n", to_string(f.severity), f.check, f.message);
        if (!f.suggestion.empty())
            out << fmt::format("{:<8} {:<15} -> {}\n", "", "", f.suggestion);
    }
}

} // namespace cq::runner
