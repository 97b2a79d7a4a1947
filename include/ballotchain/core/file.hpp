#pragma once
/// @file Small-file I/O with a size bound and atomic, durable replacement.

#include <ballotchain/core/bytes.hpp>
#include <ballotchain/core/errc.hpp>

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace ballotchain {

namespace detail {
inline error_code last_errno() noexcept { return error_code(errno, boost::system::system_category()); }

struct fd_guard {
    int fd = -1;
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
};
}  // namespace detail

/// Reads a whole file of at most `max_bytes`; larger files are an error.
inline result<std::string> read_file(const std::string& path, std::size_t max_bytes) {
    detail::fd_guard f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (f.fd < 0) return detail::last_errno();
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(f.fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return detail::last_errno();
        }
        if (n == 0) break;
        if (out.size() + static_cast<std::size_t>(n) > max_bytes) return make_error(core::errc::length_too_large);
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

/// Writes `data` to `path` atomically (temp file, fsync, rename) with the
/// given permission bits. When `overwrite` is false an existing file is an
/// error (EEXIST) and is left untouched.
inline result<void> write_file_atomic(const std::string& path, std::string_view data, mode_t mode,
                                      bool overwrite) {
    if (!overwrite && ::access(path.c_str(), F_OK) == 0) return error_code(EEXIST, boost::system::system_category());
    const std::string tmp = path + ".tmp";
    {
        detail::fd_guard f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)};
        if (f.fd < 0) return detail::last_errno();
        if (::fchmod(f.fd, mode) != 0) return detail::last_errno();
        std::size_t off = 0;
        while (off < data.size()) {
            ssize_t n = ::write(f.fd, data.data() + off, data.size() - off);
            if (n < 0) {
                if (errno == EINTR) continue;
                return detail::last_errno();
            }
            off += static_cast<std::size_t>(n);
        }
        if (::fsync(f.fd) != 0) return detail::last_errno();
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) return detail::last_errno();
    return {};
}

}  // namespace ballotchain
