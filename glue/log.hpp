// The runner's log: one line per event on stderr, through spdlog.
#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

namespace cq::runner {

// A logger that writes each line to stderr with one write(2), or, while the calling thread
// holds a LogBatch, keeps that thread's lines below warning and writes them together when
// the batch ends. A warning or worse goes out at once, after the lines held before it.
std::shared_ptr<spdlog::logger> make_stderr_logger(const std::string& name);

// Holds the calling thread's info and debug lines until it is destroyed (the worker logs a
// batch of completed jobs with one write instead of one per job). Batches nest; the
// outermost writes. Keep one only around code that does not block: a held line appears
// when the batch ends.
class LogBatch
{
public:
    LogBatch();
    ~LogBatch();
    LogBatch(const LogBatch&) = delete;
    LogBatch& operator=(const LogBatch&) = delete;
};

} // namespace cq::runner
