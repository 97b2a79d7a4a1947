// One suite, run against every model of the storage concept: they must agree.
#include <ballotchain/storage/concepts.hpp>

#include "storage_fixture.hpp"

#include <catch2/catch.hpp>

using namespace ballotchain;
using ballotchain::test::label_hash;
using ballotchain::test::synthetic_block;
using ballotchain::test::synthetic_tx_hashes;
using ballotchain::test::temp_dir;

namespace {

/// Owns a fresh, empty storage of type S (and whatever it needs, e.g. a temp dir).
template <class S>
struct fresh;

template <>
struct fresh<memory_storage> {
    memory_storage s;
};

template <>
struct fresh<sqlite_storage> {
    temp_dir dir;
    sqlite_storage s = open(dir);
    static sqlite_storage open(const temp_dir& d) {
        auto r = sqlite_storage::open(d.file("conformance.db"));
        REQUIRE(r.has_value());
        return std::move(*r);
    }
};

template <storage S>
result<void> put(S& s, const finalized_block& fb) {
    return s.append(fb, fb.cert.block_hash, synthetic_tx_hashes(fb));
}

}  // namespace

TEMPLATE_TEST_CASE("storage conformance: an empty storage", "[storage][conformance]", memory_storage,
                   sqlite_storage) {
    fresh<TestType> f;
    const TestType& s = f.s;
    CHECK_FALSE(s.head());
    CHECK(s.load(0).error() == storage_ns::errc::not_found);
    CHECK(s.load_raw(0).error() == storage_ns::errc::not_found);
    CHECK_FALSE(s.hash_at(0));
    CHECK_FALSE(s.height_of(label_hash("x", 1)));
    CHECK_FALSE(s.find_tx(label_hash("x", 1)));
    CHECK_FALSE(s.find_vote(1, label_hash("x", 1)));
    CHECK_FALSE(s.get_meta("anything"));
}

TEMPLATE_TEST_CASE("storage conformance: append in order and look everything up", "[storage][conformance]",
                   memory_storage, sqlite_storage) {
    fresh<TestType> f;
    TestType& s = f.s;
    std::vector<finalized_block> blocks;
    for (std::uint64_t h = 0; h < 5; ++h) {
        blocks.push_back(synthetic_block(h, h == 0 ? 0 : h + 1));
        REQUIRE(put(s, blocks.back()));
        CHECK(s.head() == h);
    }
    for (std::uint64_t h = 0; h < blocks.size(); ++h) {
        INFO("height " << h);
        auto fb = s.load(h);
        REQUIRE(fb);
        CHECK(*fb == blocks[h]);
        auto raw = s.load_raw(h);
        REQUIRE(raw);
        CHECK(*raw == encode(blocks[h]));
        CHECK(decode_finalized_block(*raw).value() == blocks[h]);
        CHECK(s.hash_at(h) == blocks[h].cert.block_hash);
        CHECK(s.height_of(blocks[h].cert.block_hash) == h);
        const auto ths = synthetic_tx_hashes(blocks[h]);
        for (std::uint32_t i = 0; i < ths.size(); ++i) {
            CHECK(s.find_tx(ths[i]) == tx_location{h, i});
            const auto& tx = blocks[h].blk.txs[i];
            CHECK(s.find_vote(tx.election_id, tx.voter_tag) == tx_location{h, i});
            // The same voter tag in another election is another vote.
            CHECK_FALSE(s.find_vote(tx.election_id + 100, tx.voter_tag));
        }
    }
    CHECK(s.load(5).error() == storage_ns::errc::not_found);
    CHECK(s.load_raw(5).error() == storage_ns::errc::not_found);
    CHECK_FALSE(s.hash_at(5));
    CHECK_FALSE(s.height_of(label_hash("block", 5 * 1000)));
    CHECK_FALSE(s.find_tx(label_hash("x", 1)));
    CHECK_FALSE(s.find_vote(1, label_hash("x", 1)));
}

TEMPLATE_TEST_CASE("storage conformance: appends out of order are refused", "[storage][conformance]",
                   memory_storage, sqlite_storage) {
    fresh<TestType> f;
    TestType& s = f.s;
    CHECK(put(s, synthetic_block(1, 1)).error() == storage_ns::errc::out_of_order);
    CHECK_FALSE(s.head());
    REQUIRE(put(s, synthetic_block(0, 0)));
    REQUIRE(put(s, synthetic_block(1, 2)));
    CHECK(put(s, synthetic_block(1, 2, 7)).error() == storage_ns::errc::out_of_order);  // again
    CHECK(put(s, synthetic_block(0, 0, 7)).error() == storage_ns::errc::out_of_order);  // back
    CHECK(put(s, synthetic_block(3, 1)).error() == storage_ns::errc::out_of_order);     // a gap
    CHECK(s.head() == 1u);
    // Nothing of the refused blocks was indexed.
    CHECK_FALSE(s.height_of(synthetic_block(1, 2, 7).cert.block_hash));
    CHECK_FALSE(s.find_tx(synthetic_tx_hashes(synthetic_block(3, 1))[0]));
    CHECK(s.load(1).value() == synthetic_block(1, 2));
    REQUIRE(put(s, synthetic_block(2, 1)));
    CHECK(s.head() == 2u);
}

