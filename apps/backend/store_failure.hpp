#pragma once
/// @file A failure of the backend's database as an exception, for the code
/// above the store that cannot go on without it (handlers, the outbox).

#include "store.hpp"

#include <stdexcept>
#include <type_traits>
#include <utility>

namespace ballotchain::backend {

/// A failure of the backend's database (busy, full, I/O: a local fault), thrown
/// by must(): the service answers 500 "storage error" and logs the database's
/// message; a background loop logs it and tries again on its next round.
class store_failure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The value of a store operation; its error becomes a store_failure.
template <class T>
T must(db_result<T> r) {
    if (!r) throw store_failure(r.error().message);
    if constexpr (!std::is_void_v<T>) return std::move(*r);
}

}  // namespace ballotchain::backend
