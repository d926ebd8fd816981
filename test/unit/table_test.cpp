// Unit tests of the management commands' text output: widths, alignment, escaping.
#include <catch2/catch.hpp>

#include <sstream>
#include <stdexcept>
#include <string>

#include "table.hpp"

using cq::runner::display_width;
using cq::runner::print_fields;
using cq::runner::printable;
using cq::runner::TextTable;

TEST_CASE("display width counts UTF-8 characters, not bytes", "[table]")
{
    CHECK(display_width("") == 0);
    CHECK(display_width("cache") == 5);
    CHECK(display_width("caché") == 5);
    CHECK(display_width("日本") == 2);
}

TEST_CASE("control characters are escaped, other text kept", "[table]")
{
    CHECK(printable("plain é text") == "plain é text");
    CHECK(printable("a\nb") == "a\\nb");
    CHECK(printable("a\r\tb") == "a\\r\\tb");
    CHECK(printable(std::string("\x1b[2J", 4)) == "\\x1b[2J");
    CHECK(printable(std::string("a\0b", 3)) == "a\\x00b");
    CHECK(printable("\x7f") == "\\x7f");
}

TEST_CASE("a table lines up its columns, numbers to the right", "[table]")
{
    TextTable table;
    table.add_column("cache");
    table.add_column("total", TextTable::Align::right);
    table.add_column("unlogged");
    table.add_row({"default", "7", "yes"});
    table.add_row({"sessions", "12345", "no"});
    std::ostringstream out;
    table.print(out);
    CHECK(out.str() == "cache     total  unlogged\n"
                       "--------  -----  --------\n"
                       "default       7  yes\n"
                       "sessions  12345  no\n");
}

TEST_CASE("a table with no rows prints its header", "[table]")
{
    TextTable table;
    table.add_column("queue");
    table.add_column("queued", TextTable::Align::right);
    std::ostringstream out;
    table.print(out);
    CHECK(out.str() == "queue  queued\n"
                       "-----  ------\n");
    CHECK(table.rows() == 0);
}

TEST_CASE("a table measures accented names and escaped cells", "[table]")
{
    TextTable table;
    table.add_column("name");
    table.add_column("n", TextTable::Align::right);
    table.add_row({"é", "1"});
    table.add_row({"a\nb", "22"});
    std::ostringstream out;
    table.print(out);
    CHECK(out.str() == "name   n\n"
                       "----  --\n"
                       "é      1\n"
                       "a\\nb  22\n");
}

TEST_CASE("a row must have one cell per column", "[table]")
{
    TextTable table;
    table.add_column("a");
    table.add_column("b");
    CHECK_THROWS_AS(table.add_row({"1"}), std::invalid_argument);
    CHECK_THROWS_AS(table.add_row({"1", "2", "3"}), std::invalid_argument);
    table.add_row({"1", "2"});
    CHECK_THROWS_AS(table.add_column("c"), std::logic_error);
    CHECK(table.rows() == 1);
}

TEST_CASE("fields line up after the longest name", "[table]")
{
    std::ostringstream out;
    print_fields(out, {{"id", "12"}, {"status", "dead"}, {"last_error", "timed\nout"}});
    CHECK(out.str() == "id          12\n"
                       "status      dead\n"
                       "last_error  timed\\nout\n");
}

TEST_CASE("a field with an empty value has no trailing spaces", "[table]")
{
    std::ostringstream out;
    print_fields(out, {{"worker", ""}, {"id", "1"}});
    CHECK(out.str() == "worker\n"
                       "id      1\n");
}
