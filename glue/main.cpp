// cachequeue: the command-line runner (worker, cache and queue management, settings).
#include <CLI/CLI.hpp>

#include <cstdio>

int main(int argc, char** argv)
{
    CLI::App app{"cachequeue: run queue workers and manage caches and queues"};
    app.set_version_flag("--version", "cachequeue 0.1.0");
    app.require_subcommand(0, 1);
    CLI11_PARSE(app, argc, argv);
    if (app.get_subcommands().empty()) {
        std::fputs(app.help().c_str(), stdout);
    }
    return 0;
}
