#pragma once
/// @file Storage errors: local failures, never "bad input".

#include <ballotchain/core/error.hpp>

namespace ballotchain::storage_ns {

enum class errc {
    ok = 0,
    not_found,      ///< no block at that height
    out_of_order,   ///< append at a height other than head+1
    corrupt,        ///< stored bytes do not decode
    io_error,       ///< the backing store failed (see the log for the SQLite message)
    bad_index,      ///< an index row disagrees with the stored blocks (missing, extra or different)
};

inline const char* category_name(errc) noexcept { return "ballotchain.storage"; }
inline std::string describe(errc e) {
    switch (e) {
    case errc::ok: return "ok";
    case errc::not_found: return "block not found";
    case errc::out_of_order: return "append out of order";
    case errc::corrupt: return "stored block is corrupt";
    case errc::io_error: return "storage I/O error";
    case errc::bad_index: return "storage index disagrees with the stored blocks";
    }
    return "unknown storage error";
}
inline error_code make_error_code(errc e) noexcept { return make_error(e); }

}  // namespace ballotchain::storage_ns

BALLOTCHAIN_ERROR_ENUM(ballotchain::storage_ns::errc)
