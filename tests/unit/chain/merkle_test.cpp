// chain/merkle.hpp: RFC 6962 roots and audit paths against a straightforward
// recursive implementation written here from the RFC text.
#include <ballotchain/chain/merkle.hpp>

#include "../support/fixtures.hpp"

using namespace ballotchain;
using namespace ballotchain::test;

namespace {
bytes cat(std::initializer_list<byte_view> parts) {
    bytes out;
    for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}
const byte zero = 0x00, one = 0x01;

std::size_t largest_power_of_two_below(std::size_t n) {
    std::size_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
}

/// RFC 6962 §2.1: MTH({}) = SHA-256(), MTH({d0}) = SHA-256(0x00 || d0),
/// MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
hash32 reference_mth(const std::vector<hash32>& d) {
    if (d.empty()) return sha256::hash(bytes{});
    if (d.size() == 1) return sha256::hash(cat({byte_view(&zero, 1), d[0].view()}));
    const auto k = static_cast<std::ptrdiff_t>(largest_power_of_two_below(d.size()));
    const hash32 l = reference_mth({d.begin(), d.begin() + k});
    const hash32 r = reference_mth({d.begin() + k, d.end()});
    return sha256::hash(cat({byte_view(&one, 1), l.view(), r.view()}));
}

/// RFC 6962 §2.1.1: PATH(m, D[n]), leaf to root.
std::vector<hash32> reference_path(std::size_t m, const std::vector<hash32>& d) {
    if (d.size() <= 1) return {};
    const std::size_t k = largest_power_of_two_below(d.size());
    const auto kk = static_cast<std::ptrdiff_t>(k);
    const std::vector<hash32> left(d.begin(), d.begin() + kk), right(d.begin() + kk, d.end());
    std::vector<hash32> p;
    if (m < k) {
        p = reference_path(m, left);
        p.push_back(reference_mth(right));
    } else {
        p = reference_path(m - k, right);
        p.push_back(reference_mth(left));
    }
    return p;
}

std::vector<hash32> leaves_of(std::size_t n) {
    std::vector<hash32> v;
    for (std::size_t i = 0; i < n; ++i) v.push_back(sha256::hash(bytes{static_cast<byte>(i), 0x4c}));
    return v;
}
}  // namespace

TEST_CASE("merkle: known answers for 0 and 1 leaves", "[chain][merkle]") {
    CHECK(to_hex(merkle_root<S>(std::vector<hash32>{})) ==
          "0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");  // SHA-256("")
    const auto d = leaves_of(1);
    bytes m{0x00};
    m.insert(m.end(), d[0].begin(), d[0].end());
    CHECK(merkle_root<S>(d) == sha256::hash(m));
    CHECK(merkle_root<S>(d) != d[0]);  // a single leaf is still hashed with its prefix
}

TEST_CASE("merkle: roots for 0..33 leaves equal the RFC 6962 definition", "[chain][merkle]") {
    for (std::size_t n = 0; n <= 33; ++n) {
        const auto leaves = leaves_of(n);
        INFO("n = " << n);
        CHECK(merkle_root<S>(leaves) == reference_mth(leaves));
    }
}

TEST_CASE("merkle: audit paths equal RFC 6962 PATH and verify for every leaf", "[chain][merkle]") {
    for (std::size_t n = 1; n <= 33; ++n) {
        const auto leaves = leaves_of(n);
        const hash32 root = merkle_root<S>(leaves);
        for (std::size_t i = 0; i < n; ++i) {
            INFO("n = " << n << ", leaf " << i);
            const auto proof = merkle_proof<S>(leaves, i);
            CHECK(proof == reference_path(i, leaves));
            CHECK(merkle_verify<S>(leaves[i], i, n, proof, root));
        }
    }
}

TEST_CASE("merkle: a tampered proof, leaf, index or root does not verify", "[chain][merkle]") {
    for (std::size_t n = 1; n <= 17; ++n) {
        const auto leaves = leaves_of(n);
        const hash32 root = merkle_root<S>(leaves);
        for (std::size_t i = 0; i < n; ++i) {
            INFO("n = " << n << ", leaf " << i);
            const auto proof = merkle_proof<S>(leaves, i);
            if (n > 1) {
                CHECK_FALSE(merkle_verify<S>(leaves[(i + 1) % n], i, n, proof, root));  // another leaf
                CHECK_FALSE(merkle_verify<S>(leaves[i], (i + 1) % n, n, proof, root));  // another index
            }
            for (std::size_t e = 0; e < proof.size(); ++e) {  // any element changed
                auto bad = proof;
                bad[e].data[e % 32] ^= 0x20;
                CHECK_FALSE(merkle_verify<S>(leaves[i], i, n, bad, root));
            }
            if (!proof.empty()) {  // truncated path
                const std::vector<hash32> shorter(proof.begin(), proof.end() - 1);
                CHECK_FALSE(merkle_verify<S>(leaves[i], i, n, shorter, root));
            }
            auto longer = proof;  // extended path
            longer.push_back(root);
            CHECK_FALSE(merkle_verify<S>(leaves[i], i, n, longer, root));
            hash32 other_root = root;
            other_root.data[0] ^= 1;
            CHECK_FALSE(merkle_verify<S>(leaves[i], i, n, proof, other_root));
            CHECK_FALSE(merkle_verify<S>(leaves[i], n, n, proof, root));  // index out of range
            CHECK_FALSE(merkle_verify<S>(leaves[i], i, 0, proof, root));
        }
    }
}

TEST_CASE("merkle: no duplicated-last-leaf mutation; leaf order matters", "[chain][merkle]") {
    for (std::size_t n = 1; n <= 9; ++n) {
        auto leaves = leaves_of(n);
        const hash32 root = merkle_root<S>(leaves);
        auto dup = leaves;
        dup.push_back(leaves.back());
        INFO("n = " << n);
        CHECK(merkle_root<S>(dup) != root);  // CVE-2012-2459 shape
        if (n > 1) {
            auto swapped = leaves;
            std::swap(swapped[0], swapped[n - 1]);
            CHECK(merkle_root<S>(swapped) != root);
        }
    }
}
