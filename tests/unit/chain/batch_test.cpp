// Batch signatures (data-format.md §2): many transactions under one signature over the
// Merkle root of their hashes, each with its audit path; a tx signed alone is a batch of one.
#include <ballotchain/chain/rules.hpp>

#include "../support/fixtures.hpp"

#include <atomic>

using namespace ballotchain;
using namespace ballotchain::test;

namespace {

/// The real suite, counting its verifications: to show that a batch costs one.
struct counting_suite : ed25519_sha256 {
    static inline std::atomic<int> verifications{0};
    static bool verify(const public_key& pk, byte_view msg, const signature& sig) {
        ++verifications;
        return ed25519_sha256::verify(pk, msg, sig);
    }
};

std::vector<vote_tx> votes(const test_network& net, std::uint64_t n, std::uint64_t first = 1) {
    std::vector<vote_tx> out;
    for (std::uint64_t v = first; v < first + n; ++v) out.push_back(net.vote(v, 1, v % 3));
    return out;
}

}  // namespace

TEST_CASE("batch: audit paths of every leaf at once equal merkle_proof's, for every size up to 70", "[chain][batch]") {
    for (std::size_t n = 1; n <= 70; ++n) {
        std::vector<hash32> leaves;
        for (std::size_t i = 0; i < n; ++i) leaves.push_back(S::hash(bytes{static_cast<byte>(i), static_cast<byte>(n)}));
        std::vector<std::vector<hash32>> paths;
        const hash32 root = merkle_root_and_paths<S>(leaves, paths);
        INFO("n = " << n);
        CHECK(root == merkle_root<S>(leaves));
        REQUIRE(paths.size() == n);
        for (std::size_t i = 0; i < n; ++i) {
            CHECK(paths[i] == merkle_proof<S>(leaves, i));
            CHECK(paths[i].size() == merkle_path_length(i, n));
            CHECK(merkle_root_from_path<S>(leaves[i], i, n, paths[i]) == root);
        }
    }
    CHECK(merkle_path_length(0, limits::max_batch_txs) == limits::max_batch_path);
}

TEST_CASE("batch: one signature signs every vote of a batch, and each checks on its own", "[chain][batch]") {
    test_network net;
    auto txs = votes(net, 37);
    const auto ths = sign_batch<S>(txs, net.submitter);
    REQUIRE(ths.size() == 37);
    const auto root = merkle_root<S>(ths);
    for (std::size_t i = 0; i < txs.size(); ++i) {
        CHECK(ths[i] == tx_hash<S>(txs[i]));  // the signature is not part of the hash
        CHECK(txs[i].auth.size == 37);
        CHECK(txs[i].auth.index == i);
        CHECK(txs[i].auth.sig == txs[0].auth.sig);
        CHECK(batch_root<S>(txs[i], ths[i]) == root);
        signature_checker<S> fresh;  // on its own: nothing remembered
        CHECK(fresh(txs[i], ths[i]));
    }
    CHECK(S::verify(net.submitter.public_key(), batch_message(net.genesis.chain_id, 37, root), txs[0].auth.sig));

    // Alone, a tx is a batch of one: its root is its leaf, no path.
    auto alone = net.vote(99);
    const hash32 th = sign_tx<S>(alone, net.submitter);
    CHECK(alone.auth.size == 1);
    CHECK(alone.auth.index == 0);
    CHECK(alone.auth.path.empty());
    CHECK(batch_root<S>(alone, th) == merkle_root<S>(std::vector<hash32>{th}));
    signature_checker<S> sigs;
    CHECK(sigs(alone, th));

    // The whole batch goes into blocks in any grouping (here 32 + 5) and appends.
    auto c = net.open_chain();
    REQUIRE(c.append(net.next_block(c, std::vector<vote_tx>(txs.begin(), txs.begin() + 32))));
    REQUIRE(c.append(net.next_block(c, std::vector<vote_tx>(txs.begin() + 32, txs.end()))));
    CHECK(c.total_txs() == 37);
    CHECK(c.verify().ok);
}

TEST_CASE("batch: a vote with a changed field, index, path or size no longer checks", "[chain][batch]") {
    test_network net;
    auto txs = votes(net, 5);
    sign_batch<S>(txs, net.submitter);
    const std::vector<std::pair<const char*, std::function<void(vote_tx&)>>> changes = {
        {"candidate_id", [](vote_tx& t) { t.candidate_id ^= 1; }},
        {"index", [](vote_tx& t) { t.auth.index = 0; }},
        {"path entry", [](vote_tx& t) { t.auth.path[0].data[3] ^= 1; }},
        {"path dropped", [](vote_tx& t) { t.auth.path.pop_back(); }},
        {"path longer", [](vote_tx& t) { t.auth.path.push_back(t.auth.path[0]); }},
        {"size", [](vote_tx& t) { t.auth.size = 4; }},
        {"signature", [](vote_tx& t) { t.auth.sig.data[10] ^= 1; }},
        {"another vote's path", [&](vote_tx& t) { t.auth.path = txs[1].auth.path; }},
    };
    signature_checker<S> sigs;
    CHECK(sigs(txs[3], tx_hash<S>(txs[3])));  // the batch is now remembered: changes must still fail
    for (const auto& [name, change] : changes) {
        auto t = txs[3];
        change(t);
        INFO(name);
        CHECK_FALSE(sigs(t, tx_hash<S>(t)));
        auto c = net.open_chain();
        CHECK(c.validate_block(net.next_block(c, {t}).blk) == make_error(chain::errc::invalid_signature));
    }
    // Another submitter's key with the same signature bytes: refused (the checker's memory is per signer).
    auto other = txs[3];
    other.submitter = key(101).public_key();
    CHECK_FALSE(sigs(other, tx_hash<S>(other)));
}

