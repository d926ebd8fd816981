// cachequeue: the command-line runner (worker, cache and queue management, settings).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "settings.hpp"

namespace {

// cachequeue settings [--json]: the resolved settings and where each value came from
int print_settings(const cq::runner::ResolveOptions& options, bool json)
{
    auto settings = cq::runner::resolve_settings(options, cq::runner::current_environ());
    if (json)
        std::cout << cq::runner::describe_json(settings).dump(
                         2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << '\n';
    else
        std::cout << cq::runner::describe(settings);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{"cachequeue: run queue workers and manage caches and queues"};
    app.set_version_flag("--version", "cachequeue 0.1.0");
    app.require_subcommand(0, 1);
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
    CLI11_PARSE(app, argc, argv);

    cq::runner::ResolveOptions options;
    if (env_file_opt->count())
        options.env_file = env_file;
    if (queue_config_opt->count())
        options.queue_config_file = queue_config;
    try {
        if (settings_cmd->parsed())
            return print_settings(options, json);
    } catch (const cq::runner::SettingsError& e) {
        std::cerr << "cachequeue: " << e.what() << '\n';
        return 2;
    }
    std::fputs(app.help().c_str(), stdout);
    return 0;
}