TEMPLATE_TEST_CASE("storage conformance: tx hashes index up to the shorter of hashes and txs",
                   "[storage][conformance]", memory_storage, sqlite_storage) {
    fresh<TestType> f;
    TestType& s = f.s;
    const auto fb = synthetic_block(0, 3);
    const auto ths = synthetic_tx_hashes(fb);
    REQUIRE(s.append(fb, fb.cert.block_hash, std::span<const hash32>(ths).first(2)));
    CHECK(s.find_tx(ths[0]) == tx_location{0, 0});
    CHECK(s.find_tx(ths[1]) == tx_location{0, 1});
    CHECK_FALSE(s.find_tx(ths[2]));
    CHECK_FALSE(s.find_vote(fb.blk.txs[2].election_id, fb.blk.txs[2].voter_tag));
    CHECK(s.load(0).value() == fb);  // the block itself is whole
}

TEMPLATE_TEST_CASE("storage conformance: meta put, get, overwrite", "[storage][conformance]", memory_storage,
                   sqlite_storage) {
    fresh<TestType> f;
    TestType& s = f.s;
    CHECK_FALSE(s.get_meta("consensus.lock"));
    REQUIRE(s.put_meta("consensus.lock", to_bytes("height 5 round 1")));
    CHECK(s.get_meta("consensus.lock") == to_bytes("height 5 round 1"));
    REQUIRE(s.put_meta("consensus.lock", to_bytes("height 6")));
    CHECK(s.get_meta("consensus.lock") == to_bytes("height 6"));
    REQUIRE(s.put_meta("other", bytes{0x00, 0xff, 0x00}));
    CHECK(s.get_meta("other") == bytes{0x00, 0xff, 0x00});
    CHECK(s.get_meta("consensus.lock") == to_bytes("height 6"));
    CHECK_FALSE(s.get_meta("consensus.loc"));
    CHECK_FALSE(s.get_meta("Consensus.lock"));  // keys are case-sensitive
    REQUIRE(s.put_meta("", to_bytes("empty key")));
    CHECK(s.get_meta("") == to_bytes("empty key"));
    REQUIRE(s.put_meta("empty value", {}));
    REQUIRE(s.get_meta("empty value"));
    CHECK(s.get_meta("empty value")->empty());
    // Meta does not disturb the chain.
    CHECK_FALSE(s.head());
}

TEMPLATE_TEST_CASE("storage conformance: a real chain on either storage is the same chain",
                   "[storage][conformance]", memory_storage, sqlite_storage) {
    const test::chain_keys keys;
    fresh<TestType> f;
    auto c = ledger::blockchain<ed25519_sha256, TestType>::open(keys.genesis, std::move(f.s));
    REQUIRE(c.has_value());
    std::uint64_t n = 0;
    for (int b = 0; b < 3; ++b) {
        std::vector<vote_tx> txs;
        for (int i = 0; i < 4; ++i, ++n) txs.push_back(keys.vote(1, n % 3, n));
        REQUIRE(c->append(keys.next_block(*c, std::move(txs))));
    }
    // Both storages see the same bytes because both chains are deterministic.
    memory_storage reference;
    auto ref = ledger::blockchain<ed25519_sha256, memory_storage>::open(keys.genesis, std::move(reference));
    REQUIRE(ref.has_value());
    n = 0;
    for (int b = 0; b < 3; ++b) {
        std::vector<vote_tx> txs;
        for (int i = 0; i < 4; ++i, ++n) txs.push_back(keys.vote(1, n % 3, n));
        REQUIRE(ref->append(keys.next_block(*ref, std::move(txs))));
    }
    CHECK(c->head_hash() == ref->head_hash());
    for (std::uint64_t h = 0; h <= 3; ++h) CHECK(c->storage().load_raw(h).value() == ref->storage().load_raw(h).value());
    CHECK(c->tally(1) == ref->tally(1));
    CHECK(c->verify().ok);
}

