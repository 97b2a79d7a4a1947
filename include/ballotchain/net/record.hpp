#pragma once
/// @file After the handshake: frames carried in encrypted records (pure, no I/O).
///
/// A record is `u16 length ‖ ciphertext` with 17 ≤ length ≤ 65535: ChaCha20-Poly1305
/// under the session's key for that direction, with the Noise nonce counting records,
/// so a record cannot be dropped, replayed, reordered or moved to another session
/// without the next one failing. The plaintexts of a direction form one stream
/// of frames, each `u32 length ‖ that many bytes` (1 ≤ length ≤ the frame bound),
/// cut into records of at most 65519 plaintext bytes. The receiver holds for a frame
/// at most 1 MiB more than the bytes that have arrived for it (and only after the
/// sender authenticated), and refuses a length above its bound as soon as the 4
/// bytes arrive.

#include <ballotchain/crypto/noise.hpp>
#include <ballotchain/net/handshake.hpp>

#include <cstring>
#include <vector>

namespace ballotchain::net {

inline constexpr std::size_t record_header_size = 2;
inline constexpr std::size_t max_record_size = noise::max_message_len;
inline constexpr std::size_t max_record_plaintext = max_record_size - noise::tag_len;
inline constexpr std::size_t min_record_size = noise::tag_len + 1;

/// Encrypts frames into records.
class frame_sealer {
public:
    frame_sealer() = default;
    explicit frame_sealer(noise::cipher_state c) : c_(std::move(c)) {}

    /// Bytes on the wire for a frame of `n` bytes.
    static std::size_t sealed_size(std::size_t n) noexcept {
        const std::size_t stream = 4 + n;
        const std::size_t records = (stream + max_record_plaintext - 1) / max_record_plaintext;
        return stream + records * (record_header_size + noise::tag_len);
    }

    /// Appends the records that carry `frame` to `out`. False when the session's
    /// nonces are exhausted (it must end).
    [[nodiscard]] bool seal(byte_view frame, bytes& out) {
        out.reserve(out.size() + sealed_size(frame.size()));
        chunk_.resize(max_record_plaintext);
        const std::size_t n = frame.size();
        chunk_[0] = static_cast<byte>(n >> 24);
        chunk_[1] = static_cast<byte>(n >> 16);
        chunk_[2] = static_cast<byte>(n >> 8);
        chunk_[3] = static_cast<byte>(n);
        std::size_t used = 4, at = 0;
        while (true) {
            const std::size_t take = std::min(max_record_plaintext - used, n - at);
            if (take) std::memcpy(chunk_.data() + used, frame.data() + at, take);
            used += take;
            at += take;
            const std::size_t clen = used + noise::tag_len;
            out.push_back(static_cast<byte>(clen >> 8));
            out.push_back(static_cast<byte>(clen));
            if (!c_.encrypt_with_ad({}, byte_view(chunk_.data(), used), out)) return false;
            used = 0;
            if (at == n) return true;
        }
    }

private:
    noise::cipher_state c_;
    bytes chunk_;
};

/// Decrypts records and reassembles frames.
class frame_opener {
public:
    frame_opener() = default;
    frame_opener(noise::cipher_state c, std::size_t max_frame_bytes) : c_(std::move(c)), max_frame_(max_frame_bytes) {}

    /// Is `n` an acceptable record length (from the 2-byte header)?
    static bool valid_record_size(std::size_t n) noexcept { return n >= min_record_size && n <= max_record_size; }

    /// Opens one record (the ciphertext after its 2-byte header) and appends every
    /// frame it completes to `frames`. Errors: bad_record (authentication failed,
    /// a zero-length frame), frame_too_large. After an error the session must end.
    error_code open(byte_view record, std::vector<bytes>& frames) {
        plain_.clear();
        if (!valid_record_size(record.size()) || !c_.decrypt_with_ad({}, record, plain_)) return make_error(errc::bad_record);
        byte_view p = plain_;
        while (!p.empty()) {
            if (!want_) {
                const std::size_t take = std::min<std::size_t>(4 - hdr_n_, p.size());
                std::copy(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(take), hdr_.begin() + hdr_n_);
                hdr_n_ += take;
                p = p.subspan(take);
                if (hdr_n_ < 4) break;
                hdr_n_ = 0;
                const std::uint32_t n = (std::uint32_t{hdr_[0]} << 24) | (std::uint32_t{hdr_[1]} << 16) |
                                        (std::uint32_t{hdr_[2]} << 8) | hdr_[3];
                if (n == 0) return make_error(errc::bad_record);
                if (n > max_frame_) return make_error(errc::frame_too_large);
                want_ = n;
                cur_ = bytes{};
                // Room for what one record can carry, or the whole frame if smaller; beyond that
                // the buffer grows with the bytes that arrive.
                cur_.reserve(std::min<std::size_t>(n, reserve_step));
                continue;
            }
            const std::size_t take = std::min<std::size_t>(*want_ - cur_.size(), p.size());
            cur_.insert(cur_.end(), p.begin(), p.begin() + static_cast<std::ptrdiff_t>(take));
            p = p.subspan(take);
            if (cur_.size() == *want_) {
                frames.push_back(std::move(cur_));
                cur_ = bytes{};
                want_.reset();
            }
        }
        return {};
    }

    /// Bytes held for the frame being reassembled (for tests of the allocation bound).
    std::size_t buffered() const noexcept { return cur_.size(); }

private:
    static constexpr std::size_t reserve_step = 1u << 20;

    noise::cipher_state c_;
    std::size_t max_frame_ = 0;
    bytes plain_;
    std::array<byte, 4> hdr_{};
    std::size_t hdr_n_ = 0;
    std::optional<std::uint32_t> want_;
    bytes cur_;
};

}  // namespace ballotchain::net
