// Unit tests of the .env reader: django-environ's read_env rules and the lines it refuses.
#include <catch2/catch.hpp>

#include <string>

#include "env_file.hpp"
#include "temp_files.hpp"

using namespace cq::runner;
using cq::test::settings_error_of;
using cq::test::TempFile;

namespace {

// the value of the last entry for key, or "<unset>"
std::string value_of(const EnvFile& file, const std::string& key)
{
    std::string value = "<unset>";
    for (const EnvEntry& entry : file.entries)
        if (entry.key == key)
            value = entry.value;
    return value;
}

std::string error_of(const std::string& text)
{
    return settings_error_of([&] { parse_env_text(text, ".env"); });
}

} // namespace

TEST_CASE("env: KEY=value lines, export, comments and blank lines", "[env]")
{
    EnvFile file = parse_env_text("# a comment\n"
                                  "\n"
                                  "DB_HOST=db.local\n"
                                  "   \n"
                                  "  # an indented comment\n"
                                  "export DB_USER=app\n"
                                  "EMPTY=\n"
                                  "EQUALS==x=y\n"
                                  "1ST=digit first\n"
                                  "export=not a prefix\n",
                                  ".env");
    REQUIRE(file.entries.size() == 6);
    CHECK(file.entries[0].key == "DB_HOST");
    CHECK(file.entries[0].value == "db.local");
    CHECK(file.entries[0].line == 3);
    CHECK(file.entries[1].key == "DB_USER");
    CHECK(file.entries[1].line == 6);
    CHECK(value_of(file, "EMPTY") == "");
    CHECK(value_of(file, "EQUALS") == "=x=y");
    CHECK(value_of(file, "1ST") == "digit first");
    CHECK(value_of(file, "export") == "not a prefix");
    CHECK(file.warnings.empty());
}

TEST_CASE("env: single quotes keep the text as written", "[env]")
{
    EnvFile file = parse_env_text("A='x\\ny \"z\" # not a comment'\n"
                                  "B='it's'\n"
                                  "C=''\n",
                                  ".env");
    CHECK(value_of(file, "A") == "x\\ny \"z\" # not a comment");
    CHECK(value_of(file, "B") == "it's");
    CHECK(value_of(file, "C") == "");
}

TEST_CASE("env: double quotes unescape as django-environ does", "[env]")
{
    EnvFile file = parse_env_text(R"(A="a\"b\\c"
B="line\nnext\ttab\rret"
C="\x\$\'"
D="ends with \"
E=""
F="say "hi" twice"
)",
                                  ".env");
    CHECK(value_of(file, "A") == "a\"b\\c");
    // \n, \t and \r stay as two characters (django-environ leaves them to multiline=True)
    CHECK(value_of(file, "B") == "line\\nnext\\ttab\\rret");
    CHECK(value_of(file, "C") == "x$'");
    CHECK(value_of(file, "D") == "ends with \\");
    CHECK(value_of(file, "E") == "");
    CHECK(value_of(file, "F") == "say \"hi\" twice");
}

TEST_CASE("env: a single-quoted double-quoted value loses both quotes, as in django-environ",
          "[env]")
{
    EnvFile file = parse_env_text("A='\"x\"'\nB='\"x'\n", ".env");
    CHECK(value_of(file, "A") == "x");
    CHECK(value_of(file, "B") == "\"x");
}

TEST_CASE("env: unquoted values are kept whole, with a warning where that may surprise", "[env]")
{
    EnvFile file = parse_env_text("A=abc # note\n"
                                  "B= spaced \n"
                                  "C=a#b\n"
                                  "D=#start\n"
                                  "E=plain value\n",
                                  "conf/.env");
    CHECK(value_of(file, "A") == "abc # note");
    CHECK(value_of(file, "B") == " spaced ");
    CHECK(value_of(file, "C") == "a#b");
    CHECK(value_of(file, "D") == "#start");
    CHECK(value_of(file, "E") == "plain value");
    REQUIRE(file.warnings.size() == 3);
    CHECK(file.warnings[0].rfind("conf/.env:1: A: \"#\" and what follows", 0) == 0);
    CHECK(file.warnings[1].rfind("conf/.env:2: B: leading or trailing spaces", 0) == 0);
    CHECK(file.warnings[2].rfind("conf/.env:4: D: \"#\"", 0) == 0);
}

TEST_CASE("env: a key given twice takes the later line", "[env]")
{
    EnvFile file = parse_env_text("A=1\nA=2\n", ".env");
    CHECK(value_of(file, "A") == "2");
    CHECK(file.entries.back().line == 2);
}

TEST_CASE("env: lines end as Python's splitlines ends them", "[env]")
{
    EnvFile file = parse_env_text("A=1\r\nB=2\rC=3\fD=4\xe2\x80\xa8"
                                  "E=5\xc2\x85"
                                  "F=6",
                                  ".env");
    REQUIRE(file.entries.size() == 6);
    for (int i = 0; i < 6; ++i) {
        CHECK(file.entries[i].line == i + 1);
        CHECK(file.entries[i].value == std::to_string(i + 1));
    }
    CHECK(error_of("A=1\r\nB=2\r\nbad\r\n") == ".env:3: expected KEY=value");
}

