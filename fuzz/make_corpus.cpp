// Writes fuzz/corpus/<target>/ seed inputs: real signed values from fixed seeds,
// plus truncated, extended and bit-flipped variants.   fuzz_make_corpus <fuzz dir>
#include "bootnode_fixture.hpp"

#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/chain/json.hpp>
#include <ballotchain/consensus/messages.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/storage/memory_storage.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace ballotchain;
namespace fs = std::filesystem;

namespace {
ed25519::key_pair key(int i) {
    secret_key sk;
    sk.data[0] = static_cast<byte>(i + 1);
    return ed25519::from_secret(sk);
}

struct writer {
    fs::path dir;
    int n = 0;
    void put(const bytes& b) {
        std::ofstream f(dir / ("seed-" + std::to_string(n++)), std::ios::binary);
        f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    }
    void put(const std::string& s) { put(bytes(s.begin(), s.end())); }
    /// The value and some broken variants of it.
    void variants(const bytes& b) {
        put(b);
        if (b.size() > 1) put(bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(b.size() / 2)));
        bytes longer = b;
        longer.push_back(0);
        put(longer);
        bytes flipped = b;
        if (!flipped.empty()) flipped[flipped.size() / 3] ^= 0x80;
        put(flipped);
    }
};

genesis_config make_genesis(int n) {
    genesis_config g;
    for (int i = 0; i < n; ++i) g.validators.push_back({"validator-" + std::to_string(i + 1), key(i).public_key()});
    g.submitters.push_back(key(50).public_key());
    return g;
}

vote_tx make_tx(int i, std::size_t payload) {
    vote_tx tx;
    tx.chain_id = 1337;
    tx.election_id = 1 + static_cast<std::uint64_t>(i % 2);
    tx.candidate_id = static_cast<std::uint64_t>(i % 3);
    tx.encrypted_vote = bytes(payload, static_cast<byte>(i));
    tx.voter_tag = sha256::hash(bytes{static_cast<byte>(i)});
    tx.timestamp_ms = 1'700'000'000'000ull + static_cast<std::uint64_t>(i);
    sign_tx<ed25519_sha256>(tx, key(50));
    return tx;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fuzz_make_corpus <fuzz dir>\n");
        return 2;
    }
    const fs::path root = fs::path(argv[1]) / "corpus";
    auto open = [&](const char* name) {
        fs::create_directories(root / name);
        return writer{root / name};
    };

    auto tx = open("fuzz_tx");
    for (int i = 0; i < 4; ++i) tx.variants(encode(make_tx(i, static_cast<std::size_t>(i * 40))));

    const auto g = make_genesis(3);
    auto c = ledger::blockchain<ed25519_sha256, memory_storage>::open(g, memory_storage{}).value();
    auto blk = open("fuzz_block");
    for (int ntx : {0, 1, 5}) {
        std::vector<vote_tx> txs;
        for (int i = 0; i < ntx; ++i) txs.push_back(make_tx(i, 16));
        finalized_block fb;
        fb.blk = c.build_block(0, 1'700'000'000'000ull, txs, key(static_cast<int>(g.proposer_index(1, 0))));
        const hash32 bh = block_hash<ed25519_sha256>(fb.blk.header);
        fb.cert = {1, 0, bh, {}};
        for (std::uint32_t v = 0; v < 2; ++v) fb.cert.seals.push_back(make_seal<ed25519_sha256>(key(static_cast<int>(v)), v, 1337, 1, 0, bh));
        blk.variants(encode(fb.blk));
        blk.variants(encode(fb));
        blk.variants(encode(fb.cert));
    }

    auto gen = open("fuzz_genesis");
    for (int n : {1, 3, 4}) gen.variants(encode(make_genesis(n)));

    auto gj = open("fuzz_genesis_json");
    for (int n : {1, 3}) gj.put(boost::json::serialize(json::to_json(make_genesis(n))));
    gj.put(std::string(R"({"chain_id":1337})"));
    gj.put(std::string(R"({"chain_id":"x","validators":[]})"));
    gj.put(std::string("{not json"));
    gj.put(std::string(R"([1,2,3])"));

    auto msg = open("fuzz_message");
    consensus::envelope e;
    e.chain_id = 1337;
    e.type = consensus::msg_type::prepare;
    e.sender = 1;
    e.height = 5;
    e.round = 2;
    e.body = consensus::encode_prepare(sha256::hash(bytes{9}));
    consensus::sign_envelope<ed25519_sha256>(e, key(1));
    msg.variants(consensus::encode(e));
    consensus::round_change_body rc;
    rc.prepared = consensus::prepared_certificate{1, sha256::hash(bytes{9}), {{0, {}}, {2, {}}}};
    msg.variants(consensus::encode(rc));
    std::vector<vote_tx> txs{make_tx(1, 8), make_tx(2, 0)};
    msg.variants(consensus::encode_txs(txs));
    msg.variants(consensus::encode(consensus::commit_body{sha256::hash(bytes{1}), {}}));

    // Bootnode registrations for fuzz_bootnode_register's fixed chain and clock: accepted
    // ones for every index, then one per refusal, then malformed JSON.
    namespace fx = fuzz_fixture;
    auto reg = open("fuzz_bootnode_register");
    auto signed_reg = [&](std::uint64_t chain, std::uint32_t index, int key, std::string p2p, std::uint64_t ts) {
        app::registration r;
        r.chain_id = chain;
        r.index = index;
        r.p2p = std::move(p2p);
        r.timestamp_ms = ts;
        app::sign_registration(r, fx::bootnode_key(key));
        return r;
    };
    auto put_reg = [&](const app::registration& r) { reg.put(boost::json::serialize(app::to_json(r))); };
    const auto now = fx::bootnode_wall_ms;
    for (std::uint32_t i = 0; i < 3; ++i) put_reg(signed_reg(1337, i, static_cast<int>(i), "127.0.0.1:3030" + std::to_string(i), now));
    put_reg(signed_reg(1337, 0, 0, "[::1]:30303", now + 29'000));
    put_reg(signed_reg(1338, 0, 0, "127.0.0.1:30303", now));      // chain not served
    put_reg(signed_reg(1337, 3, 0, "127.0.0.1:30303", now));      // index not below n
    put_reg(signed_reg(1337, 1, 0, "127.0.0.1:30303", now));      // another validator's key
    put_reg(signed_reg(1337, 0, 9, "127.0.0.1:30303", now));      // not a genesis key
    put_reg(signed_reg(1337, 0, 0, "127.0.0.1:30303", now - 31'000));  // stale
    put_reg(signed_reg(1337, 0, 0, "127.0.0.1:30303", now + 31'000));  // from the future
    auto forged = signed_reg(1337, 2, 2, "127.0.0.1:30305", now);
    forged.p2p = "10.6.6.6:30305";  // signature over another address
    put_reg(forged);
    auto text = boost::json::serialize(app::to_json(signed_reg(1337, 1, 1, "127.0.0.1:30304", now)));
    reg.put(text.substr(0, text.size() / 2));
    reg.put(std::string(R"({"chain_id":1337,"index":-1,"public_key":"0x00","p2p":"a:1","timestamp_ms":0,"signature":"0x00"})"));
    reg.put(std::string(R"({"chain_id":1337,"index":0,"public_key":7,"p2p":"a","timestamp_ms":1.5,"signature":null})"));
    reg.put(std::string(R"({"chain_id":18446744073709551615,"index":255,"timestamp_ms":18446744073709551615})"));
    reg.put(std::string(R"([{"chain_id":1337}])"));
    std::printf("corpus written under %s\n", root.c_str());
    return 0;
}
