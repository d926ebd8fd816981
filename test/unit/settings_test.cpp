// Unit tests of settings resolution: precedence, defaults, DATABASE_URL, the pooler,
// QUEUE_CONFIG sources, provenance, masking and the conninfo string.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <string>

#include <libpq-fe.h>

// extension/settings.hpp has the same name and comes first on the unit tests' include path
#include "../../glue/settings.hpp"
#include "temp_files.hpp"

using namespace cq::runner;
using cq::test::settings_error_of;
using cq::test::TempDir;
using Env = std::map<std::string, std::string>;

namespace {

// settings resolved in dir (with its .env, if written) from env
Settings resolve_in(const TempDir& dir, const Env& env, ResolveOptions options = {})
{
    options.cwd = dir.path();
    return resolve_settings(options, env);
}

std::string error_in(const TempDir& dir, const Env& env, ResolveOptions options = {})
{
    return settings_error_of([&] { resolve_in(dir, env, options); });
}

// the keyword's value, or "<unset>"
std::string kw(const Settings& s, const std::string& keyword)
{
    const std::string* value = s.keyword(keyword);
    return value ? *value : "<unset>";
}

// the keyword's source text, or "<unset>"
std::string source(const Settings& s, const std::string& keyword)
{
    for (const ConnKeyword& k : s.connection)
        if (k.keyword == keyword)
            return k.origin.text();
    return "<unset>";
}

std::vector<std::string> keywords(const Settings& s)
{
    std::vector<std::string> names;
    for (const ConnKeyword& k : s.connection)
        names.push_back(k.keyword);
    return names;
}

// PQconninfoParse of text as keyword -> value; throws if libpq refuses it
Env libpq_parse(const std::string& text)
{
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(text.c_str(), &error);
    if (!options) {
        std::string message = error ? error : "?";
        PQfreemem(error);
        throw std::runtime_error("libpq refused " + text + ": " + message);
    }
    Env parsed;
    for (PQconninfoOption* o = options; o->keyword; ++o)
        if (o->val)
            parsed[o->keyword] = o->val;
    PQconninfoFree(options);
    return parsed;
}

} // namespace

TEST_CASE("settings: without variables, the Django defaults", "[settings]")
{
    TempDir dir;
    Settings s = resolve_in(dir, {});
    CHECK(s.env_file.empty());
    CHECK_FALSE(s.use_supabase);
    CHECK(s.use_supabase_origin.kind == Origin::Kind::default_value);
    CHECK_FALSE(s.database_url);
    CHECK(keywords(s) == std::vector<std::string>{"host", "port", "dbname", "user"});
    CHECK(kw(s, "host") == "localhost");
    CHECK(kw(s, "port") == "5432");
    CHECK(kw(s, "dbname") == "medical_imaging");
    CHECK(kw(s, "user") == "postgres");
    CHECK(kw(s, "password") == "<unset>"); // empty DB_PASSWORD: left to libpq, as Django does
    CHECK(source(s, "host") == "default, DB_HOST not set");
    CHECK(s.pooler == PoolerMode::none);
    CHECK(s.pooler_reason == "not Supabase mode, port not 6543");
    CHECK(s.queue_config_origin.kind == Origin::Kind::none);
    CHECK(s.queue_config.queues.empty());
    CHECK(s.warnings.empty());
}

TEST_CASE("settings: DB_* variables from the environment", "[settings]")
{
    TempDir dir;
    Settings s = resolve_in(dir, {{"DB_HOST", "db.internal"},
                                  {"DB_PORT", "6432"},
                                  {"DB_NAME", "imaging"},
                                  {"DB_USER", "app"},
                                  {"DB_PASSWORD", "pw"},
                                  {"CACHEQUEUE_LOG_LEVEL", "debug"}});
    CHECK(keywords(s) == std::vector<std::string>{"host", "port", "dbname", "user", "password"});
    CHECK(kw(s, "host") == "db.internal");
    CHECK(kw(s, "port") == "6432");
    CHECK(kw(s, "dbname") == "imaging");
    CHECK(kw(s, "user") == "app");
    CHECK(kw(s, "password") == "pw");
    CHECK(source(s, "dbname") == "DB_NAME from environment");
    // other variables stay readable for later code
    REQUIRE(s.find("CACHEQUEUE_LOG_LEVEL"));
    CHECK(s.find("CACHEQUEUE_LOG_LEVEL")->value == "debug");
    CHECK(s.find("NOT_SET") == nullptr);
}

