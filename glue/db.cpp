// The runner's libpq connection (see db.hpp).
#include "db.hpp"

#include <cstdlib>
#include <cstring>

namespace cq::runner {

std::string one_line(const char* message)
{
    if (message == nullptr)
        return "unknown error";
    std::string text(message);
    for (const char* prefix : {"ERROR:  ", "FATAL:  ", "PANIC:  "}) {
        if (text.rfind(prefix, 0) == 0)
            text.erase(0, std::strlen(prefix));
    }
    auto end = text.find('\n');
    if (end != std::string::npos)
        text.erase(end);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\r'))
        text.pop_back();
    return text.empty() ? "unknown error" : text;
}

long long Result::affected() const
{
    const char* tuples = PQcmdTuples(result_.get());
    return tuples == nullptr || *tuples == '\0' ? 0 : std::strtoll(tuples, nullptr, 10);
}

void Connection::connect()
{
    close();
    conn_ = PQconnectdb(conninfo_.c_str());
    if (conn_ == nullptr)
        throw DbError("out of memory while connecting", "", true);
    if (PQstatus(conn_) != CONNECTION_OK) {
        std::string message = "cannot connect: " + one_line(PQerrorMessage(conn_));
        close();
        throw DbError(message, "", true);
    }
    // Notices (such as "relation already exists") are not the runner's output.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
}

void Connection::close()
{
    if (conn_ != nullptr) {
        PQfinish(conn_);
        conn_ = nullptr;
    }
}

Result Connection::check(PGresult* result)
{
    ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        return Result(result);
    std::string message =
        one_line(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn_));
    const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    std::string sqlstate = state != nullptr ? state : "";
    if (result != nullptr)
        PQclear(result);
    bool lost = conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK;
    // Administrator shutdown and friends end the session even when the socket still answers.
    if (sqlstate.rfind("57P", 0) == 0 || sqlstate.rfind("08", 0) == 0)
        lost = true;
    throw DbError(message, sqlstate, lost);
}

Result Connection::exec(const std::string& sql, const std::vector<Param>& params)
{
    if (conn_ == nullptr)
        throw DbError("not connected", "", true);
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Param& param : params)
        values.push_back(param ? param->c_str() : nullptr);
    return check(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                              values.data(), nullptr, nullptr, 0));
}

Result Connection::exec_script(const std::string& sql)
{
    if (conn_ == nullptr)
        throw DbError("not connected", "", true);
    return check(PQexec(conn_, sql.c_str()));
}

std::vector<Result> Connection::exec_script_results(const std::string& sql)
{
    if (conn_ == nullptr)
        throw DbError("not connected", "", true);
    if (PQsendQuery(conn_, sql.c_str()) == 0)
        check(nullptr);
    // Every result is read, up to the end of the query, before an error is raised: the
    // connection is then ready for the next statement.
    std::vector<PGresult*> raw;
    while (PGresult* result = PQgetResult(conn_))
        raw.push_back(result);
    if (raw.empty())
        check(nullptr);
    std::vector<Result> results;
    size_t failed = raw.size();
    for (size_t i = 0; i < raw.size() && failed == raw.size(); i++) {
        ExecStatusType status = PQresultStatus(raw[i]);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
            failed = i;
    }
    for (size_t i = 0; i < raw.size(); i++)
        if (i != failed)
            results.emplace_back(raw[i]);
    if (failed != raw.size())
        check(raw[failed]); // throws, and frees it
    return results;
}

std::vector<std::string> Connection::take_notifications()
{
    std::vector<std::string> channels;
    if (conn_ == nullptr)
        return channels;
    if (PQconsumeInput(conn_) == 0)
        throw DbError("connection lost: " + one_line(PQerrorMessage(conn_)), "", true);
    while (PGnotify* notify = PQnotifies(conn_)) {
        channels.emplace_back(notify->relname);
        PQfreemem(notify);
    }
    return channels;
}

namespace {

using Escape = char* (*)(PGconn*, const char*, size_t);

std::string escaped(PGconn* conn, Escape escape, const std::string& value, const char* what)
{
    char* quoted = escape(conn, value.data(), value.size());
    if (quoted == nullptr)
        throw DbError(std::string("cannot quote ") + what + ": " + one_line(PQerrorMessage(conn)),
                      "", false);
    std::string result(quoted);
    PQfreemem(quoted);
    return result;
}

} // namespace

std::string Connection::quote_literal(const std::string& value)
{
    return escaped(conn_, PQescapeLiteral, value, "a value");
}

std::string Connection::quote_identifier(const std::string& value)
{
    return escaped(conn_, PQescapeIdentifier, value, "a name");
}

} // namespace cq::runner
