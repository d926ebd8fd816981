// Unit tests of the queue rules that need no server.
#include <catch2/catch.hpp>

#include <string>

#include "errors.hpp"
#include "sqlstate.hpp"
#include "queue_rules.hpp"

using namespace cq::queue;
using cq::test::sqlstate_of;

TEST_CASE("queue names fit a notification channel", "[queue]")
{
    std::string longest(52, 'q');
    CHECK(sqlstate_of([&] { check_name(longest.data(), longest.size()); }).empty());
    std::string too_long(53, 'q');
    CHECK(sqlstate_of([&] { check_name(too_long.data(), too_long.size()); }) == "22001");
    CHECK(sqlstate_of([] { check_name("", 0); }) == "22023");
    CHECK(sqlstate_of([] { check_task("", 0); }) == "22023");
}

TEST_CASE("queue settings and claim sizes are bounded", "[queue]")
{
    CHECK(sqlstate_of([] { check_max_retries(0); }).empty());
    CHECK(sqlstate_of([] { check_max_retries(-1); }) == "22023");
    CHECK(sqlstate_of([] { check_timeout(30'000'000); }).empty());
    CHECK(sqlstate_of([] { check_timeout(0); }) == "22023");
    CHECK(sqlstate_of([] { check_timeout(max_timeout_us + 1); }) == "22023");
    CHECK(sqlstate_of([] { check_batch_size(1); }).empty());
    CHECK(sqlstate_of([] { check_batch_size(max_batch_size); }).empty());
    CHECK(sqlstate_of([] { check_batch_size(0); }) == "22023");
    CHECK(sqlstate_of([] { check_batch_size(max_batch_size + 1); }) == "22023");
    CHECK(sqlstate_of([] { check_retry_in(-1); }) == "22023");
    CHECK(sqlstate_of([] { check_retry_in(max_retry_in_us); }).empty());
    CHECK(sqlstate_of([] { check_retry_in(max_retry_in_us + 1); }) == "22023");
}

TEST_CASE("retries back off exponentially with jitter, up to an hour", "[queue]")
{
    CHECK(backoff_seconds(1, 0.5) == Approx(2.0));
    CHECK(backoff_seconds(3, 0.5) == Approx(8.0));
    CHECK(backoff_seconds(3, 0.0) == Approx(6.0));
    CHECK(backoff_seconds(3, 0.999999) == Approx(10.0).epsilon(0.001));
    CHECK(backoff_seconds(20, 0.5) == Approx(3600.0));
    CHECK(backoff_seconds(1000, 1.0) <= 4500.0);
    CHECK(backoff_seconds(0, 0.5) == Approx(1.0));
}
