// The management commands (see commands.hpp): thin calls of the extension's SQL functions,
// user input always sent as statement parameters.
#include "commands.hpp"
#include "doctor.hpp"
#include "settings_error.hpp"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <utility>
#include <vector>

#include "table.hpp"

namespace cq::runner {

using ordered_json = nlohmann::ordered_json;

namespace {

// Where a column is shown: both outputs, or only one of them (two renderings of one value).
enum class Show { both, table, json };

struct Column {
    const char* name;
    Kind kind;
    Show show = Show::both;
    const char* null_text = "-"; // a NULL in the text table
};

void print_json(std::ostream& out, const ordered_json& doc)
{
    out << doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) << '\n';
}

// A value as a table cell.
std::string cell_text(const Result& result, int row, int col, const Column& column)
{
    if (result.is_null(row, col))
        return column.null_text;
    std::string text = result.get(row, col);
    if (column.kind == Kind::boolean)
        return text == "t" ? "yes" : "no";
    return text;
}

ordered_json row_object(const Result& result, int row, const std::vector<Column>& columns)
{
    ordered_json object = ordered_json::object();
    for (size_t col = 0; col < columns.size(); ++col) {
        if (columns[col].show != Show::table)
            object[columns[col].name] =
                json_value(result.get_optional(row, static_cast<int>(col)), columns[col].kind);
    }
    return object;
}

// The statement must return exactly the columns described; a mismatch is a bug here.
void check_shape(const Result& result, const std::vector<Column>& columns)
{
    if (result.columns() != static_cast<int>(columns.size()))
        throw std::logic_error("expected " + std::to_string(columns.size()) +
                               " columns, the server returned " +
                               std::to_string(result.columns()));
}

// Every row: a table with a header, or a JSON array of objects.
void print_rows(std::ostream& out, const Result& result, const std::vector<Column>& columns,
                bool json)
{
    check_shape(result, columns);
    if (json) {
        ordered_json rows = ordered_json::array();
        for (int row = 0; row < result.rows(); ++row)
            rows.push_back(row_object(result, row, columns));
        print_json(out, rows);
        return;
    }
    TextTable table;
    for (const Column& column : columns) {
        if (column.show == Show::json)
            continue;
        bool numeric = column.kind == Kind::integer || column.kind == Kind::number;
        table.add_column(column.name, numeric ? TextTable::Align::right : TextTable::Align::left);
    }
    for (int row = 0; row < result.rows(); ++row) {
        std::vector<std::string> cells;
        for (size_t col = 0; col < columns.size(); ++col) {
            if (columns[col].show != Show::json)
                cells.push_back(cell_text(result, row, static_cast<int>(col), columns[col]));
        }
        table.add_row(std::move(cells));
    }
    table.print(out);
}

// The first row: "name  value" lines, or one JSON object.
void print_record(std::ostream& out, const Result& result, const std::vector<Column>& columns,
                  bool json)
{
    check_shape(result, columns);
    if (json) {
        print_json(out, row_object(result, 0, columns));
        return;
    }
    std::vector<std::pair<std::string, std::string>> fields;
    for (size_t col = 0; col < columns.size(); ++col) {
        if (columns[col].show != Show::json)
            fields.emplace_back(columns[col].name,
                                cell_text(result, 0, static_cast<int>(col), columns[col]));
    }
    print_fields(out, fields);
}

// The one bigint a statement returned (an id or a count).
long long single_bigint(const Result& result)
{
    if (result.rows() != 1 || result.columns() != 1 || result.is_null(0, 0))
        throw std::logic_error("expected one number from the server");
    return std::strtoll(result.get(0, 0).c_str(), nullptr, 10);
}

// A double as text that the server reads back to the same value.
std::string exact_text(double value)
{
    char text[40];
    std::snprintf(text, sizeof text, "%.17g", value);
    return text;
}

// The message of a nlohmann exception without its "[json.exception.parse_error.101] " tag.
std::string without_tag(const std::string& message)
{
    if (!message.empty() && message.front() == '[') {
        auto end = message.find("] ");
        if (end != std::string::npos)
            return message.substr(end + 2);
    }
    return message;
}

} // namespace

