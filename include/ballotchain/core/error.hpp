#pragma once
/// @file Error-code plumbing shared by every layer.
///
/// Each layer declares an `enum class errc` and two ADL-found functions,
/// `category_name(errc)` and `describe(errc)`, then opts in with
/// `BALLOTCHAIN_ERROR_ENUM(ns::errc)` at global scope. `make_error_code` is
/// generated from those, one category object per enum.

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <string>
#include <type_traits>

namespace ballotchain {

using error_code = boost::system::error_code;

/// Result of a synchronous operation that can fail.
template <class T>
using result = boost::system::result<T, error_code>;

namespace detail {

// Boost's error_category has a non-virtual destructor by design (categories
// are never deleted through a base pointer); silence the warning about it here.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
#endif
template <class E>
class enum_category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return category_name(E{}); }
    std::string message(int ev) const override { return describe(static_cast<E>(ev)); }
};
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

template <class E>
const boost::system::error_category& category_of() noexcept {
    static const enum_category<E> cat;
    return cat;
}

}  // namespace detail

/// Builds an error_code for any ballotchain error enum.
template <class E>
    requires std::is_enum_v<E>
error_code make_error(E e) noexcept {
    return error_code(static_cast<int>(e), detail::category_of<E>());
}

/// True when `ec` belongs to the category of enum `E`.
template <class E>
bool is_category(const error_code& ec) noexcept {
    return &ec.category() == &detail::category_of<E>();
}

}  // namespace ballotchain

/// Marks E as an error enum; E's namespace must also declare
/// `error_code make_error_code(E)` (usually `return make_error(e);`).
#define BALLOTCHAIN_ERROR_ENUM(E)                                                  \
    template <>                                                                    \
    struct boost::system::is_error_code_enum<E> : std::true_type {};

