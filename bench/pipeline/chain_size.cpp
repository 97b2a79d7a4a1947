/// ballotchain-chain-size: grows a validator's chain (DATA_DIR/chain.db, the real SQLite
/// storage) by --votes votes, with the library alone: votes signed by the testnet's submitter
/// (make_votes: the library's sign_batch, --sign-batch votes per signature, on --sign-threads
/// threads), blocks of the genesis'
/// max_block_txs built and signed by their scheduled proposer, sealed by a quorum of the
/// testnet's validator keys, checked (blockchain::check) and appended (blockchain::append:
/// one durable SQLite transaction per block) as a validator does. scripts/bench then starts
/// a validator on the data dir and measures restart time, memory, query latency and
/// `ballotchain verify`.
///
/// The votes' own signatures are taken as checked when a block is appended, as a validator
/// takes those of the votes its pool admitted (each checked once, on admission): the append
/// rate is that of the chain and its storage, and the signing rate is printed beside it.
/// Everything else (proposer signature, seals, Merkle root, duplicates against the stored
/// indexes) is checked. Run it again on the same data dir to grow the chain further.
#include "../common/report.hpp"

#include <ballotchain/chain/json.hpp>
#include <ballotchain/chain/rules.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/crypto/key_file.hpp>
#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/storage/sqlite_storage.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <thread>

using namespace ballotchain;
using namespace ballotchain::bench;
namespace bj = boost::json;
namespace fs = std::filesystem;
using S = ed25519_sha256;
using chain_t = ledger::blockchain<S, sqlite_storage>;