TEST_CASE("settings: DB_PORT must be a port number; empty DB_HOST and DB_USER go to libpq",
          "[settings]")
{
    TempDir dir;
    for (const char* bad : {"abc", "0", "65536", "", " 5432", "5432 ", "-1", "123456", "54.3"})
        CHECK(error_in(dir, {{"DB_PORT", bad}}) ==
              "DB_PORT: expected a port number from 1 to 65535, got \"" + std::string(bad) + "\"");
    CHECK(kw(resolve_in(dir, {{"DB_PORT", "65535"}}), "port") == "65535");
    CHECK(kw(resolve_in(dir, {{"DB_PORT", "05432"}}), "port") == "5432");
    CHECK(error_in(dir, {{"DB_NAME", ""}}) == "DB_NAME is empty; Django needs a database name");
    CHECK(error_in(dir, {{"DB_HOST", std::string("a\0b", 3)}}) ==
          "DB_HOST: contains a NUL character");
    Settings s = resolve_in(dir, {{"DB_HOST", ""}, {"DB_USER", ""}});
    CHECK(kw(s, "host") == "<unset>");
    CHECK(kw(s, "user") == "<unset>");
}

TEST_CASE("settings: the .env file fills what the environment lacks", "[settings][env]")
{
    TempDir dir;
    dir.write(".env", "# local settings\n"
                      "DB_HOST=file-host\n"
                      "DB_NAME=file-db\n"
                      "DB_NAME=file-db-2\n"
                      "export DB_PASSWORD='from file'\n");
    Settings s = resolve_in(dir, {{"DB_HOST", "env-host"}});
    CHECK(s.env_file == dir.path() + "/.env");
    CHECK(kw(s, "host") == "env-host");
    CHECK(source(s, "host") == "DB_HOST from environment");
    CHECK(kw(s, "dbname") == "file-db-2");
    CHECK(source(s, "dbname") == "DB_NAME from " + dir.path() + "/.env:4");
    CHECK(kw(s, "password") == "from file");
    REQUIRE(s.find("DB_NAME"));
    CHECK(s.find("DB_NAME")->origin.line == 4);
    CHECK(s.find("DB_NAME")->origin.kind == Origin::Kind::env_file);
}

TEST_CASE("settings: an empty variable in the environment still wins over the file",
          "[settings][env]")
{
    TempDir dir;
    dir.write(".env", "DB_PASSWORD=file\n");
    Settings s = resolve_in(dir, {{"DB_PASSWORD", ""}});
    CHECK(kw(s, "password") == "<unset>");
}

TEST_CASE("settings: --env-file must exist; the default .env may be absent", "[settings][env]")
{
    TempDir dir;
    std::string path = dir.write("prod.env", "DB_HOST=prod\n");
    ResolveOptions options;
    options.env_file = "prod.env"; // relative to cwd
    Settings s = resolve_in(dir, {}, options);
    CHECK(s.env_file == path);
    CHECK(kw(s, "host") == "prod");
    options.env_file = path;
    CHECK(resolve_in(dir, {}, options).env_file == path);
    options.env_file = "missing.env";
    CHECK(error_in(dir, {}, options) ==
          dir.path() + "/missing.env: could not open: No such file or directory");
}

