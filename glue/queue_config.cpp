// QUEUE_CONFIG parsing (nlohmann-json) and checks against the extension's limits.
#include "queue_config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "../extension/queue_rules.hpp"

namespace cq::runner {

namespace {

using Json = nlohmann::ordered_json;

// limits the extension's queue_create and enqueue check (extension/queue_rules.cpp)
constexpr int64_t max_retries_limit = 1000;
constexpr size_t max_task_bytes = 200;
constexpr double max_timeout_seconds = double(cq::queue::max_timeout_us) / 1e6;

// A value's place in the document, as "QUEUES.email.timeout" or HANDLERS["a b"][0]
std::string child(const std::string& path, const std::string& key)
{
    bool plain = !key.empty();
    for (char c : key)
        plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
    std::string step = plain ? key : "[" + in_quotes(key) + "]";
    if (path.empty())
        return step;
    return plain ? path + "." + step : path + step;
}

std::string child(const std::string& path, size_t index)
{
    return path + "[" + std::to_string(index) + "]";
}

// the value as JSON for a message, cut short
std::string shown(const Json& value)
{
    std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (text.size() > 40)
        text = text.substr(0, 37) + "...";
    return printable(text);
}

class Reader
{
public:
    explicit Reader(const std::string& name) : name_(name) {}

    QueueConfig read(const Json& doc)
    {
        QueueConfig config;
        config.name = name_;
        if (!doc.is_object())
            fail("", "expected a JSON object with QUEUES and HANDLERS, got " + shown(doc));
        for (const auto& [key, value] : doc.items()) {
            if (key == "BACKEND") {
                if (!value.is_string())
                    fail(key, "expected a string, got " + shown(value));
                config.backend = value.get<std::string>();
            } else if (key == "QUEUES") {
                read_queues(value, config);
            } else if (key == "HANDLERS") {
                read_handlers(value, config);
            } else {
                config.warnings.push_back(name_ + ": " + child("", key) +
                                          ": ignored (cachequeue reads BACKEND, QUEUES and "
                                          "HANDLERS)");
            }
        }
        return config;
    }

private:
    [[noreturn]] void fail(const std::string& path, const std::string& what) const
    {
        throw SettingsError(name_ + ": " + (path.empty() ? "" : path + ": ") + what);
    }

    void read_queues(const Json& queues, QueueConfig& config)
    {
        if (!queues.is_object())
            fail("QUEUES", "expected an object of queue names to settings, got " + shown(queues));
        for (const auto& [name, value] : queues.items()) {
            std::string path = child("QUEUES", name);
            if (name.empty() || name.size() > cq::queue::max_name_bytes)
                fail(path, "a queue name has 1 to " + std::to_string(cq::queue::max_name_bytes) +
                               " bytes");
            if (name.find('\0') != std::string::npos)
                fail(path, "a queue name cannot contain a NUL character");
            if (!value.is_object())
                fail(path, "expected an object with max_retries, timeout and priority, got " +
                               shown(value));
            QueueSettings queue;
            queue.name = name;
            for (const auto& [key, field] : value.items()) {
                std::string field_path = child(path, key);
                if (key == "max_retries")
                    queue.max_retries = int(whole(field, field_path, 0, max_retries_limit,
                                                  "a whole number of retries"));
                else if (key == "timeout")
                    queue.timeout_seconds = seconds(field, field_path);
                else if (key == "priority")
                    queue.priority =
                        int(whole(field, field_path, std::numeric_limits<int32_t>::min(),
                                  std::numeric_limits<int32_t>::max(), "a whole number"));
                else
                    fail(field_path, "unknown queue setting (expected max_retries, timeout or "
                                     "priority)");
            }
            config.queues.push_back(queue);
        }
    }

    int64_t whole(const Json& value, const std::string& path, int64_t min, int64_t max,
                  const std::string& what) const
    {
        std::string expected =
            "expected " + what + " from " + std::to_string(min) + " to " + std::to_string(max);
        if (value.is_number_unsigned()) {
            auto n = value.get<uint64_t>();
            if (n <= uint64_t(max))
                return int64_t(n);
        } else if (value.is_number_integer()) {
            auto n = value.get<int64_t>();
            if (n >= min && n <= max)
                return n;
        }
        fail(path, expected + ", got " + shown(value));
    }