TEMPLATE_TEST_CASE("storage conformance: the indexes scan in (height, index) order and rebuild from the blocks",
                   "[storage][conformance][index]", memory_storage, sqlite_storage) {
    fresh<TestType> f;
    TestType& s = f.s;
    std::vector<finalized_block> blocks;
    std::vector<tx_index_row> expected;
    for (std::uint64_t h = 0; h < 4; ++h) {
        blocks.push_back(synthetic_block(h, h == 2 ? 0 : h + 2));
        REQUIRE(put(s, blocks.back()));
        const auto ths = synthetic_tx_hashes(blocks.back());
        for (std::uint32_t i = 0; i < ths.size(); ++i)
            expected.push_back({ths[i], h, i, blocks.back().blk.txs[i].election_id, blocks.back().blk.txs[i].voter_tag});
    }
    auto scan_txs = [&] {
        std::vector<tx_index_row> rows;
        REQUIRE(s.scan_tx_index([&](const tx_index_row& r) {
            rows.push_back(r);
            return true;
        }));
        return rows;
    };
    CHECK(scan_txs() == expected);
    std::vector<block_index_row> brows;
    REQUIRE(s.scan_block_index([&](const block_index_row& r) {
        brows.push_back(r);
        return true;
    }));
    REQUIRE(brows.size() == blocks.size());
    for (std::uint64_t h = 0; h < blocks.size(); ++h) CHECK(brows[h] == block_index_row{h, blocks[h].cert.block_hash});
    std::size_t seen = 0;
    REQUIRE(s.scan_tx_index([&](const tx_index_row&) { return ++seen < 2; }));  // a visitor can stop the scan
    CHECK(seen == 2);

    // Rebuilt from the blocks with other hashes (as a chain that hashes differently would give them):
    // every row follows, the old ones are gone.
    auto other = [](const finalized_block& fb) {
        block_index_entry e;
        e.block_hash = label_hash("rebuilt block", fb.blk.header.height);
        for (std::size_t i = 0; i < fb.blk.txs.size(); ++i)
            e.tx_hashes.push_back(label_hash("rebuilt tx", fb.blk.header.height * 100 + i));
        return e;
    };
    REQUIRE(s.rebuild_indexes(other));
    for (auto& r : expected) r.tx_hash = label_hash("rebuilt tx", r.height * 100 + r.index);
    CHECK(scan_txs() == expected);
    for (std::uint64_t h = 0; h < blocks.size(); ++h) {
        CHECK(s.hash_at(h) == label_hash("rebuilt block", h));
        CHECK(s.height_of(label_hash("rebuilt block", h)) == h);
        CHECK_FALSE(s.height_of(blocks[h].cert.block_hash));
        CHECK(s.load(h).value() == blocks[h]);  // the data is untouched
    }
    CHECK_FALSE(s.find_tx(synthetic_tx_hashes(blocks[1])[0]));
    CHECK(s.find_tx(label_hash("rebuilt tx", 100)) == tx_location{1, 0});
    CHECK(s.find_vote(blocks[3].blk.txs[4].election_id, blocks[3].blk.txs[4].voter_tag) == tx_location{3, 4});
    // and back, which swaps every block hash through the UNIQUE column
    REQUIRE(s.rebuild_indexes([](const finalized_block& fb) {
        return block_index_entry{fb.cert.block_hash, synthetic_tx_hashes(fb)};
    }));
    for (std::uint64_t h = 0; h < blocks.size(); ++h) CHECK(s.hash_at(h) == blocks[h].cert.block_hash);
    CHECK(s.find_tx(synthetic_tx_hashes(blocks[1])[0]) == tx_location{1, 0});
}

TEMPLATE_TEST_CASE("storage conformance: an election's latest transactions, newest first, at most the limit",
                   "[storage][conformance][index]", memory_storage, sqlite_storage) {
    fresh<TestType> f;
    TestType& s = f.s;
    std::vector<tx_location> election1;  // in chain order
    for (std::uint64_t h = 0; h < 5; ++h) {
        const auto fb = synthetic_block(h, h == 0 ? 0 : 5);  // elections alternate 1, 2, 1, 2, 1
        REQUIRE(put(s, fb));
        for (std::uint32_t i = 0; i < fb.blk.txs.size(); ++i)
            if (fb.blk.txs[i].election_id == 1) election1.push_back({h, i});
    }
    const std::vector<tx_location> newest_first(election1.rbegin(), election1.rend());
    CHECK(s.election_txs(1, 1000).value() == newest_first);
    CHECK(s.election_txs(1, 4).value() == std::vector<tx_location>(newest_first.begin(), newest_first.begin() + 4));
    CHECK(s.election_txs(1, 0).value().empty());
    CHECK(s.election_txs(2, 1000).value().size() == 8);
    CHECK(s.election_txs(3, 1000).value().empty());
}
