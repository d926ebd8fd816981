// The runner's settings, resolved as the Django application resolves its own: the
// environment, a .env file, the database variables and QUEUE_CONFIG, each value with where it
// came from. docs/settings.md describes every variable.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "env_file.hpp"
#include "queue_config.hpp"
#include "settings_error.hpp"

namespace cq::runner {

// Where a value came from.
struct Origin {
    enum class Kind {
        none,          // not set anywhere
        default_value, // the built-in default of variable
        environment,   // variable in the process environment
        env_file,      // variable at file:line of the .env file
        fixed,         // fixed by the mode variable names (USE_SUPABASE)
        option,        // the command-line option variable, naming file
    };
    Kind kind = Kind::none;
    std::string variable;
    std::string file;
    int line = 0;
    // the variables whose "$NAME" values led here, first to last (django-environ proxies)
    std::vector<std::string> via;

    // "DB_HOST from .env:3", "default, DB_HOST not set", "fixed by USE_SUPABASE",
    // "--queue-config q.json"
    std::string text() const;
};

struct EnvValue {
    std::string value;
    Origin origin;
};

// One libpq connection keyword.
struct ConnKeyword {
    std::string keyword;
    std::string value;
    Origin origin;
};

enum class PoolerMode {
    none,        // a direct connection (or a session pooler): the worker may LISTEN
    transaction, // a transaction pooler: LISTEN does not work, the worker polls
};

struct Settings {
    // the .env file read, empty when none was
    std::string env_file;
    // the environment with the .env variables it lacks (the environment wins)
    std::map<std::string, EnvValue> env;
    // warnings from the .env file and QUEUE_CONFIG
    std::vector<std::string> warnings;

    bool use_supabase = false;
    Origin use_supabase_origin;
    // set when DATABASE_URL decided the connection
    std::optional<EnvValue> database_url;
    // the libpq keywords, in a stable order
    std::vector<ConnKeyword> connection;

    PoolerMode pooler = PoolerMode::none;
    Origin pooler_origin;
    // why auto detection chose the mode, such as "port 6543"
    std::string pooler_reason;

    QueueConfig queue_config;
    Origin queue_config_origin;

    // the variable as set in env, or nullptr (no "$NAME" proxying)
    const EnvValue* find(const std::string& name) const;
    // the connection keyword's value, or nullptr
    const std::string* keyword(std::string_view name) const;
};

struct ResolveOptions {
    // --env-file: must exist; otherwise CWD/.env is read if present
    std::optional<std::string> env_file;
    // --queue-config: takes precedence over QUEUE_CONFIG_FILE and QUEUE_CONFIG
    std::optional<std::string> queue_config_file;
    // relative paths (options, QUEUE_CONFIG_FILE, the default .env) are taken from here
    std::string cwd = ".";
};

// Resolves every setting from the options, the given environment and the .env file. Throws
// SettingsError with a one-line message naming the file and line, variable or option.
Settings resolve_settings(const ResolveOptions& options,
                          const std::map<std::string, std::string>& environment);

// The process environment.
std::map<std::string, std::string> current_environ();

// The libpq keywords of a postgres:// or postgresql:// URL (also psql://, pgsql://, postgis://
// as django-environ allows), each with origin. variable names the URL's source in errors,
// which never show its password.
std::vector<ConnKeyword> keywords_from_url(const std::string& url, const std::string& variable,
                                           const Origin& origin);

// The URL with the password in its user info and query replaced by ********.
std::string mask_database_url(std::string_view url);

// Whether a libpq keyword holds a secret (password, sslpassword).
bool is_secret_keyword(std::string_view keyword);

// keyword='value' pairs for PQconnectdb, quoted and escaped; secrets as ******** if masked.
std::string conninfo_string(const std::vector<ConnKeyword>& keywords, bool masked = false);
std::string conninfo_string(const Settings& settings);

// What `cachequeue settings` prints: one line per setting with its value and source,
// secrets masked.
std::string describe(const Settings& settings);
// The same as JSON, for `cachequeue settings --json`.
nlohmann::json describe_json(const Settings& settings);

} // namespace cq::runner
