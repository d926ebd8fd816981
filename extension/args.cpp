// Argument checks shared by the SQL functions.
#include "args.hpp"

extern "C" {
#include "utils/array.h"
#include "utils/lsyscache.h"
}

#include <string>

#include "errors.hpp"

namespace cq::args {

Elements array(FunctionCallInfo fcinfo, int n, const char* what, Oid type)
{
    if (PG_ARGISNULL(n))
        null_argument(what);
    ArrayType* array = PG_GETARG_ARRAYTYPE_P(n);
    if (ARR_NDIM(array) > 1)
        throw Error(sqlstate::array_subscript_error,
                    std::string(what) + " must be a one-dimensional array");
    int16 typlen;
    bool typbyval;
    char typalign;
    get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
    Elements elements{};
    bool* nulls;
    deconstruct_array(array, type, typlen, typbyval, typalign, &elements.values, &nulls,
                      &elements.count);
    for (int i = 0; i < elements.count; i++)
        if (nulls[i])
            throw Error(sqlstate::null_value_not_allowed,
                        std::string(what) + " must not contain NULL",
                        "Element " + std::to_string(i + 1) + " is NULL.");
    return elements;
}

} // namespace cq::args
