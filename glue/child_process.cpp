// Handler processes: start with posix_spawn, move bytes with poll(), end the process group.
#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace cq::runner {

namespace {

constexpr std::size_t read_chunk = 64 * 1024;
constexpr std::size_t stderr_tail_keep = 4 * 1024;
constexpr std::size_t stderr_line_max = 64 * 1024;

// strerror that is safe in any thread
std::string errno_text(int error)
{
    char buffer[256];
    return strerror_r(error, buffer, sizeof buffer);
}

void set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) {
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    }
}

// The length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i)
{
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char lead = byte(i);
    if (lead < 0x80) {
        return 1;
    }
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF; // the allowed range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        low = lead == 0xE0 ? 0xA0 : 0x80;
        high = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        low = lead == 0xF0 ? 0x90 : 0x80;
        high = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (i + length > s.size() || byte(i + 1) < low || byte(i + 1) > high) {
        return 0;
    }
    for (std::size_t k = 2; k < length; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) {
            return 0;
        }
    }
    return length;
}

bool is_continuation(char c)
{
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

bool sigpipe_ignored()
{
    struct sigaction current {
    };
    return sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_IGN;
}

// Blocks SIGPIPE in this thread for one write, and swallows the SIGPIPE that write raised,
// so a handler that closes its stdin gives EPIPE instead of killing the runner. Three system
// calls more than the write: only for a process that does not ignore SIGPIPE.
ssize_t write_without_sigpipe(int fd, const char* data, std::size_t size)
{
    sigset_t pipe_only, pending, old;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    ssize_t n = write(fd, data, size);
    int error = errno;
    if (n < 0 && error == EPIPE && !was_pending) {
        timespec no_wait{};
        sigtimedwait(&pipe_only, nullptr, &no_wait);
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = error;
    return n;
}

// The pipes of one child; closes whatever is still open when it goes out of scope.
struct Pipes {
    int fds[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    ~Pipes()
    {
        for (auto& pair : fds) {
            for (int fd : pair) {
                if (fd >= 0) {
                    close(fd);
                }
            }
        }
    }
    int take(int stream, int end)
    {
        int fd = fds[stream][end];
        fds[stream][end] = -1;
        return fd;
    }
};

} // namespace

std::string one_line(std::string_view text, std::size_t max_bytes, Keep keep)
{
    // a window of twice the limit leaves room for what cleaning removes
    if (text.size() > 2 * max_bytes + 16) {
        text = keep == Keep::end ? text.substr(text.size() - 2 * max_bytes - 16)
                                 : text.substr(0, 2 * max_bytes + 16);
    }

    // lines, trimmed, blank ones dropped, joined
    std::string joined;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) {
            eol = text.size();
        }
        std::string_view line = text.substr(pos, eol - pos);
        const char* blank = " \t\r\f\v";
        std::size_t first = line.find_first_not_of(blank);
        if (first != std::string_view::npos) {
            line = line.substr(first, line.find_last_not_of(blank) - first + 1);
            if (!joined.empty()) {
                joined += " | ";
            }
            joined += line;
        }
        pos = eol + 1;
    }

    // control characters and invalid UTF-8
    std::string clean;
    for (std::size_t i = 0; i < joined.size();) {
        std::size_t length = utf8_sequence(joined, i);
        if (length == 0) {
            clean += "\xEF\xBF\xBD"; // U+FFFD
            ++i;
            continue;
        }
        unsigned char c = static_cast<unsigned char>(joined[i]);
        if (length == 1 && (c < 0x20 || c == 0x7F)) {
            clean += ' ';
        } else {
            clean.append(joined, i, length);
        }
        i += length;
    }

    // the size limit, cut between characters
    if (clean.size() <= max_bytes) {
        return clean;
    }
    if (keep == Keep::end) {
        std::size_t start = clean.size() - max_bytes;
        while (start < clean.size() && is_continuation(clean[start])) {
            ++start;
        }
        return "..." + clean.substr(start);
    }
    std::size_t end = max_bytes;
    while (end > 0 && is_continuation(clean[end])) {
        --end;
    }
    return clean.substr(0, end) + "...";
}

