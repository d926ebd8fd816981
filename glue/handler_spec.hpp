// How one task's jobs are run: read from QUEUE_CONFIG's "HANDLERS", used by the worker.
#pragma once

#include <string>
#include <vector>

namespace cq::runner {

struct HandlerSpec {
    // The program and its arguments; argv[0] is looked up in PATH when it has no slash.
    std::vector<std::string> argv;
    // false: one process per job. true: one long-lived process per concurrency slot, fed
    // one job per line on stdin, answering one line per job on stdout.
    bool persistent = false;
};

} // namespace cq::runner
