// Unit tests of handler execution, with real processes: /bin/sh, python3 and the scripts in
// test/unit/handlers/. No test looks at how long anything took.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "handler.hpp"

using namespace cq::runner;
using namespace std::chrono_literals;
using Kind = Outcome::Kind;
using nlohmann::json;

namespace {

const std::atomic<bool> no_abort{false};

Clock::time_point in(std::chrono::milliseconds delay)
{
    return Clock::now() + delay;
}

// Far enough away never to be reached by a handler that is not meant to time out.
Clock::time_point far()
{
    return in(5min);
}

JobInput job(std::string task, std::string payload = "{}", long long id = 42)
{
    return JobInput{id, "email", std::move(task), 1, std::move(payload)};
}

HandlerSpec sh(std::string script)
{
    return HandlerSpec{{"/bin/sh", "-c", std::move(script)}, false};
}

// test/unit/handlers, found next to the test binary.
std::string handlers_dir()
{
    return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "handlers").string();
}

HandlerSpec long_lived()
{
    return HandlerSpec{{"python3", handlers_dir() + "/long_lived.py"}, true};
}

// The fenced code block of docs/handlers.md whose first line is first_line.
std::string docs_example(const std::string& first_line)
{
    auto docs = std::filesystem::read_symlink("/proc/self/exe").parent_path() / "../../docs";
    std::ifstream file(docs / "handlers.md");
    std::string line, block;
    bool inside = false;
    while (std::getline(file, line)) {
        if (line.rfind("```", 0) == 0) {
            if (inside && block.rfind(first_line + "\n", 0) == 0) {
                return block;
            }
            inside = !inside;
            block.clear();
        } else if (inside) {
            block += line + "\n";
        }
    }
    return {};
}

// A path in the temporary directory, removed at the end of the test.
struct TempPath {
    std::string path;
    TempPath()
    {
        static std::atomic<int> counter{0};
        path = (std::filesystem::temp_directory_path() /
                ("cq-handler-test-" + std::to_string(getpid()) + "-" + std::to_string(++counter)))
                   .string();
    }
    ~TempPath() { std::filesystem::remove(path); }
};

// The pid a handler wrote to path, once the line is complete; -1 before.
long pid_in(const std::string& path)
{
    std::ifstream file(path);
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    return text.empty() || text.back() != '\n' ? -1 : std::stol(text);
}

// Whether pid is gone or a zombie, waiting up to a generous bound for a killed process to die
// (and for whoever inherits an orphan to reap it).
bool process_gone(long pid)
{
    for (int i = 0; i < 1000; ++i) {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        if (!std::getline(stat, line)) {
            return true;
        }
        auto state = line.substr(line.rfind(')') + 2, 1);
        if (state == "Z" || state == "X") {
            return true;
        }
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

// Sets flag once a handler has written its pid to path (or after a minute, to end the test).
std::thread abort_when_written(const std::string& path, std::atomic<bool>& flag)
{
    return std::thread([&path, &flag] {
        for (int i = 0; i < 6000 && pid_in(path) < 0; ++i) {
            std::this_thread::sleep_for(10ms);
        }
        flag = true;
    });
}

int open_fd_count()
{
    int count = 0;
    for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        ++count;
    }
    return count;
}

} // namespace

// ---- command handlers: exit status and stdout ----

TEST_CASE("a command's exit status decides success or failure", "[handler][command]")
{
    Outcome ok = run_command(sh("exit 0"), job("t"), far(), no_abort);
    CHECK(ok.kind == Kind::succeeded);
    CHECK(ok.result.empty());
    CHECK(ok.error.empty());
    CHECK(ok.seconds >= 0);

    Outcome failed = run_command(sh("exit 1"), job("t"), far(), no_abort);
    CHECK(failed.kind == Kind::failed);
    CHECK(failed.error == "exit status 1");

    Outcome odd = run_command(sh("exit 77"), job("t"), far(), no_abort);
    CHECK(odd.error == "exit status 77");

    Outcome killed = run_command(sh("kill -KILL $$"), job("t"), far(), no_abort);
    CHECK(killed.kind == Kind::failed);
    CHECK(killed.error == "killed by signal SIGKILL");

    Outcome segv = run_command(sh("kill -SEGV $$"), job("t"), far(), no_abort);
    CHECK(segv.error == "killed by signal SIGSEGV");
}

