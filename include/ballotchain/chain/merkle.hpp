#pragma once
/// @file Merkle tree of transaction hashes as in RFC 6962 §2.1 (Certificate
/// Transparency): leaf = H(0x00 || d), node = H(0x01 || left || right), the
/// split point is the largest power of two below n, and the empty tree hashes
/// to H(""). Domain separation makes a leaf and a node never collide and there
/// is no duplicated last leaf (so no CVE-2012-2459-style mutation).

#include <ballotchain/crypto/suite.hpp>

#include <optional>
#include <span>
#include <vector>

namespace ballotchain {

namespace detail {
template <hasher H>
hash32 merkle_leaf(const hash32& d) {
    H h;
    const byte prefix = 0x00;
    h.update(byte_view(&prefix, 1));
    h.update(d.view());
    return h.finish();
}
template <hasher H>
hash32 merkle_node(const hash32& l, const hash32& r) {
    H h;
    const byte prefix = 0x01;
    h.update(byte_view(&prefix, 1));
    h.update(l.view());
    h.update(r.view());
    return h.finish();
}
inline std::size_t split_point(std::size_t n) noexcept {
    std::size_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
}
template <hasher H>
hash32 merkle_subtree(std::span<const hash32> leaves) {
    if (leaves.size() == 1) return merkle_leaf<H>(leaves[0]);
    const std::size_t k = split_point(leaves.size());
    return merkle_node<H>(merkle_subtree<H>(leaves.first(k)), merkle_subtree<H>(leaves.subspan(k)));
}
}  // namespace detail

/// Root of the tree over `leaves` (tx hashes, in block order), hashed with the suite's hash.
template <suite Suite>
hash32 merkle_root(std::span<const hash32> leaves) {
    using H = typename Suite::hasher;
    if (leaves.empty()) return H::hash(byte_view{});
    return detail::merkle_subtree<H>(leaves);
}

/// Audit path for leaf `index` (RFC 6962 §2.1.1), bottom-up.
template <suite Suite>
std::vector<hash32> merkle_proof(std::span<const hash32> leaves, std::size_t index) {
    using H = typename Suite::hasher;
    std::vector<hash32> path;
    while (leaves.size() > 1) {
        const std::size_t k = detail::split_point(leaves.size());
        if (index < k) {
            path.push_back(detail::merkle_subtree<H>(leaves.subspan(k)));
            leaves = leaves.first(k);
        } else {
            path.push_back(detail::merkle_subtree<H>(leaves.first(k)));
            leaves = leaves.subspan(k);
            index -= k;
        }
    }
    std::reverse(path.begin(), path.end());
    return path;
}

/// Length of the audit path of leaf `index` in a tree of `size` leaves (RFC 6962 §2.1.1):
/// 0 for a tree of one leaf. @pre index < size.
inline std::size_t merkle_path_length(std::size_t index, std::size_t size) noexcept {
    std::size_t len = 0;
    while (size > 1) {
        const std::size_t k = detail::split_point(size);
        if (index < k) {
            size = k;
        } else {
            index -= k;
            size -= k;
        }
        ++len;
    }
    return len;
}

/// The root that audit path `path` leads to from `leaf` at `index` of a tree of `size`
/// leaves (RFC 9162 §2.1.3.2), or nullopt when the path cannot belong to such a tree
/// (index ≥ size, or a path too short or too long).
template <suite Suite>
std::optional<hash32> merkle_root_from_path(const hash32& leaf, std::size_t index, std::size_t size,
                                            std::span<const hash32> path) {
    using H = typename Suite::hasher;
    if (index >= size) return std::nullopt;
    std::size_t fn = index, sn = size - 1;
    hash32 r = detail::merkle_leaf<H>(leaf);
    for (const auto& p : path) {
        if (sn == 0) return std::nullopt;
        if ((fn & 1) != 0 || fn == sn) {
            r = detail::merkle_node<H>(p, r);
            if ((fn & 1) == 0)
                while (fn != 0 && (fn & 1) == 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            r = detail::merkle_node<H>(r, p);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0) return std::nullopt;
    return r;
}

/// Checks an audit path (RFC 9162 §2.1.3.2): true iff `leaf` is at `index`
/// of a tree of `size` leaves with root `root`.
template <suite Suite>
bool merkle_verify(const hash32& leaf, std::size_t index, std::size_t size, std::span<const hash32> path,
                   const hash32& root) {
    const auto r = merkle_root_from_path<Suite>(leaf, index, size, path);
    return r && *r == root;
}

namespace detail {
template <hasher H>
hash32 merkle_all_paths(std::span<const hash32> leaves, std::span<std::vector<hash32>> paths) {
    if (leaves.size() == 1) return merkle_leaf<H>(leaves[0]);
    const std::size_t k = split_point(leaves.size());
    const hash32 l = merkle_all_paths<H>(leaves.first(k), paths.first(k));
    const hash32 r = merkle_all_paths<H>(leaves.subspan(k), paths.subspan(k));
    for (auto& p : paths.first(k)) p.push_back(r);
    for (auto& p : paths.subspan(k)) p.push_back(l);
    return merkle_node<H>(l, r);
}
}  // namespace detail

/// The root of the tree over `leaves` and every leaf's audit path (`paths[i]` for leaf i,
/// bottom-up, as merkle_proof gives it), in O(n log n) hashes rather than merkle_proof's
/// O(n) per leaf. @pre `leaves` is not empty.
template <suite Suite>
hash32 merkle_root_and_paths(std::span<const hash32> leaves, std::vector<std::vector<hash32>>& paths) {
    paths.assign(leaves.size(), {});
    for (auto& p : paths) p.reserve(merkle_path_length(0, leaves.size()) + 1);
    return detail::merkle_all_paths<typename Suite::hasher>(leaves, paths);
}

}  // namespace ballotchain
