#pragma once
/// @file Small-file I/O with a size bound and atomic, durable replacement.

#include <ballotchain/core/bytes.hpp>
#include <ballotchain/core/errc.hpp>

#include <cerrno>
#include <cstdlib>
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

/// Writes `data` to `path` atomically with the given permission bits: a fresh
/// temp file (mkostemp: unique name, O_CREAT|O_EXCL, so a planted symlink cannot
/// capture the data), fsync, then rename (overwrite) or link (no overwrite:
/// an existing file is EEXIST and stays untouched, with no check-then-act
/// race), then fsync of the directory. The temp file never outlives the call.
inline result<void> write_file_atomic(const std::string& path, std::string_view data, mode_t mode,
                                      bool overwrite) {
    std::string tmp = path + ".tmp.XXXXXX";
    detail::fd_guard f{::mkostemp(tmp.data(), O_CLOEXEC)};
    if (f.fd < 0) return detail::last_errno();
    struct unlink_guard {
        const std::string& p;
        bool armed = true;
        ~unlink_guard() {
            if (armed) ::unlink(p.c_str());
        }
    } cleanup{tmp};
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
    if (overwrite) {
        if (::rename(tmp.c_str(), path.c_str()) != 0) return detail::last_errno();
        cleanup.armed = false;
    } else {
        if (::link(tmp.c_str(), path.c_str()) != 0) return detail::last_errno();  // EEXIST if present
    }
    // make the new directory entry durable
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    detail::fd_guard d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (d.fd >= 0) (void)::fsync(d.fd);
    return {};
}

}  // namespace ballotchain
