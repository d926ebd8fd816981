// cachequeue: the command-line runner (worker, cache and queue management, settings).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "commands.hpp"
#include "table.hpp"

int main(int argc, char** argv)
{
    CLI::App app{"cachequeue: run queue workers and manage caches and queues", "cachequeue"};
    app.set_version_flag("--version", "cachequeue 0.1.0");
    app.require_subcommand(0, 1);
    // Options of the program (--db) may also follow the subcommands; set before adding them.
    app.fallthrough();

    // The connection string. TODO replace with cq::runner::resolve_settings(...) once the
    // settings land; until then --db, or "" (libpq's PGHOST, PGPORT, PGUSER... and defaults).
    std::string db;
    app.add_option("--db", db, "libpq connection string or URI (default: the PG* variables)");
    cq::runner::ConninfoSource conninfo = [&db] { return db; };

    int exit_code = cq::runner::exit_ok;
    cq::runner::add_management_commands(app, conninfo, exit_code);

    // Usage errors: one line and exit 2 (CLI11's own codes are 100 and up); help and version
    // are "errors" with code 0.
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success))
            return app.exit(e);
        std::cerr << "cachequeue: error: " << cq::runner::printable(e.what())
                  << " (see cachequeue --help)\n";
        return cq::runner::exit_usage;
    }
    if (app.get_subcommands().empty()) {
        std::fputs(app.help().c_str(), stdout);
    }
    return exit_code;
}
