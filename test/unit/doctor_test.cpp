// Unit tests of cachequeue doctor's output and exit code (the checks run in test/e2e).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sstream>
#include <string>

#include "doctor.hpp"

using cq::runner::doctor_exit_code;
using cq::runner::Finding;
using cq::runner::print_findings;
using cq::runner::Severity;

TEST_CASE("doctor's exit code follows the worst finding", "[doctor]")
{
    CHECK(doctor_exit_code({}) == 0);
    CHECK(doctor_exit_code({{"a", Severity::ok, "m", ""}, {"b", Severity::info, "m", "s"}}) == 0);
    CHECK(doctor_exit_code({{"a", Severity::warning, "m", "s"}, {"b", Severity::ok, "m", ""}}) ==
          cq::runner::exit_doctor_warning);
    CHECK(doctor_exit_code(
              {{"a", Severity::warning, "m", "s"}, {"b", Severity::critical, "m", "s"}}) ==
          cq::runner::exit_doctor_critical);
}

TEST_CASE("doctor prints one line per finding and its suggestion below", "[doctor]")
{
    std::ostringstream out;
    print_findings(out, "app",
                   {{"queue", Severity::warning, "queue email: 2 dead job(s)", "retry them"},
                    {"cache", Severity::ok, "1 cache(s)", ""}},
                   false);
    CHECK(out.str() == "cachequeue doctor: database app\n"
                       "warning  queue           queue email: 2 dead job(s)\n"
                       "                         -> retry them\n"
                       "ok       cache           1 cache(s)\n");
}

TEST_CASE("doctor --json counts the findings per severity", "[doctor]")
{
    std::ostringstream out;
    print_findings(out, "app",
                   {{"queue", Severity::warning, "w", "s"}, {"cache", Severity::ok, "o", ""}},
                   true);
    auto doc = nlohmann::json::parse(out.str());
    CHECK(doc["database"] == "app");
    CHECK(doc["findings"].size() == 2);
    CHECK(doc["findings"][0]["severity"] == "warning");
    CHECK(doc["findings"][0]["suggestion"] == "s");
    CHECK(doc["counts"]["warning"] == 1);
    CHECK(doc["counts"]["ok"] == 1);
    CHECK(doc["counts"]["critical"] == 0);
}