TEST_CASE("settings: a malformed .env line stops resolution with FILE:LINE", "[settings][env]")
{
    TempDir dir;
    dir.write(".env", "DB_HOST=x\nDB_PORT = 5432\n");
    CHECK(error_in(dir, {}).rfind(dir.path() + "/.env:2: invalid variable name \"DB_PORT \"", 0) ==
          0);
}

TEST_CASE("settings: .env warnings reach Settings", "[settings][env]")
{
    TempDir dir;
    dir.write(".env", "DB_HOST=h # the host\n");
    Settings s = resolve_in(dir, {});
    CHECK(kw(s, "host") == "h # the host");
    REQUIRE(s.warnings.size() == 1);
    CHECK(s.warnings[0].rfind(dir.path() + "/.env:1: DB_HOST: \"#\"", 0) == 0);
}

TEST_CASE("settings: USE_SUPABASE selects the transaction pooler with Django's options",
          "[settings][supabase]")
{
    TempDir dir;
    dir.write(".env", "SUPABASE_DB_HOST=aws-0-eu.pooler.supabase.com\n");
    Settings s = resolve_in(
        dir,
        {{"USE_SUPABASE", "Yes"}, {"SUPABASE_DB_PASSWORD", "sb-secret"}, {"DB_HOST", "ignored"}});
    CHECK(s.use_supabase);
    CHECK(s.use_supabase_origin.text() == "USE_SUPABASE from environment");
    CHECK(keywords(s) == std::vector<std::string>{"host", "port", "dbname", "user", "password",
                                                  "sslmode", "connect_timeout", "keepalives",
                                                  "keepalives_idle", "keepalives_interval",
                                                  "keepalives_count"});
    CHECK(kw(s, "host") == "aws-0-eu.pooler.supabase.com");
    CHECK(source(s, "host") == "SUPABASE_DB_HOST from " + dir.path() + "/.env:1");
    CHECK(kw(s, "port") == "6543");
    CHECK(source(s, "port") == "fixed by USE_SUPABASE");
    CHECK(kw(s, "dbname") == "postgres");
    CHECK(kw(s, "user") == "postgres");
    CHECK(kw(s, "password") == "sb-secret");
    CHECK(kw(s, "sslmode") == "require");
    CHECK(kw(s, "connect_timeout") == "10");
    CHECK(kw(s, "keepalives") == "1");
    CHECK(kw(s, "keepalives_idle") == "30");
    CHECK(kw(s, "keepalives_interval") == "10");
    CHECK(kw(s, "keepalives_count") == "5");
    CHECK(s.pooler == PoolerMode::transaction);
    CHECK(s.pooler_reason == "Supabase mode");
}

TEST_CASE("settings: USE_SUPABASE is a django-environ bool", "[settings][supabase]")
{
    TempDir dir;
    Env supabase{{"SUPABASE_DB_HOST", "h"}, {"SUPABASE_DB_PASSWORD", "p"}};
    for (const char* yes : {"true", "on", "OK", "y", "1", "2"}) {
        supabase["USE_SUPABASE"] = yes;
        CHECK(resolve_in(dir, supabase).use_supabase);
    }
    for (const char* no : {"False", "0", "no", "", "nope"}) {
        supabase["USE_SUPABASE"] = no;
        CHECK_FALSE(resolve_in(dir, supabase).use_supabase);
    }
}

TEST_CASE("settings: Supabase mode needs its host and password", "[settings][supabase]")
{
    TempDir dir;
    CHECK(error_in(dir, {{"USE_SUPABASE", "true"}, {"SUPABASE_DB_PASSWORD", "p"}}) ==
          "SUPABASE_DB_HOST is not set (USE_SUPABASE is true)");
    CHECK(error_in(dir, {{"USE_SUPABASE", "true"}, {"SUPABASE_DB_HOST", "h"}}) ==
          "SUPABASE_DB_PASSWORD is not set (USE_SUPABASE is true)");
    CHECK(error_in(dir, {{"USE_SUPABASE", "true"},
                         {"SUPABASE_DB_HOST", ""},
                         {"SUPABASE_DB_PASSWORD", "p"}}) ==
          "SUPABASE_DB_HOST is empty (USE_SUPABASE is true)");
    CHECK(error_in(dir, {{"USE_SUPABASE", "true"},
                         {"SUPABASE_DB_HOST", "h"},
                         {"SUPABASE_DB_PASSWORD", ""}}) ==
          "SUPABASE_DB_PASSWORD is empty (USE_SUPABASE is true)");
}

