// Unit tests of the runner's log sink: whole lines on stderr, and the lines a LogBatch holds.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "log.hpp"
#include "temp_files.hpp"

using cq::runner::LogBatch;
using cq::runner::make_stderr_logger;

namespace {

// Points fd 2 at a file, with the runner's logger (pattern "LEVEL TEXT") as spdlog's
// default, for the life of the object; text() is what reached the file so far.
class CapturedStderr
{
public:
    CapturedStderr() : path_(dir_.path() + "/stderr")
    {
        saved_fd_ = dup(STDERR_FILENO);
        int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        REQUIRE(fd >= 0);
        dup2(fd, STDERR_FILENO);
        close(fd);
        saved_logger_ = spdlog::default_logger();
        auto logger = make_stderr_logger("test");
        logger->set_pattern("%l %v");
        spdlog::set_default_logger(logger);
    }
    ~CapturedStderr()
    {
        spdlog::set_default_logger(saved_logger_);
        dup2(saved_fd_, STDERR_FILENO);
        close(saved_fd_);
        std::remove(path_.c_str());
    }
    std::string text() const
    {
        std::ifstream in(path_);
        std::stringstream all;
        all << in.rdbuf();
        return all.str();
    }

private:
    cq::test::TempDir dir_;
    std::string path_;
    int saved_fd_ = -1;
    std::shared_ptr<spdlog::logger> saved_logger_;
};

} // namespace

TEST_CASE("each line reaches stderr as it is logged", "[log]")
{
    CapturedStderr err;
    spdlog::info("job={} outcome={}", 1, "succeeded");
    CHECK(err.text() == "info job=1 outcome=succeeded\n");
    spdlog::error("lost");
    CHECK(err.text() == "info job=1 outcome=succeeded\nerror lost\n");
}

TEST_CASE("a batch holds its thread's lines until it ends; a warning goes out at once", "[log]")
{
    CapturedStderr err;
    {
        LogBatch batch;
        spdlog::info("a");
        spdlog::debug("not logged at the default level");
        {
            LogBatch inner;
            spdlog::info("b");
        }
        CHECK(err.text().empty()); // the outer batch still holds them
        spdlog::warn("c");
        CHECK(err.text() == "info a\ninfo b\nwarning c\n"); // in order, the held lines first
        spdlog::info("d");
        CHECK(err.text() == "info a\ninfo b\nwarning c\n");
    }
    CHECK(err.text() == "info a\ninfo b\nwarning c\ninfo d\n");
}

TEST_CASE("a batch holds only its own thread's lines", "[log]")
{
    CapturedStderr err;
    LogBatch batch;
    spdlog::info("held");
    std::thread other([] { spdlog::info("from another thread"); });
    other.join();
    CHECK(err.text() == "info from another thread\n");
}
