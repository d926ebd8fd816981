// Running one job's handler: a command started per job, or a long-lived process fed one job
// per line. What a handler sees and must answer is described in docs/handlers.md.
//
// Every call blocks until the job has an outcome; the worker runs one call per concurrency
// slot, each slot on its own thread with its own objects. A call returns soon after its
// deadline passes or the abort flag is set, having killed the handler's process group.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
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
    std::string result;      // succeeded: JSON text, or empty for a NULL result
    std::string error;       // otherwise: one line saying what happened
    double seconds = 0;      // time spent in the call
    bool no_handler = false; // failed: no handler is configured for the job's task
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

class ChildProcess;

// A long-lived handler process, owned by one slot: started by the first job sent, fed one job
// per line, restarted (after a back-off) when it dies or breaks the protocol, replaced when
// a job times out. Not for use by several threads at once.
//
// Jobs may be sent ahead (the worker's --prefetch): the process answers them one by one in the
// order sent, and a job's time starts when the job before it was answered. When the process
// ends before answering (a crash, a protocol error, a timeout, the abort flag), the job it was
// running gets that outcome and the jobs sent after it, which it never started, come back as
// aborted ("not started"), so that the worker gives them back to their queue.
class PersistentHandler
{
public:
    explicit PersistentHandler(HandlerSpec spec, HandlerOptions options = {});
    // Stops the process as stop(0) does.
    ~PersistentHandler();
    PersistentHandler(const PersistentHandler&) = delete;
    PersistentHandler& operator=(const PersistentHandler&) = delete;

    // One job: send(), then receive().
    Outcome run(const JobInput& job, Clock::time_point deadline, const std::atomic<bool>& abort);

    // Sends the job's line, starting a process first when there is none (after the back-off
    // that follows a crash; a job sent while others are in flight never waits for that).
    // Returns the job's outcome when it was not sent: an invalid payload, a failed start, the
    // abort flag, or a timeout while waiting to restart.
    std::optional<Outcome> send(const JobInput& job, Clock::duration timeout,
                                const std::atomic<bool>& abort);
    // Whether a job sent now goes to a running process that already holds one.
    bool can_send_ahead() const;
    // How many jobs were sent and not yet answered.
    std::size_t in_flight() const { return sent_.size(); }
    // The id of the job the next receive() answers; in_flight() must not be 0.
    long long oldest_in_flight() const { return sent_.front().id; }
    // Waits for the answer to the oldest job sent; in_flight() must not be 0.
    Outcome receive(const std::atomic<bool>& abort);

    // Closes the handler's stdin and gives it up to grace to exit, then SIGTERM and, after
    // options.kill_grace, SIGKILL to its process group. The next job starts a new process.
    // The jobs in flight come back from receive() as aborted.
    void stop(std::chrono::milliseconds grace);

    // The current process's id (it may have exited since its last reply), or -1 when there
    // is none: before the first job, after stop(), after a job that ended the process.
    long pid() const;

private:
    struct Sent {
        long long id;
        Clock::duration timeout;
        Clock::time_point sent_at;
    };
    Outcome lost_process(Clock::time_point started, const std::string& what);
    void crashed();

    HandlerSpec spec_;
    HandlerOptions options_;
    std::unique_ptr<ChildProcess> child_;
    std::chrono::milliseconds restart_delay_;
    Clock::time_point restart_at_{};
    std::deque<Sent> sent_;
    // When the process last answered: the start of the job sent before that answer.
    Clock::time_point answered_at_{};
};

} // namespace cq::runner