TEST_CASE("settings: DATABASE_URL overrides USE_SUPABASE and DB_*", "[settings][url]")
{
    TempDir dir;
    dir.write(".env", "DATABASE_URL=postgres://app:s%40cret@db.example.com:5433/imaging"
                      "?sslmode=verify-full&application_name=worker\n");
    Settings s = resolve_in(dir, {{"USE_SUPABASE", "true"}, {"DB_HOST", "ignored"}});
    REQUIRE(s.database_url);
    CHECK(s.database_url->origin.text() == "DATABASE_URL from " + dir.path() + "/.env:1");
    CHECK(keywords(s) == std::vector<std::string>{"host", "port", "dbname", "user", "password",
                                                  "application_name", "sslmode"});
    CHECK(kw(s, "host") == "db.example.com");
    CHECK(kw(s, "port") == "5433");
    CHECK(kw(s, "dbname") == "imaging");
    CHECK(kw(s, "user") == "app");
    CHECK(kw(s, "password") == "s@cret");
    CHECK(kw(s, "sslmode") == "verify-full");
    CHECK(source(s, "host") == "DATABASE_URL from " + dir.path() + "/.env:1");
    // Supabase mode does not decide the pooler when DATABASE_URL names the server
    CHECK(s.pooler == PoolerMode::none);
}

TEST_CASE("settings: DATABASE_URL schemes as django-environ accepts them", "[settings][url]")
{
    TempDir dir;
    for (const char* scheme : {"postgres", "postgresql", "psql", "pgsql", "postgis", "PoStGrEs"})
        CHECK(kw(resolve_in(dir, {{"DATABASE_URL", std::string(scheme) + "://h/d"}}), "dbname") ==
              "d");
    CHECK(error_in(dir, {{"DATABASE_URL", "mysql://u:pw@h/d"}}) ==
          "DATABASE_URL: \"mysql\" is not a PostgreSQL URL scheme (use postgres:// or "
          "postgresql://)");
    CHECK(error_in(dir, {{"DATABASE_URL", "host=h dbname=d"}}) ==
          "DATABASE_URL: expected a postgres:// or postgresql:// URL");
    CHECK(error_in(dir, {{"DATABASE_URL", "u:pw@h://x"}}) ==
          "DATABASE_URL: expected a postgres:// or postgresql:// URL");
    // empty means unset, as with default=None
    CHECK_FALSE(resolve_in(dir, {{"DATABASE_URL", ""}}).database_url);
}

TEST_CASE("settings: Django-only URL options are dropped, unknown ones refused", "[settings][url]")
{
    TempDir dir;
    Settings s = resolve_in(
        dir, {{"DATABASE_URL", "postgres://h/d?CONN_MAX_AGE=60&sslmode=require&atomic_requests="
                               "true&conn_health_checks=true&autocommit=1&"
                               "disable_server_side_cursors=1"}});
    CHECK(keywords(s) == std::vector<std::string>{"host", "dbname", "sslmode"});
    CHECK(kw(resolve_in(dir, {{"DATABASE_URL", "postgres://h/d?conn_max_age=0"}}), "host") == "h");
    CHECK(error_in(dir, {{"DATABASE_URL", "postgres://u:topsecret@h/d?foo=1"}}) ==
          "DATABASE_URL: invalid URI query parameter: \"foo\"");
}

