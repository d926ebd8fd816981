// Settings resolution: the .env file under the environment, the Django database variables or
// DATABASE_URL (parsed by libpq), the pooler mode and QUEUE_CONFIG; then their description.
#include "settings.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <libpq-fe.h>
#include <unistd.h>

namespace cq::runner {

namespace {

const char* const mask = "********";

// One port number: digits only, 1 to 65535.
bool valid_port(std::string_view port)
{
    if (port.empty() || port.size() > 5)
        return false;
    int n = 0;
    for (char c : port) {
        if (c < '0' || c > '9')
            return false;
        n = n * 10 + (c - '0');
    }
    return n >= 1 && n <= 65535;
}

std::vector<std::string> split(std::string_view text, char sep)
{
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        size_t end = text.find(sep, start);
        parts.emplace_back(text.substr(start, end - start));
        if (end == std::string_view::npos)
            return parts;
        start = end + 1;
    }
}

std::string lower(std::string text)
{
    for (char& c : text)
        if (c >= 'A' && c <= 'Z')
            c = char(c - 'A' + 'a');
    return text;
}

// path taken from cwd when relative
std::string join_path(const std::string& cwd, const std::string& path)
{
    if (path.empty() || path[0] == '/' || cwd.empty() || cwd == ".")
        return path;
    return cwd + (cwd.back() == '/' ? "" : "/") + path;
}

// Whether a variable's value must stay out of messages.
bool is_secret_variable(const std::string& name)
{
    return name.find("PASSWORD") != std::string::npos ||
           name.find("SECRET") != std::string::npos || name == "DATABASE_URL";
}

Origin make_origin(Origin::Kind kind, std::string variable, std::string file = {}, int line = 0)
{
    Origin origin;
    origin.kind = kind;
    origin.variable = std::move(variable);
    origin.file = std::move(file);
    origin.line = line;
    return origin;
}

// --- DATABASE_URL -------------------------------------------------------------------------

// Schemes django-environ maps to a PostgreSQL backend; libpq knows only postgresql://.
const char* const postgres_schemes[] = {
    "postgres",          "postgresql", "psql", "pgsql", "postgis", "prometheus_postgresql",
    "prometheus_postgis"};

// Query parameters django-environ takes as Django settings rather than driver options.
const char* const django_url_options[] = {"conn_max_age", "atomic_requests", "autocommit",
                                          "disable_server_side_cursors", "conn_health_checks"};

// Where libpq finds the parts of a URI that matter here (conninfo_uri_parse_options): the
// user info runs to the first "@" that comes before any "/"; the query starts at the first
// "?" after it, outside an [IPv6] host.
struct UriLayout {
    size_t authority = 0; // just after "://"
    size_t at = std::string_view::npos;
    size_t query = std::string_view::npos;
};

std::optional<UriLayout> uri_layout(std::string_view url)
{
    size_t sep = url.find("://");
    if (sep == std::string_view::npos)
        return std::nullopt;
    UriLayout layout;
    layout.authority = sep + 3;
    size_t i = layout.authority;
    while (i < url.size() && url[i] != '@' && url[i] != '/')
        ++i;
    if (i < url.size() && url[i] == '@')
        layout.at = i;
    i = layout.at == std::string_view::npos ? layout.authority : layout.at + 1;
    bool host_start = true;
    while (i < url.size()) {
        char c = url[i];
        if (c == '?') {
            layout.query = i;
            break;
        }
        if (c == '/') {
            layout.query = url.find('?', i);
            break;
        }
        if (c == '[' && host_start) {
            i = url.find(']', i);
            if (i == std::string_view::npos)
                break;
            host_start = false;
            ++i;
            continue;
        }
        host_start = c == ',';
        ++i;
    }
    return layout;
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// %XX decoded leniently (a query keyword, to compare it)
std::string percent_decoded(std::string_view text)
{
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 &&
            hex_digit(text[i + 2]) >= 0) {
            out += char(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

// The query with each parameter rewritten by edit (which returns false to drop it).
template <typename Edit>
std::string rewrite_query(std::string_view url, const UriLayout& layout, Edit edit)
{
    if (layout.query == std::string_view::npos)
        return std::string(url);
    std::string out(url.substr(0, layout.query + 1));
    bool first = true;
    for (std::string param : split(url.substr(layout.query + 1), '&')) {
        size_t eq = param.find('=');
        std::string key = lower(percent_decoded(param.substr(0, eq)));
        if (!edit(key, param))
            continue;
        out += first ? "" : "&";
        out += param;
        first = false;
    }
    if (first)
        out.pop_back(); // no parameter left: drop the "?"
    return out;
}

std::string without_django_options(const std::string& url)
{
    auto layout = uri_layout(url);
    if (!layout)
        return url;
    return rewrite_query(url, *layout, [](const std::string& key, std::string&) {
        return std::find(std::begin(django_url_options), std::end(django_url_options), key) ==
               std::end(django_url_options);
    });
}

struct ConninfoOptions {
    void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};
using ConninfoPtr = std::unique_ptr<PQconninfoOption, ConninfoOptions>;

// PQconninfoParse, with libpq's message (without its newline) on failure
ConninfoPtr parse_conninfo(const std::string& text, std::string& error)
{
    char* message = nullptr;
    ConninfoPtr options(PQconninfoParse(text.c_str(), &message));
    if (message) {
        error = message;
        PQfreemem(message);
        while (!error.empty() && (error.back() == '\n' || error.back() == ' '))
            error.pop_back();
    }
    if (!options && error.empty())
        error = "out of memory";
    return options;
}

// The position of each keyword in the connection list: the ones users look at first.
int keyword_rank(const std::string& keyword)
{
    static const char* const first[] = {"host", "hostaddr", "port", "dbname", "user", "password"};
    for (size_t i = 0; i < std::size(first); ++i)
        if (keyword == first[i])
            return int(i);
    return int(std::size(first));
}

// --- variables ----------------------------------------------------------------------------

class Resolver
{
public:
    Resolver(const ResolveOptions& options, const std::map<std::string, std::string>& env)
        : options_(options), environment_(env)
    {}

    Settings run()
    {
        read_env();
        read_connection();
        read_pooler();
        read_queue_config();
        return std::move(s_);
    }

private:
    // The environment, then the .env file's variables it lacks (setdefault).
    void read_env()
    {
        for (const auto& [key, value] : environment_)
            s_.env[key] = {value, make_origin(Origin::Kind::environment, key)};

        std::string path;
        if (options_.env_file) {
            path = join_path(options_.cwd, *options_.env_file);
        } else {
            path = join_path(options_.cwd, ".env");
            if (!path_exists(path))
                return;
        }
        EnvFile file = read_env_file(path);
        s_.env_file = path;
        s_.warnings = file.warnings;
        for (const EnvEntry& entry : file.entries) {
            if (environment_.count(entry.key))
                continue;
            s_.env[entry.key] = {entry.value,
                                 make_origin(Origin::Kind::env_file, entry.key, path, entry.line)};
        }
    }

    // A variable as django-environ's env(name, default=fallback) reads it: a value starting
    // with "$" names another variable to read instead.
    EnvValue read(const std::string& name, const std::optional<std::string>& fallback,
                  const std::string& required_because = {})
    {
        bool secret = is_secret_variable(name);
        std::vector<std::string> via;
        std::string current = name;
        while (const EnvValue* found = s_.find(current)) {
            if (found->value.find('\0') != std::string::npos)
                throw SettingsError(current + ": contains a NUL character");
            if (found->value.empty() || found->value[0] != '$') {
                EnvValue value = *found;
                value.origin.via = via;
                return value;
            }
            if (std::find(via.begin(), via.end(), current) != via.end())
                throw SettingsError(name + ": its \"$NAME\" references form a loop");
            via.push_back(current);
            size_t start = found->value.find_first_not_of('$');
            current = start == std::string::npos ? "" : found->value.substr(start);
        }
        std::string reference = secret ? "another variable" : "$" + current;
        if (!fallback) {
            std::string because = required_because.empty() ? "" : " (" + required_because + ")";
            if (via.empty())
                throw SettingsError(name + " is not set" + because);
            throw SettingsError(name +
                                " starts with \"$\", which django-environ reads as a "
                                "reference to " +
                                (secret ? reference : in_quotes(reference)) +
                                ", and that is not set" + because);
        }
        if (!via.empty())
            s_.warnings.push_back(name +
                                  " starts with \"$\", which django-environ reads as a "
                                  "reference to " +
                                  (secret ? reference : in_quotes(reference)) +
                                  "; that is not set, so the default applies");
        Origin origin = make_origin(Origin::Kind::default_value, name);
        origin.via = via;
        return {*fallback, origin};
    }

    // --- connection ---------------------------------------------------------------------

    void add(const std::string& keyword, const EnvValue& value)
    {
        s_.connection.push_back({keyword, value.value, value.origin});
    }

    void add_fixed(const std::string& keyword, const std::string& value)
    {
        s_.connection.push_back(
            {keyword, value, make_origin(Origin::Kind::fixed, "USE_SUPABASE")});
    }

    void read_connection()
    {
        EnvValue use = read("USE_SUPABASE", "False");
        s_.use_supabase = parse_env_bool(use.value);
        s_.use_supabase_origin = use.origin;

        // DATABASE_URL: default None in the Django settings, so empty means unset
        EnvValue url = read("DATABASE_URL", "");
        if (!url.value.empty()) {
            s_.database_url = url;
            s_.connection = keywords_from_url(url.value, "DATABASE_URL", url.origin);
        } else if (s_.use_supabase) {
            read_supabase();
        } else {
            read_direct();
        }
    }

    void read_supabase()
    {
        const std::string because = "USE_SUPABASE is true";
        EnvValue host = read("SUPABASE_DB_HOST", std::nullopt, because);
        if (host.value.empty())
            throw SettingsError("SUPABASE_DB_HOST is empty (USE_SUPABASE is true)");
        EnvValue password = read("SUPABASE_DB_PASSWORD", std::nullopt, because);
        if (password.value.empty())
            throw SettingsError("SUPABASE_DB_PASSWORD is empty (USE_SUPABASE is true)");
        add("host", host);
        add_fixed("port", "6543");
        add_fixed("dbname", "postgres");
        add_fixed("user", "postgres");
        add("password", password);
        add_fixed("sslmode", "require");
        add_fixed("connect_timeout", "10");
        add_fixed("keepalives", "1");
        add_fixed("keepalives_idle", "30");
        add_fixed("keepalives_interval", "10");
        add_fixed("keepalives_count", "5");
    }

    // The Django settings' DB_* variables; like Django, empty ones are left to libpq.
    void read_direct()
    {
        EnvValue host = read("DB_HOST", "localhost");
        EnvValue port = read("DB_PORT", "5432");
        EnvValue name = read("DB_NAME", "medical_imaging");
        EnvValue user = read("DB_USER", "postgres");
        EnvValue password = read("DB_PASSWORD", "");
        if (!valid_port(port.value))
            throw SettingsError("DB_PORT: expected a port number from 1 to 65535, got " +
                                in_quotes(port.value));
        port.value = std::to_string(std::atoi(port.value.c_str()));
        if (name.value.empty())
            throw SettingsError("DB_NAME is empty; Django needs a database name");
        if (!host.value.empty())
            add("host", host);
        add("port", port);
        add("dbname", name);
        if (!user.value.empty())
            add("user", user);
        if (!password.value.empty())
            add("password", password);
    }

    // --- pooler -------------------------------------------------------------------------

    void read_pooler()
    {
        EnvValue pooler = read("CACHEQUEUE_POOLER", "auto");
        std::string mode = lower(pooler.value);
        s_.pooler_origin = pooler.origin;
        if (mode == "transaction") {
            s_.pooler = PoolerMode::transaction;
        } else if (mode == "none") {
            s_.pooler = PoolerMode::none;
        } else if (mode == "auto") {
            detect_pooler();
        } else {
            throw SettingsError("CACHEQUEUE_POOLER: expected transaction, none or auto, got " +
                                in_quotes(pooler.value));
        }
    }

    void detect_pooler()
    {
        if (s_.use_supabase && !s_.database_url) {
            s_.pooler = PoolerMode::transaction;
            s_.pooler_reason = "Supabase mode";
            return;
        }
        const std::string* port = s_.keyword("port");
        if (port) {
            for (const std::string& one : split(*port, ','))
                if (one == "6543") {
                    s_.pooler = PoolerMode::transaction;
                    s_.pooler_reason = "port 6543";
                    return;
                }
        }
        s_.pooler = PoolerMode::none;
        s_.pooler_reason = "not Supabase mode, port not 6543";
    }

    // --- QUEUE_CONFIG -------------------------------------------------------------------

    void read_queue_config()
    {
        EnvValue file = read("QUEUE_CONFIG_FILE", "");
        EnvValue inline_json = read("QUEUE_CONFIG", "");
        std::string ignored;

        if (options_.queue_config_file) {
            const std::string& path = *options_.queue_config_file;
            s_.queue_config_origin = make_origin(Origin::Kind::option, "--queue-config", path);
            s_.queue_config = parse_queue_config(read_settings_file(join_path(options_.cwd, path)),
                                                 join_path(options_.cwd, path));
            ignored = !file.value.empty()          ? "QUEUE_CONFIG_FILE"
                      : !inline_json.value.empty() ? "QUEUE_CONFIG"
                                                   : "";
            if (!ignored.empty())
                ignored += " is set but --queue-config takes precedence";
        } else if (!file.value.empty()) {
            std::string path = join_path(options_.cwd, file.value);
            s_.queue_config_origin = file.origin;
            s_.queue_config = parse_queue_config(read_settings_file(path), path);
            if (!inline_json.value.empty())
                ignored = "QUEUE_CONFIG is set but QUEUE_CONFIG_FILE takes precedence";
        } else if (!inline_json.value.empty()) {
            s_.queue_config_origin = inline_json.origin;
            s_.queue_config = parse_queue_config(
                inline_json.value, "QUEUE_CONFIG (" + where(inline_json.origin) + ")");
        }
        if (!ignored.empty())
            s_.warnings.push_back(ignored);
        for (const std::string& warning : s_.queue_config.warnings)
            s_.warnings.push_back(warning);
    }

    static std::string where(const Origin& origin)
    {
        if (origin.kind == Origin::Kind::env_file)
            return origin.file + ":" + std::to_string(origin.line);
        return "environment";
    }

    const ResolveOptions& options_;
    const std::map<std::string, std::string>& environment_;
    Settings s_;
};

// --- description --------------------------------------------------------------------------

// shortest decimal that reads back as value
std::string format_number(double value)
{
    char text[64];
    if (value == std::floor(value) && std::fabs(value) < 1e15) {
        std::snprintf(text, sizeof text, "%.0f", value);
        return text;
    }
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(text, sizeof text, "%.*g", precision, value);
        if (std::strtod(text, nullptr) == value)
            break;
    }
    return text;
}

// an argument as a POSIX shell would need it written
std::string shell_word(const std::string& arg)
{
    bool plain = !arg.empty();
    for (char c : arg)
        plain = plain && (std::isalnum(static_cast<unsigned char>(c)) ||
                          std::string_view("_@%+=:,./-").find(c) != std::string_view::npos);
    if (plain)
        return arg;
    std::string out = "'";
    for (char c : arg)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string command_line(const HandlerSpec& spec)
{
    std::string out;
    for (const std::string& arg : spec.argv)
        out += (out.empty() ? "" : " ") + shell_word(arg);
    return out;
}

void row(std::string& out, size_t indent, const std::string& name, const std::string& value,
         const std::string& source = {})
{
    std::string left = std::string(indent, ' ') + printable(name);
    out += left;
    out += std::string(left.size() < 22 ? 22 - left.size() : 1, ' ');
    out += printable(value);
    if (!source.empty())
        out += "  (" + printable(source) + ")";
    out += '\n';
}

std::string shown_value(const ConnKeyword& keyword)
{
    return is_secret_keyword(keyword.keyword) ? mask : keyword.value;
}

std::string pooler_name(PoolerMode mode)
{
    return mode == PoolerMode::transaction ? "transaction" : "none";
}

std::string pooler_source(const Settings& s)
{
    if (s.pooler_reason.empty())
        return s.pooler_origin.text();
    return "auto: " + s.pooler_reason;
}

nlohmann::json origin_json(const Origin& origin)
{
    static const char* const kinds[] = {"none",     "default", "environment",
                                        "env_file", "fixed",   "option"};
    nlohmann::json j;
    j["kind"] = kinds[int(origin.kind)];
    if (!origin.variable.empty())
        j["variable"] = origin.variable;
    if (!origin.file.empty())
        j["file"] = origin.file;
    if (origin.line > 0)
        j["line"] = origin.line;
    if (!origin.via.empty())
        j["via"] = origin.via;
    j["text"] = origin.text();
    return j;
}

} // namespace

std::string Origin::text() const
{
    std::string out;
    switch (kind) {
    case Kind::none:
        out = "not set";
        break;
    case Kind::default_value:
        out = "default";
        if (via.empty() && !variable.empty())
            out += ", " + variable + " not set";
        break;
    case Kind::environment:
        out = variable + " from environment";
        break;
    case Kind::env_file:
        out = variable + " from " + file + ":" + std::to_string(line);
        break;
    case Kind::fixed:
        out = "fixed by " + variable;
        break;
    case Kind::option:
        out = variable + " " + file;
        break;
    }
    if (!via.empty()) {
        out += ", referenced by ";
        for (size_t i = 0; i < via.size(); ++i)
            out += (i ? " -> " : "") + via[i];
    }
    return out;
}

const EnvValue* Settings::find(const std::string& name) const
{
    auto it = env.find(name);
    return it == env.end() ? nullptr : &it->second;
}

const std::string* Settings::keyword(std::string_view name) const
{
    for (const ConnKeyword& k : connection)
        if (k.keyword == name)
            return &k.value;
    return nullptr;
}

Settings resolve_settings(const ResolveOptions& options,
                          const std::map<std::string, std::string>& environment)
{
    return Resolver(options, environment).run();
}

std::map<std::string, std::string> current_environ()
{
    std::map<std::string, std::string> env;
    for (char** entry = ::environ; entry && *entry; ++entry) {
        std::string_view text(*entry);
        size_t eq = text.find('=');
        if (eq != std::string_view::npos && eq > 0)
            env.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
    }
    return env;
}

std::vector<ConnKeyword> keywords_from_url(const std::string& url, const std::string& variable,
                                           const Origin& origin)
{
    // libpq would read a C string only up to the NUL, and our checks the whole of it
    if (url.find('\0') != std::string::npos)
        throw SettingsError(variable + ": contains a NUL character");

    // the scheme django-environ would accept, rewritten to libpq's postgresql://
    size_t sep = url.find("://");
    std::string scheme = lower(url.substr(0, sep == std::string::npos ? 0 : sep));
    bool token = !scheme.empty() && std::isalpha(static_cast<unsigned char>(scheme[0]));
    for (char c : scheme)
        token = token && (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' ||
                          c == '.' || c == '_');
    if (!token)
        throw SettingsError(variable + ": expected a postgres:// or postgresql:// URL");
    if (std::find(std::begin(postgres_schemes), std::end(postgres_schemes), scheme) ==
        std::end(postgres_schemes))
        throw SettingsError(variable + ": " + in_quotes(scheme) +
                            " is not a PostgreSQL URL scheme (use postgres:// or "
                            "postgresql://)");
    std::string full_url = "postgresql" + url.substr(sep);
    std::string libpq_url = without_django_options(full_url);

    // libpq's messages may quote the password: on failure, report the masked URL's message
    std::string error;
    ConninfoPtr options = parse_conninfo(libpq_url, error);
    // an "@" libpq did not take as the end of the user info: the password may have a "/" in
    // it, and a message about the rest of the URL may quote part of it
    // (judged before Django's options are dropped: one may hide the "@" that follows)
    auto layout = uri_layout(full_url);
    size_t last_at = full_url.rfind('@');
    bool ambiguous = layout && last_at != std::string::npos && last_at >= layout->authority &&
                     last_at != layout->at;
    const std::string ambiguous_error = variable + ": not a valid URL; write the characters "
                                                   "/ ? @ # and spaces in the user name and "
                                                   "password as %XX";
    if (!options) {
        if (ambiguous)
            throw SettingsError(ambiguous_error);
        std::string masked_error;
        if (parse_conninfo(mask_database_url(libpq_url), masked_error))
            throw SettingsError(variable + ": the password is not valid in a URL (write "
                                           "special characters as %XX)");
        throw SettingsError(variable + ": " + masked_error);
    }

    std::vector<ConnKeyword> keywords;
    for (PQconninfoOption* option = options.get(); option->keyword; ++option) {
        if (!option->val)
            continue;
        keywords.push_back({option->keyword, option->val, origin});
        if (keywords.back().keyword == "port")
            for (const std::string& port : split(option->val, ','))
                if (!port.empty() && !valid_port(port))
                    throw SettingsError(ambiguous
                                            ? ambiguous_error
                                            : variable + ": invalid port " + in_quotes(port));
    }
    std::stable_sort(keywords.begin(), keywords.end(),
                     [](const ConnKeyword& a, const ConnKeyword& b) {
                         return keyword_rank(a.keyword) < keyword_rank(b.keyword);
                     });
    return keywords;
}

std::string mask_database_url(std::string_view url)
{
    auto layout = uri_layout(url);
    if (!layout)
        return url.empty() ? std::string() : mask;
    std::string out(url);

    // the query first, so that the user info's positions stay valid
    out = rewrite_query(out, *layout, [](const std::string& key, std::string& param) {
        size_t eq = param.find('=');
        if (is_secret_keyword(key) && eq != std::string::npos && eq + 1 < param.size())
            param = param.substr(0, eq + 1) + mask;
        return true;
    });
    if (layout->at != std::string_view::npos) {
        size_t colon = out.find(':', layout->authority);
        if (colon < layout->at && colon + 1 < layout->at)
            out.replace(colon + 1, layout->at - colon - 1, mask);
    }
    return out;
}

bool is_secret_keyword(std::string_view keyword)
{
    return keyword == "password" || keyword == "sslpassword";
}

std::string conninfo_string(const std::vector<ConnKeyword>& keywords, bool masked)
{
    std::string out;
    for (const ConnKeyword& k : keywords) {
        out += (out.empty() ? "" : " ") + k.keyword + "='";
        std::string value = masked && is_secret_keyword(k.keyword) ? mask : k.value;
        for (char c : value) {
            if (c == '\\' || c == '\'')
                out += '\\';
            out += c;
        }
        out += '\'';
    }
    return out;
}

std::string conninfo_string(const Settings& settings)
{
    return conninfo_string(settings.connection);
}

std::string describe(const Settings& s)
{
    std::string out;
    row(out, 0, "env file", s.env_file.empty() ? "none" : s.env_file);
    row(out, 0, "USE_SUPABASE", s.use_supabase ? "true" : "false", s.use_supabase_origin.text());
    if (s.database_url)
        row(out, 0, "DATABASE_URL", mask_database_url(s.database_url->value),
            s.database_url->origin.text());
    else
        row(out, 0, "DATABASE_URL", "not set");

    out += "connection\n";
    for (const ConnKeyword& k : s.connection)
        row(out, 2, k.keyword, shown_value(k), k.origin.text());
    row(out, 0, "pooler", pooler_name(s.pooler), pooler_source(s));

    const QueueConfig& q = s.queue_config;
    if (s.queue_config_origin.kind == Origin::Kind::none) {
        row(out, 0, "queue config",
            "none (set --queue-config, QUEUE_CONFIG_FILE or "
            "QUEUE_CONFIG)");
    } else {
        bool inline_json = s.queue_config_origin.variable == "QUEUE_CONFIG";
        row(out, 0, "queue config", inline_json ? "inline JSON" : q.name,
            s.queue_config_origin.text());
        if (!q.backend.empty())
            row(out, 2, "BACKEND", q.backend);
    }
    if (!q.queues.empty())
        out += "queues\n";
    for (const QueueSettings& queue : q.queues)
        row(out, 2, queue.name,
            "max_retries " + std::to_string(queue.max_retries) + ", timeout " +
                format_number(queue.timeout_seconds) + " s, priority " +
                std::to_string(queue.priority));
    if (!q.handlers.empty())
        out += "handlers\n";
    for (const auto& [task, spec] : q.handlers)
        row(out, 2, task, command_line(spec) + (spec.persistent ? "  [persistent]" : ""));

    if (!s.warnings.empty())
        out += "warnings\n";
    for (const std::string& warning : s.warnings)
        out += "  " + printable(warning) + "\n";
    return out;
}

nlohmann::json describe_json(const Settings& s)
{
    nlohmann::json j;
    j["env_file"] = s.env_file.empty() ? nlohmann::json() : nlohmann::json(s.env_file);
    j["use_supabase"] = {{"value", s.use_supabase},
                         {"source", origin_json(s.use_supabase_origin)}};
    if (s.database_url)
        j["database_url"] = {{"value", mask_database_url(s.database_url->value)},
                             {"source", origin_json(s.database_url->origin)}};
    else
        j["database_url"] = nullptr;

    j["connection"] = nlohmann::json::array();
    for (const ConnKeyword& k : s.connection)
        j["connection"].push_back({{"keyword", k.keyword},
                                   {"value", shown_value(k)},
                                   {"source", origin_json(k.origin)}});
    j["conninfo"] = conninfo_string(s.connection, true);
    j["pooler"] = {{"mode", pooler_name(s.pooler)}, {"source", origin_json(s.pooler_origin)}};
    if (!s.pooler_reason.empty())
        j["pooler"]["reason"] = s.pooler_reason;

    const QueueConfig& q = s.queue_config;
    nlohmann::json config;
    config["source"] = origin_json(s.queue_config_origin);
    config["name"] = q.name.empty() ? nlohmann::json() : nlohmann::json(q.name);
    config["backend"] = q.backend.empty() ? nlohmann::json() : nlohmann::json(q.backend);
    config["queues"] = nlohmann::json::array();
    for (const QueueSettings& queue : q.queues)
        config["queues"].push_back({{"name", queue.name},
                                    {"max_retries", queue.max_retries},
                                    {"timeout", queue.timeout_seconds},
                                    {"priority", queue.priority}});
    config["handlers"] = nlohmann::json::object();
    for (const auto& [task, spec] : q.handlers)
        config["handlers"][task] = {{"argv", spec.argv}, {"persistent", spec.persistent}};
    j["queue_config"] = config;
    j["warnings"] = s.warnings;
    return j;
}

} // namespace cq::runner
