// Unit tests of the management commands' JSON values and payload check (no server needed).
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "commands.hpp"

using cq::runner::json_syntax_error;
using cq::runner::json_value;
using cq::runner::Kind;

TEST_CASE("NULL is null whatever the column holds", "[json]")
{
    for (Kind kind : {Kind::text, Kind::integer, Kind::number, Kind::boolean, Kind::json})
        CHECK(json_value(std::nullopt, kind).is_null());
}

TEST_CASE("integers and numbers become JSON numbers", "[json]")
{
    CHECK(json_value("42", Kind::integer) == 42);
    CHECK(json_value("-9223372036854775808", Kind::integer).get<long long>() ==
          -9223372036854775807LL - 1);
    CHECK(json_value("42", Kind::integer).is_number_integer());
    CHECK(json_value("300", Kind::number).is_number_float());
    CHECK(json_value("0.009", Kind::number) == 0.009);
    CHECK(json_value("1e-06", Kind::number) == 1e-06);
}

TEST_CASE("values JSON numbers cannot hold", "[json]")
{
    CHECK(json_value("Infinity", Kind::number).is_null());
    CHECK(json_value("-Infinity", Kind::number).is_null());
    CHECK(json_value("NaN", Kind::number).is_null());
    // Not what the server sends for these kinds, but kept rather than lost.
    CHECK(json_value("12abc", Kind::integer) == "12abc");
    CHECK(json_value("99999999999999999999", Kind::integer) == "99999999999999999999");
    CHECK(json_value("", Kind::number) == "");
}

TEST_CASE("booleans and text", "[json]")
{
    CHECK(json_value("t", Kind::boolean) == true);
    CHECK(json_value("f", Kind::boolean) == false);
    CHECK(json_value("t", Kind::text) == "t");
    CHECK(json_value("", Kind::text) == "");
}

TEST_CASE("jsonb is embedded as JSON, in its key order", "[json]")
{
    auto payload = json_value(R"({"to": "a@example.org", "n": 1})", Kind::json);
    CHECK(payload.is_object());
    CHECK(payload.dump() == R"({"to":"a@example.org","n":1})");
    CHECK(json_value("[]", Kind::json).is_array());
    CHECK(json_value("\"s\"", Kind::json) == "s");
    CHECK(json_value("{broken", Kind::json) == "{broken");
}

TEST_CASE("payload syntax errors are named, valid JSON passes", "[json]")
{
    CHECK(json_syntax_error(R"({"to": "a@example.org"})").empty());
    CHECK(json_syntax_error("[1, 2]").empty()); // JSON, though the server wants an object
    CHECK(json_syntax_error("{\"to\":").rfind("not valid JSON: ", 0) == 0);
    CHECK_FALSE(json_syntax_error("").empty());
    CHECK_FALSE(json_syntax_error("{'single': 1}").empty());
    CHECK(json_syntax_error("{x").find("[json.exception") == std::string::npos);
}