TEST_CASE("settings: a malformed DATABASE_URL never shows its password", "[settings][url]")
{
    TempDir dir;
    std::string message = error_in(dir, {{"DATABASE_URL", "postgres://app:pa%zzword@h/d"}});
    CHECK(message == "DATABASE_URL: the password is not valid in a URL (write special "
                     "characters as %XX)");
    message = error_in(dir, {{"DATABASE_URL", "postgres://app:pa%zzword@[::1/d"}});
    CHECK(message.rfind("DATABASE_URL: end of string reached", 0) == 0);
    CHECK(message.find("pa%zz") == std::string::npos);
    CHECK(message.find("********") != std::string::npos);
    message = error_in(dir, {{"DATABASE_URL", "postgres://h/d?password=bad%zz"}});
    CHECK(message.find("bad") == std::string::npos);
    // a "/" or "?" in the password: libpq would quote part of it in its message
    CHECK(error_in(dir, {{"DATABASE_URL", "postgres://app:se?cr/et@h/db"}}) ==
          "DATABASE_URL: not a valid URL; write the characters / ? @ # and spaces in the user "
          "name and password as %XX");
    // libpq reads "pa" as the port there
    CHECK(error_in(dir, {{"DATABASE_URL", "postgres://app:pa/ss@h/d"}}) ==
          "DATABASE_URL: not a valid URL; write the characters / ? @ # and spaces in the user "
          "name and password as %XX");
    // fuzz_db_url: libpq stopped at the NUL and took part of the password for a port
    Origin origin;
    CHECK(settings_error_of([&] {
              keywords_from_url(std::string("postgresql://user:\"i\x7f\0@h/d", 26), "DATABASE_URL",
                                origin);
          }) == "DATABASE_URL: contains a NUL character");
    // fuzz_db_url: dropping conn_max_age took the "@" with it and "pa" became a port again
    CHECK(error_in(dir, {{"DATABASE_URL", "postgres://app:pa/s?conn_max_age=1@h/d"}}) ==
          "DATABASE_URL: not a valid URL; write the characters / ? @ # and spaces in the user "
          "name and password as %XX");
    CHECK(error_in(dir, {{"DATABASE_URL", "postgres://h:abc/d"}}) ==
          "DATABASE_URL: invalid port \"abc\"");
    CHECK(error_in(dir, {{"DATABASE_URL", "postgres://h:1,h2:70000/d"}}) ==
          "DATABASE_URL: invalid port \"70000\"");
}

TEST_CASE("settings: pooler detection and CACHEQUEUE_POOLER", "[settings][pooler]")
{
    TempDir dir;
    Settings s = resolve_in(dir, {{"DB_PORT", "6543"}});
    CHECK(s.pooler == PoolerMode::transaction);
    CHECK(s.pooler_reason == "port 6543");
    s = resolve_in(dir, {{"DATABASE_URL", "postgresql://h1:5432,h2:6543/d"}});
    CHECK(s.pooler == PoolerMode::transaction);
    s = resolve_in(dir, {{"DB_PORT", "6543"}, {"CACHEQUEUE_POOLER", "none"}});
    CHECK(s.pooler == PoolerMode::none);
    CHECK(s.pooler_reason.empty());
    CHECK(s.pooler_origin.text() == "CACHEQUEUE_POOLER from environment");
    s = resolve_in(dir, {{"CACHEQUEUE_POOLER", "Transaction"}});
    CHECK(s.pooler == PoolerMode::transaction);
    s = resolve_in(dir, {{"CACHEQUEUE_POOLER", "auto"}});
    CHECK(s.pooler == PoolerMode::none);
    CHECK(error_in(dir, {{"CACHEQUEUE_POOLER", "session"}}) ==
          "CACHEQUEUE_POOLER: expected transaction, none or auto, got \"session\"");
}

