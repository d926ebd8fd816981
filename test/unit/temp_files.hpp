// Temporary files and folders for the runner's unit tests, removed when the test ends.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

#include "settings_error.hpp"

namespace cq::test {

// A fresh folder under /tmp; files written into it are removed with it.
class TempDir
{
public:
    TempDir()
    {
        char name[] = "/tmp/cq-settings-XXXXXX";
        if (!mkdtemp(name))
            throw std::runtime_error("mkdtemp failed");
        path_ = name;
    }
    ~TempDir()
    {
        for (const std::string& file : files_)
            std::remove(file.c_str());
        ::rmdir(path_.c_str());
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }

    // writes content to name inside the folder and returns the file's path
    std::string write(const std::string& name, const std::string& content)
    {
        std::string file = path_ + "/" + name;
        FILE* f = std::fopen(file.c_str(), "wb");
        if (!f)
            throw std::runtime_error("cannot write " + file);
        std::fwrite(content.data(), 1, content.size(), f);
        std::fclose(f);
        files_.push_back(file);
        return file;
    }

private:
    std::string path_;
    std::vector<std::string> files_;
};

// A file from mkstemp holding content, removed at the end of the scope.
class TempFile
{
public:
    explicit TempFile(const std::string& content)
    {
        char name[] = "/tmp/cq-settings-file-XXXXXX";
        int fd = mkstemp(name);
        if (fd < 0)
            throw std::runtime_error("mkstemp failed");
        path_ = name;
        if (::write(fd, content.data(), content.size()) != ssize_t(content.size()))
            throw std::runtime_error("cannot write " + path_);
        ::close(fd);
    }
    ~TempFile() { std::remove(path_.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// The message of the SettingsError that f throws, or "" when it throws none. Any other
// exception escapes and fails the test.
template <typename F>
std::string settings_error_of(F f)
{
    try {
        f();
    } catch (const cq::runner::SettingsError& e) {
        return e.what();
    }
    return "";
}

} // namespace cq::test
