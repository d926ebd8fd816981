// cachequeue: the command-line runner (worker, cache and queue management, settings).
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <optional>

#include "commands.hpp"
#include "db.hpp"
#include "log.hpp"
#include "settings.hpp"
#include "table.hpp"
#include "metrics_server.hpp"
#include "worker.hpp"

namespace {

using cq::runner::Settings;

using cq::runner::exit_database;
using cq::runner::exit_usage;

// cachequeue settings [--json]: the resolved settings and where each value came from
int print_settings(const Settings& settings, bool json)
{
    if (json)
        std::cout << cq::runner::describe_json(settings).dump(
                         2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << '\n';
    else
        std::cout << cq::runner::describe(settings);
    return 0;
}

// cachequeue queue sync: creates or updates every queue of QUEUE_CONFIG.
int sync_queues(const Settings& settings)
{
    const auto& queues = settings.queue_config.queues;
    if (queues.empty()) {
        std::cerr << "cachequeue: error: QUEUE_CONFIG names no queue (set QUEUE_CONFIG_FILE, "
                     "QUEUE_CONFIG or --queue-config)\n";
        return exit_usage;
    }
    cq::runner::Connection db(cq::runner::conninfo_string(settings));
    db.connect();
    for (const auto& queue : queues) {
        db.exec("SELECT cachequeue.queue_create($1, $2::integer,"
                " pg_catalog.make_interval(secs => $3::double precision), $4::integer)",
                {queue.name, std::to_string(queue.max_retries),
                 std::to_string(queue.timeout_seconds), std::to_string(queue.priority)});
        std::cout << "queue " << queue.name << ": max_retries " << queue.max_retries
                  << ", timeout " << queue.timeout_seconds << " s, priority " << queue.priority
                  << '\n';
    }
    return 0;
}

void setup_logging(const Settings& settings)
{
    spdlog::set_default_logger(cq::runner::make_stderr_logger("cachequeue"));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
    spdlog::set_level(spdlog::level::info);
    if (const auto* level = settings.find("CACHEQUEUE_LOG_LEVEL")) {
        auto parsed = spdlog::level::from_str(level->value);
        if (parsed == spdlog::level::off && level->value != "off")
            throw cq::runner::SettingsError("CACHEQUEUE_LOG_LEVEL: expected one of trace, "
                                            "debug, info, warning, error, critical, off");
        spdlog::set_level(parsed);
    }
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{"cachequeue: run queue workers and manage caches and queues", "cachequeue"};
    app.set_version_flag("--version", "cachequeue 0.1.0");
    app.require_subcommand(0, 1);
    // Options of the program (--env-file) may also follow the subcommands.
    app.fallthrough();
    std::string env_file, queue_config;
    auto* env_file_opt =
        app.add_option("--env-file", env_file, "Read this .env file (default: ./.env if present)");
    auto* queue_config_opt =
        app.add_option("--queue-config", queue_config, "Read QUEUE_CONFIG from this JSON file");

    bool json = false;
    auto* settings_cmd =
        app.add_subcommand("settings", "Print the resolved settings and where each came from");
    settings_cmd->add_flag("--json", json, "Print them as JSON");

    cq::runner::WorkerOptions worker;
    auto* worker_cmd = app.add_subcommand("worker", "Claim jobs and run their handlers");
    worker_cmd->add_option("queues", worker.queues, "The queues to claim from")->required();
    worker_cmd->add_option("--batch-size", worker.batch_size, "Jobs per claim")
        ->check(CLI::Range(1, 1000));
    worker_cmd->add_option("--concurrency", worker.concurrency, "Jobs run at once")
        ->check(CLI::Range(1, 256));
    worker_cmd
        ->add_option("--connections", worker.connections,
                     "Database connections, each claiming for its share of the slots")
        ->check(CLI::Range(1, 64));
    worker_cmd
        ->add_option("--prefetch", worker.prefetch,
                     "Claimed jobs a long-lived handler may be sent before it answers the first")
        ->check(CLI::Range(1, 1000));
    worker_cmd
        ->add_option("--grace", worker.grace_seconds,
                     "Seconds running jobs get to finish after SIGTERM or SIGINT")
        ->check(CLI::Range(0.0, 86400.0));
    worker_cmd->add_option("--name", worker.worker_name,
                           "The name recorded on the jobs (default: host:pid)");
    std::string wake = "auto";
    worker_cmd
        ->add_option("--wake", wake,
                     "listen (LISTEN/NOTIFY), poll, or auto (poll behind a transaction pooler)")
        ->check(CLI::IsMember({"auto", "listen", "poll"}));
    worker_cmd
        ->add_option("--poll-max", worker.poll_max_seconds,
                     "Longest wait between claims that find nothing, in seconds")
        ->check(CLI::Range(0.01, 3600.0));
    worker_cmd
        ->add_option("--max-jobs", worker.max_jobs,
                     "Exit after this many jobs (0: until a signal)")
        ->check(CLI::NonNegativeNumber);
    worker_cmd->add_flag("--until-empty", worker.until_empty,
                         "Exit when a claim finds nothing and no job is running");
    int metrics_port = -1;
    std::string metrics_address = "127.0.0.1";
    auto* metrics_port_opt =
        worker_cmd
            ->add_option("--metrics-port", metrics_port,
                         "Serve Prometheus metrics at http://ADDRESS:PORT/metrics (0: any free "
                         "port, logged)")
            ->check(CLI::Range(0, 65535));
    worker_cmd
        ->add_option("--metrics-address", metrics_address,
                     "The address the metrics server listens on (default: 127.0.0.1)")
        ->needs(metrics_port_opt);

    cq::runner::ResolveOptions options;
    auto resolve = [&] {
        if (env_file_opt->count())
            options.env_file = env_file;
        if (queue_config_opt->count())
            options.queue_config_file = queue_config;
        return cq::runner::resolve_settings(options, cq::runner::current_environ());
    };
    // The management commands (docs/commands.md) run in their CLI11 callbacks.
    int exit_code = cq::runner::exit_ok;
    cq::runner::add_management_commands(
        app, [&] { return cq::runner::conninfo_string(resolve()); }, exit_code);
    auto* sync_cmd = app.get_subcommand("queue")->add_subcommand(
        "sync", "Create or update the queues of QUEUE_CONFIG");

    // Usage errors: one line and exit 2 (CLI11's own codes are 100 and up); help and version
    // are "errors" with code 0.
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success))
            return app.exit(e);
        std::cerr << "cachequeue: error: " << cq::runner::printable(e.what())
                  << " (see cachequeue --help)\n";
        return exit_usage;
    }
    try {
        if (app.get_subcommands().empty()) {
            std::fputs(app.help().c_str(), stdout);
            return 0;
        }
        if (!settings_cmd->parsed() && !sync_cmd->parsed() && !worker_cmd->parsed())
            return exit_code; // a management command, run by its callback
        Settings settings = resolve();
        setup_logging(settings);
        for (const std::string& warning : settings.warnings)
            spdlog::warn("{}", warning);
        if (settings_cmd->parsed())
            return print_settings(settings, json);
        if (sync_cmd->parsed())
            return sync_queues(settings);
        if (worker_cmd->parsed()) {
            if (worker.connections > worker.concurrency) {
                std::cerr << "cachequeue: error: --connections " << worker.connections
                          << " needs --concurrency " << worker.connections
                          << " or more (each connection claims for at least one slot)\n";
                return exit_usage;
            }
            if (worker.connections > 1 && worker.max_jobs > 0) {
                std::cerr << "cachequeue: error: --max-jobs works with one connection only"
                             " (drop --connections)\n";
                return exit_usage;
            }
            worker.conninfo = cq::runner::conninfo_string(settings);
            worker.handlers = settings.queue_config.handlers;
            if (wake == "auto")
                worker.listen = settings.pooler != cq::runner::PoolerMode::transaction;
            else
                worker.listen = wake == "listen";
            cq::runner::WorkerMetrics metrics;
            cq::runner::MetricsServer server(metrics, worker.conninfo);
            if (metrics_port >= 0) {
                try {
                    int port = server.start(metrics_address, metrics_port);
                    spdlog::info("metrics at http://{}:{}/metrics", metrics_address, port);
                } catch (const std::runtime_error& e) {
                    std::cerr << "cachequeue: error: " << e.what() << '\n';
                    return exit_usage;
                }
            }
            int status = cq::runner::run_worker(worker, metrics);
            server.stop();
            return status;
        }
    } catch (const cq::runner::SettingsError& e) {
        std::cerr << "cachequeue: " << e.what() << '\n';
        return exit_usage;
    } catch (const cq::runner::DbError& e) {
        std::cerr << "cachequeue: error: " << e.what()
                  << (e.sqlstate().empty() ? "" : " (SQLSTATE " + e.sqlstate() + ")") << '\n';
        return exit_database;
    } catch (const std::exception& e) {
        std::cerr << "cachequeue: error: " << e.what() << '\n';
        return exit_database;
    }
    std::fputs(app.help().c_str(), stdout);
    return 0;
}