TEST_CASE("a command's stdout is its result", "[handler][command]")
{
    SECTION("JSON is kept as written, surrounding blanks trimmed")
    {
        Outcome o = run_command(sh(R"(printf '  {"sent": 3, "to": ["a@b.c"]}\n\n')"), job("t"),
                                far(), no_abort);
        REQUIRE(o.kind == Kind::succeeded);
        CHECK(o.result == R"({"sent": 3, "to": ["a@b.c"]})");
    }
    SECTION("a scalar is JSON too")
    {
        CHECK(run_command(sh("echo 12345678901234567890123"), job("t"), far(), no_abort).result ==
              "12345678901234567890123");
        CHECK(run_command(sh("echo null"), job("t"), far(), no_abort).result == "null");
    }
    SECTION("blank stdout is a NULL result")
    {
        Outcome o = run_command(sh("printf ' \\n\\t\\n'"), job("t"), far(), no_abort);
        REQUIRE(o.kind == Kind::succeeded);
        CHECK(o.result.empty());
    }
    SECTION("other text becomes a JSON string")
    {
        Outcome o = run_command(sh("echo 'sent 3 \"emails\"'"), job("t"), far(), no_abort);
        REQUIRE(o.kind == Kind::succeeded);
        CHECK(o.result == R"("sent 3 \"emails\"")");
        Outcome bad = run_command(sh("printf 'caf\\351'"), job("t"), far(), no_abort);
        CHECK(bad.result == "\"caf\xEF\xBF\xBD\"");
    }
    SECTION("stdout is not a result when the command fails")
    {
        Outcome o = run_command(sh("echo '{}'; exit 2"), job("t"), far(), no_abort);
        CHECK(o.kind == Kind::failed);
        CHECK(o.result.empty());
    }
}

TEST_CASE("a command that closes stdout is waited for until it exits", "[handler][command]")
{
    Outcome o = run_command(sh(R"(echo '{"early": true}'; exec >&-; sleep 0.2; exit 0)"), job("t"),
                            far(), no_abort);
    CHECK(o.kind == Kind::succeeded);
    CHECK(o.result == R"({"early": true})");
}

// ---- command handlers: what they receive ----

TEST_CASE("a command reads the payload on stdin", "[handler][command]")
{
    Outcome o =
        run_command(HandlerSpec{{"cat"}, false}, job("t", R"({"to": "a@b.c"})"), far(), no_abort);
    REQUIRE(o.kind == Kind::succeeded);
    CHECK(o.result == R"({"to": "a@b.c"})");

    Outcome null = run_command(HandlerSpec{{"cat"}, false}, job("t", ""), far(), no_abort);
    CHECK(null.result == "null");

    Outcome line = run_command(sh("read -r payload && printf '%s' \"$payload\""),
                               job("t", "[1, 2]"), far(), no_abort);
    CHECK(line.result == "[1, 2]");
}

TEST_CASE("a command sees the job in its environment, and the runner's", "[handler][command]")
{
    setenv("CQ_TEST_INHERITED", "from the worker", 1);
    setenv("CACHEQUEUE_TASK", "stale", 1);
    Outcome o = run_command(sh(R"(printf '["%s","%s","%s","%s","%s"]' "$CACHEQUEUE_JOB_ID" \
                                  "$CACHEQUEUE_QUEUE" "$CACHEQUEUE_TASK" "$CACHEQUEUE_ATTEMPT" \
                                  "$CQ_TEST_INHERITED")"),
                            JobInput{9001, "report", "generate_report", 3, "{}"}, far(), no_abort);
    unsetenv("CQ_TEST_INHERITED");
    unsetenv("CACHEQUEUE_TASK");
    REQUIRE(o.kind == Kind::succeeded);
    CHECK(json::parse(o.result) ==
          json({"9001", "report", "generate_report", "3", "from the worker"}));
}

