// The signed-state record (consensus/record.hpp): codec and the may_sign rules.
#include "harness.hpp"

using namespace ballotchain;
using namespace ballotchain::test;

namespace {

const hash32 hash_a = S::hash(bytes{'A'});
const hash32 hash_b = S::hash(bytes{'B'});

consensus::signed_record full_record() {
    const test_network net(4);
    consensus::signed_record r;
    r.height = 0x0102030405060708ull;
    r.round = 5;
    r.prepare = consensus::signed_vote{5, hash_a};
    r.commit = consensus::signed_vote{4, hash_b};
    r.round_change = 5u;
    r.prepared = prepared_cert(net, r.height, 4, hash_b, {0, 1, 3});
    return r;
}

}  // namespace

TEST_CASE("signed record round-trips with every combination of its optional parts", "[consensus][record]") {
    const auto full = full_record();
    for (int mask = 0; mask < 16; ++mask) {
        auto r = full;
        if (mask & 1) r.prepare.reset();
        if (mask & 2) r.commit.reset();
        if (mask & 4) r.round_change.reset();
        if (mask & 8) r.prepared.reset();
        INFO("mask " << mask);
        const bytes enc = consensus::encode(r);
        auto d = consensus::decode_signed_record(enc);
        REQUIRE(d);
        CHECK(*d == r);
        CHECK(consensus::encode(*d) == enc);
    }
    CHECK(consensus::decode_signed_record(consensus::encode(consensus::signed_record{})).value() ==
          consensus::signed_record{});
}

TEST_CASE("signed record decoding is strict: truncation, trailing byte, version, flags", "[consensus][record]") {
    const bytes enc = consensus::encode(full_record());
    REQUIRE(consensus::decode_signed_record(enc));
    for (std::size_t n = 0; n < enc.size(); ++n) {
        INFO("prefix " << n);
        CHECK_FALSE(consensus::decode_signed_record(byte_view(enc.data(), n)));
    }
    bytes longer = enc;
    longer.push_back(0);
    CHECK_FALSE(consensus::decode_signed_record(longer));
    for (int v = 0; v < 256; ++v) {
        if (v == consensus::record_version) continue;
        bytes b = enc;
        b[0] = static_cast<byte>(v);
        CHECK_FALSE(consensus::decode_signed_record(b));
    }
    // presence flags are 0 or 1: version(1) height(8) round(4) then the prepare flag
    constexpr std::size_t prepare_flag = 1 + 8 + 4;
    constexpr std::size_t commit_flag = prepare_flag + 1 + 4 + 32;
    constexpr std::size_t rc_flag = commit_flag + 1 + 4 + 32;
    constexpr std::size_t prepared_flag = rc_flag + 1 + 4;
    for (auto off : {prepare_flag, commit_flag, rc_flag, prepared_flag}) {
        REQUIRE(enc[off] == 1);
        bytes b = enc;
        b[off] = 2;
        INFO("flag at " << off);
        CHECK_FALSE(consensus::decode_signed_record(b));
    }
}

TEST_CASE("may_sign with nothing signed allows any PREPARE or COMMIT", "[consensus][record]") {
    const consensus::signed_record r;
    for (bool commit : {false, true})
        for (std::uint32_t round : {0u, 1u, 7u})
            for (const auto& h : {hash_a, hash_b}) CHECK(r.may_sign(commit, round, h));
}

TEST_CASE("may_sign for PREPARE: same round same hash ok, other hash refused, earlier round refused, later ok",
          "[consensus][record]") {
    consensus::signed_record r;
    r.prepare = consensus::signed_vote{2, hash_a};
    CHECK(r.may_sign(false, 2, hash_a));        // same round, same hash
    CHECK_FALSE(r.may_sign(false, 2, hash_b));  // same round, different hash
    CHECK_FALSE(r.may_sign(false, 1, hash_a));  // earlier round, even the same hash
    CHECK_FALSE(r.may_sign(false, 1, hash_b));
    CHECK_FALSE(r.may_sign(false, 0, hash_b));
    CHECK(r.may_sign(false, 3, hash_a));        // later round
    CHECK(r.may_sign(false, 3, hash_b));
    CHECK(r.may_sign(false, 0xffffffffu, hash_b));
    // a PREPARE record does not restrict COMMITs
    CHECK(r.may_sign(true, 2, hash_b));
    CHECK(r.may_sign(true, 1, hash_b));
}

TEST_CASE("may_sign for COMMIT: same round same hash ok, other hash refused, earlier round refused, later ok",
          "[consensus][record]") {
    consensus::signed_record r;
    r.commit = consensus::signed_vote{2, hash_a};
    CHECK(r.may_sign(true, 2, hash_a));
    CHECK_FALSE(r.may_sign(true, 2, hash_b));
    CHECK_FALSE(r.may_sign(true, 1, hash_a));
    CHECK_FALSE(r.may_sign(true, 1, hash_b));
    CHECK_FALSE(r.may_sign(true, 0, hash_a));
    CHECK(r.may_sign(true, 3, hash_a));
    CHECK(r.may_sign(true, 3, hash_b));
    // a COMMIT record does not restrict PREPAREs
    CHECK(r.may_sign(false, 2, hash_b));
    CHECK(r.may_sign(false, 1, hash_b));
}

TEST_CASE("may_sign survives the codec: a decoded record refuses what the original refused", "[consensus][record]") {
    const auto r = full_record();  // prepare (5, A), commit (4, B)
    const auto d = consensus::decode_signed_record(consensus::encode(r)).value();
    for (bool commit : {false, true})
        for (std::uint32_t round = 0; round < 8; ++round)
            for (const auto& h : {hash_a, hash_b}) CHECK(d.may_sign(commit, round, h) == r.may_sign(commit, round, h));
    CHECK_FALSE(d.may_sign(false, 5, hash_b));
    CHECK_FALSE(d.may_sign(true, 4, hash_a));
}