    double seconds(const Json& value, const std::string& path) const
    {
        if (!value.is_number())
            fail(path, "expected a number of seconds, got " + shown(value));
        double s = value.get<double>();
        if (!(s >= 1e-6 && s <= max_timeout_seconds))
            fail(path, "expected a number of seconds from 0.000001 to " +
                           std::to_string(int64_t(max_timeout_seconds)) + ", got " + shown(value));
        return s;
    }

    void read_handlers(const Json& handlers, QueueConfig& config)
    {
        if (!handlers.is_object())
            fail("HANDLERS",
                 "expected an object of task names to commands, got " + shown(handlers));
        for (const auto& [task, value] : handlers.items()) {
            std::string path = child("HANDLERS", task);
            if (task.empty() || task.size() > max_task_bytes)
                fail(path, "a task name has 1 to " + std::to_string(max_task_bytes) + " bytes");
            if (task.find('\0') != std::string::npos)
                fail(path, "a task name cannot contain a NUL character");
            HandlerSpec spec;
            if (value.is_array()) {
                spec.argv = argv(value, path);
            } else if (value.is_object()) {
                bool has_argv = false;
                for (const auto& [key, field] : value.items()) {
                    std::string field_path = child(path, key);
                    if (key == "argv") {
                        spec.argv = argv(field, field_path);
                        has_argv = true;
                    } else if (key == "persistent") {
                        if (!field.is_boolean())
                            fail(field_path, "expected true or false, got " + shown(field));
                        spec.persistent = field.get<bool>();
                    } else {
                        fail(field_path, "unknown handler setting (expected argv or persistent)");
                    }
                }
                if (!has_argv)
                    fail(path, "missing argv, the program and its arguments");
            } else {
                fail(path, "expected a list of the program and its arguments, or an object "
                           "with argv and persistent, got " +
                               shown(value));
            }
            config.handlers[task] = std::move(spec);
        }
    }

    std::vector<std::string> argv(const Json& value, const std::string& path) const
    {
        if (!value.is_array())
            fail(path, "expected a list of the program and its arguments, got " + shown(value));
        if (value.empty())
            fail(path, "the list is empty; it needs at least the program");
        std::vector<std::string> args;
        for (size_t i = 0; i < value.size(); ++i) {
            const Json& arg = value[i];
            if (!arg.is_string())
                fail(child(path, i), "expected a string, got " + shown(arg));
            args.push_back(arg.get<std::string>());
            if (args.back().find('\0') != std::string::npos)
                fail(child(path, i), "an argument cannot contain a NUL character");
        }
        if (args[0].empty())
            fail(child(path, 0), "the program name is empty");
        return args;
    }

    const std::string& name_;
};

// "NAME: line L, column C: what" for a parse error at byte offset (1-based) byte
std::string at_position(const std::string& name, std::string_view text, size_t byte,
                        const std::string& what)
{
    size_t pos = std::min(byte == 0 ? 0 : byte - 1, text.size());
    size_t line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < pos; ++i) {
        if (text[i] == '\n') {
            ++line;
            line_start = i + 1;
        }
    }
    return name + ": line " + std::to_string(line) + ", column " +
           std::to_string(pos - line_start + 1) + ": " + what;
}

// nlohmann's message without its "[json.exception...] parse error at line 1, column 2: "
std::string bare_message(const std::string& what)
{
    size_t start = what.find("] ");
    start = start == std::string::npos ? 0 : start + 2;
    size_t parse = what.find("parse error", start);
    if (parse == start) {
        size_t colon = what.find(": ", parse);
        if (colon != std::string::npos)
            start = colon + 2;
    }
    return what.substr(start);
}

} // namespace

int64_t QueueSettings::timeout_us() const
{
    return std::max<int64_t>(1, std::llround(timeout_seconds * 1e6));
}

const QueueSettings* QueueConfig::find_queue(std::string_view queue) const
{
    for (const QueueSettings& q : queues)
        if (q.name == queue)
            return &q;
    return nullptr;
}

QueueConfig parse_queue_config(std::string_view text, const std::string& name)
{
    Json doc;
    try {
        doc = Json::parse(text.begin(), text.end());
    } catch (const Json::parse_error& e) {
        throw SettingsError(at_position(name, text, e.byte, bare_message(e.what())));
    } catch (const Json::exception& e) {
        throw SettingsError(name + ": " + bare_message(e.what()));
    }
    return Reader(name).read(doc);
}

} // namespace cq::runner
