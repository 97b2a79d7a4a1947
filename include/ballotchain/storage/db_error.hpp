#pragma once
/// @file The failure of a database operation as a value: a code saying what
/// kind of failure it is and the database's own message saying what exactly.
///
/// An `error_code` alone loses SQLite's message ("UNIQUE constraint failed:
/// users.email", "database or disk is full"), and a message kept on the
/// connection is lost or overwritten as soon as another thread uses it. So the
/// message travels with the error. The SQLite layer (sqlite.hpp) fills `code`
/// with a `storage_ns::sqlite_errc`; another database model uses its own enum.

#include <ballotchain/core/error.hpp>

#include <boost/assert/source_location.hpp>
#include <boost/system/system_error.hpp>

#include <ostream>
#include <string>

namespace ballotchain::storage_ns {

struct db_error {
    error_code code;      ///< the kind of failure
    std::string message;  ///< the database's message, with what was being done
};

/// Result of a database operation: a value, or a db_error.
template <class T>
using db_result = boost::system::result<T, db_error>;

inline std::ostream& operator<<(std::ostream& os, const db_error& e) {
    return os << e.code.message() << ": " << e.message;
}

/// What `db_result<T>::value()` throws on an error (found by argument-dependent lookup).
[[noreturn]] inline void throw_exception_from_error(const db_error& e, const boost::source_location& loc) {
    boost::throw_with_location(boost::system::system_error(e.code, e.message), loc);
}

}  // namespace ballotchain::storage_ns
