// Job handlers: the command run per job and the long-lived line-protocol process.
#include "handler.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

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

// text as a JSON string. Queue and task names are nearly always printable ASCII without
// quotes or backslashes, which go in as they are; anything else is escaped by the library.
std::string json_string(const std::string& text)
{
    bool plain = std::all_of(text.begin(), text.end(), [](char c) {
        return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    });
    if (plain)
        return '"' + text + '"';
    return json(text).dump(-1, ' ', false, json::error_handler_t::replace);
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

PersistentHandler::PersistentHandler(HandlerSpec spec, HandlerOptions options)
    : spec_(std::move(spec)), options_(std::move(options)), restart_delay_(options_.restart_min)
{}

PersistentHandler::~PersistentHandler()
{
    stop(milliseconds(0));
}

long PersistentHandler::pid() const
{
    return child_ ? static_cast<long>(child_->pid()) : -1;
}

void PersistentHandler::stop(milliseconds grace)
{
    if (!child_) {
        return;
    }
    child_->close_input_when_sent();
    child_->wait_exit(grace);
    child_->finish(options_.kill_grace);
    child_.reset();
}

// A crash, a protocol error or a failed start: the next start waits, longer each time in a row.
void PersistentHandler::crashed()
{
    restart_at_ = Clock::now() + restart_delay_;
    restart_delay_ = std::min(restart_delay_ * 2, options_.restart_max);
}

// Ends the process after it broke the protocol or stopped answering, and fails the job.
Outcome PersistentHandler::lost_process(Clock::time_point started, const std::string& what)
{
    child_->finish(options_.kill_grace);
    std::string error = what + stderr_suffix(*child_);
    child_.reset();
    crashed();
    return finished(Outcome::Kind::failed, started, error);
}

bool PersistentHandler::can_send_ahead() const
{
    // A process that exited meanwhile is found by receive(), which then reports the jobs sent
    // ahead as not started: no need to ask the kernel before each job.
    return child_ && !sent_.empty() && !child_->input_refused() && !child_->output_closed();
}

Outcome PersistentHandler::run(const JobInput& job, Clock::time_point deadline,
                               const std::atomic<bool>& abort)
{
    if (auto outcome = send(job, deadline - Clock::now(), abort)) {
        return *outcome;
    }
    return receive(abort);
}

std::optional<Outcome> PersistentHandler::send(const JobInput& job, Clock::duration timeout,
                                               const std::atomic<bool>& abort)
{
    using Kind = Outcome::Kind;
    auto started = Clock::now();
    auto deadline = started + timeout;
    if (abort.load()) {
        return finished(Kind::aborted, started, "aborted by the worker before the job was sent");
    }
    if (timeout <= Clock::duration::zero()) {
        return finished(Kind::timed_out, started, "timed out before the job was sent");
    }

    // the job line; the payload goes in as written, its line breaks (outside strings) blanked
    std::string payload = job.payload.empty() ? "null" : job.payload;
    if (!json::accept(payload)) {
        return finished(Kind::failed, started, "payload is not valid JSON");
    }
    std::replace(payload.begin(), payload.end(), '\n', ' ');
    std::replace(payload.begin(), payload.end(), '\r', ' ');
    std::string line =
        "{\"id\":" + std::to_string(job.id) + ",\"queue\":" + json_string(job.queue) +
        ",\"task\":" + json_string(job.task) + ",\"attempt\":" + std::to_string(job.attempt) +
        ",\"payload\":" + payload + "}\n";

    if (!sent_.empty()) {
        // Sent ahead: the process is there (can_send_ahead); if it ends before reaching this
        // job, receive() says the job was not started.
        child_->send(line);
        sent_.push_back({job.id, timeout, started});
        return std::nullopt;
    }

    // a process that exited while idle is replaced before it is given the job
    if (child_ && child_->exited()) {
        child_->finish(options_.kill_grace);
        child_.reset();
        crashed();
    }

    // start one, after the back-off that follows a crash
    if (!child_) {
        while (Clock::now() < restart_at_) {
            if (abort.load()) {
                return finished(Kind::aborted, started,
                                "aborted by the worker while waiting to restart the handler");
            }
            if (Clock::now() >= deadline) {
                return finished(Kind::timed_out, started,
                                "timed out while waiting to restart the handler after a crash");
            }
            std::this_thread::sleep_for(std::min(tick(deadline), tick(restart_at_)));
        }
        try {
            child_ = std::make_unique<ChildProcess>(spec_.argv, std::vector<std::string>{},
                                                    options_.max_output, options_.stderr_line);
        } catch (const StartError& e) {
            crashed();
            return finished(Kind::failed, started, e.what());
        }
    }
    // An error quotes the end of stderr since the process was last idle: with jobs sent
    // ahead, what the jobs before the failing one wrote may come first.
    child_->clear_stderr_tail();
    child_->send(line);
    // The time spent waiting for a restart counts against the job's timeout.
    sent_.push_back({job.id, timeout, started});
    return std::nullopt;
}

Outcome PersistentHandler::receive(const std::atomic<bool>& abort)
{
    using Kind = Outcome::Kind;
    Sent job = sent_.front();
    sent_.pop_front();
    auto started = std::max(job.sent_at, answered_at_);
    if (!child_) {
        return finished(Kind::aborted, Clock::now(),
                        "not started: the handler process ended before it reached the job");
    }
    auto deadline = started + job.timeout;

    // the jobs sent since the last receive() go out in one write
    child_->write_now();

    // wait for one line on stdout
    std::string reply;
    std::size_t scanned = 0;
    for (;;) {
        std::string& out = child_->output();
        std::size_t eol = out.find('\n', scanned);
        if (eol != std::string::npos) {
            reply = out.substr(0, eol);
            out.erase(0, eol + 1);
            break;
        }
        scanned = out.size();
        if (child_->output_overflowed()) {
            return lost_process(started, "protocol error: reply longer than " +
                                             bytes_text(options_.max_output));
        }
        // pump() below watches for the process's exit: no system call to ask again
        if (child_->exit_seen() || child_->output_closed() || child_->input_refused()) {
            // it may be on its way out; what it wrote before going may still hold the reply
            bool running = !child_->wait_exit(options_.kill_grace);
            Ended ended = child_->finish(options_.kill_grace);
            if (child_->output().find('\n', scanned) != std::string::npos) {
                continue;
            }
            std::string what;
            if (running) {
                what = child_->output_closed() ? "handler closed its stdout"
                                               : "handler closed its stdin";
            } else if (ended.status != -1 && WIFEXITED(ended.status)) {
                what = "handler exited with status " + std::to_string(WEXITSTATUS(ended.status));
            } else {
                what = "handler " + describe_wait_status(ended.status);
            }
            return lost_process(started, what);
        }
        if (abort.load() || Clock::now() >= deadline) {
            bool aborted = abort.load();
            double ran = std::chrono::duration<double>(Clock::now() - started).count();
            Ended ended = child_->finish(options_.kill_grace);
            std::string error = killed_text(aborted ? "aborted by the worker"
                                                    : "timed out after " + seconds_text(ran),
                                            ended, options_, *child_);
            child_.reset();
            return finished(aborted ? Kind::aborted : Kind::timed_out, started, error);
        }
        child_->pump(tick(deadline));
    }
    answered_at_ = Clock::now();

    // the reply: {"id": <the job's>, "result": <any JSON>} or {"id": ..., "error": "..."}
    json answer = json::parse(reply, nullptr, false);
    auto quoted = [&reply] { return one_line(reply, 200, Keep::start); };
    if (answer.is_discarded()) {
        return lost_process(started, "protocol error: reply is not JSON: " + quoted());
    }
    if (!answer.is_object() || !answer.contains("id")) {
        return lost_process(started, "protocol error: reply has no \"id\": " + quoted());
    }
    const json& id = answer["id"];
    if (!id.is_number_integer() || id.get<long long>() != job.id) {
        return lost_process(started, "protocol error: reply names job " + id.dump() +
                                         ", the job sent was " + std::to_string(job.id));
    }
    restart_delay_ = options_.restart_min;
    if (answer.contains("error") && !answer["error"].is_null()) {
        const json& error = answer["error"];
        std::string text = one_line(error.is_string() ? error.get<std::string>() : error.dump(),
                                    quote_bytes, Keep::start);
        return finished(Kind::failed, started, text.empty() ? "handler reported an error" : text);
    }
    return finished(Kind::succeeded, started, {},
                    answer.contains("result") ? answer["result"].dump() : std::string());
}

} // namespace cq::runner