namespace {

/// Votes number [first, first + count) of election `election`: voter tag and payload derived
/// from the number (so a chain grown in several runs never repeats a voter), signed by
/// `submitter` with the library's sign_batch, `per_signature` votes under one signature (1:
/// each alone), on `threads` threads. The one place votes are made.
std::vector<vote_tx> make_votes(const genesis_config& g, const S::key_pair& submitter, std::uint64_t election,
                                std::uint64_t first, std::size_t count, std::uint64_t timestamp_ms,
                                std::size_t per_signature, unsigned threads) {
    std::vector<vote_tx> out(count);
    for_each_group(count, per_signature, threads, [&](std::size_t from, std::size_t to) {
        for (std::size_t i = from; i < to; ++i) {
            const std::uint64_t n = first + i;
            vote_tx& tx = out[i];
            tx.chain_id = g.chain_id;
            tx.election_id = election;
            tx.candidate_id = n % 4;
            tx.encrypted_vote.resize(64);
            for (std::size_t b = 0; b < 64; ++b) tx.encrypted_vote[b] = static_cast<byte>((n >> (8 * (b % 8))) + b);
            bytes tag(9);
            for (int b = 0; b < 8; ++b) tag[static_cast<std::size_t>(b)] = static_cast<byte>(n >> (8 * b));
            tag[8] = 0x5c;
            tx.voter_tag = S::hash(tag);
            tx.timestamp_ms = timestamp_ms;
        }
        sign_batch<S>(std::span<vote_tx>(out).subspan(from, to - from), submitter);
    });
    return out;
}

/// Every vote's signature counts as checked (see the file comment).
struct signed_here {
    bool operator()(const hash32&, const vote_tx&) const noexcept { return true; }
};

std::uint64_t file_bytes(const fs::path& p) {
    std::error_code ec;
    const auto n = fs::file_size(p, ec);
    return ec ? 0 : static_cast<std::uint64_t>(n);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ballotchain-chain-size: grows a validator's chain.db by N votes with the library (sign, build, seal, append)"};
    std::string testnet, data_dir, json_path;
    std::uint64_t votes = 10'000, election = 1;
    std::size_t chunk = 200'000, sign_batch_size = 100;
    unsigned sign_threads = 2;
    app.add_option("--testnet", testnet, "a `ballotchain testnet` directory (genesis.json, submitter.key, validator-*/validator.key)")
        ->required()->check(CLI::ExistingDirectory);
    app.add_option("--data-dir", data_dir, "the validator data dir whose chain.db grows (default: TESTNET/validator-1)");
    app.add_option("--votes", votes, "votes to add")->capture_default_str()->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}));
    app.add_option("--election", election, "election id of the votes")->capture_default_str();
    app.add_option("--chunk", chunk, "votes signed before they are appended (signing and appending are timed apart)")
        ->capture_default_str()->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
    app.add_option("--sign-batch", sign_batch_size,
                   "votes under one signature (data-format.md §2), as a backend signs what it stores together; 1: each alone")
        ->capture_default_str()->check(CLI::Range(std::size_t{1}, limits::max_batch_txs));
    app.add_option("--sign-threads", sign_threads, "signing threads")->capture_default_str()->check(CLI::Range(1u, 64u));
    app.add_option("--json", json_path, "also write the results as a JSON object to this file");
    CLI11_PARSE(app, argc, argv);
    const fs::path net(testnet);
    if (data_dir.empty()) data_dir = (net / "validator-1").string();

    auto g = json::load_genesis_file((net / "genesis.json").string());
    if (!g) return std::fprintf(stderr, "genesis: %s\n", g.error().message().c_str()), 1;
    auto submitter = load_key_file((net / "submitter.key").string());
    if (!submitter) return std::fprintf(stderr, "submitter.key: %s\n", submitter.error().message().c_str()), 1;
    std::vector<S::key_pair> keys;
    for (std::size_t i = 0; i < g->n(); ++i) {
        const auto p = (net / ("validator-" + std::to_string(i + 1)) / "validator.key").string();
        auto k = load_key_file(p);
        if (!k) return std::fprintf(stderr, "%s: %s\n", p.c_str(), k.error().message().c_str()), 1;
        if (g->validator_index(k->public_key()) != i) return std::fprintf(stderr, "%s is not validator %zu of the genesis\n", p.c_str(), i + 1), 1;
        keys.push_back(*k);
    }

    std::error_code ec;
    fs::create_directories(data_dir, ec);
    const auto db = fs::path(data_dir) / "chain.db";
    std::string why;
    const auto o0 = now_us();
    auto st = sqlite_storage::open(db.string(), {}, &why);
    if (!st) return std::fprintf(stderr, "%s: %s\n", db.c_str(), why.c_str()), 1;
    auto opened = chain_t::open(*g, std::move(*st));
    if (!opened) return std::fprintf(stderr, "chain: %s\n", opened.error().message().c_str()), 1;
    std::optional<chain_t> chain(std::move(*opened));
    const double open_s = static_cast<double>(now_us() - o0) / 1e6;
    const std::uint64_t first = chain->total_txs();
    std::fprintf(stderr, "chain-size: %s holds %llu votes at height %llu (opened in %.2f s); adding %llu\n", db.c_str(),
                 static_cast<unsigned long long>(first), static_cast<unsigned long long>(chain->height()), open_s,
                 static_cast<unsigned long long>(votes));

    const std::size_t per_block = g->max_block_txs;
    const std::uint32_t q = static_cast<std::uint32_t>(g->quorum());
    double sign_s = 0, append_s = 0;
    std::uint64_t done = 0, blocks = 0;
    auto last_print = now_us();
    while (done < votes) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, votes - done));
        const auto s0 = now_us();
        auto txs = make_votes(*g, *submitter, election, first + done, n, g->timestamp_ms, sign_batch_size, sign_threads);
        sign_s += static_cast<double>(now_us() - s0) / 1e6;

        const auto a0 = now_us();
        for (std::size_t off = 0; off < n; off += per_block) {
            const std::size_t end = std::min(n, off + per_block);
            std::vector<vote_tx> part(std::make_move_iterator(txs.begin() + static_cast<std::ptrdiff_t>(off)),
                                      std::make_move_iterator(txs.begin() + static_cast<std::ptrdiff_t>(end)));
            // One millisecond per block after the head: the chain stays in the past.
            const std::uint64_t h = chain->height() + 1;
            finalized_block fb;
            fb.blk = chain->build_block(0, chain->head().timestamp_ms + 1, std::move(part), keys[g->proposer_index(h, 0)]);
            const hash32 bh = block_hash<S>(fb.blk.header);
            fb.cert = commit_certificate{h, 0, bh, {}};
            for (std::uint32_t v = 0; v < q; ++v) fb.cert.seals.push_back(make_seal<S>(keys[v], v, g->chain_id, h, 0, bh));
            auto checked = chain->check(std::move(fb), signed_here{});
            if (!checked) return std::fprintf(stderr, "block %llu refused: %s\n", static_cast<unsigned long long>(h), checked.error().message().c_str()), 1;
            if (auto r = chain->append(*checked); !r)
                return std::fprintf(stderr, "append of block %llu: %s\n", static_cast<unsigned long long>(h), r.error().message().c_str()), 1;
            ++blocks;
        }
        append_s += static_cast<double>(now_us() - a0) / 1e6;
        done += n;
        if (now_us() - last_print > 2'000'000 || done == votes) {
            last_print = now_us();
            std::fprintf(stderr, "chain-size: %llu / %llu votes (%.0f%%), height %llu, signing %.0f/s, appending %.0f/s\n",
                         static_cast<unsigned long long>(done), static_cast<unsigned long long>(votes),
                         100.0 * static_cast<double>(done) / static_cast<double>(votes),
                         static_cast<unsigned long long>(chain->height()), static_cast<double>(done) / sign_s,
                         static_cast<double>(done) / append_s);
        }
    }
    const std::uint64_t total = chain->total_txs();
    const std::uint64_t height = chain->height();
    chain.reset();  // closes the database (and checkpoints its WAL)
    const std::uint64_t db_bytes = file_bytes(db) + file_bytes(db.string() + "-wal");

    std::printf("chain size: %llu votes in %llu blocks of up to %zu (added %llu in %llu blocks)\n",
                static_cast<unsigned long long>(total), static_cast<unsigned long long>(height), per_block,
                static_cast<unsigned long long>(votes), static_cast<unsigned long long>(blocks));
    std::printf("  signing    %10.0f votes/s  (%u threads, %.1f s)\n", static_cast<double>(votes) / sign_s, sign_threads, sign_s);
    std::printf("  appending  %10.0f votes/s  (%.1f s: build, check, one durable SQLite transaction per block)\n",
                static_cast<double>(votes) / append_s, append_s);
    std::printf("  chain.db   %10.1f MB  (%.0f bytes per vote); opened in %.2f s before growing\n",
                static_cast<double>(db_bytes) / 1e6, static_cast<double>(db_bytes) / static_cast<double>(total), open_s);
    const bj::object out{{"tool", "ballotchain-chain-size"},
                         {"params", bj::object{{"votes", votes}, {"max_block_txs", per_block}, {"sign_threads", sign_threads},
                                               {"chunk", chunk}, {"sign_batch", sign_batch_size}, {"election", election}}},
                         {"votes_total", total},
                         {"height", height},
                         {"added_votes", votes},
                         {"added_blocks", blocks},
                         {"open_s", open_s},
                         {"sign_s", sign_s},
                         {"sign_votes_per_s", static_cast<double>(votes) / sign_s},
                         {"append_s", append_s},
                         {"append_votes_per_s", static_cast<double>(votes) / append_s},
                         {"db_bytes", db_bytes}};
    return write_json_file(json_path, out) ? 0 : 1;
}
