// `cachequeue worker --metrics-port N`: an HTTP server (cpp-httplib) on threads of its own,
// answering GET /metrics with the worker's figures (metrics.hpp) followed by the database's,
// from cachequeue.metrics() when the installed extension has that function. The database
// figures are read on a connection of the server's own, so a scrape never waits for the
// worker's connection and the worker never waits for a scrape.
#pragma once

#include "metrics.hpp"

#include <memory>
#include <string>

namespace cq::runner {

class MetricsServer
{
public:
    MetricsServer(const WorkerMetrics& metrics, std::string conninfo);
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;
    ~MetricsServer();

    // Binds address:port (port 0: any free port) and starts serving; returns the port.
    // Throws std::runtime_error when it cannot bind.
    int start(const std::string& address, int port);
    // Stops serving and waits for the server's threads.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace cq::runner
