// The .env reader: django-environ's read_env rules, with errors where it would silently skip
// or misread a line.
#include "env_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cq::runner {

namespace {

bool is_key_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_key(std::string_view text)
{
    if (text.empty())
        return false;
    for (char c : text)
        if (!is_key_char(c))
            return false;
    return true;
}

// Python's str.isspace() for ASCII
bool is_py_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

std::string_view py_strip(std::string_view text)
{
    while (!text.empty() && is_py_space(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_py_space(text.back()))
        text.remove_suffix(1);
    return text;
}

// Length of the line break at text[i] as Python's str.splitlines() sees it, or 0.
size_t line_break_at(std::string_view text, size_t i)
{
    char c = text[i];
    size_t rest = text.size() - i;
    if (c == '\r')
        return rest > 1 && text[i + 1] == '\n' ? 2 : 1;
    if (c == '\n' || c == '\v' || c == '\f' || c == '\x1c' || c == '\x1d' || c == '\x1e')
        return 1;
    if (c == '\xc2' && rest > 1 && text[i + 1] == '\x85')
        return 2; // U+0085 NEXT LINE
    if (c == '\xe2' && rest > 2 && text[i + 1] == '\x80' &&
        (text[i + 2] == '\xa8' || text[i + 2] == '\xa9'))
        return 3; // U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR
    return 0;
}

// Whether text is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF), which Python's decoder requires.
bool is_utf8(std::string_view text)
{
    size_t i = 0;
    while (i < text.size()) {
        auto b = static_cast<unsigned char>(text[i]);
        size_t len;
        unsigned char lo = 0x80, hi = 0xbf;
        if (b < 0x80) {
            ++i;
            continue;
        } else if (b >= 0xc2 && b <= 0xdf) {
            len = 2;
        } else if (b >= 0xe0 && b <= 0xef) {
            len = 3;
            if (b == 0xe0)
                lo = 0xa0;
            if (b == 0xed)
                hi = 0x9f;
        } else if (b >= 0xf0 && b <= 0xf4) {
            len = 4;
            if (b == 0xf0)
                lo = 0x90;
            if (b == 0xf4)
                hi = 0x8f;
        } else {
            return false;
        }
        if (text.size() - i < len)
            return false;
        for (size_t k = 1; k < len; ++k) {
            auto c = static_cast<unsigned char>(text[i + k]);
            if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xbf))
                return false;
        }
        i += len;
    }
    return true;
}

// The inside of a double-quoted value: a backslash escapes the next character, except that
// \n, \r and \t stay as written (django-environ leaves them for env.str(multiline=True)).
std::string unescape_double_quoted(std::string_view inner)
{
    std::string out;
    out.reserve(inner.size());
    for (size_t i = 0; i < inner.size(); ++i) {
        if (inner[i] != '\\' || i + 1 == inner.size()) {
            out += inner[i];
            continue;
        }
        char next = inner[++i];
        if (next == 'n' || next == 'r' || next == 't')
            out += '\\';
        out += next;
    }
    return out;
}

class LineReader
{
public:
    LineReader(EnvFile& file) : file_(file) {}

    void read(int line, std::string_view text)
    {
        line_ = line;

        // Python cannot decode such a file at all
        if (!is_utf8(text))
            fail("not valid UTF-8");

        // blank lines and comments, including indented ones and whitespace-only lines
        std::string_view stripped = py_strip(text);
        if (stripped.empty() || stripped.front() == '#')
            return;

        // what django-environ would skip with a warning is an error here
        if (line == 1 && text.substr(0, 3) == "\xef\xbb\xbf")
            fail("the file starts with a byte-order mark; django-environ ignores this line");
        if (is_py_space(text.front()))
            fail("the line starts with whitespace; django-environ ignores it");
        size_t eq = text.find('=');
        if (eq == std::string_view::npos)
            fail("expected KEY=value");
        std::string_view key = text.substr(0, eq);
        if (key.substr(0, 7) == "export " && is_key(key.substr(7)))
            key.remove_prefix(7);
        if (key.empty())
            fail("missing variable name before \"=\"");
        if (!is_key(key))
            fail("invalid variable name " + in_quotes(key) +
                 " (letters, digits and _ only, no spaces around \"=\"); "
                 "django-environ ignores this line");
        std::string value = read_value(std::string(key), text.substr(eq + 1));
        file_.entries.push_back({std::string(key), std::move(value), line_});
    }

private:
    [[noreturn]] void fail(const std::string& what) const
    {
        throw SettingsError(file_.path + ":" + std::to_string(line_) + ": " + what);
    }