ordered_json json_value(const std::optional<std::string>& text, Kind kind)
{
    if (!text)
        return nullptr;
    const char* begin = text->c_str();
    char* end = nullptr;
    switch (kind) {
    case Kind::integer: {
        errno = 0;
        long long value = std::strtoll(begin, &end, 10);
        if (errno == 0 && end != begin && *end == '\0')
            return value;
        return *text;
    }
    case Kind::number: {
        double value = std::strtod(begin, &end);
        if (end == begin || *end != '\0')
            return *text;
        if (!std::isfinite(value))
            return nullptr;
        return value;
    }
    case Kind::boolean:
        if (*text == "t" || *text == "true")
            return true;
        if (*text == "f" || *text == "false")
            return false;
        return *text;
    case Kind::json: {
        // jsonb numbers have no size limit; one nlohmann cannot hold stays text.
        ordered_json parsed = ordered_json::parse(*text, nullptr, false);
        return parsed.is_discarded() ? ordered_json(*text) : parsed;
    }
    case Kind::text:
        break;
    }
    return *text;
}

std::string json_syntax_error(const std::string& text)
{
    try {
        nlohmann::json parsed = nlohmann::json::parse(text);
        (void)parsed;
    } catch (const nlohmann::json::exception& e) {
        return "not valid JSON: " + without_tag(e.what());
    }
    return "";
}

// ---- cache ----

int cache_stats(Connection& db, const CacheOptions& options, std::ostream& out)
{
    static const std::vector<Column> columns = {
        {"cache", Kind::text},
        {"total", Kind::integer},
        {"active", Kind::integer},
        {"expired", Kind::integer},
        {"hits", Kind::integer},
        {"misses", Kind::integer},
        {"max_entries", Kind::integer},
        {"default_timeout", Kind::number, Show::both, "never"},
        {"cull_frequency", Kind::integer},
        {"unlogged", Kind::boolean},
        {"size_bytes", Kind::integer},
    };
    Result result = db.exec("SELECT cache, total, active, expired, hits, misses, max_entries,"
                            " default_timeout, cull_frequency, unlogged, size_bytes"
                            " FROM cachequeue.cache_stats($1) ORDER BY cache",
                            {options.cache});
    print_rows(out, result, columns, options.json);
    return exit_ok;
}

int cache_cleanup(Connection& db, const CacheOptions& options, std::ostream& out)
{
    long long removed =
        single_bigint(db.exec("SELECT cachequeue.cache_cleanup($1)", {options.cache}));
    if (options.json) {
        ordered_json doc;
        doc["cache"] = options.cache ? ordered_json(*options.cache) : ordered_json(nullptr);
        doc["removed"] = removed;
        print_json(out, doc);
    } else {
        out << removed << '\n';
    }
    return exit_ok;
}

int cache_clear(Connection& db, const CacheOptions& options, std::ostream& out)
{
    // --all: every cache in one statement, so one transaction clears them all or none.
    std::vector<std::string> cleared;
    if (options.all) {
        Result result = db.exec("SELECT s.cache FROM cachequeue.cache_stats() AS s,"
                                " cachequeue.cache_clear(s.cache) AS c ORDER BY s.cache");
        for (int row = 0; row < result.rows(); ++row)
            cleared.push_back(result.get(row, 0));
    } else {
        std::string name = options.cache.value_or("default");
        db.exec("SELECT cachequeue.cache_clear($1)", {name});
        cleared.push_back(name);
    }

    if (options.json) {
        ordered_json doc;
        doc["cleared"] = cleared;
        print_json(out, doc);
    } else {
        for (const std::string& name : cleared)
            out << "cleared " << printable(name) << '\n';
    }
    return exit_ok;
}

// ---- queue ----