TEST_CASE("a command gets default signals and none of the runner's descriptors",
          "[handler][command]")
{
    // the runner ignores SIGPIPE and blocks SIGTERM in slot threads; the handler must not
    sigset_t term, old_mask;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, &old_mask);
    auto old_pipe = signal(SIGPIPE, SIG_IGN);
    int leaked = open("/dev/null", O_RDONLY); // no O_CLOEXEC
    REQUIRE(leaked > 2);

    // the leak test runs in the shell, the signal test in grep (the shell blocks signals
    // while it waits for a child, so reading its status from a child would race)
    Outcome o = run_command(sh("test -e /proc/$$/fd/" + std::to_string(leaked) +
                               " && echo leaked; exec grep -E '^Sig(Blk|Ign)' /proc/self/status"),
                            job("t"), far(), no_abort);
    close(leaked);
    signal(SIGPIPE, old_pipe);
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);

    REQUIRE(o.kind == Kind::succeeded);
    std::string text = json::parse(o.result).get<std::string>();
    CHECK(text.find("leaked") == std::string::npos);
    std::istringstream lines(text);
    std::string name, mask;
    int seen = 0;
    while (lines >> name >> mask) {
        unsigned long long bits = std::stoull(mask, nullptr, 16);
        INFO(name << " " << mask);
        CHECK((bits & (1ULL << (SIGPIPE - 1))) == 0);
        CHECK((bits & (1ULL << (SIGTERM - 1))) == 0);
        ++seen;
    }
    CHECK(seen == 2);
}

TEST_CASE("a command that cannot be started fails the job clearly", "[handler][command]")
{
    Outcome missing =
        run_command(HandlerSpec{{"cachequeue-no-such-handler"}, false}, job("t"), far(), no_abort);
    CHECK(missing.kind == Kind::failed);
    CHECK(missing.error == "cannot run 'cachequeue-no-such-handler': No such file or directory");

    Outcome no_dir =
        run_command(HandlerSpec{{"/nonexistent/handler", "x"}, false}, job("t"), far(), no_abort);
    CHECK(no_dir.error == "cannot run '/nonexistent/handler': No such file or directory");

    TempPath text;
    std::ofstream(text.path) << "not a program\n";
    chmod(text.path.c_str(), 0644);
    Outcome not_executable =
        run_command(HandlerSpec{{text.path}, false}, job("t"), far(), no_abort);
    CHECK(not_executable.error == "cannot run '" + text.path + "': Permission denied");

    Outcome empty = run_command(HandlerSpec{{}, false}, job("t"), far(), no_abort);
    CHECK(empty.kind == Kind::failed);
    CHECK(empty.error == "cannot run a handler with no command");
}

// ---- command handlers: big streams ----

TEST_CASE("megabytes on stdin and stdout at once do not deadlock", "[handler][command][big]")
{
    std::string payload = json(std::string(5'000'000, 'p')).dump();
    Outcome o = run_command(HandlerSpec{{"cat"}, false}, job("t", payload), far(), no_abort);
    REQUIRE(o.kind == Kind::succeeded);
    CHECK(o.result.size() == payload.size());
    CHECK(o.result == payload);
}

TEST_CASE("a command may leave a big payload unread and write megabytes",
          "[handler][command][big]")
{
    // the write to its stdin fails with EPIPE; SIGPIPE is not ignored in this test binary
    std::string payload = json(std::string(5'000'000, 'p')).dump();
    Outcome o = run_command(sh("head -c 5000000 /dev/zero | tr '\\0' a"), job("t", payload), far(),
                            no_abort);
    REQUIRE(o.kind == Kind::succeeded);
    CHECK(o.result == json(std::string(5'000'000, 'a')).dump());
}

TEST_CASE("where SIGPIPE is ignored, as in the worker, writes to a closed stdin are plain",
          "[handler][command][big]")
{
    // ChildProcess then writes without blocking SIGPIPE around each write: the same cases
    // as above must still end in EPIPE, not in a signal
    auto old_pipe = signal(SIGPIPE, SIG_IGN);
    std::string payload = json(std::string(2'000'000, 'p')).dump();
    Outcome o = run_command(sh("head -c 10 >/dev/null; echo '\"read ten\"'"), job("t", payload),
                            far(), no_abort);
    CHECK(o.kind == Kind::succeeded);
    CHECK(o.result == "\"read ten\"");

    PersistentHandler handler(long_lived());
    CHECK(handler.run(job("exit_soon"), far(), no_abort).kind == Kind::succeeded);
    long old_pid = handler.pid();
    REQUIRE(process_gone(old_pid));
    Outcome next = handler.run(job("pid"), far(), no_abort);
    signal(SIGPIPE, old_pipe);
    CHECK(next.kind == Kind::succeeded);
    CHECK(next.result != std::to_string(old_pid));
}