TEST_CASE("settings: a value starting with $ names another variable, as in django-environ",
          "[settings][proxy]")
{
    TempDir dir;
    Settings s = resolve_in(dir, {{"DB_PASSWORD", "$VAULT_PW"}, {"VAULT_PW", "real"}});
    CHECK(kw(s, "password") == "real");
    CHECK(source(s, "password") == "VAULT_PW from environment, referenced by DB_PASSWORD");
    CHECK(s.warnings.empty());

    // unset target: the default applies, with a warning that does not show the name
    s = resolve_in(dir, {{"DB_PASSWORD", "$ecretPassw0rd"}});
    CHECK(kw(s, "password") == "<unset>");
    REQUIRE(s.warnings.size() == 1);
    CHECK(s.warnings[0] == "DB_PASSWORD starts with \"$\", which django-environ reads as a "
                           "reference to another variable; that is not set, so the default "
                           "applies");
    s = resolve_in(dir, {{"DB_HOST", "$OTHER"}});
    CHECK(kw(s, "host") == "localhost");
    CHECK(source(s, "host") == "default, referenced by DB_HOST");
    CHECK(s.warnings.at(0).find("\"$OTHER\"") != std::string::npos);

    // no default: an error, again without a secret's value
    std::string message = error_in(dir, {{"USE_SUPABASE", "1"},
                                         {"SUPABASE_DB_HOST", "h"},
                                         {"SUPABASE_DB_PASSWORD", "$ecretPassw0rd"}});
    CHECK(message == "SUPABASE_DB_PASSWORD starts with \"$\", which django-environ reads as a "
                     "reference to another variable, and that is not set (USE_SUPABASE is "
                     "true)");
    CHECK(error_in(dir, {{"DB_HOST", "$A"}, {"A", "$B"}, {"B", "$A"}}) ==
          "DB_HOST: its \"$NAME\" references form a loop");
    CHECK(kw(resolve_in(dir, {{"DB_HOST", "$$A"}, {"A", "h"}}), "host") == "h");
}

TEST_CASE("settings: QUEUE_CONFIG sources and their precedence", "[settings][queue_config]")
{
    TempDir dir;
    std::string option_file = dir.write("option.json", R"({"QUEUES": {"from_option": {}}})");
    dir.write("var.json", R"({"QUEUES": {"from_file_var": {}}})");
    Env env{{"QUEUE_CONFIG_FILE", "var.json"},
            {"QUEUE_CONFIG", R"({"QUEUES": {"from_json_var": {}}})"}};

    ResolveOptions options;
    options.queue_config_file = "option.json";
    Settings s = resolve_in(dir, env, options);
    CHECK(s.queue_config.queues.at(0).name == "from_option");
    CHECK(s.queue_config.name == option_file);
    CHECK(s.queue_config_origin.text() == "--queue-config option.json");
    CHECK(s.warnings ==
          std::vector<std::string>{"QUEUE_CONFIG_FILE is set but --queue-config takes "
                                   "precedence"});

    s = resolve_in(dir, env);
    CHECK(s.queue_config.queues.at(0).name == "from_file_var");
    CHECK(s.queue_config_origin.text() == "QUEUE_CONFIG_FILE from environment");
    CHECK(s.warnings == std::vector<std::string>{"QUEUE_CONFIG is set but QUEUE_CONFIG_FILE "
                                                 "takes precedence"});

    env.erase("QUEUE_CONFIG_FILE");
    s = resolve_in(dir, env);
    CHECK(s.queue_config.queues.at(0).name == "from_json_var");
    CHECK(s.queue_config.name == "QUEUE_CONFIG (environment)");
    CHECK(s.warnings.empty());
}