int queue_stats(Connection& db, const QueueStatsOptions& options, std::ostream& out)
{
    // The oldest job's wait: an interval to read in the table, seconds in JSON.
    static const std::vector<Column> columns = {
        {"queue", Kind::text},
        {"queued", Kind::integer},
        {"scheduled", Kind::integer},
        {"running", Kind::integer},
        {"succeeded", Kind::integer},
        {"dead", Kind::integer},
        {"cancelled", Kind::integer},
        {"oldest_queued_age", Kind::text, Show::table},
        {"oldest_queued_seconds", Kind::number, Show::json},
        {"paused", Kind::boolean},
    };
    Result result = db.exec("SELECT queue, queued, scheduled, running, succeeded, dead, cancelled,"
                            " date_trunc('second', oldest_queued_age),"
                            " round(extract(epoch FROM oldest_queued_age), 3), paused"
                            " FROM cachequeue.queue_stats() ORDER BY queue");
    print_rows(out, result, columns, options.json);
    return exit_ok;
}

int queue_enqueue(Connection& db, const EnqueueOptions& options, std::ostream& out)
{
    // run_at: the time given, or now plus the delay, or NULL (the function's now).
    std::optional<std::string> priority, delay;
    if (options.priority)
        priority = std::to_string(*options.priority);
    if (options.delay)
        delay = exact_text(*options.delay);
    Result result = db.exec("SELECT cachequeue.job_enqueue($1, $2, $3::jsonb, $4::integer,"
                            " COALESCE($5::timestamptz,"
                            " pg_catalog.now() + pg_catalog.make_interval(secs => $6::float8)),"
                            " $7)",
                            {options.queue, options.task, options.payload.value_or("{}"), priority,
                             options.run_at, delay, options.unique_key});
    long long id = single_bigint(result);
    if (options.json) {
        ordered_json doc;
        doc["id"] = id;
        print_json(out, doc);
    } else {
        out << id << '\n';
    }
    return exit_ok;
}

int queue_retry(Connection& db, const JobOptions& options, std::ostream& out, std::ostream& err)
{
    std::string id = std::to_string(options.id);
    Result result = db.exec("SELECT cachequeue.job_retry($1::bigint)", {id});
    if (result.rows() == 1 && result.get_optional(0, 0) == std::optional<std::string>("t")) {
        if (options.json) {
            ordered_json doc;
            doc["id"] = options.id;
            doc["retried"] = true;
            print_json(out, doc);
        } else {
            out << "job " << id << " queued again\n";
        }
        return exit_ok;
    }

    // Refused: say why from the job's status (read after the refusal, so it may have moved).
    Result status = db.exec("SELECT status FROM cachequeue.job_status($1::bigint)", {id});
    std::string reason;
    if (status.rows() == 0) {
        reason = "it no longer exists";
    } else {
        std::string state = status.get(0, 0);
        if (state == "dead" || state == "cancelled")
            reason = "another queued or running job of its queue holds its unique key";
        else
            reason = "it is " + state + "; only dead or cancelled jobs can be retried";
    }
    err << "cachequeue: error: job " << id << " was not retried: " << printable(reason) << '\n';
    return exit_refused;
}

int queue_purge(Connection& db, const PurgeOptions& options, std::ostream& out)
{
    long long purged =
        single_bigint(db.exec("SELECT cachequeue.job_purge($1::interval)", {options.older_than}));
    if (options.json) {
        ordered_json doc;
        doc["purged"] = purged;
        print_json(out, doc);
    } else {
        out << purged << '\n';
    }
    return exit_ok;
}

int queue_status(Connection& db, const JobOptions& options, std::ostream& out)
{
    // Times as ISO 8601 (to_json's form), which scripts parse more easily than DateStyle's.
    static const std::vector<Column> columns = {
        {"id", Kind::integer},       {"queue", Kind::text},
        {"task", Kind::text},        {"status", Kind::text},
        {"attempts", Kind::integer}, {"max_retries", Kind::integer},
        {"priority", Kind::integer}, {"payload", Kind::json},
        {"result", Kind::json},      {"last_error", Kind::text},
        {"errors", Kind::json},      {"worker", Kind::text},
        {"run_at", Kind::text},      {"lease_expires_at", Kind::text},
        {"enqueued_at", Kind::text}, {"started_at", Kind::text},
        {"finished_at", Kind::text},
    };
    std::string id = std::to_string(options.id);
    Result result =
        db.exec("SELECT id, queue, task, status, attempts, max_retries, priority, payload, result,"
                " last_error, errors, worker, to_json(run_at) #>> '{}',"
                " to_json(lease_expires_at) #>> '{}', to_json(enqueued_at) #>> '{}',"
                " to_json(started_at) #>> '{}', to_json(finished_at) #>> '{}'"
                " FROM cachequeue.job_status($1::bigint)",
                {id});
    if (result.rows() == 0)
        throw DbError("job " + id + " does not exist", "", false);
    print_record(out, result, columns, options.json);
    return exit_ok;
}

