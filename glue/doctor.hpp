// `cachequeue doctor`: checks a database running cachequeue and says what looks wrong, each
// finding with a severity and a one-line suggestion. docs/commands.md lists the checks, their
// thresholds and the exit codes.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "db.hpp"

namespace cq::runner {

enum class Severity { ok, info, warning, critical };

const char* to_string(Severity severity);

struct Finding {
    std::string check; // connections, slow_statements, cache, queue, stuck_jobs, tables, ...
    Severity severity = Severity::ok;
    std::string message;
    std::string suggestion; // empty when there is nothing to do
};

// Exit codes of doctor beyond exit_ok (0) and exit_database (1).
constexpr int exit_doctor_warning = 4;  // at least one warning, no critical finding
constexpr int exit_doctor_critical = 5; // at least one critical finding

// Runs every check on db. A check that cannot run (missing privileges, say) becomes an info
// finding; a lost connection is thrown as DbError.
std::vector<Finding> run_doctor(Connection& db);

// 0, exit_doctor_warning or exit_doctor_critical, from the worst finding.
int doctor_exit_code(const std::vector<Finding>& findings);

// One line per finding ("severity  check  message"), its suggestion on the next line after
// "-> "; or with json one object: database, findings, and a count per severity.
void print_findings(std::ostream& out, const std::string& database,
                    const std::vector<Finding>& findings, bool json);

} // namespace cq::runner