TEST_CASE("env: lines django-environ would skip or misread are errors", "[env]")
{
    CHECK(error_of("A=1\nNO_EQUALS\n") == ".env:2: expected KEY=value");
    CHECK(error_of("KEY = value") ==
          ".env:1: invalid variable name \"KEY \" (letters, digits and _ only, no spaces "
          "around \"=\"); django-environ ignores this line");
    CHECK(error_of("MY-KEY=1").rfind(".env:1: invalid variable name \"MY-KEY\"", 0) == 0);
    CHECK(error_of("export  KEY=1").rfind(".env:1: invalid variable name \"export  KEY\"", 0) ==
          0);
    CHECK(error_of("=value") == ".env:1: missing variable name before \"=\"");
    CHECK(error_of("  KEY=1") == ".env:1: the line starts with whitespace; django-environ "
                                 "ignores it");
    CHECK(error_of("\tKEY=1").rfind(".env:1: the line starts with whitespace", 0) == 0);
    CHECK(error_of("\xef\xbb\xbfKEY=1") ==
          ".env:1: the file starts with a byte-order mark; django-environ ignores this line");
    CHECK(error_of("KEY: value") == ".env:1: expected KEY=value");
}

TEST_CASE("env: quotes must close at the end of the line", "[env]")
{
    CHECK(error_of("A=\"abc") == ".env:1: A: unterminated quote");
    CHECK(error_of("A='abc") == ".env:1: A: unterminated quote");
    CHECK(error_of("A='") == ".env:1: A: unterminated quote");
    CHECK(error_of("A=\"") == ".env:1: A: unterminated quote");
    CHECK(error_of("A=\"abc\" # comment") ==
          ".env:1: A: text after the closing quote (django-environ would keep the quotes and "
          "the text in the value)");
    CHECK(error_of("A='abc' ").rfind(".env:1: A: text after the closing quote", 0) == 0);
    CHECK(error_of("A=abc\"").empty());
}

TEST_CASE("env: bytes Python cannot read are errors, on one line", "[env]")
{
    CHECK(error_of(std::string("A=x\0y", 5)) == ".env:1: A: the value contains a NUL byte");
    CHECK(error_of("A=1\nB=caf\xe9\n") == ".env:2: not valid UTF-8");
    CHECK(error_of("# caf\xe9\n") == ".env:1: not valid UTF-8");
    CHECK(error_of("A=\xed\xa0\x80") == ".env:1: not valid UTF-8");     // a surrogate
    CHECK(error_of("A=\xc0\xaf") == ".env:1: not valid UTF-8");         // overlong
    CHECK(error_of("A=\xf4\x90\x80\x80") == ".env:1: not valid UTF-8"); // past U+10FFFF
    CHECK(error_of("A=caf\xc3\xa9 \xf0\x9f\x98\x80").empty());
    CHECK(error_of("bad\x01line") == ".env:1: expected KEY=value");
    CHECK(error_of("K\x01=1") == ".env:1: invalid variable name \"K\\x01\" (letters, digits and "
                                 "_ only, no spaces around \"=\"); django-environ ignores this "
                                 "line");
}

TEST_CASE("env: files are read from disk, and a missing one is an error", "[env]")
{
    TempFile file("A=1\n");
    EnvFile read = read_env_file(file.path());
    CHECK(read.path == file.path());
    CHECK(value_of(read, "A") == "1");
    CHECK(settings_error_of([] { read_env_file("/nonexistent/.env"); }) ==
          "/nonexistent/.env: could not open: No such file or directory");
    CHECK(settings_error_of([] { read_env_file("/tmp"); }) == "/tmp: is a directory");
    CHECK(path_exists(file.path()));
    CHECK_FALSE(path_exists("/nonexistent/.env"));
}

TEST_CASE("env: a file larger than 1 MiB is refused", "[env]")
{
    TempFile big(std::string(max_settings_file_bytes + 1, '#'));
    CHECK(settings_error_of([&] { read_settings_file(big.path()); }) ==
          big.path() + ": larger than 1 MiB; is this the right file?");
    TempFile fits(std::string(max_settings_file_bytes, '#'));
    CHECK(read_settings_file(fits.path()).size() == max_settings_file_bytes);
}

TEST_CASE("env: booleans as django-environ casts them", "[env][bool]")
{
    for (const char* yes : {"true", "True", "TRUE", "on", "ok", "y", "Yes", "1", " yes ", "2",
                            "-1", "+3", "007", "1_0", " 1 "})
        CHECK(parse_env_bool(yes));
    for (const char* no : {"", "false", "False", "0", "00", "-0", "no", "off", "n", "t",
                           "yes please", "1__0", "_1", "1_", "+", "0x1", "1.0"})
        CHECK_FALSE(parse_env_bool(no));
}
