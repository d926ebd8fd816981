// Column-aligned text output (see table.hpp).
#include "table.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace cq::runner {

namespace {

const char* const column_gap = "  ";

// Pads one cell to width; the last column of a row gets no trailing spaces.
void put_cell(std::ostream& out, const std::string& text, size_t width, TextTable::Align align,
              bool last)
{
    size_t pad = width - std::min(width, display_width(text));
    if (align == TextTable::Align::right)
        out << std::string(pad, ' ') << text;
    else if (last)
        out << text;
    else
        out << text << std::string(pad, ' ');
}

} // namespace

size_t display_width(const std::string& text)
{
    // UTF-8 continuation bytes (10xxxxxx) do not start a character.
    return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

void TextTable::add_column(std::string header, Align align)
{
    if (!rows_.empty())
        throw std::logic_error("TextTable: columns must be added before the rows");
    headers_.push_back(printable(header));
    aligns_.push_back(align);
}

void TextTable::add_row(std::vector<std::string> cells)
{
    if (cells.size() != headers_.size())
        throw std::invalid_argument("TextTable: a row has " + std::to_string(cells.size()) +
                                    " cells for " + std::to_string(headers_.size()) + " columns");
    for (std::string& cell : cells)
        cell = printable(cell);
    rows_.push_back(std::move(cells));
}

void TextTable::print(std::ostream& out) const
{
    // Widths: the widest of each column's header and cells.
    std::vector<size_t> widths;
    for (const std::string& header : headers_)
        widths.push_back(display_width(header));
    for (const auto& row : rows_) {
        for (size_t col = 0; col < row.size(); ++col)
            widths[col] = std::max(widths[col], display_width(row[col]));
    }

    // Header and rule, then the rows.
    size_t last = headers_.size() - 1;
    for (size_t col = 0; col < headers_.size(); ++col) {
        put_cell(out, headers_[col], widths[col], aligns_[col], col == last);
        out << (col == last ? "\n" : column_gap);
    }
    for (size_t col = 0; col < headers_.size(); ++col)
        out << std::string(widths[col], '-') << (col == last ? "\n" : column_gap);
    for (const auto& row : rows_) {
        for (size_t col = 0; col < row.size(); ++col) {
            put_cell(out, row[col], widths[col], aligns_[col], col == last);
            out << (col == last ? "\n" : column_gap);
        }
    }
}

void print_fields(std::ostream& out,
                  const std::vector<std::pair<std::string, std::string>>& fields)
{
    size_t width = 0;
    for (const auto& field : fields)
        width = std::max(width, display_width(printable(field.first)));
    for (const auto& field : fields) {
        std::string name = printable(field.first);
        std::string value = printable(field.second);
        out << name;
        if (!value.empty())
            out << std::string(width - display_width(name), ' ') << column_gap << value;
        out << '\n';
    }
}

} // namespace cq::runner