// ---- running and registering ----

int run_command(const ConninfoSource& conninfo, const std::function<int(Connection&)>& command,
                std::ostream& err)
{
    try {
        Connection db(conninfo());
        db.connect();
        return command(db);
    } catch (const DbError& e) {
        err << "cachequeue: error: " << printable(e.what());
        if (!e.sqlstate().empty())
            err << " (SQLSTATE " << e.sqlstate() << ")";
        err << '\n';
    } catch (const SettingsError& e) {
        // A setting the user can fix, as cachequeue settings reports it.
        err << "cachequeue: error: " << e.what() << '\n';
        return exit_usage;
    } catch (const std::exception& e) {
        err << "cachequeue: error: " << printable(e.what()) << '\n';
    }
    return exit_database;
}

namespace {

// --cache NAME, filling an optional.
void add_cache_option(CLI::App* command, std::optional<std::string>& target,
                      const std::string& description)
{
    command->add_option_function<std::string>(
        "--cache", [&target](const std::string& name) { target = name; }, description);
}

void add_json_flag(CLI::App* command, bool& target)
{
    command->add_flag("--json", target, "Print JSON instead of a table");
}

} // namespace

void add_management_commands(CLI::App& app, ConninfoSource conninfo, int& exit_code)
{
    // Runs a command in a subcommand's callback, on a connection of its own.
    auto run = [conninfo, &exit_code](std::function<int(Connection&)> command) {
        exit_code = run_command(conninfo, command, std::cerr);
    };

    // cache stats|cleanup|clear
    CLI::App* cache = app.add_subcommand("cache", "Inspect and clean caches");
    cache->require_subcommand(1);

    auto stats = std::make_shared<CacheOptions>();
    CLI::App* stats_cmd = cache->add_subcommand("stats", "Entry counts and settings per cache");
    add_cache_option(stats_cmd, stats->cache, "Only this cache (default: every cache)");
    add_json_flag(stats_cmd, stats->json);
    stats_cmd->callback([run, stats] {
        run([stats](Connection& db) { return cache_stats(db, *stats, std::cout); });
    });

    auto cleanup = std::make_shared<CacheOptions>();
    CLI::App* cleanup_cmd =
        cache->add_subcommand("cleanup", "Delete expired entries; print how many");
    add_cache_option(cleanup_cmd, cleanup->cache, "Only this cache (default: every cache)");
    add_json_flag(cleanup_cmd, cleanup->json);
    cleanup_cmd->callback([run, cleanup] {
        run([cleanup](Connection& db) { return cache_cleanup(db, *cleanup, std::cout); });
    });

    auto clear = std::make_shared<CacheOptions>();
    CLI::App* clear_cmd = cache->add_subcommand("clear", "Empty a cache (or every cache)");
    add_cache_option(clear_cmd, clear->cache, "The cache to empty (default: \"default\")");
    CLI::Option* all = clear_cmd->add_flag("--all", clear->all, "Empty every cache");
    all->excludes("--cache");
    add_json_flag(clear_cmd, clear->json);
    clear_cmd->callback([run, clear] {
        run([clear](Connection& db) { return cache_clear(db, *clear, std::cout); });
    });

    // queue stats|enqueue|retry|purge|status
    CLI::App* queue = app.add_subcommand("queue", "Inspect queues and manage jobs");
    queue->require_subcommand(1);

    auto qstats = std::make_shared<QueueStatsOptions>();
    CLI::App* qstats_cmd = queue->add_subcommand("stats", "Jobs per queue and status");
    add_json_flag(qstats_cmd, qstats->json);
    qstats_cmd->callback([run, qstats] {
        run([qstats](Connection& db) { return queue_stats(db, *qstats, std::cout); });
    });

    auto enqueue = std::make_shared<EnqueueOptions>();
    CLI::App* enqueue_cmd = queue->add_subcommand("enqueue", "Add a job; print its id");
    enqueue_cmd->add_option("QUEUE", enqueue->queue, "Queue name")->required();
    enqueue_cmd->add_option("TASK", enqueue->task, "Task name")->required();
    CLI::Validator is_json([](std::string& text) { return json_syntax_error(text); }, "JSON");
    enqueue_cmd
        ->add_option_function<std::string>(
            "--payload", [enqueue](const std::string& text) { enqueue->payload = text; },
            "The job's payload, a JSON object (default: {})")
        ->check(is_json);
    enqueue_cmd->add_option_function<int>(
        "--priority", [enqueue](const int& value) { enqueue->priority = value; },
        "Higher runs first (default: the queue's)");
    CLI::Option* run_at = enqueue_cmd->add_option_function<std::string>(
        "--run-at", [enqueue](const std::string& text) { enqueue->run_at = text; },
        "Run no earlier than this time (a timestamptz, such as '2025-01-31 08:00+00')");
    CLI::Option* delay =
        enqueue_cmd
            ->add_option_function<double>(
                "--delay", [enqueue](const double& seconds) { enqueue->delay = seconds; },
                "Run no earlier than this many seconds from now")
            ->check(CLI::Validator(
                [](std::string& text) {
                    char* end = nullptr;
                    double seconds = std::strtod(text.c_str(), &end);
                    bool ok = end != text.c_str() && *end == '\0' && seconds >= 0;
                    return ok ? std::string() : "must be a number of seconds, 0 or more";
                },
                "SECONDS"));
    run_at->excludes(delay);
    enqueue_cmd->add_option_function<std::string>(
        "--unique-key", [enqueue](const std::string& key) { enqueue->unique_key = key; },
        "Add no job while an unfinished one of the queue holds this key");
    add_json_flag(enqueue_cmd, enqueue->json);
    enqueue_cmd->callback([run, enqueue] {
        run([enqueue](Connection& db) { return queue_enqueue(db, *enqueue, std::cout); });
    });

    auto retry = std::make_shared<JobOptions>();
    CLI::App* retry_cmd = queue->add_subcommand("retry", "Queue a dead or cancelled job again");
    retry_cmd->add_option("JOB_ID", retry->id, "The job's id")->required();
    add_json_flag(retry_cmd, retry->json);
    retry_cmd->callback([run, retry] {
        run([retry](Connection& db) { return queue_retry(db, *retry, std::cout, std::cerr); });
    });

    auto purge = std::make_shared<PurgeOptions>();
    CLI::App* purge_cmd = queue->add_subcommand("purge", "Delete finished jobs; print how many");
    purge_cmd
        ->add_option("--older-than", purge->older_than,
                     "Jobs that finished longer ago than this interval (such as '7 days')")
        ->required();
    add_json_flag(purge_cmd, purge->json);
    purge_cmd->callback([run, purge] {
        run([purge](Connection& db) { return queue_purge(db, *purge, std::cout); });
    });

    // doctor: the findings of every check; the exit code says how bad the worst one is.
    auto doctor_json = std::make_shared<bool>(false);
    CLI::App* doctor_cmd =
        app.add_subcommand("doctor", "Check the database and say what looks wrong");
    add_json_flag(doctor_cmd, *doctor_json);
    doctor_cmd->callback([run, doctor_json] {
        run([doctor_json](Connection& db) {
            std::string database = db.exec("SELECT current_database()").get(0, 0);
            std::vector<Finding> findings = run_doctor(db);
            print_findings(std::cout, database, findings, *doctor_json);
            return doctor_exit_code(findings);
        });
    });

    auto status = std::make_shared<JobOptions>();
    CLI::App* status_cmd = queue->add_subcommand("status", "One job as it stands");
    status_cmd->add_option("JOB_ID", status->id, "The job's id")->required();
    add_json_flag(status_cmd, status->json);
    status_cmd->callback([run, status] {
        run([status](Connection& db) { return queue_status(db, *status, std::cout); });
    });
}

} // namespace cq::runner
