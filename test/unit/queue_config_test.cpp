// Unit tests of QUEUE_CONFIG parsing: the Django format, defaults, and every refusal.
#include <catch2/catch.hpp>

#include <string>

#include "queue_config.hpp"
#include "temp_files.hpp"

using namespace cq::runner;
using cq::test::settings_error_of;

namespace {

std::string error_of(const std::string& json)
{
    return settings_error_of([&] { parse_queue_config(json, "q.json"); });
}

} // namespace

TEST_CASE("queue config: the Django application's QUEUE_CONFIG", "[queue_config]")
{
    QueueConfig config = parse_queue_config(R"({
        "BACKEND": "cachequeue.backends.PostgresQueue",
        "QUEUES": {
            "email": {"max_retries": 3, "timeout": 30, "priority": 5},
            "report": {"max_retries": 2, "timeout": 300, "priority": 3},
            "export": {"max_retries": 2, "timeout": 600.5, "priority": 3}
        },
        "HANDLERS": {
            "send_email": ["python3", "manage.py", "send_email_job"],
            "generate_report": {"argv": ["python3", "manage.py", "report_worker"],
                                "persistent": true},
            "export_data": {"argv": ["/usr/bin/export"]}
        }
    })",
                                            "q.json");
    CHECK(config.name == "q.json");
    CHECK(config.backend == "cachequeue.backends.PostgresQueue");
    REQUIRE(config.queues.size() == 3);
    CHECK(config.queues[0].name == "email"); // the JSON's order
    CHECK(config.queues[1].name == "report");
    CHECK(config.queues[2].name == "export");
    CHECK(config.queues[0].max_retries == 3);
    CHECK(config.queues[0].timeout_seconds == 30);
    CHECK(config.queues[0].timeout_us() == 30'000'000);
    CHECK(config.queues[0].priority == 5);
    CHECK(config.queues[2].timeout_seconds == 600.5);
    REQUIRE(config.find_queue("report"));
    CHECK(config.find_queue("report")->max_retries == 2);
    CHECK(config.find_queue("missing") == nullptr);

    REQUIRE(config.handlers.size() == 3);
    CHECK(config.handlers["send_email"].argv ==
          std::vector<std::string>{"python3", "manage.py", "send_email_job"});
    CHECK_FALSE(config.handlers["send_email"].persistent);
    CHECK(config.handlers["generate_report"].persistent);
    CHECK(config.handlers["export_data"].argv == std::vector<std::string>{"/usr/bin/export"});
    CHECK_FALSE(config.handlers["export_data"].persistent);
    CHECK(config.warnings.empty());
}

TEST_CASE("queue config: missing fields take the extension's defaults", "[queue_config]")
{
    QueueConfig config =
        parse_queue_config(R"({"QUEUES": {"a": {}, "b": {"priority": -2}}})", "q.json");
    REQUIRE(config.queues.size() == 2);
    CHECK(config.queues[0].max_retries == 3);
    CHECK(config.queues[0].timeout_seconds == 30);
    CHECK(config.queues[0].priority == 0);
    CHECK(config.queues[1].priority == -2);
    CHECK(config.backend.empty());
    CHECK(config.handlers.empty());
    CHECK(parse_queue_config("{}", "q.json").queues.empty());
}

TEST_CASE("queue config: limits are the extension's", "[queue_config]")
{
    CHECK(error_of(R"({"QUEUES": {"a": {"max_retries": 0, "timeout": 86400}}})").empty());
    CHECK(error_of(R"({"QUEUES": {"a": {"max_retries": 1000, "timeout": 0.000001}}})").empty());
    CHECK(error_of(R"({"QUEUES": {"a": {"priority": -2147483648}}})").empty());
    CHECK(error_of(R"({"QUEUES": {"a": {"priority": 2147483647}}})").empty());
    std::string longest(52, 'q');
    CHECK(error_of(R"({"QUEUES": {")" + longest + R"(": {}}})").empty());
    CHECK(error_of(R"({"QUEUES": {")" + longest + R"(q": {}}})") ==
          "q.json: QUEUES." + longest + "q: a queue name has 1 to 52 bytes");
    CHECK(error_of(R"({"QUEUES": {"": {}}})") ==
          "q.json: QUEUES[\"\"]: a queue name has 1 to 52 bytes");
}

