// The management commands (cache stats|cleanup|clear, queue stats|enqueue|retry|purge|status):
// each one calls one of the extension's SQL functions and prints its answer as a text table,
// or with --json as JSON. docs/commands.md describes them and their exit codes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "db.hpp"

namespace CLI {
class App;
}

namespace cq::runner {

// Exit codes of the management commands.
enum ExitCode : int {
    exit_ok = 0,
    exit_database = 1, // could not connect, an SQL error, or no such job
    exit_usage = 2,    // bad command line (CLI11 parse errors, a payload that is not JSON)
    exit_refused = 3,  // queue retry: the job is not in a state that can be retried
};

struct CacheOptions {
    std::optional<std::string> cache; // none: every cache (stats, cleanup), "default" (clear)
    bool all = false;                 // clear: every cache
    bool json = false;
};

struct QueueStatsOptions {
    bool json = false;
};

struct EnqueueOptions {
    std::string queue;
    std::string task;
    std::optional<std::string> payload; // JSON text; none: {}
    std::optional<int> priority;        // none: the queue's
    std::optional<std::string> run_at;  // a timestamptz literal
    std::optional<double> delay;        // seconds from now; excludes run_at
    std::optional<std::string> unique_key;
    bool json = false;
};

struct JobOptions {
    int64_t id = 0;
    bool json = false;
};

struct PurgeOptions {
    std::string older_than; // an interval literal
    bool json = false;
};

// Each command writes its answer to out and returns exit_ok, or a refusal to err with
// exit_refused; database errors come out as DbError (run_command prints them).
int cache_stats(Connection& db, const CacheOptions& options, std::ostream& out);
int cache_cleanup(Connection& db, const CacheOptions& options, std::ostream& out);
int cache_clear(Connection& db, const CacheOptions& options, std::ostream& out);
int queue_stats(Connection& db, const QueueStatsOptions& options, std::ostream& out);
int queue_enqueue(Connection& db, const EnqueueOptions& options, std::ostream& out);
int queue_retry(Connection& db, const JobOptions& options, std::ostream& out, std::ostream& err);
int queue_purge(Connection& db, const PurgeOptions& options, std::ostream& out);
int queue_status(Connection& db, const JobOptions& options, std::ostream& out);

// What a column holds, for its JSON value and its alignment in a table.
enum class Kind { text, integer, number, boolean, json };

// A value as JSON: NULL as null, numbers as numbers (Infinity and NaN as null), booleans from
// t/f, jsonb parsed (kept as a string in the rare case nlohmann cannot read it).
nlohmann::ordered_json json_value(const std::optional<std::string>& text, Kind kind);

// Why text is not JSON, or "" when it is.
std::string json_syntax_error(const std::string& text);

// Where the commands get their connection string: called only once a command is chosen, so
// --help and usage errors never need the settings.
using ConninfoSource = std::function<std::string()>;

// Connects with the conninfo and runs command; a DbError or other exception (from conninfo
// too) becomes one line on err ("cachequeue: error: <message> (SQLSTATE xxxxx)") and
// exit_database.
int run_command(const ConninfoSource& conninfo, const std::function<int(Connection&)>& command,
                std::ostream& err);

// Adds "cache" and "queue" with their subcommands to app. The chosen command runs in its
// CLI11 callback (after a successful parse) and stores its exit code in exit_code.
void add_management_commands(CLI::App& app, ConninfoSource conninfo, int& exit_code);

} // namespace cq::runner
