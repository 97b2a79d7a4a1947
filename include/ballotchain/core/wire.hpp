#pragma once
/// @file Canonical binary encoding primitives: big-endian fixed-width integers,
/// fixed byte strings and u32-length-prefixed byte strings. The reader checks
/// every length against both its bound and the bytes remaining *before* it
/// allocates, and its error is sticky: after the first failure every read fails.

#include <ballotchain/core/bytes.hpp>
#include <ballotchain/core/errc.hpp>

namespace ballotchain::wire {

class writer {
public:
    explicit writer(bytes& out) noexcept : out_(out) {}

    void u8(std::uint8_t v) { out_.push_back(v); }
    void u32(std::uint32_t v) { put_be(v, 4); }
    void u64(std::uint64_t v) { put_be(v, 8); }
    void raw(byte_view v) { out_.insert(out_.end(), v.begin(), v.end()); }
    template <std::size_t N>
    void fixed(const fixed_bytes<N>& v) { raw(v.view()); }
    /// u32 length, then the bytes. @pre `v.size()` fits in 32 bits.
    void var(byte_view v) {
        u32(static_cast<std::uint32_t>(v.size()));
        raw(v);
    }

private:
    void put_be(std::uint64_t v, int n) {
        for (int i = n - 1; i >= 0; --i) out_.push_back(static_cast<byte>(v >> (8 * i)));
    }
    bytes& out_;
};

class reader {
public:
    explicit reader(byte_view in) noexcept : in_(in) {}

    bool u8(std::uint8_t& v) noexcept { return get_be(v, 1); }
    bool u32(std::uint32_t& v) noexcept { return get_be(v, 4); }
    bool u64(std::uint64_t& v) noexcept { return get_be(v, 8); }

    template <std::size_t N>
    bool fixed(fixed_bytes<N>& v) noexcept {
        if (!need(N)) return false;
        std::memcpy(v.data.data(), in_.data() + pos_, N);
        pos_ += N;
        return true;
    }

    /// u32 length (≤ max_len), then that many bytes.
    bool var(bytes& v, std::size_t max_len) {
        std::uint32_t n = 0;
        if (!u32(n)) return false;
        if (n > max_len) return fail(core::errc::length_too_large);
        if (!need(n)) return false;
        v.assign(in_.data() + pos_, in_.data() + pos_ + n);
        pos_ += n;
        return true;
    }

    /// Reads a u32 element count, bounded by `max_count` and by the bytes left
    /// divided by the smallest possible element size.
    bool count(std::uint32_t& n, std::size_t max_count, std::size_t min_elem_size) noexcept {
        if (!u32(n)) return false;
        if (n > max_count) return fail(core::errc::length_too_large);
        if (min_elem_size != 0 && n > remaining() / min_elem_size) return fail(core::errc::truncated);
        return true;
    }

    /// Succeeds only when every byte was consumed.
    bool finish() noexcept {
        if (ec_) return false;
        if (pos_ != in_.size()) return fail(core::errc::trailing_bytes);
        return true;
    }

    bool fail(core::errc e) noexcept {
        if (!ec_) ec_ = make_error(e);
        return false;
    }

    std::size_t remaining() const noexcept { return ec_ ? 0 : in_.size() - pos_; }
    std::size_t position() const noexcept { return pos_; }
    const error_code& error() const noexcept { return ec_; }
    bool ok() const noexcept { return !ec_; }

private:
    bool need(std::size_t n) noexcept {
        if (ec_) return false;
        if (in_.size() - pos_ < n) return fail(core::errc::truncated);
        return true;
    }
    template <class T>
    bool get_be(T& v, int n) noexcept {
        if (!need(static_cast<std::size_t>(n))) return false;
        T r = 0;
        for (int i = 0; i < n; ++i) r = static_cast<T>((r << 8) | in_[pos_ + static_cast<std::size_t>(i)]);
        pos_ += static_cast<std::size_t>(n);
        v = r;
        return true;
    }

    byte_view in_;
    std::size_t pos_ = 0;
    error_code ec_;
};

}  // namespace ballotchain::wire