TEST_CASE("batch: a checker verifies a batch once however its votes arrive", "[chain][batch]") {
    test_network net;
    auto txs = votes(net, 40);
    sign_batch<counting_suite>(txs, net.submitter);
    signature_checker<counting_suite> sigs;
    counting_suite::verifications = 0;
    for (const auto& tx : txs) CHECK(sigs(tx, tx_hash<counting_suite>(tx)));
    CHECK(counting_suite::verifications == 1);

    // A chain checking blocks through one checker: one verification for the 40 votes over
    // two blocks, besides the proposer signatures (one per block).
    auto mc = net.open_chain();
    const auto b1 = net.next_block(mc, std::vector<vote_tx>(txs.begin(), txs.begin() + 32));
    REQUIRE(mc.append(b1));
    const auto b2 = net.next_block(mc, std::vector<vote_tx>(txs.begin() + 32, txs.end()));
    const chain_rules<counting_suite> rules(net.genesis);
    signature_checker<counting_suite> fresh;
    const election::election_registry none(net.genesis);
    counting_suite::verifications = 0;
    auto no = [](auto&&...) { return false; };
    REQUIRE_FALSE(rules.check_block(b1.blk, make_genesis_block<counting_suite>(net.genesis).blk.header,
                                    block_hash<counting_suite>(make_genesis_block<counting_suite>(net.genesis).blk.header),
                                    no, no, none, verify_all_signatures{}, nullptr, nullptr, &fresh));
    REQUIRE_FALSE(rules.check_block(b2.blk, b1.blk.header, block_hash<counting_suite>(b1.blk.header), no, no, none,
                                    verify_all_signatures{}, nullptr, nullptr, &fresh));
    CHECK(counting_suite::verifications == 1 + 2);
}

TEST_CASE("batch: sign_batch splits more than max_batch_txs votes into several batches", "[chain][batch][.slow]") {
    test_network net;
    std::vector<vote_tx> txs(limits::max_batch_txs + 3, net.vote(1));
    for (std::size_t i = 0; i < txs.size(); ++i) txs[i].voter_tag.data[0] = static_cast<byte>(i), txs[i].timestamp_ms = i;
    sign_batch<S>(txs, net.submitter);
    CHECK(txs.front().auth.size == limits::max_batch_txs);
    CHECK(txs.back().auth.size == 3);
    CHECK(txs.back().auth.index == 2);
    signature_checker<S> sigs;
    CHECK(sigs(txs.front(), tx_hash<S>(txs.front())));
    CHECK(sigs(txs.back(), tx_hash<S>(txs.back())));
}

TEST_CASE("batch: the codec refuses an authorization that is not the one encoding of a batch position", "[chain][batch][codec]") {
    test_network net;
    auto txs = votes(net, 3);
    sign_batch<S>(txs, net.submitter);
    const bytes good = encode(txs[2]);
    const std::size_t at = encode_tx_payload(txs[2]).size();  // u32 size, u32 index, u8 path length
    auto decode_error = [](bytes b) {
        auto r = decode_tx(b);
        return r ? error_code{} : r.error();
    };
    REQUIRE(decode_tx(good).value() == txs[2]);
    auto with = [&](std::size_t off, std::initializer_list<byte> v) {
        bytes b = good;
        std::copy(v.begin(), v.end(), b.begin() + static_cast<std::ptrdiff_t>(off));
        return b;
    };
    CHECK(decode_error(with(at, {0, 0, 0, 0})) == make_error(core::errc::non_canonical));       // size 0
    CHECK(decode_error(with(at, {0, 1, 0, 1})) == make_error(core::errc::length_too_large));    // size 65,537
    CHECK(decode_error(with(at + 4, {0, 0, 0, 3})) == make_error(core::errc::non_canonical));   // index = size
    CHECK(decode_error(with(at + 8, {2})) == make_error(core::errc::non_canonical));            // path too long for (2, 3)
    CHECK(decode_error(with(at + 8, {0})) == make_error(core::errc::non_canonical));            // path too short
    CHECK(decode_error(with(at + 8, {255})) == make_error(core::errc::non_canonical));          // checked before reading
    CHECK(decode_error(bytes(good.begin(), good.end() - 1)) == make_error(core::errc::truncated));

    // decode_tx_at skips transactions with paths of any length.
    auto c = net.open_chain();
    const auto fb = net.next_block(c, txs);
    const bytes raw = encode(fb);
    for (std::uint32_t i = 0; i < 3; ++i) CHECK(decode_tx_at(raw, i).value() == txs[i]);
}
