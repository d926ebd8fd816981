// The worker's /metrics endpoint (see metrics_server.hpp).
#include "metrics_server.hpp"

#include "db.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace cq::runner {

struct MetricsServer::Impl {
    Impl(const WorkerMetrics& metrics, std::string conninfo)
        : metrics(metrics), db(std::move(conninfo))
    {}

    std::string database_figures();

    const WorkerMetrics& metrics;
    httplib::Server server;
    std::thread thread;
    std::mutex db_mutex; // the server's threads share one connection
    Connection db;
    std::string last_error; // logged once until it changes
};

// cachequeue.metrics() when the extension has it, else "". A failure is logged, and the
// worker's own figures are served without the database's.
std::string MetricsServer::Impl::database_figures()
{
    std::lock_guard<std::mutex> lock(db_mutex);
    try {
        if (!db.connected())
            db.connect();
        // A slow database makes a scrape fail, not hang.
        Result found = db.exec_script(
            "SET LOCAL statement_timeout = '5s';"
            " SELECT pg_catalog.to_regprocedure('cachequeue.metrics()') IS NOT NULL");
        if (found.rows() != 1 || found.get(0, 0) != "t")
            return "";
        Result figures = db.exec_script("SET LOCAL statement_timeout = '5s';"
                                        " SELECT cachequeue.metrics()");
        last_error.clear();
        if (figures.rows() != 1 || figures.is_null(0, 0))
            return "";
        std::string text = figures.get(0, 0);
        if (!text.empty() && text.back() != '\n')
            text += '\n';
        return text;
    } catch (const DbError& error) {
        if (error.connection_lost())
            db.close();
        if (error.what() != last_error) {
            last_error = error.what();
            spdlog::warn("metrics: cannot read cachequeue.metrics(): {}", last_error);
        }
        return "";
    }
}

MetricsServer::MetricsServer(const WorkerMetrics& metrics, std::string conninfo)
    : impl_(std::make_unique<Impl>(metrics, std::move(conninfo)))
{}

MetricsServer::~MetricsServer()
{
    stop();
}

int MetricsServer::start(const std::string& address, int port)
{
    Impl& impl = *impl_;
    // Two threads: a scrape waiting for the database does not hold up a second one. One
    // request per connection, so an idle keep-alive connection holds no thread.
    impl.server.new_task_queue = [] { return new httplib::ThreadPool(2); };
    impl.server.set_keep_alive_max_count(1);
    // SO_REUSEADDR only: cpp-httplib's default adds SO_REUSEPORT, which lets a second worker
    // bind the same port and answer half of the scrapes.
    impl.server.set_socket_options([](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    impl.server.set_read_timeout(5, 0);
    impl.server.set_write_timeout(5, 0);
    impl.server.Get("/metrics", [&impl](const httplib::Request&, httplib::Response& response) {
        std::string body = impl.metrics.render() + impl.database_figures();
        response.set_content(body, "text/plain; version=0.0.4; charset=utf-8");
    });
    impl.server.Get("/", [](const httplib::Request&, httplib::Response& response) {
        response.set_content("cachequeue worker: see /metrics\n", "text/plain");
    });

    int bound = port;
    errno = 0;
    if (port == 0)
        bound = impl.server.bind_to_any_port(address);
    else if (!impl.server.bind_to_port(address, port))
        bound = -1;
    if (bound <= 0) {
        std::string why = errno != 0 ? std::strerror(errno) : "the address cannot be used";
        throw std::runtime_error("cannot serve metrics on " + address + ":" +
                                 std::to_string(port) + ": " + why);
    }
    impl.thread = std::thread([&impl] { impl.server.listen_after_bind(); });
    return bound;
}

void MetricsServer::stop()
{
    if (!impl_ || !impl_->thread.joinable())
        return;
    impl_->server.stop();
    impl_->thread.join();
}

} // namespace cq::runner