TEST_CASE("stdout beyond the cap fails the job", "[handler][command][big]")
{
    HandlerOptions options;
    options.max_output = 1024 * 1024;
    Outcome o = run_command(sh("head -c 3000000 /dev/zero; echo done >&2"), job("t"), far(),
                            no_abort, options);
    CHECK(o.kind == Kind::failed);
    CHECK(o.error.rfind("handler wrote more than 1 MiB to stdout", 0) == 0);
    CHECK(o.result.empty());
}

TEST_CASE("a failed command's error quotes the tail of its stderr", "[handler][command]")
{
    SECTION("megabytes of stderr neither block nor make a huge message")
    {
        Outcome o = run_command(
            sh("head -c 3000000 /dev/zero | tr '\\0' e >&2; echo 'last words' >&2; exit 4"),
            job("t"), far(), no_abort);
        REQUIRE(o.kind == Kind::failed);
        CHECK(o.error.rfind("exit status 4: ...eee", 0) == 0);
        CHECK(o.error.size() < 2200);
        CHECK(o.error.substr(o.error.size() - 14) == "eeeelast words");
    }
    SECTION("on one line, without control characters, as valid UTF-8")
    {
        Outcome o = run_command(sh("printf 'first\\n\\n  second\\tline\\r\\n\\033[1mbold\\377\\n' "
                                   ">&2; exit 1"),
                                job("t"), far(), no_abort);
        CHECK(o.error == "exit status 1: first | second line |  [1mbold\xEF\xBF\xBD");
    }
}