TEST_CASE("settings: QUEUE_CONFIG errors name their source", "[settings][queue_config]")
{
    TempDir dir;
    dir.write(".env", "DB_HOST=h\nQUEUE_CONFIG={\"QUEUES\": {\"a\": {\"timeout\": \"x\"}}}\n");
    CHECK(error_in(dir, {}) == "QUEUE_CONFIG (" + dir.path() +
                                   "/.env:2): QUEUES.a.timeout: expected a number of seconds, "
                                   "got \"x\"");
    CHECK(error_in(dir, {{"QUEUE_CONFIG", "{"}}) ==
          "QUEUE_CONFIG (environment): line 1, column 2: syntax error while parsing object key "
          "- unexpected end of input; expected string literal");
    CHECK(error_in(dir, {{"QUEUE_CONFIG_FILE", "nope.json"}}) ==
          dir.path() + "/nope.json: could not open: No such file or directory");
    ResolveOptions options;
    options.queue_config_file = "/nonexistent/q.json";
    CHECK(error_in(dir, {}, options) ==
          "/nonexistent/q.json: could not open: No such file or directory");
    dir.write("bad.json", "{\n  \"QUEUES\": {\n    \"a\": {\"timeout\": 30,}\n  }\n}\n");
    options.queue_config_file = "bad.json";
    CHECK(error_in(dir, {}, options).rfind(dir.path() + "/bad.json: line 3, column 25: ", 0) == 0);
}

TEST_CASE("settings: conninfo quotes every value for libpq", "[settings][conninfo]")
{
    std::vector<ConnKeyword> keywords{{"host", "db host", {}},
                                      {"password", "it's a \\secret\\ 'x'", {}},
                                      {"dbname", "", {}},
                                      {"options", "-c search_path=a,b", {}}};
    std::string conninfo = conninfo_string(keywords);
    CHECK(conninfo == R"(host='db host' password='it\'s a \\secret\\ \'x\'' dbname='' )"
                      R"(options='-c search_path=a,b')");
    Env parsed = libpq_parse(conninfo);
    CHECK(parsed["host"] == "db host");
    CHECK(parsed["password"] == "it's a \\secret\\ 'x'");
    CHECK(parsed["dbname"] == "");
    CHECK(parsed["options"] == "-c search_path=a,b");
    CHECK(conninfo_string(keywords, true).find("password='********'") != std::string::npos);

    TempDir dir;
    Settings s = resolve_in(dir, {{"DB_PASSWORD", "p w'"}});
    CHECK(libpq_parse(conninfo_string(s))["password"] == "p w'");
}

TEST_CASE("settings: mask_database_url hides passwords where libpq finds them", "[settings][mask]")
{
    CHECK(mask_database_url("postgres://app:secret@h:5432/db") ==
          "postgres://app:********@h:5432/db");
    // libpq ends the user info at a "/" before the "@": no password for it here
    CHECK(mask_database_url("postgres://app:se?cr/et@h/db") == "postgres://app:se?cr/et@h/db");
    CHECK(mask_database_url("postgres://app@h/db") == "postgres://app@h/db");
    CHECK(mask_database_url("postgres://app:@h/db") == "postgres://app:@h/db");
    CHECK(mask_database_url("postgres://h/db?user=u&password=secret&sslmode=require") ==
          "postgres://h/db?user=u&password=********&sslmode=require");
    CHECK(mask_database_url("postgres://h/db?pass%77ord=secret") ==
          "postgres://h/db?pass%77ord=********");
    CHECK(mask_database_url("postgres://h/db?sslpassword=secret") ==
          "postgres://h/db?sslpassword=********");
    CHECK(mask_database_url("postgres://h/a:b@c") == "postgres://h/a:b@c");
    CHECK(mask_database_url("not a url") == "********");
    CHECK(mask_database_url("") == "");
}