std::string describe_wait_status(int status)
{
    if (status == -1) {
        return "exit status unknown";
    }
    if (WIFEXITED(status)) {
        return "exit status " + std::to_string(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        const char* name = sigabbrev_np(sig);
        return "killed by signal " + (name ? "SIG" + std::string(name) : std::to_string(sig));
    }
    return "wait status " + std::to_string(status);
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::vector<std::string>& env_overrides, std::size_t max_output,
                           std::function<void(std::string_view)> stderr_line)
    : sigpipe_ignored_(sigpipe_ignored()), max_output_(max_output),
      stderr_line_(std::move(stderr_line))
{
    if (argv.empty() || argv[0].empty()) {
        throw StartError("cannot run a handler with no command");
    }

    // everything the child needs is built before it exists
    std::vector<char*> args;
    for (const auto& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    std::vector<char*> env;
    for (char** entry = environ; *entry; ++entry) {
        std::string_view var(*entry);
        std::string_view name = var.substr(0, var.find('='));
        bool replaced = false;
        for (const auto& over : env_overrides) {
            replaced = replaced || (over.size() > name.size() && over[name.size()] == '=' &&
                                    over.compare(0, name.size(), name) == 0);
        }
        if (!replaced) {
            env.push_back(*entry);
        }
    }
    for (const auto& over : env_overrides) {
        env.push_back(const_cast<char*>(over.c_str()));
    }
    env.push_back(nullptr);

    // pipes: close-on-exec everywhere, non-blocking on our side
    Pipes pipes;
    for (auto& pair : pipes.fds) {
        if (pipe2(pair, O_CLOEXEC) != 0) {
            throw StartError("could not run '" + argv[0] + "': " + errno_text(errno));
        }
    }
    set_nonblocking(pipes.fds[0][1]);
    set_nonblocking(pipes.fds[1][0]);
    set_nonblocking(pipes.fds[2][0]);

    // the child: pipes on 0, 1 and 2, nothing else open, own process group, default signals
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipes.fds[0][0], 0);
    posix_spawn_file_actions_adddup2(&actions, pipes.fds[1][1], 1);
    posix_spawn_file_actions_adddup2(&actions, pipes.fds[2][1], 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t signals;
    sigemptyset(&signals);
    posix_spawnattr_setsigmask(&attr, &signals);
    sigfillset(&signals);
    posix_spawnattr_setsigdefault(&attr, &signals);
    int rc = posix_spawnp(&pid_, args[0], &actions, &attr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        bool lasting = rc == ENOENT || rc == EACCES || rc == ENOEXEC || rc == ENOTDIR ||
                       rc == ELOOP || rc == ENAMETOOLONG;
        throw StartError((lasting ? "cannot run '" : "could not run '") + argv[0] +
                         "': " + errno_text(rc));
    }

    input_fd_ = pipes.take(0, 1);
    output_fd_ = pipes.take(1, 0);
    stderr_fd_ = pipes.take(2, 0);
    // glibc 2.36's <sys/pidfd.h> lacks extern "C", hence the raw system call
    pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
}

ChildProcess::~ChildProcess()
{
    if (!reaped_) {
        kill(-pid_, SIGKILL);
        while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
        }
    }
    close_fd(input_fd_);
    close_fd(output_fd_);
    close_fd(stderr_fd_);
    close_fd(pidfd_);
}

void ChildProcess::close_fd(int& fd)
{
    if (fd >= 0) {
        close(fd);
        fd = -1;
    }
}

void ChildProcess::write_now()
{
    if (input_fd_ >= 0 && !input_sent()) {
        write_input();
    }
}

void ChildProcess::close_input_when_sent()
{
    close_input_ = true;
    if (input_sent()) {
        close_fd(input_fd_);
    }
}

bool ChildProcess::pump(std::chrono::milliseconds wait)
{
    pollfd fds[4];
    int count = 0;
    int input = -1, output = -1, err = -1, exit = -1;
    if (input_fd_ >= 0 && !input_sent()) {
        input = count;
        fds[count++] = {input_fd_, POLLOUT, 0};
    }
    if (output_fd_ >= 0 && !output_overflowed_) {
        output = count;
        fds[count++] = {output_fd_, POLLIN, 0};
    }
    if (stderr_fd_ >= 0) {
        err = count;
        fds[count++] = {stderr_fd_, POLLIN, 0};
    }
    if (pidfd_ >= 0 && !exited_) {
        exit = count;
        fds[count++] = {pidfd_, POLLIN, 0};
    }
    int ready = poll(fds, count, static_cast<int>(wait.count()));
    if (ready <= 0) {
        return false;
    }

    bool moved = false;
    if (input >= 0 && fds[input].revents) {
        std::size_t before = input_sent_;
        write_input();
        moved = input_sent_ != before || input_fd_ < 0;
    }
    if (output >= 0 && fds[output].revents) {
        moved = read_output() || moved;
    }
    if (err >= 0 && fds[err].revents) {
        moved = read_stderr() || moved;
    }
    if (exit >= 0 && fds[exit].revents) {
        exited_ = true;
    }
    return moved;
}

void ChildProcess::write_input()
{
    const char* data = input_.data() + input_sent_;
    std::size_t size = input_.size() - input_sent_;
    ssize_t n = sigpipe_ignored_ ? write(input_fd_, data, size)
                                 : write_without_sigpipe(input_fd_, data, size);
    if (n > 0) {
        input_sent_ += static_cast<std::size_t>(n);
        if (input_sent_ == input_.size()) {
            input_.clear();
            input_sent_ = 0;
            if (close_input_) {
                close_fd(input_fd_);
            }
        }
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        input_refused_ = true;
        input_.clear();
        input_sent_ = 0;
        close_fd(input_fd_);
    }
}

bool ChildProcess::read_output()
{
    // A buffer of its own, allocated once: growing output_ by a chunk for each read would
    // zero the whole chunk every time, however little there is to read.
    if (!chunk_) {
        chunk_ = std::make_unique<char[]>(read_chunk);
    }
    ssize_t n = read(output_fd_, chunk_.get(), read_chunk);
    if (n > 0) {
        output_.append(chunk_.get(), static_cast<std::size_t>(n));
        output_overflowed_ = output_.size() > max_output_;
        return true;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        close_fd(output_fd_);
        return true;
    }
    return false;
}

bool ChildProcess::read_stderr()
{
    char buffer[16 * 1024];
    ssize_t n = read(stderr_fd_, buffer, sizeof buffer);
    if (n > 0) {
        take_stderr(buffer, static_cast<std::size_t>(n));
        return true;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        close_fd(stderr_fd_);
        return true;
    }
    return false;
}

void ChildProcess::take_stderr(const char* data, std::size_t size)
{
    stderr_tail_.append(data, size);
    if (stderr_tail_.size() > 2 * stderr_tail_keep) {
        stderr_tail_.erase(0, stderr_tail_.size() - stderr_tail_keep);
    }
    if (!stderr_line_) {
        return;
    }
    stderr_partial_.append(data, size);
    std::size_t start = 0, eol;
    while ((eol = stderr_partial_.find('\n', start)) != std::string::npos) {
        stderr_line_(std::string_view(stderr_partial_).substr(start, eol - start));
        start = eol + 1;
    }
    stderr_partial_.erase(0, start);
    if (stderr_partial_.size() > stderr_line_max) {
        stderr_line_(stderr_partial_);
        stderr_partial_.clear();
    }
}

bool ChildProcess::exit_seen()
{
    return pidfd_ >= 0 ? reaped_ || exited_ : exited();
}

bool ChildProcess::exited()
{
    if (reaped_ || exited_) {
        return true;
    }
    if (pidfd_ >= 0) {
        pollfd fd = {pidfd_, POLLIN, 0};
        exited_ = poll(&fd, 1, 0) == 1;
    } else {
        siginfo_t info{};
        int rc = waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
        exited_ = (rc == 0 && info.si_pid == pid_) || (rc < 0 && errno == ECHILD);
    }
    return exited_;
}

bool ChildProcess::wait_exit(std::chrono::milliseconds limit)
{
    auto until = std::chrono::steady_clock::now() + limit;
    while (!exited()) {
        auto left =
            std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            break;
        }
        // without a pidfd, exit is only seen by looking again
        pump(pidfd_ >= 0 ? left : std::min(left, std::chrono::milliseconds(10)));
    }
    return exited();
}

Ended ChildProcess::finish(std::chrono::milliseconds grace)
{
    if (reaped_) {
        return ended_;
    }
    close_fd(input_fd_);

    // SIGTERM, then the grace period for the leader to exit
    if (!exited()) {
        kill(-pid_, SIGTERM);
        wait_exit(grace);
        ended_.forced = !exited();
    }

    // SIGKILL for whatever is left; the leader is unreaped until now, so the group id is ours
    kill(-pid_, SIGKILL);
    int status = 0;
    pid_t rc;
    while ((rc = waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
    ended_.status = rc == pid_ ? status : -1;
    reaped_ = true;
    close_fd(pidfd_);

    // what the group wrote before it died is still in the pipes
    for (int round = 0; round < 64 && pump(std::chrono::milliseconds(0)); ++round) {
    }
    if (stderr_line_ && !stderr_partial_.empty()) {
        stderr_line_(stderr_partial_);
        stderr_partial_.clear();
    }
    close_fd(output_fd_);
    close_fd(stderr_fd_);
    return ended_;
}

} // namespace cq::runner
