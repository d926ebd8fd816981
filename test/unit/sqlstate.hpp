// What the unit tests share: the SQLSTATE of the cq::Error a piece of code throws.
#pragma once

#include <string>

#include "errors.hpp"

namespace cq::test {

// The SQLSTATE of the cq::Error that fn throws, or "" when it throws none.
template <typename Fn>
std::string sqlstate_of(Fn&& fn)
{
    try {
        fn();
    } catch (const cq::Error& e) {
        return e.code();
    }
    return "";
}

} // namespace cq::test