TEST_CASE("settings: describe shows each value with its source, secrets masked",
          "[settings][describe]")
{
    TempDir dir;
    dir.write(".env", "USE_SUPABASE=true\n"
                      "SUPABASE_DB_HOST=db.abc.supabase.co\n"
                      "SUPABASE_DB_PASSWORD=\"hunter2-very-secret\"\n");
    dir.write("q.json", R"({"BACKEND": "cq", "QUEUES": {"email": {"max_retries": 3,
        "timeout": 2.5, "priority": 5}}, "HANDLERS": {"send_email": ["python3", "manage.py",
        "send email"], "report": {"argv": ["report"], "persistent": true}}})");
    ResolveOptions options;
    options.queue_config_file = "q.json";
    Settings s = resolve_in(dir, {}, options);
    std::string text = describe(s);
    std::string env = dir.path() + "/.env";
    CHECK(text == "env file              " + env +
                      "\n"
                      "USE_SUPABASE          true  (USE_SUPABASE from " +
                      env +
                      ":1)\n"
                      "DATABASE_URL          not set\n"
                      "connection\n"
                      "  host                db.abc.supabase.co  (SUPABASE_DB_HOST from " +
                      env +
                      ":2)\n"
                      "  port                6543  (fixed by USE_SUPABASE)\n"
                      "  dbname              postgres  (fixed by USE_SUPABASE)\n"
                      "  user                postgres  (fixed by USE_SUPABASE)\n"
                      "  password            ********  (SUPABASE_DB_PASSWORD from " +
                      env +
                      ":3)\n"
                      "  sslmode             require  (fixed by USE_SUPABASE)\n"
                      "  connect_timeout     10  (fixed by USE_SUPABASE)\n"
                      "  keepalives          1  (fixed by USE_SUPABASE)\n"
                      "  keepalives_idle     30  (fixed by USE_SUPABASE)\n"
                      "  keepalives_interval 10  (fixed by USE_SUPABASE)\n"
                      "  keepalives_count    5  (fixed by USE_SUPABASE)\n"
                      "pooler                transaction  (auto: Supabase mode)\n"
                      "queue config          " +
                      dir.path() +
                      "/q.json  (--queue-config q.json)\n"
                      "  BACKEND             cq\n"
                      "queues\n"
                      "  email               max_retries 3, timeout 2.5 s, priority 5\n"
                      "handlers\n"
                      "  report              report  [persistent]\n"
                      "  send_email          python3 manage.py 'send email'\n");
    CHECK(text.find("hunter2") == std::string::npos);

    nlohmann::json j = describe_json(s);
    CHECK(j.dump().find("hunter2") == std::string::npos);
    CHECK(j["use_supabase"]["value"] == true);
    CHECK(j["connection"][4]["keyword"] == "password");
    CHECK(j["connection"][4]["value"] == "********");
    CHECK(j["connection"][4]["source"]["kind"] == "env_file");
    CHECK(j["connection"][4]["source"]["line"] == 3);
    CHECK(j["pooler"]["mode"] == "transaction");
    CHECK(j["queue_config"]["queues"][0]["timeout"] == 2.5);
    CHECK(j["queue_config"]["handlers"]["report"]["persistent"] == true);
    CHECK(j["conninfo"].get<std::string>().find("password='********'") != std::string::npos);
}

TEST_CASE("settings: describe masks DATABASE_URL and keeps one line per setting",
          "[settings][describe]")
{
    TempDir dir;
    Settings s = resolve_in(dir, {{"DATABASE_URL", "postgresql://u:topsecret@h/d"},
                                  {"QUEUE_CONFIG", R"({"HANDLERS": {"t": ["a\nb"]}})"}});
    std::string text = describe(s);
    CHECK(text.find("topsecret") == std::string::npos);
    CHECK(text.find("DATABASE_URL          postgresql://u:********@h/d  (DATABASE_URL from "
                    "environment)\n") != std::string::npos);
    CHECK(text.find("  t                   'a\\nb'\n") != std::string::npos);
    CHECK(describe_json(s).dump().find("topsecret") == std::string::npos);
}

TEST_CASE("settings: current_environ reads the process environment", "[settings]")
{
    ::setenv("CQ_SETTINGS_TEST_VAR", "a=b", 1);
    auto env = current_environ();
    CHECK(env["CQ_SETTINGS_TEST_VAR"] == "a=b");
    ::unsetenv("CQ_SETTINGS_TEST_VAR");
    CHECK(current_environ().count("CQ_SETTINGS_TEST_VAR") == 0);
}
