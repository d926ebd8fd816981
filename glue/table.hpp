// Plain-text output of the management commands: column-aligned tables and key/value records,
// with control characters escaped so that a payload or an error cannot move the cursor.
#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "settings_error.hpp" // printable()

namespace cq::runner {

// The number of terminal columns text takes, counting each UTF-8 character as one.
size_t display_width(const std::string& text);

class TextTable
{
public:
    enum class Align { left, right };

    void add_column(std::string header, Align align = Align::left);
    // One cell per column; throws std::invalid_argument otherwise.
    void add_row(std::vector<std::string> cells);
    size_t rows() const { return rows_.size(); }
    // Header, a rule of dashes, then the rows; columns two spaces apart, no trailing spaces.
    void print(std::ostream& out) const;

private:
    std::vector<std::string> headers_;
    std::vector<Align> aligns_;
    std::vector<std::vector<std::string>> rows_;
};

// One record as "name  value" lines, the values lined up after the longest name.
void print_fields(std::ostream& out,
                  const std::vector<std::pair<std::string, std::string>>& fields);

} // namespace cq::runner