TEST_CASE("error text is cut between characters", "[handler][text]")
{
    CHECK(one_line("", 10, Keep::end).empty());
    CHECK(one_line("\n \n", 10, Keep::end).empty());
    CHECK(one_line("abcdefghij", 10, Keep::end) == "abcdefghij");
    CHECK(one_line("abcdefghijk", 10, Keep::end) == "...bcdefghijk");
    CHECK(one_line("abcdefghijk", 10, Keep::start) == "abcdefghij...");
    // "é" is two bytes: a cut never splits it
    CHECK(one_line("\xC3\xA9\xC3\xA9\xC3\xA9", 3, Keep::end) == "...\xC3\xA9");
    CHECK(one_line("\xC3\xA9\xC3\xA9\xC3\xA9", 3, Keep::start) == "\xC3\xA9...");
    // overlong encodings and UTF-16 surrogates are invalid
    CHECK(one_line("a\xC0\xAFz", 100, Keep::end) == "a\xEF\xBF\xBD\xEF\xBF\xBDz");
    CHECK(one_line("\xED\xA0\x80", 100, Keep::end) == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(one_line("\xF0\x9F\x93\xA7 sent", 100, Keep::end) == "\xF0\x9F\x93\xA7 sent");
}

// ---- command handlers: timeouts and aborts ----

TEST_CASE("a command past its deadline is killed", "[handler][command][kill]")
{
    Outcome o = run_command(sh("echo working >&2; sleep 1000"), job("t"), in(300ms), no_abort);
    CHECK(o.kind == Kind::timed_out);
    CHECK(o.error.rfind("timed out after ", 0) == 0);
    CHECK(o.result.empty());

    Outcome late = run_command(sh("exit 0"), job("t"), Clock::now() - 1s, no_abort);
    CHECK(late.kind == Kind::timed_out);
    CHECK(late.error == "timed out before the handler started");
}

TEST_CASE("a timeout kills the handler's whole process group", "[handler][command][kill]")
{
    // retried with a longer deadline if the handler had not yet written the pid in time
    TempPath pid_file;
    HandlerSpec spec{{"/bin/sh", handlers_dir() + "/spawns_sleeper.sh", pid_file.path}, false};
    Outcome o;
    for (auto limit : {500ms, 4000ms, 30000ms}) {
        o = run_command(spec, job("t"), in(limit), no_abort);
        if (pid_in(pid_file.path) > 0) {
            break;
        }
    }
    CHECK(o.kind == Kind::timed_out);
    long grandchild = pid_in(pid_file.path);
    REQUIRE(grandchild > 0);
    CHECK(process_gone(grandchild));
}

TEST_CASE("a handler that ignores SIGTERM gets SIGKILL", "[handler][command][kill]")
{
    TempPath pid_file;
    HandlerOptions options;
    options.kill_grace = 300ms;
    std::atomic<bool> abort{false};
    std::thread trigger = abort_when_written(pid_file.path, abort);
    Outcome o = run_command(
        HandlerSpec{{"/bin/sh", handlers_dir() + "/ignores_term.sh", pid_file.path}, false},
        job("t"), far(), abort, options);
    trigger.join();
    CHECK(o.kind == Kind::aborted);
    CHECK(o.error == "aborted by the worker; SIGTERM ignored for 0.3 s, killed with SIGKILL");
    REQUIRE(pid_in(pid_file.path) > 0);
    CHECK(process_gone(pid_in(pid_file.path)));
}

TEST_CASE("the abort flag stops a running command", "[handler][command][kill]")
{
    std::atomic<bool> abort{false};
    std::thread trigger([&abort] {
        std::this_thread::sleep_for(200ms);
        abort = true;
    });
    Outcome o = run_command(sh("sleep 1000"), job("t"), far(), abort);
    trigger.join();
    CHECK(o.kind == Kind::aborted);
    CHECK(o.error == "aborted by the worker");

    Outcome never = run_command(sh("exit 0"), job("t"), far(), abort);
    CHECK(never.kind == Kind::aborted);
    CHECK(never.error == "aborted by the worker before the handler started");
}

TEST_CASE("slots run commands side by side without mixing them up", "[handler][command]")
{
    int fds_before = open_fd_count();
    std::vector<std::thread> slots;
    std::atomic<int> right{0};
    for (int slot = 0; slot < 4; ++slot) {
        slots.emplace_back([slot, &right] {
            for (int i = 0; i < 10; ++i) {
                std::string payload = "[" + std::to_string(slot) + "," + std::to_string(i) + "]";
                Outcome o =
                    run_command(HandlerSpec{{"cat"}, false}, job("t", payload), far(), no_abort);
                right += o.kind == Kind::succeeded && o.result == payload;
            }
        });
    }
    for (auto& slot : slots) {
        slot.join();
    }
    CHECK(right == 40);
    CHECK(open_fd_count() == fds_before);
}

// ---- long-lived handlers ----

TEST_CASE("a long-lived handler runs many jobs in one process", "[handler][persistent]")
{
    PersistentHandler handler(long_lived());
    CHECK(handler.pid() == -1);
    Outcome first = handler.run(job("pid"), far(), no_abort);
    REQUIRE(first.kind == Kind::succeeded);
    CHECK(first.result == std::to_string(handler.pid()));
    for (int i = 0; i < 20; ++i) {
        Outcome o = handler.run(job("pid", "{}", 100 + i), far(), no_abort);
        CHECK(o.kind == Kind::succeeded);
        CHECK(o.result == first.result);
    }

    Outcome echo = handler.run(job("echo", "{\"to\": [\"a@b.c\"],\n \"n\": 2}"), far(), no_abort);
    CHECK(echo.kind == Kind::succeeded);
    CHECK(json::parse(echo.result) == json::parse(R"({"to": ["a@b.c"], "n": 2})"));
    CHECK(handler.run(job("echo", ""), far(), no_abort).result == "null");

    Outcome error = handler.run(job("fail", "\"no such study\""), far(), no_abort);
    CHECK(error.kind == Kind::failed);
    CHECK(error.error == "ValueError: no such study");
    CHECK(handler.run(job("pid"), far(), no_abort).result == first.result);

    Outcome not_json = handler.run(job("echo", "{oops"), far(), no_abort);
    CHECK(not_json.kind == Kind::failed);
    CHECK(not_json.error == "payload is not valid JSON");
    CHECK(handler.run(job("pid"), far(), no_abort).result == first.result);
}

TEST_CASE("a job line carries the queue and task names as JSON strings, escaped where needed",
          "[handler][persistent]")
{
    PersistentHandler handler(long_lived());
    for (std::string task :
         {std::string("fields"), std::string("fields \"quoted\" back\\slash"),
          std::string("fields \u00e9\t\x01 tab"), std::string("fields bad utf-8 \xff")}) {
        Outcome o = handler.run(JobInput{7, "email", task, 3, "{}"}, far(), no_abort);
        REQUIRE(o.kind == Kind::succeeded);
        json fields = json::parse(o.result);
        CHECK(fields["queue"] == "email");
        CHECK(fields["attempt"] == 3);
        // invalid UTF-8 is replaced, as the library does, and the rest goes through as it is
        std::string expected = task.back() == '\xff' ? "fields bad utf-8 \ufffd" : task;
        CHECK(fields["task"] == expected);
    }
}

TEST_CASE("a long-lived handler takes and returns megabytes", "[handler][persistent][big]")
{
    PersistentHandler handler(long_lived());
    std::string payload = json({{"blob", std::string(5'000'000, 'p')}}).dump();
    Outcome o = handler.run(job("echo", payload), far(), no_abort);
    REQUIRE(o.kind == Kind::succeeded);
    CHECK(json::parse(o.result) == json::parse(payload));
}

TEST_CASE("jobs sent ahead are answered in order, each timed from the answer before it",
          "[handler][persistent][prefetch]")
{
    PersistentHandler handler(long_lived());
    CHECK_FALSE(handler.can_send_ahead()); // no process, no job in flight
    REQUIRE_FALSE(handler.send(job("sleep", "0.3", 1), 10s, no_abort));
    CHECK(handler.can_send_ahead());
    for (long long id = 2; id <= 5; ++id) {
        REQUIRE_FALSE(
            handler.send(job("echo", "[" + std::to_string(id) + "]", id), 10s, no_abort));
    }
    // Refused before it is sent: it does not take a place in the line.
    auto bad = handler.send(job("echo", "{oops", 6), 10s, no_abort);
    REQUIRE(bad);
    CHECK(bad->error == "payload is not valid JSON");
    CHECK(handler.in_flight() == 5);

    Outcome slow = handler.receive(no_abort);
    CHECK(slow.kind == Kind::succeeded);
    CHECK(slow.seconds >= 0.25);
    for (long long id = 2; id <= 5; ++id) {
        Outcome o = handler.receive(no_abort);
        REQUIRE(o.kind == Kind::succeeded);
        CHECK(o.result == "[" + std::to_string(id) + "]");
        // Its time started with the answer before it, not when it was sent.
        CHECK(o.seconds < 0.25);
    }
    CHECK(handler.in_flight() == 0);
    CHECK_FALSE(handler.can_send_ahead());
}

TEST_CASE("when a handler dies, the jobs sent after the running one were not started",
          "[handler][persistent][prefetch]")
{
    PersistentHandler handler(long_lived());
    std::string before = handler.run(job("pid"), far(), no_abort).result;
    REQUIRE_FALSE(handler.send(job("echo", "1", 1), 10s, no_abort));
    REQUIRE_FALSE(handler.send(job("crash", "{}", 2), 10s, no_abort));
    REQUIRE_FALSE(handler.send(job("echo", "3", 3), 10s, no_abort));
    REQUIRE_FALSE(handler.send(job("echo", "4", 4), 10s, no_abort));

    CHECK(handler.receive(no_abort).result == "1");
    Outcome crash = handler.receive(no_abort);
    CHECK(crash.kind == Kind::failed);
    CHECK(crash.error == "handler exited with status 3: crashing on purpose");
    for (int i = 0; i < 2; ++i) {
        Outcome o = handler.receive(no_abort);
        CHECK(o.kind == Kind::aborted);
        CHECK(o.error == "not started: the handler process ended before it reached the job");
    }
    CHECK(handler.in_flight() == 0);
    Outcome after = handler.run(job("pid"), far(), no_abort);
    CHECK(after.kind == Kind::succeeded);
    CHECK(after.result != before);
}

TEST_CASE("a job sent ahead times out on its own clock, and those behind it go back",
          "[handler][persistent][prefetch]")
{
    PersistentHandler handler(long_lived());
    REQUIRE_FALSE(handler.send(job("sleep", "0.2", 1), 10s, no_abort));
    REQUIRE_FALSE(handler.send(job("sleep", "1000", 2), 400ms, no_abort));
    REQUIRE_FALSE(handler.send(job("echo", "3", 3), 10s, no_abort));
    Outcome first = handler.receive(no_abort);
    CHECK(first.kind == Kind::succeeded);
    Outcome slow = handler.receive(no_abort);
    CHECK(slow.kind == Kind::timed_out);
    // 0.4 s from the first job's answer, not from the send (0.2 s earlier)
    CHECK(slow.seconds >= 0.35);
    Outcome behind = handler.receive(no_abort);
    CHECK(behind.kind == Kind::aborted);
    CHECK(handler.run(job("echo", "5", 5), far(), no_abort).result == "5");
}

TEST_CASE("stopping a handler gives back the jobs in flight", "[handler][persistent][prefetch]")
{
    PersistentHandler handler(long_lived());
    REQUIRE_FALSE(handler.send(job("sleep", "1000", 1), 10s, no_abort));
    REQUIRE_FALSE(handler.send(job("echo", "2", 2), 10s, no_abort));
    handler.stop(0ms);
    CHECK(handler.receive(no_abort).kind == Kind::aborted);
    CHECK(handler.receive(no_abort).kind == Kind::aborted);
    CHECK(handler.pid() == -1);
}

TEST_CASE("a long-lived handler that crashes mid-job is restarted", "[handler][persistent]")
{
    PersistentHandler handler(long_lived());
    std::string before = handler.run(job("pid"), far(), no_abort).result;
    Outcome crash = handler.run(job("crash"), far(), no_abort);
    CHECK(crash.kind == Kind::failed);
    CHECK(crash.error == "handler exited with status 3: crashing on purpose");
    CHECK(process_gone(std::stol(before)));

    Outcome after = handler.run(job("pid"), far(), no_abort);
    CHECK(after.kind == Kind::succeeded);
    CHECK(after.result != before);
}

TEST_CASE("a long-lived handler that exits between jobs is replaced", "[handler][persistent]")
{
    PersistentHandler handler(long_lived());
    Outcome leaving = handler.run(job("exit_soon"), far(), no_abort);
    CHECK(leaving.kind == Kind::succeeded);
    long old_pid = handler.pid();
    REQUIRE(process_gone(old_pid));
    Outcome next = handler.run(job("pid"), far(), no_abort);
    CHECK(next.kind == Kind::succeeded);
    CHECK(next.result != std::to_string(old_pid));
}

TEST_CASE("a reply that breaks the protocol fails the job and restarts the handler",
          "[handler][persistent]")
{
    PersistentHandler handler(long_lived());
    std::string first = handler.run(job("pid"), far(), no_abort).result;

    Outcome garbage = handler.run(job("not_json"), far(), no_abort);
    CHECK(garbage.kind == Kind::failed);
    CHECK(garbage.error == "protocol error: reply is not JSON: this is not json");
    std::string second = handler.run(job("pid"), far(), no_abort).result;
    CHECK(second != first);

    Outcome wrong = handler.run(job("wrong_id", "8", 7), far(), no_abort);
    CHECK(wrong.kind == Kind::failed);
    CHECK(wrong.error == "protocol error: reply names job 8, the job sent was 7");
    Outcome third = handler.run(job("pid"), far(), no_abort);
    CHECK(third.kind == Kind::succeeded);
    CHECK(third.result != second);

    Outcome no_id = handler.run(job("wrong_id", "null", 7), far(), no_abort);
    CHECK(no_id.error == "protocol error: reply names job null, the job sent was 7");
    CHECK(handler.run(job("pid"), far(), no_abort).kind == Kind::succeeded);
}

TEST_CASE("a long-lived job past its deadline gets a fresh process next", "[handler][persistent]")
{
    PersistentHandler handler(long_lived());
    std::string first = handler.run(job("pid"), far(), no_abort).result;
    Outcome slow = handler.run(job("sleep", "1000"), in(300ms), no_abort);
    CHECK(slow.kind == Kind::timed_out);
    CHECK(slow.error.rfind("timed out after ", 0) == 0);
    CHECK(process_gone(std::stol(first)));

    Outcome next = handler.run(job("pid"), far(), no_abort);
    CHECK(next.kind == Kind::succeeded);
    CHECK(next.result != first);
}

TEST_CASE("the abort flag stops a long-lived handler", "[handler][persistent][kill]")
{
    PersistentHandler handler(long_lived());
    std::string first = handler.run(job("pid"), far(), no_abort).result;
    std::atomic<bool> abort{false};
    std::thread trigger([&abort] {
        std::this_thread::sleep_for(200ms);
        abort = true;
    });
    Outcome o = handler.run(job("sleep", "1000"), far(), abort);
    trigger.join();
    CHECK(o.kind == Kind::aborted);
    CHECK(o.error.rfind("aborted by the worker", 0) == 0);
    CHECK(process_gone(std::stol(first)));
}

TEST_CASE("restarts after crashes back off, and the wait can be cut short",
          "[handler][persistent][kill]")
{
    HandlerOptions options;
    options.restart_min = 10min;
    PersistentHandler handler(long_lived(), options);
    CHECK(handler.run(job("crash"), far(), no_abort).kind == Kind::failed);

    Outcome timed_out = handler.run(job("pid"), in(300ms), no_abort);
    CHECK(timed_out.kind == Kind::timed_out);
    CHECK(timed_out.error == "timed out while waiting to restart the handler after a crash");

    std::atomic<bool> abort{false};
    std::thread trigger([&abort] {
        std::this_thread::sleep_for(200ms);
        abort = true;
    });
    Outcome aborted = handler.run(job("pid"), far(), abort);
    trigger.join();
    CHECK(aborted.kind == Kind::aborted);
    CHECK(aborted.error == "aborted by the worker while waiting to restart the handler");
}

TEST_CASE("a long-lived handler that cannot start fails its jobs", "[handler][persistent]")
{
    HandlerOptions options;
    options.restart_min = 1ms;
    PersistentHandler handler(HandlerSpec{{"cachequeue-no-such-handler"}, true}, options);
    for (int i = 0; i < 3; ++i) {
        Outcome o = handler.run(job("pid"), far(), no_abort);
        CHECK(o.kind == Kind::failed);
        CHECK(o.error == "cannot run 'cachequeue-no-such-handler': No such file or directory");
    }
}

TEST_CASE("a long-lived handler's stderr lines reach the worker, and stop() ends it",
          "[handler][persistent]")
{
    std::vector<std::string> lines;
    HandlerOptions options;
    options.stderr_line = [&lines](std::string_view line) { lines.emplace_back(line); };
    PersistentHandler handler(long_lived(), options);
    Outcome o = handler.run(job("log", R"(["sending", "sent"])"), far(), no_abort);
    CHECK(o.result == "2");
    long pid = handler.pid();
    handler.stop(5s);
    CHECK(handler.pid() == -1);
    CHECK(process_gone(pid));
    CHECK(lines == std::vector<std::string>{"sending", "sent"});
}

// ---- the documentation's examples ----

TEST_CASE("the handler examples in docs/handlers.md work", "[handler][docs]")
{
    SECTION("the command handler")
    {
        TempPath script;
        std::ofstream(script.path) << docs_example("#!/bin/sh");
        JobInput export_job{900000 + getpid(), "export", "export_data", 1, R"({"study": 7})"};
        std::string out = (std::filesystem::temp_directory_path() /
                           ("export-" + std::to_string(export_job.id) + ".json"))
                              .string();
        Outcome o =
            run_command(HandlerSpec{{"/bin/sh", script.path}, false}, export_job, far(), no_abort);
        std::filesystem::remove(out);
        REQUIRE(o.kind == Kind::succeeded);
        CHECK(json::parse(o.result) == json({{"path", out}, {"bytes", 13}}));
    }
    SECTION("the long-lived handler")
    {
        TempPath script;
        std::ofstream(script.path) << docs_example("#!/usr/bin/env python3");
        PersistentHandler handler(HandlerSpec{{"python3", script.path}, true});
        Outcome sent = handler.run(job("send_email", R"({"to": "a@b.c"})"), far(), no_abort);
        REQUIRE(sent.kind == Kind::succeeded);
        CHECK(json::parse(sent.result) == json({{"sent_to", "a@b.c"}}));
        Outcome unknown = handler.run(job("archive", "null"), far(), no_abort);
        CHECK(unknown.kind == Kind::failed);
        CHECK(unknown.error == "KeyError: 'archive'");
    }
}