TEST_CASE("queue config: wrong types and ranges name the JSON path", "[queue_config]")
{
    CHECK(error_of(R"({"QUEUES": {"email": {"timeout": "30"}}})") ==
          "q.json: QUEUES.email.timeout: expected a number of seconds, got \"30\"");
    CHECK(error_of(R"({"QUEUES": {"email": {"timeout": true}}})") ==
          "q.json: QUEUES.email.timeout: expected a number of seconds, got true");
    CHECK(error_of(R"({"QUEUES": {"email": {"timeout": 0}}})") ==
          "q.json: QUEUES.email.timeout: expected a number of seconds from 0.000001 to 86400, "
          "got 0");
    CHECK(error_of(R"({"QUEUES": {"email": {"timeout": -5}}})").find("got -5") !=
          std::string::npos);
    CHECK(error_of(R"({"QUEUES": {"email": {"timeout": 86400.5}}})").find("got 86400.5") !=
          std::string::npos);
    CHECK(error_of(R"({"QUEUES": {"email": {"max_retries": -1}}})") ==
          "q.json: QUEUES.email.max_retries: expected a whole number of retries from 0 to 1000, "
          "got -1");
    CHECK(error_of(R"({"QUEUES": {"email": {"max_retries": 2.5}}})").find("got 2.5") !=
          std::string::npos);
    CHECK(error_of(R"({"QUEUES": {"email": {"max_retries": 1001}}})").find("got 1001") !=
          std::string::npos);
    CHECK(error_of(R"({"QUEUES": {"email": {"max_retries": null}}})").find("got null") !=
          std::string::npos);
    CHECK(error_of(R"({"QUEUES": {"email": {"priority": 2147483648}}})") ==
          "q.json: QUEUES.email.priority: expected a whole number from -2147483648 to "
          "2147483647, got 2147483648");
    CHECK(error_of(R"({"QUEUES": {"email": {"priority": 18446744073709551615}}})")
              .find("QUEUES.email.priority") != std::string::npos);
    CHECK(error_of(R"({"QUEUES": {"email": 5}})") ==
          "q.json: QUEUES.email: expected an object with max_retries, timeout and priority, "
          "got 5");
    CHECK(error_of(R"({"QUEUES": ["email"]})") ==
          "q.json: QUEUES: expected an object of queue names to settings, got [\"email\"]");
    CHECK(error_of(R"({"BACKEND": 1})") == "q.json: BACKEND: expected a string, got 1");
    CHECK(error_of("[]") == "q.json: expected a JSON object with QUEUES and HANDLERS, got []");
    CHECK(error_of("null") == "q.json: expected a JSON object with QUEUES and HANDLERS, got null");
}

TEST_CASE("queue config: an unknown queue setting is an error, an unknown key a warning",
          "[queue_config]")
{
    CHECK(error_of(R"({"QUEUES": {"email": {"max_retry": 3}}})") ==
          "q.json: QUEUES.email.max_retry: unknown queue setting (expected max_retries, "
          "timeout or priority)");
    QueueConfig config = parse_queue_config(R"({"QUEUES": {}, "DEFAULT_QUEUE": "email"})", "q");
    REQUIRE(config.warnings.size() == 1);
    CHECK(config.warnings[0] ==
          "q: DEFAULT_QUEUE: ignored (cachequeue reads BACKEND, QUEUES and HANDLERS)");
}

