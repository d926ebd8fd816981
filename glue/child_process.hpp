// One handler process as the runner sees it: started in a process group of its own, its
// stdin, stdout and stderr on non-blocking pipes, moved by poll() so no pipe can fill up and
// stall either side, and ended by signalling the whole group.
//
// Safe to use from several threads at once as long as each object stays on one thread: every
// pipe is opened close-on-exec and the child closes every descriptor above stderr, so a
// handler started by one slot never holds another slot's pipes open.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cq::runner {

// The handler could not be started (missing or non-executable program, no descriptors left).
class StartError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

// Text fit for a one-line error message: lines joined with " | ", other control characters
// made spaces, invalid UTF-8 replaced, at most about max_bytes, keeping the end or the start.
enum class Keep { start, end };
std::string one_line(std::string_view text, std::size_t max_bytes, Keep keep);

// "exit status N" or "killed by signal SIGNAME", from a waitpid() status.
std::string describe_wait_status(int status);

// How a process group was ended.
struct Ended {
    int status = 0;      // as waitpid() reports it
    bool forced = false; // still running after SIGTERM and the grace period: got SIGKILL
};

class ChildProcess
{
public:
    // Starts argv (argv[0] looked up in PATH when it has no slash) with the environment of
    // this process plus env_overrides ("NAME=value", replacing a variable of the same name).
    // Signal dispositions and the signal mask are reset to defaults in the child. Writes to
    // its stdin cannot raise SIGPIPE in this process: where SIGPIPE is ignored when the
    // object is made (as the worker does), they are plain writes. Once more
    // than max_output bytes came on stdout it is read no further (output_overflowed() says
    // so); each complete line of stderr goes to stderr_line when set. Throws StartError.
    // Reads environ: no thread may change the environment meanwhile.
    ChildProcess(const std::vector<std::string>& argv,
                 const std::vector<std::string>& env_overrides, std::size_t max_output,
                 std::function<void(std::string_view)> stderr_line);
    // Kills the group and reaps the process if finish() has not done so.
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }

    // Queues bytes for the child's stdin; pump() or write_now() writes them.
    void send(std::string_view data) { input_.append(data); }
    // Writes what the pipe takes of the bytes queued, now: most pipes have room, and bytes
    // written so need no poll() for POLLOUT first. Several sends, then one write_now(), make
    // one write.
    void write_now();
    // Closes stdin once everything queued has been written.
    void close_input_when_sent();
    bool input_sent() const { return input_fd_ < 0 || input_.size() == input_sent_; }
    // The child closed its stdin before reading everything sent (EPIPE).
    bool input_refused() const { return input_refused_; }

    // Waits up to `wait` for a pipe to be ready or the process to exit, then writes what it
    // can and reads what is there. Returns whether anything moved or a pipe closed.
    bool pump(std::chrono::milliseconds wait);

    // Stdout read so far and not yet taken by the caller.
    std::string& output() { return output_; }
    bool output_closed() const { return output_fd_ < 0; }
    bool output_overflowed() const { return output_overflowed_; }
    // The last couple of KB written to stderr.
    const std::string& stderr_tail() const { return stderr_tail_; }
    void clear_stderr_tail() { stderr_tail_.clear(); }

    // Whether the process has exited (it is left unreaped, so its pid and group id stay ours).
    bool exited();
    // exited() without a system call where pump() watches the process's exit (a pidfd):
    // whether pump() or exited() has seen it. Without a pidfd it is exited().
    bool exit_seen();
    // Pumps until the process exits or `limit` has passed; returns exited().
    bool wait_exit(std::chrono::milliseconds limit);
    // SIGKILLs whatever is left of the group after the leader exited on its own.
    void kill_leftovers();
    // Ends the process group and reaps the leader: SIGTERM, up to grace for the leader to
    // exit, then SIGKILL to the group. A leader that already exited only costs the SIGKILL
    // of its leftovers. Passes on a partial last stderr line. Idempotent.
    Ended finish(std::chrono::milliseconds grace);

private:
    void write_input();
    bool read_output();
    bool read_stderr();
    void take_stderr(const char* data, std::size_t size);
    void close_fd(int& fd);

    bool sigpipe_ignored_;
    pid_t pid_ = -1;
    bool exited_ = false; // seen exited, not necessarily reaped
    bool reaped_ = false;
    Ended ended_;
    int pidfd_ = -1; // readable once the process exits; -1 where pidfd_open is unavailable
    int input_fd_ = -1;
    int output_fd_ = -1;
    int stderr_fd_ = -1;
    std::string input_;
    std::size_t input_sent_ = 0;
    bool close_input_ = false;
    bool input_refused_ = false;
    std::string output_;
    std::unique_ptr<char[]> chunk_; // what read_output reads into
    std::size_t max_output_;
    bool output_overflowed_ = false;
    std::string stderr_tail_;
    std::string stderr_partial_;
    std::function<void(std::string_view)> stderr_line_;
};

} // namespace cq::runner
