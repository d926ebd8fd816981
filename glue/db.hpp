// A libpq connection for the runner: parameters sent with each statement (no named prepared
// statements, which break behind transaction poolers), errors as exceptions that keep the
// SQLSTATE and say whether the connection was lost.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cq::runner {

class DbError : public std::runtime_error
{
public:
    DbError(const std::string& message, std::string sqlstate, bool connection_lost)
        : std::runtime_error(message), sqlstate_(std::move(sqlstate)),
          connection_lost_(connection_lost)
    {}
    // Five characters, or empty when the server gave none (a connection failure).
    const std::string& sqlstate() const { return sqlstate_; }
    // The connection is gone: reconnect before the next statement.
    bool connection_lost() const { return connection_lost_; }

private:
    std::string sqlstate_;
    bool connection_lost_;
};

// The rows of one statement, as text.
class Result
{
public:
    explicit Result(PGresult* result) : result_(result, PQclear) {}
    int rows() const { return PQntuples(result_.get()); }
    int columns() const { return PQnfields(result_.get()); }
    std::string column_name(int col) const { return PQfname(result_.get(), col); }
    bool is_null(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
    std::string get(int row, int col) const
    {
        return std::string(PQgetvalue(result_.get(), row, col),
                           static_cast<size_t>(PQgetlength(result_.get(), row, col)));
    }
    std::optional<std::string> get_optional(int row, int col) const
    {
        if (is_null(row, col))
            return std::nullopt;
        return get(row, col);
    }
    // The command tag's row count (UPDATE 3 -> 3).
    long long affected() const;

private:
    std::shared_ptr<PGresult> result_;
};

using Param = std::optional<std::string>; // nullopt is SQL NULL

class Connection
{
public:
    explicit Connection(std::string conninfo) : conninfo_(std::move(conninfo)) {}
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection() { close(); }

    // Connects (again); throws DbError with connection_lost set when it cannot.
    void connect();
    void close();
    bool connected() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

    // One statement with text parameters ($1, $2...), in a transaction of its own.
    Result exec(const std::string& sql, const std::vector<Param>& params = {});
    // Statements without parameters, sent as one simple query (one implicit transaction);
    // returns the last statement's result.
    Result exec_script(const std::string& sql);
    // The same, with every statement's result, in order.
    std::vector<Result> exec_script_results(const std::string& sql);

    // The socket to wait on for notifications, or -1.
    int socket() const { return conn_ == nullptr ? -1 : PQsocket(conn_); }
    // Reads what arrived on the socket; returns the channels notified since the last call.
    std::vector<std::string> take_notifications();

    std::string quote_literal(const std::string& value);
    std::string quote_identifier(const std::string& value);
    // The server's version number (150004), or 0 when not connected.
    int server_version() const { return conn_ == nullptr ? 0 : PQserverVersion(conn_); }

private:
    Result check(PGresult* result);

    std::string conninfo_;
    PGconn* conn_ = nullptr;
};

// The first line of a libpq message, without its "ERROR:  " prefix.
std::string one_line(const char* message);

} // namespace cq::runner