    void warn(const std::string& key, const std::string& what)
    {
        file_.warnings.push_back(file_.path + ":" + std::to_string(line_) + ": " + key + ": " +
                                 what);
    }

    // A value as django-environ reads it (parse_comments=False): the single quotes of a
    // single-quoted value dropped, then the double quotes and escapes of a double-quoted one.
    std::string read_value(const std::string& key, std::string_view raw)
    {
        if (raw.find('\0') != std::string_view::npos)
            fail(key + ": the value contains a NUL byte");
        bool single = raw.size() >= 2 && raw.front() == '\'' && raw.back() == '\'';
        if (!raw.empty() && raw.front() == '\'' && !single)
            fail_quote(key, raw);
        std::string_view value = single ? raw.substr(1, raw.size() - 2) : raw;
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            return unescape_double_quoted(value.substr(1, value.size() - 2));
        if (!single && !value.empty() && value.front() == '"')
            fail_quote(key, raw);
        if (!single)
            check_unquoted(key, value);
        return std::string(value);
    }

    [[noreturn]] void fail_quote(const std::string& key, std::string_view raw) const
    {
        if (raw.find(raw.front(), 1) != std::string_view::npos)
            fail(key + ": text after the closing quote (django-environ would keep the "
                       "quotes and the text in the value)");
        fail(key + ": unterminated quote");
    }

    // warnings where django-environ keeps what a reader of the file may not expect
    void check_unquoted(const std::string& key, std::string_view value)
    {
        if (!value.empty() && (is_py_space(value.front()) || is_py_space(value.back())))
            warn(key, "leading or trailing spaces are kept in an unquoted value, as "
                      "django-environ keeps them");
        for (size_t i = 0; i < value.size(); ++i) {
            if (value[i] == '#' && (i == 0 || is_py_space(value[i - 1]))) {
                warn(key, "\"#\" and what follows are part of the unquoted value, as "
                          "django-environ reads it; quote the value or put the comment on "
                          "its own line");
                break;
            }
        }
    }

    EnvFile& file_;
    int line_ = 0;
};

} // namespace

EnvFile parse_env_text(std::string_view text, const std::string& name)
{
    EnvFile file;
    file.path = name;
    LineReader reader(file);
    int line = 1;
    size_t start = 0;
    size_t i = 0;
    while (i < text.size()) {
        size_t brk = line_break_at(text, i);
        if (brk == 0) {
            ++i;
            continue;
        }
        reader.read(line++, text.substr(start, i - start));
        i += brk;
        start = i;
    }
    if (start < text.size())
        reader.read(line, text.substr(start));
    return file;
}

EnvFile read_env_file(const std::string& path)
{
    return parse_env_text(read_settings_file(path), path);
}

std::string read_settings_file(const std::string& path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw SettingsError(path + ": could not open: " + std::strerror(errno));
    std::string content;
    std::string error;
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
        error = "is a directory";
    char buffer[65536];
    while (error.empty()) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            error = std::string("could not read: ") + std::strerror(errno);
        if (n <= 0)
            break;
        if (content.size() + size_t(n) > max_settings_file_bytes)
            error = "larger than " + std::to_string(max_settings_file_bytes >> 20) +
                    " MiB; is this the right file?";
        else
            content.append(buffer, size_t(n));
    }
    ::close(fd);
    if (!error.empty())
        throw SettingsError(path + ": " + error);
    return content;
}

bool path_exists(const std::string& path)
{
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

bool parse_env_bool(std::string_view value)
{
    // int(value) != 0: Python's int() allows surrounding whitespace, a sign and single
    // underscores between digits
    std::string_view number = py_strip(value);
    if (!number.empty() && (number.front() == '+' || number.front() == '-'))
        number.remove_prefix(1);
    bool is_int = !number.empty() && number.front() != '_' && number.back() != '_';
    bool nonzero = false;
    for (size_t i = 0; is_int && i < number.size(); ++i) {
        char c = number[i];
        if (c == '_')
            is_int = number[i - 1] != '_';
        else if (c >= '0' && c <= '9')
            nonzero = nonzero || c != '0';
        else
            is_int = false;
    }
    if (is_int)
        return nonzero;

    std::string word(py_strip(value));
    for (char& c : word)
        if (c >= 'A' && c <= 'Z')
            c = char(c - 'A' + 'a');
    return word == "true" || word == "on" || word == "ok" || word == "y" || word == "yes" ||
           word == "1";
}

} // namespace cq::runner
