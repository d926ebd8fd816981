// libFuzzer target: QUEUE_CONFIG JSON through the parser and the description. Only
// SettingsError may escape.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common.hpp"
#include "queue_config.hpp"
#include "settings.hpp"

using namespace cq::runner;
using cq::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string text(reinterpret_cast<const char*>(data), size);
    Settings settings;
    try {
        settings.queue_config = parse_queue_config(text, "q.json");
    } catch (const SettingsError& e) {
        cq::fuzz::require_one_line(e.what());
        return 0;
    }

    // what the parser promises the worker
    for (const QueueSettings& queue : settings.queue_config.queues) {
        require(!queue.name.empty() && queue.name.size() <= 52, "queue name length", queue.name);
        require(queue.max_retries >= 0 && queue.max_retries <= 1000, "max_retries", queue.name);
        require(queue.timeout_us() >= 1 && queue.timeout_us() <= 86400LL * 1000000, "timeout",
                queue.name);
    }
    for (const auto& [task, spec] : settings.queue_config.handlers) {
        require(!task.empty() && task.size() <= 200, "task name length", task);
        require(!spec.argv.empty() && !spec.argv[0].empty(), "empty argv", task);
    }

    settings.queue_config_origin.kind = Origin::Kind::option;
    settings.queue_config_origin.variable = "--queue-config";
    settings.queue_config_origin.file = "q.json";
    std::string described = describe(settings);
    describe_json(settings).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return 0;
}
