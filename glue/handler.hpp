// Running one job's handler: a command started per job.
//
// Every call blocks until the job has an outcome; the worker runs one call per concurrency
// slot, each slot on its own thread with its own objects. A call returns soon after its
// deadline passes or the abort flag is set, having killed the handler's process group.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "handler_spec.hpp"

namespace cq::runner {

// The job as a handler receives it.
struct JobInput {
    long long id = 0;
    std::string queue;
    std::string task;
    int attempt = 0;
    std::string payload; // JSON text; empty stands for SQL NULL and is sent as null
};

// What became of a job.
struct Outcome {
    enum class Kind { succeeded, failed, timed_out, aborted };
    Kind kind = Kind::failed;
    std::string result; // succeeded: JSON text, or empty for a NULL result
    std::string error;  // otherwise: one line saying what happened
    double seconds = 0; // time spent in the call
};

const char* to_string(Outcome::Kind kind);

using Clock = std::chrono::steady_clock;

struct HandlerOptions {
    // The most a command handler may write to stdout, and the longest reply line of a
    // long-lived handler; more fails the job.
    std::size_t max_output = 16 * 1024 * 1024;
    // How long a handler has between SIGTERM and SIGKILL.
    std::chrono::milliseconds kill_grace{1000};
    // Wait before restarting a long-lived handler that crashed: doubles with each crash in a
    // row up to the maximum, back to the minimum after a reply.
    std::chrono::milliseconds restart_min{100};
    std::chrono::milliseconds restart_max{30'000};
    // Called with each line the handler writes to stderr (without the newline), on the
    // calling thread. Unset: stderr only feeds the tail quoted in error messages.
    std::function<void(std::string_view)> stderr_line;
};

// Runs one job in a process of its own: the payload on stdin, the job in CACHEQUEUE_*
// environment variables, the result from stdout and the exit status.
Outcome run_command(const HandlerSpec& spec, const JobInput& job, Clock::time_point deadline,
                    const std::atomic<bool>& abort, const HandlerOptions& options = {});

} // namespace cq::runner