TEST_CASE("queue config: handlers need a program", "[queue_config]")
{
    CHECK(error_of(R"({"HANDLERS": {"send_email": []}})") ==
          "q.json: HANDLERS.send_email: the list is empty; it needs at least the program");
    CHECK(error_of(R"({"HANDLERS": {"send_email": {"argv": []}}})") ==
          "q.json: HANDLERS.send_email.argv: the list is empty; it needs at least the program");
    CHECK(error_of(R"({"HANDLERS": {"send_email": [""]}})") ==
          "q.json: HANDLERS.send_email[0]: the program name is empty");
    CHECK(error_of(R"({"HANDLERS": {"send_email": ["python3", 3]}})") ==
          "q.json: HANDLERS.send_email[1]: expected a string, got 3");
    CHECK(error_of(R"({"HANDLERS": {"send_email": ["a\u0000b"]}})") ==
          "q.json: HANDLERS.send_email[0]: an argument cannot contain a NUL character");
    CHECK(error_of(R"({"HANDLERS": {"send_email": "python3 manage.py x"}})") ==
          "q.json: HANDLERS.send_email: expected a list of the program and its arguments, or "
          "an object with argv and persistent, got \"python3 manage.py x\"");
    CHECK(error_of(R"({"HANDLERS": {"t": {"persistent": true}}})") ==
          "q.json: HANDLERS.t: missing argv, the program and its arguments");
    CHECK(error_of(R"({"HANDLERS": {"t": {"argv": ["x"], "persistent": "yes"}}})") ==
          "q.json: HANDLERS.t.persistent: expected true or false, got \"yes\"");
    CHECK(error_of(R"({"HANDLERS": {"t": {"argv": ["x"], "timeout": 3}}})") ==
          "q.json: HANDLERS.t.timeout: unknown handler setting (expected argv or persistent)");
    CHECK(error_of(R"({"HANDLERS": {"t": {"argv": "x"}}})") ==
          "q.json: HANDLERS.t.argv: expected a list of the program and its arguments, got "
          "\"x\"");
    CHECK(error_of(R"({"HANDLERS": {"": ["x"]}})") ==
          "q.json: HANDLERS[\"\"]: a task name has 1 to 200 bytes");
    CHECK(error_of(R"({"HANDLERS": 7})") ==
          "q.json: HANDLERS: expected an object of task names to commands, got 7");
}

TEST_CASE("queue config: odd keys are quoted in paths, on one line", "[queue_config]")
{
    CHECK(error_of(R"({"QUEUES": {"a.b\nc": {"timeout": "x"}}})") ==
          "q.json: QUEUES[\"a.b\\nc\"].timeout: expected a number of seconds, got \"x\"");
    std::string long_key(100, 'k');
    std::string message = error_of(R"({"QUEUES": {"x y)" + long_key + R"(": 1}})");
    CHECK(message.find("...\"]") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
}

TEST_CASE("queue config: malformed JSON gives the line and column", "[queue_config]")
{
    CHECK(error_of("{\n  \"QUEUES\": {\n    \"email\": {\"timeout\": }\n  }\n}") ==
          "q.json: line 3, column 26: syntax error while parsing value - unexpected '}'; "
          "expected '[', '{', or a literal");
    CHECK(error_of("{\"QUEUES\": {}} x").rfind("q.json: line 1, column 16: syntax error", 0) == 0);
    CHECK(error_of("").rfind("q.json: line 1, column 1: syntax error while parsing value", 0) ==
          0);
    CHECK(error_of("{\"a\":").rfind("q.json: line 1, column 6: syntax error", 0) == 0);
    // Python's json.dumps writes NaN and Infinity, which JSON has not
    CHECK(error_of(R"({"QUEUES": {"a": {"timeout": Infinity}}})")
              .rfind("q.json: line 1, column 30: syntax error", 0) == 0);
    CHECK(error_of(R"({"QUEUES": {"a": {"timeout": 1e400}}})") ==
          "q.json: number overflow parsing '1e400'");
    CHECK(error_of("{\"a\": \"\x01\"}").find('\x01') == std::string::npos);
}
