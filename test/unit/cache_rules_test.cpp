// Unit tests of the cache rules that need no server.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "cache_rules.hpp"
#include "errors.hpp"
#include "sqlstate.hpp"

using namespace cq::cache;
using cq::test::sqlstate_of;

namespace {

int64_t parse(const std::string& text)
{
    return parse_counter(text.data(), text.size());
}

} // namespace

TEST_CASE("cache names are 1 to 63 bytes", "[names]")
{
    CHECK(sqlstate_of([] { check_name("default", 7); }).empty());
    std::string longest(63, 'n');
    CHECK(sqlstate_of([&] { check_name(longest.data(), longest.size()); }).empty());
    CHECK(sqlstate_of([] { check_name("", 0); }) == "22023");
    std::string too_long(64, 'n');
    CHECK(sqlstate_of([&] { check_name(too_long.data(), too_long.size()); }) == "22001");
}

TEST_CASE("cache keys are 1 to 1024 bytes", "[keys]")
{
    std::string django_max(250, 'k');
    CHECK(sqlstate_of([&] { check_key(django_max.data(), django_max.size()); }).empty());
    std::string longest(1024, 'k');
    CHECK(sqlstate_of([&] { check_key(longest.data(), longest.size()); }).empty());
    CHECK(sqlstate_of([] { check_key("", 0); }) == "22023");
    std::string too_long(1025, 'k');
    CHECK(sqlstate_of([&] { check_key(too_long.data(), too_long.size()); }) == "22001");
}

TEST_CASE("limits reject what cannot be honoured", "[limits]")
{
    CHECK(sqlstate_of([] { check_limits(1, 0); }).empty());
    CHECK(sqlstate_of([] { check_limits(10000, 4); }).empty());
    CHECK(sqlstate_of([] { check_limits(0, 3); }) == "22023");
    CHECK(sqlstate_of([] { check_limits(-5, 3); }) == "22023");
    CHECK(sqlstate_of([] { check_limits(300, -1); }) == "22023");
}

TEST_CASE("timeouts follow Django's meaning", "[expiry]")
{
    const int64_t now = 1'000'000;
    SECTION("NULL and +Infinity never expire")
    {
        CHECK(expiry_from_timeout(true, 0, now).kind == Expiry::never);
        double inf = std::numeric_limits<double>::infinity();
        CHECK(expiry_from_timeout(false, inf, now).kind == Expiry::never);
    }
    SECTION("zero, negative and -Infinity are not kept")
    {
        CHECK(expiry_from_timeout(false, 0, now).kind == Expiry::not_kept);
        CHECK(expiry_from_timeout(false, -3, now).kind == Expiry::not_kept);
        double inf = std::numeric_limits<double>::infinity();
        CHECK(expiry_from_timeout(false, -inf, now).kind == Expiry::not_kept);
    }
    SECTION("a positive timeout counts from now in microseconds")
    {
        Expiry e = expiry_from_timeout(false, 2.5, now);
        CHECK(e.kind == Expiry::at);
        CHECK(e.at_us == now + 2'500'000);
        CHECK(expiry_from_timeout(false, 1e-9, now).at_us == now + 1);
    }
    SECTION("NaN and absurdly long timeouts are errors")
    {
        CHECK(sqlstate_of([&] { expiry_from_timeout(false, std::nan(""), now); }) == "22023");
        CHECK(sqlstate_of([&] { expiry_from_timeout(false, 1e11, now); }) == "22023");
        CHECK(sqlstate_of([&] { expiry_from_timeout(false, 1e10, now); }).empty());
        CHECK(sqlstate_of([] { check_default_timeout(false, std::nan("")); }) == "22023");
        CHECK(sqlstate_of([] { check_default_timeout(true, 0); }).empty());
    }
}

TEST_CASE("counters parse as decimal bigints", "[incr]")
{
    CHECK(parse("0") == 0);
    CHECK(parse("42") == 42);
    CHECK(parse("+7") == 7);
    CHECK(parse("-15") == -15);
    CHECK(parse("9223372036854775807") == std::numeric_limits<int64_t>::max());
    CHECK(parse("-9223372036854775808") == std::numeric_limits<int64_t>::min());
    CHECK(sqlstate_of([] { parse("9223372036854775808"); }) == "22003");
    CHECK(sqlstate_of([] { parse("-9223372036854775809"); }) == "22003");
    CHECK(sqlstate_of([] { parse(""); }) == "22P02");
    CHECK(sqlstate_of([] { parse("-"); }) == "22P02");
    CHECK(sqlstate_of([] { parse("12a"); }) == "22P02");
    CHECK(sqlstate_of([] { parse(" 1"); }) == "22P02");
    CHECK(sqlstate_of([] { parse("1.5"); }) == "22P02");
    CHECK(sqlstate_of([] { parse("12345678901234567890123"); }) == "22003");
    // Leading zeros do not count against the range.
    CHECK(parse("00000000000000000000042") == 42);
    std::string with_nul("1\0", 2);
    CHECK(sqlstate_of([&] { parse(with_nul); }) == "22P02");
}

TEST_CASE("counter arithmetic stays within bigint", "[incr]")
{
    const int64_t max = std::numeric_limits<int64_t>::max();
    const int64_t min = std::numeric_limits<int64_t>::min();
    CHECK(add_counter(41, 1) == 42);
    CHECK(add_counter(0, -5) == -5);
    CHECK(add_counter(max - 1, 1) == max);
    CHECK(sqlstate_of([&] { add_counter(max, 1); }) == "22003");
    CHECK(sqlstate_of([&] { add_counter(min, -1); }) == "22003");
}

TEST_CASE("a cull removes a share of the cache, never too little", "[cull]")
{
    CHECK(cull_victims(300, 300, 3) == 0);
    CHECK(cull_victims(301, 300, 3) == 100);
    CHECK(cull_victims(11, 10, 2) == 5);
    CHECK(cull_victims(50, 10, 0) == 50);
    // A large cull frequency still brings the cache back to max_entries.
    CHECK(cull_victims(20, 10, 100) == 10);
    CHECK(cull_victims(2, 1, 3) == 1);
}
