// Job handlers: the command run per job.
#include "handler.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "child_process.hpp"

namespace cq::runner {

namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;

// How long a blocked call may go without looking at the abort flag.
constexpr milliseconds abort_check{50};
// How much of stderr, or of a handler's own message, an error quotes.
constexpr std::size_t quote_bytes = 2048;

Outcome finished(Outcome::Kind kind, Clock::time_point started, std::string error = {},
                 std::string result = {})
{
    Outcome outcome;
    outcome.kind = kind;
    outcome.result = std::move(result);
    outcome.error = std::move(error);
    outcome.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return outcome;
}

std::string seconds_text(double seconds)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s", seconds);
    return text;
}

std::string bytes_text(std::size_t bytes)
{
    constexpr std::size_t mib = 1024 * 1024;
    return bytes % mib == 0 ? std::to_string(bytes / mib) + " MiB"
                            : std::to_string(bytes) + " bytes";
}

// How long the next wait may be: up to the deadline, and short enough to see the abort flag.
milliseconds tick(Clock::time_point deadline)
{
    auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now());
    return std::clamp(left, milliseconds(0), abort_check);
}

// ": <tail of stderr>", or nothing when the handler wrote nothing there.
std::string stderr_suffix(const ChildProcess& child)
{
    std::string tail = one_line(child.stderr_tail(), quote_bytes, Keep::end);
    return tail.empty() ? tail : ": " + tail;
}

// The error of a job whose handler was killed for running past its deadline or an abort.
std::string killed_text(std::string what, const Ended& ended, const HandlerOptions& options,
                        const ChildProcess& child)
{
    if (ended.forced) {
        what += "; SIGTERM ignored for " +
                seconds_text(std::chrono::duration<double>(options.kill_grace).count()) +
                ", killed with SIGKILL";
    }
    return what + stderr_suffix(child);
}

// A command's stdout as the job's result: JSON as written, blank as NULL, other text as a
// JSON string (the exit status, not the output, says whether the work was done).
std::string result_of(std::string_view out)
{
    const char* blank = " \t\r\n";
    std::size_t first = out.find_first_not_of(blank);
    if (first == std::string_view::npos) {
        return {};
    }
    out = out.substr(first, out.find_last_not_of(blank) - first + 1);
    if (json::accept(out.begin(), out.end())) {
        return std::string(out);
    }
    return json(std::string(out)).dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

const char* to_string(Outcome::Kind kind)
{
    switch (kind) {
    case Outcome::Kind::succeeded:
        return "succeeded";
    case Outcome::Kind::failed:
        return "failed";
    case Outcome::Kind::timed_out:
        return "timed_out";
    case Outcome::Kind::aborted:
        return "aborted";
    }
    return "unknown";
}

Outcome run_command(const HandlerSpec& spec, const JobInput& job, Clock::time_point deadline,
                    const std::atomic<bool>& abort, const HandlerOptions& options)
{
    using Kind = Outcome::Kind;
    auto started = Clock::now();
    if (abort.load()) {
        return finished(Kind::aborted, started,
                        "aborted by the worker before the handler started");
    }
    if (started >= deadline) {
        return finished(Kind::timed_out, started, "timed out before the handler started");
    }

    // start it, the job in its environment and the payload queued for its stdin
    std::vector<std::string> env = {
        "CACHEQUEUE_JOB_ID=" + std::to_string(job.id),
        "CACHEQUEUE_QUEUE=" + job.queue,
        "CACHEQUEUE_TASK=" + job.task,
        "CACHEQUEUE_ATTEMPT=" + std::to_string(job.attempt),
    };
    std::unique_ptr<ChildProcess> child;
    try {
        child = std::make_unique<ChildProcess>(spec.argv, env, options.max_output,
                                               options.stderr_line);
    } catch (const StartError& e) {
        return finished(Kind::failed, started, e.what());
    }
    child->send(job.payload.empty() ? "null" : job.payload);
    child->send("\n");
    child->close_input_when_sent();

    // feed and drain it until it exits, overruns, or the worker aborts
    enum class Stop { done, aborted, timed_out } stop = Stop::done;
    while (!child->exited() && !child->output_overflowed()) {
        if (abort.load()) {
            stop = Stop::aborted;
            break;
        }
        if (Clock::now() >= deadline) {
            stop = Stop::timed_out;
            break;
        }
        child->pump(tick(deadline));
    }
    double ran = std::chrono::duration<double>(Clock::now() - started).count();
    Ended ended = child->finish(options.kill_grace);

    // the outcome
    switch (stop) {
    case Stop::aborted:
        return finished(Kind::aborted, started,
                        killed_text("aborted by the worker", ended, options, *child));
    case Stop::timed_out:
        return finished(
            Kind::timed_out, started,
            killed_text("timed out after " + seconds_text(ran), ended, options, *child));
    case Stop::done:
        break;
    }
    if (child->output_overflowed()) {
        return finished(Kind::failed, started,
                        "handler wrote more than " + bytes_text(options.max_output) +
                            " to stdout" + stderr_suffix(*child));
    }
    if (ended.status != -1 && WIFEXITED(ended.status) && WEXITSTATUS(ended.status) == 0) {
        return finished(Kind::succeeded, started, {}, result_of(child->output()));
    }
    return finished(Kind::failed, started,
                    describe_wait_status(ended.status) + stderr_suffix(*child));
}

} // namespace cq::runner
