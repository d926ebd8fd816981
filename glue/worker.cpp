// `cachequeue worker` (see worker.hpp and docs/worker.md).
#include "worker.hpp"

#include "db.hpp"
#include "handler.hpp"
#include "log.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <exception>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <poll.h>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace cq::runner {

namespace {

using Seconds = std::chrono::duration<double>;

// SIGINT and SIGTERM reach the main loop through this pipe.
int signal_pipe[2] = {-1, -1};
volatile sig_atomic_t signals_seen = 0;

extern "C" void on_stop_signal(int)
{
    int saved = errno;
    signals_seen = signals_seen + 1;
    char byte = 1;
    ssize_t ignored = write(signal_pipe[1], &byte, 1);
    (void)ignored;
    errno = saved;
}

void install_signal_handlers()
{
    if (signal_pipe[0] < 0) {
        if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
            throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
    }
    struct sigaction action {
    };
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

void drain_fd(int fd)
{
    char buffer[64];
    while (read(fd, buffer, sizeof buffer) > 0) {
    }
}

std::string default_worker_name()
{
    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    return std::string(host) + ":" + std::to_string(getpid());
}

// A job from its claim to its outcome.
struct Job {
    JobInput input;
    std::string lease;
    double timeout = 0;          // the queue's timeout, as the claim's lease gave it
    Clock::time_point lease_end; // as far as this worker knows
    bool started = false;
    bool finished = false; // an outcome is waiting to be recorded
    Clock::time_point finished_at;
    Outcome outcome;
};

struct Done {
    long long id;
    Outcome outcome;
};

// The state the slots share with the main loop.
struct Shared {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<std::pair<JobInput, double>> waiting; // job, timeout in seconds
    std::vector<Done> done;
    bool closing = false;
    int wake_pipe[2] = {-1, -1};
    bool woken = false; // a byte is in wake_pipe that the main loop has not taken yet
    std::atomic<bool> abort{false};
    WorkerMetrics* metrics = nullptr;
};

void wake(Shared& shared)
{
    char byte = 1;
    ssize_t ignored = write(shared.wake_pipe[1], &byte, 1);
    (void)ignored;
}

// Batches: the next one is claimed once fewer than a batch of jobs wait for a slot, so that
// the slots work through one batch while the next is claimed and the last one recorded.
int claim_ahead(const WorkerOptions& options)
{
    return std::max(options.batch_size, options.concurrency);
}

// Hands a job's outcome to the main loop, and wakes it when it has something to do: a slot to
// refill, a batch of successes to record, a failure. Otherwise it collects successes on its
// own timer.
void report(Shared& shared, const WorkerOptions& options, long long id, Outcome outcome)
{
    bool needed;
    {
        std::lock_guard<std::mutex> lock(shared.mutex);
        needed = outcome.kind != Outcome::Kind::succeeded || options.batch_size == 1 ||
                 static_cast<int>(shared.done.size()) + 1 >= options.batch_size ||
                 static_cast<int>(shared.waiting.size()) < claim_ahead(options);
        shared.done.push_back({id, std::move(outcome)});
        // One wake-up until the main loop takes the outcomes (while it waits for a claim,
        // every job a slot finishes would otherwise write a byte).
        needed = needed && !shared.woken;
        shared.woken = shared.woken || needed;
    }
    if (needed)
        wake(shared);
}

Clock::duration timeout_of(double seconds)
{
    return std::chrono::duration_cast<Clock::duration>(Seconds(seconds));
}

// The next waiting job when its task's handler is this long-lived one (a job to send ahead
// to the handler's process).
std::optional<std::pair<JobInput, double>>
take_same_handler(Shared& shared, const WorkerOptions& options, const HandlerSpec& spec)
{
    std::lock_guard<std::mutex> lock(shared.mutex);
    if (shared.waiting.empty())
        return std::nullopt;
    auto handler = options.handlers.find(shared.waiting.front().first.task);
    if (handler == options.handlers.end() || !handler->second.persistent ||
        handler->second.argv != spec.argv)
        return std::nullopt;
    auto next = std::move(shared.waiting.front());
    shared.waiting.pop_front();
    return next;
}

// Runs a job through its long-lived handler, sending the next waiting jobs for the same
// handler ahead (up to options.prefetch in flight) and reporting each as it is answered.
void run_persistent(Shared& shared, const WorkerOptions& options, PersistentHandler& process,
                    const HandlerSpec& spec, const std::pair<JobInput, double>& first)
{
    auto send = [&](const std::pair<JobInput, double>& job) {
        if (auto refused = process.send(job.first, timeout_of(job.second), shared.abort))
            report(shared, options, job.first.id, std::move(*refused));
    };
    send(first);
    while (process.in_flight() > 0) {
        while (static_cast<int>(process.in_flight()) < options.prefetch &&
               process.can_send_ahead()) {
            auto next = take_same_handler(shared, options, spec);
            if (!next)
                break;
            send(*next);
        }
        long long id = process.oldest_in_flight();
        shared.metrics->job_started();
        Outcome outcome = process.receive(shared.abort);
        shared.metrics->job_stopped();
        report(shared, options, id, std::move(outcome));
    }
}

// One concurrency slot: runs jobs until the main loop closes. Its long-lived handler processes
// are one per command line: tasks whose handlers are the same argv share one process, which
// tells them apart by the "task" of each job line.
void slot_main(Shared& shared, const WorkerOptions& options, int slot)
{
    std::map<std::vector<std::string>, std::unique_ptr<PersistentHandler>> persistent;
    HandlerOptions handler_options;
    handler_options.stderr_line = [slot](std::string_view line) {
        spdlog::warn("slot={} handler stderr: {}", slot, line);
    };
    for (;;) {
        std::pair<JobInput, double> next;
        {
            std::unique_lock<std::mutex> lock(shared.mutex);
            shared.ready.wait(lock, [&] { return shared.closing || !shared.waiting.empty(); });
            if (shared.waiting.empty())
                break;
            next = std::move(shared.waiting.front());
            shared.waiting.pop_front();
        }
        const JobInput& job = next.first;
        auto handler = options.handlers.find(job.task);
        if (handler != options.handlers.end() && handler->second.persistent) {
            auto& process = persistent[handler->second.argv];
            if (!process)
                process = std::make_unique<PersistentHandler>(handler->second, handler_options);
            run_persistent(shared, options, *process, handler->second, next);
            continue;
        }
        Outcome outcome;
        shared.metrics->job_started();
        if (handler == options.handlers.end()) {
            outcome.kind = Outcome::Kind::failed;
            outcome.error = "no handler for task \"" + job.task + "\"";
            outcome.no_handler = true;
        } else {
            auto deadline = Clock::now() + timeout_of(next.second);
            outcome = run_command(handler->second, job, deadline, shared.abort, handler_options);
        }
        shared.metrics->job_stopped();
        report(shared, options, job.id, std::move(outcome));
    }
    for (auto& entry : persistent)
        entry.second->stop(std::chrono::milliseconds(1000));
}

// An SQL array literal of the items, e.g. {"email","report"}: each element in double quotes
// with " and \ escaped, so any text goes in as it is; with empty_is_null, an empty item is
// the element NULL.
std::string array_literal(const std::vector<std::string>& items, bool empty_is_null = false)
{
    std::string out = "{";
    for (size_t i = 0; i < items.size(); i++) {
        if (i > 0)
            out += ',';
        if (empty_is_null && items[i].empty()) {
            out += "NULL";
            continue;
        }
        out += '"';
        for (char c : items[i]) {
            if (c == '"' || c == '\\')
                out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

class Worker
{
public:
    Worker(const WorkerOptions& options, WorkerMetrics& metrics)
        : options_(options), metrics_(metrics), db_(options.conninfo),
          name_(options.worker_name.empty() ? default_worker_name() : options.worker_name)
    {
        shared_.metrics = &metrics;
        if (pipe2(shared_.wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
            throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
    }
    ~Worker()
    {
        close(shared_.wake_pipe[0]);
        close(shared_.wake_pipe[1]);
    }
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    int run();
    // From another thread: wakes the loop (to see a signal another loop took off the pipe).
    void nudge() { wake(shared_); }
    // From another thread: drain and stop, as on SIGTERM (another loop failed).
    void request_stop()
    {
        stop_requested_ = true;
        nudge();
    }
    // Called when this loop takes a signal off the pipe, to nudge the other loops.
    std::function<void()> on_signal;

private:
    bool ensure_connected();
    // The successes not yet recorded.
    struct Successes {
        std::vector<long long> ids;
        std::vector<std::string> leases;
        std::vector<std::string> results; // JSON text; empty: a NULL result
        Clock::time_point oldest = Clock::time_point::max();
    };
    Successes successes() const;
    // The statement that records them; its rows are the ids whose leases were not current.
    std::string complete_sql(const Successes& done);
    // Takes the outcome of complete_sql(done), done being every success waiting.
    void completed(const Successes& done, const Result& refused);
    // Claims up to count jobs, recording the successes waiting in the same transaction.
    void claim(int count);
    void record_outcomes();
    void flush();
    void record_failures();
    void heartbeat();
    void release_waiting();
    void log_job(const Job& job, const char* outcome, double seconds, const std::string& error);
    // Logs a job's outcome and counts it in the metrics.
    void finish_job(const Job& job, const char* outcome, const std::string& error);
    void lease_lost(Job& job, const std::string& action);
    bool completed_by_us(long long id);
    int running() const { return static_cast<int>(jobs_.size()); }
    // Jobs claimed whose handlers have not answered yet.
    int unfinished() const;
    // One job per claim: claim when a slot is idle. Batches: claim the next batch before the
    // slots run out of jobs.
    bool claim_wanted();
    bool all_finished() const;
    void begin_stop(const char* why);
    void loop();
    void stop_slots(std::vector<std::thread>& slots);
    void wait(double seconds);

    const WorkerOptions& options_;
    WorkerMetrics& metrics_;
    Connection db_;
    std::string name_;
    Shared shared_;
    std::map<long long, Job> jobs_; // claimed and not yet recorded
    bool stopping_ = false;
    Clock::time_point grace_end_{};
    Clock::time_point next_claim_{};
    double poll_delay_ = 0;
    Clock::time_point next_connect_{};
    double reconnect_delay_ = 0.5;
    bool was_connected_ = false;
    long long finished_jobs_ = 0;
    bool ran_dry_ = false;
    Clock::time_point next_flush_ = Clock::time_point::max();
    std::atomic<bool> stop_requested_{false};
};

// How long a success may wait to be recorded with others.
constexpr std::chrono::milliseconds completion_delay{20};

bool Worker::claim_wanted()
{
    if (options_.batch_size == 1)
        return unfinished() < options_.concurrency;
    std::lock_guard<std::mutex> lock(shared_.mutex);
    return static_cast<int>(shared_.waiting.size()) < claim_ahead(options_);
}

int Worker::unfinished() const
{
    return static_cast<int>(std::count_if(
        jobs_.begin(), jobs_.end(), [](const auto& entry) { return !entry.second.finished; }));
}

bool Worker::ensure_connected()
{
    if (db_.connected())
        return true;
    if (Clock::now() < next_connect_)
        return false;
    try {
        db_.connect();
        if (options_.listen) {
            std::string listen;
            for (const std::string& queue : options_.queues)
                listen += "LISTEN " + db_.quote_identifier("cachequeue_" + queue) + ";";
            db_.exec_script(listen);
        }
        if (was_connected_) {
            metrics_.reconnected();
            spdlog::info("reconnected to the database");
        }
        was_connected_ = true;
        reconnect_delay_ = 0.5;
        return true;
    } catch (const DbError& error) {
        db_.close();
        spdlog::error("{}; next attempt in {:.1f} s", error.what(), reconnect_delay_);
        next_connect_ =
            Clock::now() + std::chrono::duration_cast<Clock::duration>(Seconds(reconnect_delay_));
        reconnect_delay_ = std::min(reconnect_delay_ * 2, options_.reconnect_max_seconds);
        return false;
    }
}

void Worker::log_job(const Job& job, const char* outcome, double seconds, const std::string& error)
{
    if (error.empty())
        spdlog::info("job={} queue={} task={} attempt={} outcome={} duration={:.3f}s",
                     job.input.id, job.input.queue, job.input.task, job.input.attempt, outcome,
                     seconds);
    else
        spdlog::warn("job={} queue={} task={} attempt={} outcome={} duration={:.3f}s error={}",
                     job.input.id, job.input.queue, job.input.task, job.input.attempt, outcome,
                     seconds, nlohmann::json(error).dump());
}

void Worker::finish_job(const Job& job, const char* outcome, const std::string& error)
{
    log_job(job, outcome, job.outcome.seconds, error);
    // A job given back before it started, or without a handler, ran for no time.
    bool ran = job.outcome.kind != Outcome::Kind::aborted || job.outcome.seconds > 0;
    // A job without a handler is logged as failed and counted apart; its lease may be lost.
    bool no_handler = job.outcome.no_handler && std::string_view(outcome) == "failed";
    const char* counted = no_handler ? "no_handler" : outcome;
    std::optional<double> seconds;
    if (ran && !job.outcome.no_handler)
        seconds = job.outcome.seconds;
    metrics_.job_finished(job.input.queue, job.input.task, counted, seconds);
}

void Worker::claim(int count)
{
    // The successes waiting are recorded in the claim's transaction: one round trip and one
    // commit for both. Without them, the claim's transaction may commit without waiting for
    // the disk: a claim lost in a crash only makes the job run again
    // (cachequeue.synchronous_claim in the README).
    Successes done = successes();
    std::ostringstream sql;
    if (done.ids.empty())
        sql << "SET LOCAL cachequeue.synchronous_claim = off;";
    else
        sql << complete_sql(done) << ";";
    sql << " SELECT id, queue, task, payload, attempt, lease,"
        << " extract(epoch FROM lease_expires_at - clock_timestamp())"
        << " FROM cachequeue.job_claim(" << db_.quote_literal(array_literal(options_.queues))
        << "::text[], " << db_.quote_literal(name_) << ", " << count << ")";
    std::vector<Result> results;
    try {
        results = db_.exec_script_results(sql.str());
    } catch (const DbError& error) {
        // A claim that fails (a queue dropped, say) took the successes down with it: they
        // are recorded on their own before the error goes on.
        if (!error.connection_lost() && !done.ids.empty())
            completed(done, db_.exec_script(complete_sql(done)));
        throw;
    }
    if (!done.ids.empty())
        completed(done, results.front());
    const Result& rows = results.back();
    auto now = Clock::now();
    for (int row = 0; row < rows.rows(); row++) {
        Job job;
        job.input.id = std::stoll(rows.get(row, 0));
        job.input.queue = rows.get(row, 1);
        job.input.task = rows.get(row, 2);
        job.input.payload = rows.get(row, 3);
        job.input.attempt = std::stoi(rows.get(row, 4));
        job.lease = rows.get(row, 5);
        job.timeout = std::max(0.001, std::stod(rows.get(row, 6)));
        job.lease_end = now + std::chrono::duration_cast<Clock::duration>(Seconds(job.timeout));
        {
            std::lock_guard<std::mutex> lock(shared_.mutex);
            shared_.waiting.emplace_back(job.input, job.timeout);
        }
        jobs_.emplace(job.input.id, std::move(job));
    }
    metrics_.claimed(rows.rows());
    if (rows.rows() > 0)
        shared_.ready.notify_all();
    ran_dry_ = rows.rows() < count;
    if (ran_dry_) {
        poll_delay_ = poll_delay_ == 0 ? options_.poll_min_seconds
                                       : std::min(poll_delay_ * 2, options_.poll_max_seconds);
        next_claim_ =
            Clock::now() + std::chrono::duration_cast<Clock::duration>(Seconds(poll_delay_));
    } else {
        poll_delay_ = 0;
    }
}

// Moves the slots' outcomes onto their jobs.
void Worker::record_outcomes()
{
    std::vector<Done> done;
    {
        std::lock_guard<std::mutex> lock(shared_.mutex);
        done.swap(shared_.done);
        shared_.woken = false;
    }
    for (Done& item : done) {
        auto job = jobs_.find(item.id);
        if (job == jobs_.end())
            continue;
        job->second.finished = true;
        job->second.finished_at = Clock::now();
        job->second.outcome = std::move(item.outcome);
    }
}

bool Worker::completed_by_us(long long id)
{
    Result status =
        db_.exec("SELECT status, worker FROM cachequeue.job_status($1)", {std::to_string(id)});
    return status.rows() == 1 && status.get(0, 0) == "succeeded" && status.get(0, 1) == name_;
}

void Worker::lease_lost(Job& job, const std::string& action)
{
    finish_job(job, "lease_lost",
               "could not " + action +
                   ": the lease is not current (the job was taken over, cancelled or reaped)");
}

Worker::Successes Worker::successes() const
{
    Successes done;
    for (const auto& [id, job] : jobs_) {
        if (job.finished && job.outcome.kind == Outcome::Kind::succeeded) {
            done.ids.push_back(id);
            done.leases.push_back(job.lease);
            done.results.push_back(job.outcome.result);
            done.oldest = std::min(done.oldest, job.finished_at);
        }
    }
    return done;
}

std::string Worker::complete_sql(const Successes& done)
{
    // Three array literals, in the order of done.ids; an empty result is NULL.
    std::vector<std::string> ids;
    for (long long id : done.ids)
        ids.push_back(std::to_string(id));
    return "SELECT pg_catalog.unnest(cachequeue.job_complete_many(" +
           db_.quote_literal(array_literal(ids)) + "::pg_catalog.int8[], " +
           db_.quote_literal(array_literal(done.leases)) + "::pg_catalog.uuid[], " +
           db_.quote_literal(array_literal(done.results, true)) + "::pg_catalog.jsonb[]))";
}

// Records every finished job: successes in one job_complete_many (when due), the others one
// by one.
void Worker::flush()
{
    Successes done = successes();
    // Successes go in one statement (one commit): once a batch's worth is done, or nothing
    // else is running, or the oldest has waited completion_delay.
    bool send = !done.ids.empty() &&
                (static_cast<int>(done.ids.size()) >= options_.batch_size || unfinished() == 0 ||
                 stopping_ || Clock::now() - done.oldest >= completion_delay);
    next_flush_ =
        send || done.ids.empty() ? Clock::time_point::max() : done.oldest + completion_delay;
    if (send)
        completed(done, db_.exec_script(complete_sql(done)));
    record_failures();
}

void Worker::completed(const Successes& done, const Result& left)
{
    std::vector<long long> refused;
    for (int row = 0; row < left.rows(); row++)
        refused.push_back(std::stoll(left.get(row, 0)));
    // The batch's lines go out in one write (a refused completion, rare, may check its job's
    // status in the database first).
    LogBatch batch;
    for (long long id : done.ids) {
        Job& job = jobs_.at(id);
        bool was_refused = std::find(refused.begin(), refused.end(), id) != refused.end();
        // After a lost connection the first attempt may have committed after all.
        if (was_refused && !completed_by_us(id)) {
            lease_lost(job, "complete");
        } else {
            finish_job(job, "succeeded", "");
        }
        finished_jobs_++;
        jobs_.erase(id);
    }
    next_flush_ = Clock::time_point::max(); // done held every success waiting
}

// Records the jobs that did not succeed, one by one.
void Worker::record_failures()
{
    for (auto it = jobs_.begin(); it != jobs_.end();) {
        Job& job = it->second;
        if (!job.finished || job.outcome.kind == Outcome::Kind::succeeded) {
            ++it; // still running, or a success waiting for others
            continue;
        }
        std::string id = std::to_string(job.input.id);
        try {
            if (job.outcome.kind == Outcome::Kind::aborted) {
                db_.exec("SELECT cachequeue.job_release($1, $2)", {id, job.lease});
                finish_job(job, "released", job.outcome.error);
            } else {
                bool timed_out = job.outcome.kind == Outcome::Kind::timed_out;
                Result status = db_.exec("SELECT cachequeue.job_fail($1, $2, $3)",
                                         {id, job.lease, job.outcome.error});
                finish_job(job, timed_out ? "timed_out" : "failed",
                           job.outcome.error + " (now " + status.get(0, 0) + ")");
            }
        } catch (const DbError& error) {
            if (error.connection_lost())
                throw;
            if (error.sqlstate() == "QL001" || error.sqlstate() == "P0002")
                lease_lost(job, job.outcome.kind == Outcome::Kind::aborted ? "release" : "fail");
            else
                log_job(job, "unrecorded", job.outcome.seconds, error.what());
        }
        finished_jobs_++;
        it = jobs_.erase(it);
    }
}

// Extends the leases of jobs that are past half of theirs (waiting or running).
void Worker::heartbeat()
{
    auto now = Clock::now();
    for (auto& [id, job] : jobs_) {
        if (job.finished)
            continue;
        auto half = std::chrono::duration_cast<Clock::duration>(Seconds(job.timeout / 2));
        if (job.lease_end - now > half)
            continue;
        try {
            Result left = db_.exec("SELECT extract(epoch FROM cachequeue.job_heartbeat($1, $2)"
                                   " - clock_timestamp())",
                                   {std::to_string(id), job.lease});
            job.lease_end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                               Seconds(std::stod(left.get(0, 0))));
        } catch (const DbError& error) {
            if (error.connection_lost())
                throw;
            // Someone else holds the job now: its handler's result will be refused.
            spdlog::warn("job={} heartbeat refused: {}", id, error.what());
            job.lease_end =
                now + std::chrono::duration_cast<Clock::duration>(Seconds(job.timeout));
        }
    }
}

// Gives back the jobs claimed but not started.
void Worker::release_waiting()
{
    std::deque<std::pair<JobInput, double>> waiting;
    {
        std::lock_guard<std::mutex> lock(shared_.mutex);
        waiting.swap(shared_.waiting);
    }
    for (auto& item : waiting) {
        auto job = jobs_.find(item.first.id);
        if (job == jobs_.end())
            continue;
        job->second.finished = true;
        job->second.outcome.kind = Outcome::Kind::aborted;
        job->second.outcome.error = "worker stopping: not started";
    }
}

bool Worker::all_finished() const
{
    return std::all_of(jobs_.begin(), jobs_.end(),
                       [](const auto& entry) { return entry.second.finished; });
}

void Worker::begin_stop(const char* why)
{
    spdlog::info("stopping ({}): no more claims; {} job(s) running, grace {:.0f} s", why,
                 running(), options_.grace_seconds);
    stopping_ = true;
    grace_end_ = Clock::now() +
                 std::chrono::duration_cast<Clock::duration>(Seconds(options_.grace_seconds));
    release_waiting();
}

void Worker::wait(double seconds)
{
    seconds = std::max(0.0, std::min(seconds, 1.0));
    pollfd fds[3];
    int count = 0;
    fds[count++] = {signal_pipe[0], POLLIN, 0};
    fds[count++] = {shared_.wake_pipe[0], POLLIN, 0};
    if (options_.listen && db_.connected() && db_.socket() >= 0)
        fds[count++] = {db_.socket(), POLLIN, 0};
    int ready = poll(fds, static_cast<nfds_t>(count), static_cast<int>(seconds * 1000));
    if (ready <= 0)
        return;
    if (fds[1].revents != 0)
        drain_fd(shared_.wake_pipe[0]);
    if (count == 3 && fds[2].revents != 0) {
        try {
            if (!db_.take_notifications().empty())
                next_claim_ = Clock::now(); // a job was enqueued: claim at once
            poll_delay_ = 0;
        } catch (const DbError& error) {
            spdlog::error("{}", error.what());
            db_.close();
        }
    }
}

int Worker::run()
{
    spdlog::info("worker {} starting: queues={} concurrency={} batch_size={} prefetch={} wake={}",
                 name_, array_literal(options_.queues), options_.concurrency, options_.batch_size,
                 options_.prefetch, options_.listen ? "listen" : "poll");
    std::vector<std::thread> slots;
    for (int slot = 0; slot < options_.concurrency; slot++)
        slots.emplace_back(slot_main, std::ref(shared_), std::cref(options_), slot);

    try {
        loop();
    } catch (...) {
        // A fatal error (an unknown queue, say): stop the handlers, then let it through.
        shared_.abort = true;
        stop_slots(slots);
        throw;
    }
    stop_slots(slots);
    if (!jobs_.empty())
        spdlog::warn("{} job(s) could not be given back (no database connection): they run "
                     "again when their leases expire",
                     jobs_.size());
    spdlog::info("worker {} stopped after {} job(s)", name_, finished_jobs_);
    return 0;
}

void Worker::stop_slots(std::vector<std::thread>& slots)
{
    {
        std::lock_guard<std::mutex> lock(shared_.mutex);
        shared_.closing = true;
    }
    shared_.ready.notify_all();
    for (std::thread& slot : slots)
        slot.join();
    slots.clear();
}

void Worker::loop()
{
    int seen = 0;
    for (;;) {
        auto now = Clock::now();
        if (stop_requested_ && !stopping_)
            begin_stop("another connection's loop failed");
        if (signals_seen != seen) {
            drain_fd(signal_pipe[0]);
            seen = signals_seen;
            if (on_signal)
                on_signal();
            if (!stopping_)
                begin_stop("signal");
            else if (!shared_.abort) {
                spdlog::info("second signal: stopping the running handlers now");
                shared_.abort = true;
            }
        }
        if (stopping_ && !shared_.abort && now >= grace_end_) {
            spdlog::info("grace period over: stopping the running handlers");
            shared_.abort = true;
        }
        record_outcomes();
        bool limit_reached =
            options_.max_jobs > 0 &&
            finished_jobs_ + static_cast<long long>(jobs_.size()) >= options_.max_jobs;
        bool can_claim = !stopping_ && !limit_reached && claim_wanted();
        if (ensure_connected()) {
            try {
                // A claim records the successes waiting: no flush of its own before it.
                bool claim_now = can_claim && now >= next_claim_;
                if (claim_now)
                    record_failures();
                else
                    flush();
                heartbeat();
                if (claim_now) {
                    // A batch, or a job for each idle slot.
                    long long want =
                        std::max(options_.batch_size, options_.concurrency - unfinished());
                    if (options_.max_jobs > 0)
                        want = std::min(want, options_.max_jobs - finished_jobs_ -
                                                  static_cast<long long>(jobs_.size()));
                    claim(static_cast<int>(want));
                    if (ran_dry_ && options_.until_empty && jobs_.empty())
                        begin_stop("no job left");
                    else if (!ran_dry_)
                        continue; // more may be waiting: claim again once a slot is free
                }
            } catch (const DbError& error) {
                if (!error.connection_lost())
                    throw;
                spdlog::error("lost the database connection: {}", error.what());
                db_.close();
                next_connect_ = Clock::now();
            }
        }
        // --until-empty: once the jobs are done after a claim that ran dry, the next claim
        // says whether the queues are empty; it need not wait out the poll delay first.
        if (options_.until_empty && ran_dry_ && jobs_.empty() && !stopping_)
            next_claim_ = std::min(next_claim_, Clock::now());
        if (jobs_.empty() && (stopping_ || limit_reached))
            break;
        if (stopping_ && shared_.abort && !db_.connected() && all_finished() &&
            Clock::now() >= grace_end_ + std::chrono::seconds(10))
            break; // what is left cannot be recorded: the leases will run out
        double timeout = 1.0;
        if (!db_.connected())
            timeout = Seconds(next_connect_ - Clock::now()).count();
        else if (can_claim)
            timeout = Seconds(next_claim_ - Clock::now()).count();
        if (next_flush_ != Clock::time_point::max())
            timeout = std::min(timeout, Seconds(next_flush_ - Clock::now()).count());
        if (unfinished() > 0) // successes wait in the slots' list until the loop wakes
            timeout = std::min(timeout, Seconds(completion_delay).count());
        wait(timeout);
    }
}

} // namespace

int run_worker(const WorkerOptions& options, WorkerMetrics& metrics)
{
    install_signal_handlers(); // before any loop starts: they share the signal pipe
    if (options.connections <= 1) {
        Worker worker(options, metrics);
        return worker.run();
    }
    // One loop per connection, each with its share of the slots and a name of its own (the
    // name fences a completion retried after a lost connection).
    int loops = options.connections;
    std::string base = options.worker_name.empty() ? default_worker_name() : options.worker_name;
    std::vector<WorkerOptions> parts(static_cast<size_t>(loops), options);
    std::vector<std::unique_ptr<Worker>> workers;
    for (int i = 0; i < loops; i++) {
        WorkerOptions& part = parts[static_cast<size_t>(i)];
        part.connections = 1;
        part.concurrency = options.concurrency / loops + (i < options.concurrency % loops);
        part.worker_name = base + "/" + std::to_string(i + 1);
        workers.push_back(std::make_unique<Worker>(part, metrics));
    }
    for (auto& worker : workers)
        worker->on_signal = [&workers] {
            for (auto& other : workers)
                other->nudge();
        };
    std::mutex mutex;
    std::exception_ptr failure;
    std::vector<std::thread> threads;
    for (auto& worker : workers) {
        threads.emplace_back([&, loop = worker.get()] {
            try {
                loop->run();
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex);
                if (!failure)
                    failure = std::current_exception();
                for (auto& other : workers)
                    other->request_stop();
            }
        });
    }
    for (std::thread& thread : threads)
        thread.join();
    if (failure)
        std::rethrow_exception(failure);
    return 0;
}

} // namespace cq::runner
