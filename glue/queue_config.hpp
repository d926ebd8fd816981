// QUEUE_CONFIG: the queues and task handlers, as Django's json.dumps(settings.QUEUE_CONFIG)
// writes them. docs/settings.md shows the format.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "handler_spec.hpp"
#include "settings_error.hpp"

namespace cq::runner {

// One queue; the defaults are the extension's (queue_create).
struct QueueSettings {
    std::string name;
    int max_retries = 3;
    double timeout_seconds = 30;
    int priority = 0;

    // the timeout as the extension's lease, in microseconds (at least 1)
    int64_t timeout_us() const;
};

struct QueueConfig {
    // stands for the source in messages: a file path, or "QUEUE_CONFIG (environment)"
    std::string name;
    // "BACKEND", empty when absent
    std::string backend;
    // "QUEUES", in the order the JSON lists them
    std::vector<QueueSettings> queues;
    // "HANDLERS": task name to the command that runs its jobs
    std::map<std::string, HandlerSpec> handlers;
    // notes on keys that are read but ignored
    std::vector<std::string> warnings;

    // the queue called name, or nullptr
    const QueueSettings* find_queue(std::string_view queue) const;
};

// Parses QUEUE_CONFIG JSON; name stands for its source in messages. Throws SettingsError
// "NAME: line L, column C: ..." for malformed JSON and "NAME: QUEUES.email.timeout: ..." for
// a value of the wrong type or out of range.
QueueConfig parse_queue_config(std::string_view text, const std::string& name);

} // namespace cq::runner
