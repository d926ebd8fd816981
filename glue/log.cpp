#include "log.hpp"

#include <cerrno>
#include <mutex>

#include <unistd.h>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

namespace cq::runner {

namespace {

thread_local int batch_depth = 0;
thread_local std::string held; // this thread's lines, while batch_depth > 0

// Writes all of text to fd 2; an error (stderr closed, say) drops the text, as a log must
// not stop the worker.
void write_all(const char* text, std::size_t size)
{
    while (size > 0) {
        ssize_t written = ::write(STDERR_FILENO, text, size);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        text += written;
        size -= static_cast<std::size_t>(written);
    }
}

class StderrSink final : public spdlog::sinks::base_sink<std::mutex>
{
protected:
    // Called with the sink's mutex held: whole lines never interleave.
    void sink_it_(const spdlog::details::log_msg& msg) override
    {
        spdlog::memory_buf_t line;
        formatter_->format(msg, line);
        if (batch_depth > 0 && msg.level < spdlog::level::warn) {
            held.append(line.data(), line.size());
            return;
        }
        write_held();
        write_all(line.data(), line.size());
    }

    void flush_() override { write_held(); }

private:
    static void write_held()
    {
        if (held.empty())
            return;
        write_all(held.data(), held.size());
        held.clear();
    }
};

} // namespace

std::shared_ptr<spdlog::logger> make_stderr_logger(const std::string& name)
{
    return std::make_shared<spdlog::logger>(name, std::make_shared<StderrSink>());
}

LogBatch::LogBatch()
{
    batch_depth++;
}

LogBatch::~LogBatch()
{
    if (--batch_depth == 0 && !held.empty())
        spdlog::default_logger_raw()->flush();
}

} // namespace cq::runner
