// libFuzzer target: DATABASE_URL through libpq's parser, the masking and the conninfo
// quoting. Checks that the masked URL reads as the URL with only its secrets changed, that
// conninfo strings read back as the keywords they came from, and that errors never quote a
// password. Only SettingsError may escape.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include <libpq-fe.h>

#include "common.hpp"
#include "settings.hpp"

using namespace cq::runner;
using cq::fuzz::require;

namespace {

// PQconninfoParse as a map, or false when libpq refuses the text
bool libpq_parse(const std::string& text, std::map<std::string, std::string>& out)
{
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(text.c_str(), &error);
    if (error)
        PQfreemem(error);
    if (!options)
        return false;
    for (PQconninfoOption* o = options; o->keyword; ++o)
        if (o->val)
            out[o->keyword] = o->val;
    PQconninfoFree(options);
    return true;
}

// the masked URL must read as the URL with its non-empty secrets as ********
void check_mask(const std::string& url)
{
    std::string masked = mask_database_url(url);
    std::map<std::string, std::string> plain, hidden;
    bool uri = url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
    if (!uri || url.find('\0') != std::string::npos || !libpq_parse(url, plain))
        return;
    require(libpq_parse(masked, hidden), "masked URL refused by libpq", masked);
    require(plain.size() == hidden.size(), "masking changed the keywords", masked);
    for (const auto& [keyword, value] : plain) {
        bool secret = is_secret_keyword(keyword) && !value.empty();
        require(hidden[keyword] == (secret ? "********" : value), "masking changed a value",
                keyword + " in " + masked);
    }
}

// letters moved to another of their class (hex digits stay hex digits), so that libpq reads
// the URL the same way; digits stay, as they can make a port valid or not
std::string rotated(const std::string& text)
{
    std::string out = text;
    for (char& c : out) {
        if (c >= 'a' && c <= 'f')
            c = char('a' + (c - 'a' + 1) % 6);
        else if (c >= 'g' && c <= 'z')
            c = char('g' + (c - 'g' + 1) % 20);
        else if (c >= 'A' && c <= 'F')
            c = char('A' + (c - 'A' + 1) % 6);
        else if (c >= 'G' && c <= 'Z')
            c = char('G' + (c - 'G' + 1) % 20);
    }
    return out;
}

// the error keywords_from_url gives for url, or "" when it succeeds
std::string url_error(const std::string& url, const Origin& origin)
{
    try {
        keywords_from_url(url, "DATABASE_URL", origin);
    } catch (const SettingsError& e) {
        cq::fuzz::require_one_line(e.what());
        return e.what();
    }
    return "";
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size == 0)
        return 0;
    std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
    Origin origin;
    origin.kind = Origin::Kind::environment;
    origin.variable = "DATABASE_URL";

    // mode 1: the input is a password, then \x01 and the rest of the URL after its "@"; an
    // error must read the same with another password of the same shape (or it quotes it)
    if (data[0] & 1) {
        size_t split = input.find('\x01');
        std::string password = input.substr(0, split);
        std::string rest = split == std::string::npos ? "h/d" : input.substr(split + 1);
        std::string message = url_error("postgresql://user:" + password + "@" + rest, origin);
        std::string other =
            url_error("postgresql://user:" + rotated(password) + "@" + rest, origin);
        // (when only one fails, the letters of the password changed how libpq splits the URL,
        // as with a query keyword inside it, and the two cannot be compared)
        if (!message.empty() && !other.empty())
            require(message == other, "an error depends on the password", message + " | " + other);
        return 0;
    }

    // mode 0: the input is the URL
    const std::string& url = input;
    check_mask(url);
    try {
        std::vector<ConnKeyword> keywords = keywords_from_url(url, "DATABASE_URL", origin);

        // the conninfo string reads back as the keywords
        std::map<std::string, std::string> back;
        std::string conninfo = conninfo_string(keywords);
        require(libpq_parse(conninfo, back), "conninfo refused by libpq", conninfo);
        require(back.size() == keywords.size(), "conninfo lost a keyword", conninfo);
        for (const ConnKeyword& k : keywords)
            require(back[k.keyword] == k.value, "conninfo changed a value", k.keyword);
        std::map<std::string, std::string> hidden;
        require(libpq_parse(conninfo_string(keywords, true), hidden), "masked conninfo refused");
        for (const ConnKeyword& k : keywords)
            require(hidden[k.keyword] == (is_secret_keyword(k.keyword) ? "********" : k.value),
                    "masked conninfo", k.keyword);
    } catch (const SettingsError& e) {
        cq::fuzz::require_one_line(e.what());
    }
    return 0;
}
