#pragma once
/// @file `ballotchain status`, `submit` and `watch`: the verifying client
/// (client/client.hpp) from the command line. Every answer is checked against
/// the genesis: given with --genesis, or fetched from the validators and
/// printed (its hash) so the operator can compare it with the published one.
/// https:// validators are reached over TLS, their certificates checked against
/// --ca (or the system's store) and the URL's host.

#include <ballotchain/client/client.hpp>
#include <ballotchain/client/http_client.hpp>

#include <ballotchain/app/text.hpp>
#include <ballotchain/chain/election.hpp>
#include <ballotchain/chain/json.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/crypto/key_file.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdio>

namespace ballotchain::app {

using client::parse_http_url;

/// voter_tag the CLI uses: SHA-256("ballotchain/cli-voter" ‖ u64 election ‖ voter id).
/// (The backend uses a keyed hash instead, so tags cannot be linked to voter ids.)
inline hash32 cli_voter_tag(std::uint64_t election, const std::string& voter) {
    bytes m;
    const std::string_view dom = "ballotchain/cli-voter";
    m.insert(m.end(), dom.begin(), dom.end());
    wire::writer w(m);
    w.u64(election);
    m.insert(m.end(), voter.begin(), voter.end());
    return sha256::hash(m);
}

class net_commands {
public:
    using client_type = client::verifying_client<ed25519_sha256>;

    explicit net_commands(CLI::App& app) {
        status_ = app.add_subcommand("status",
                                     "print each validator's health and the chain head, checked against the genesis "
                                     "(exit 0: a validator answered with a certified head; 1: none did)");
        submit_ = app.add_subcommand("submit", "sign vote transactions with a submitter key and send them; prints each tx hash "
                                               "(with --wait: and its verified block once final)");
        watch_ = app.add_subcommand("watch", "follow final blocks, verifying each (header hash, certificate, transaction root, "
                                             "link to its parent); print one line per block and, with --election, the tally");
        ballot_ = app.add_subcommand(
            "ballot",
            "encrypt a secret ballot for an encrypted election (docs/election-protocol.md) under the election key the "
            "validators agree on, with its proofs; print it as the backend's encrypted_vote (base64) and, with --key, "
            "send it as a ballot record");
        define_ = app.add_subcommand(
            "define-election",
            "sign a plain election's definition (name, candidates, voting window; docs/election-protocol.md) with a "
            "submitter key and send it: on a chain whose genesis sets elections_defined, votes for an election count "
            "only once its definition is final; prints its tx hash");
        for (auto* c : {status_, submit_, watch_, ballot_, define_}) {
            c->add_option("--ca", ca_,
                          "PEM CA certificates an https --rpc validator's certificate must chain to (default: the system's store)")
                ->check(CLI::ExistingFile);
            c->add_option("--rpc", rpc_,
                          "validator RPC URL, e.g. http://127.0.0.1:8001 or https://node1.example:8001 (repeat for several; "
                          "calls fail over)")
                ->required();
            c->add_option("--genesis", genesis_,
                          "genesis file to check every answer against (default: fetched from the validators, its hash printed)");
            c->add_option("--timeout-ms", timeout_ms_, "deadline of each call")->capture_default_str()->check(CLI::Range(1u, 3'600'000u));
        }
        submit_->add_option("--key", key_, "submitter key file")->required()->check(CLI::ExistingFile);
        submit_->add_option("--election", election_, "election id")->required();
        submit_->add_option("--candidate", candidate_, "candidate id")->required();
        submit_->add_option("--voter", voter_, "voter id (with --count N: voters ID-0 .. ID-(N-1))")->required();
        submit_->add_option("--count", count_, "number of votes to send")->capture_default_str()
            ->check(CLI::Range(1u, 1'000'000u));
        submit_->add_option("--payload", payload_, "opaque encrypted_vote bytes as 0x-hex")->capture_default_str();
        submit_->add_option("--wait", wait_s_, "wait up to this many seconds for each vote's verified confirmation (0: do not wait)")
            ->capture_default_str()->check(CLI::Range(0u, 86'400u));
        watch_->add_option("--election", watch_election_, "print this election's tally after every block");
        ballot_->add_option("--election", election_, "election id")->required();
        ballot_->add_option("--candidate", candidate_, "candidate id")->required();
        auto* tag = ballot_->add_option("--voter-tag", voter_tag_, "the voter's tag as 0x-hex (the backend gives it to its voter)");
        ballot_->add_option("--voter", voter_, "voter id, tag made as `submit` makes it")->excludes(tag);
        ballot_->add_option("--key", key_, "submitter key file: also send the ballot (prints its tx hash)")->check(CLI::ExistingFile);
        ballot_->add_option("--wait", wait_s_, "with --key: wait up to this many seconds for its verified confirmation")
            ->capture_default_str()->check(CLI::Range(0u, 86'400u));
        define_->add_option("--key", key_, "submitter key file")->required()->check(CLI::ExistingFile);
        define_->add_option("--election", election_, "election id (new on the chain)")->required();
        define_->add_option("--name", def_name_, "the election's name (1..256 bytes)")->required();
        define_->add_option("--candidate", def_candidates_,
                            "a candidate as ID=NAME (repeat, 1..64, ids ascending; name 1..128 bytes), e.g. 1=Alice")
            ->required();
        define_->add_option("--start", def_start_, "first block time at which votes count, YYYY-MM-DDTHH:MM:SSZ (default: now)");
        define_->add_option("--end", def_end_, "first block time at which they no longer do (default: 30 days after the start)");
        define_->add_option("--wait", wait_s_, "wait up to this many seconds for its verified confirmation (0: do not wait)")
            ->capture_default_str()->check(CLI::Range(0u, 86'400u));
        watch_->add_option("--state", state_, "file the follower keeps its position in (resumes from it)");
        watch_->add_option("--blocks", watch_blocks_, "stop after this many new blocks (default: until interrupted)")
            ->check(CLI::Range(1ull, 1'000'000'000ull));
    }

    int run() {
        bool any_tls = false;
        for (const auto& u : rpc_) {
            const auto p = client::parse_url(u);
            if (!p) return fail("--rpc must be http://host:port or https://host:port, not " + u);
            any_tls = any_tls || p->tls;
        }
        if (any_tls || !ca_.empty()) {
            auto ctx = rpc::make_client_tls_context(ca_);
            if (!ctx) return fail("--ca: " + ctx.error());
            tls_ = *ctx;
        }
        auto g = load_genesis();
        if (!g) return 1;
        client::client_options o;
        o.deadline = std::chrono::milliseconds(timeout_ms_);
        o.attempt_timeout = std::min(o.attempt_timeout, o.deadline);
        o.follower_state = state_;
        std::vector<client::node_info> nodes;
        for (std::size_t i = 0; i < rpc_.size(); ++i) nodes.push_back({rpc_[i], rpc_[i], ""});
        client::async_http_transport transport;
        transport.tls = tls_;
        client_type c(io_.get_executor(), std::move(nodes), std::move(*g), std::move(transport), {}, o);
        if (!c.follower_load_error().empty()) return fail("--state " + c.follower_load_error());
        if (*status_) return status(c);
        if (*submit_) return submit(c);
        if (*watch_) return watch(c);
        if (*ballot_) return ballot(c);
        if (*define_) return define_election(c);
        return 1;
    }

private:
    static int fail(const std::string& m) {
        std::fprintf(stderr, "ballotchain: %s\n", m.c_str());
        return 1;
    }

    /// --genesis, or the validators' own (trust on first use: its hash is printed).
    std::optional<genesis_config> load_genesis() {
        if (!genesis_.empty()) {
            auto g = json::load_genesis_file(genesis_);
            if (!g) {
                fail(genesis_ + ": " + g.error().message());
                return std::nullopt;
            }
            return *g;
        }
        std::string last = "no validator answered";
        for (const auto& u : rpc_) {
            auto o = client::rpc_request(*client::parse_url(u), "poa_getGenesis", {}, std::chrono::milliseconds(timeout_ms_),
                                         tls_.get());
            if (!o.ok() || !o.value.is_object()) {
                last = u + ": " + (o.answered() ? boost::json::serialize(o.value) : o.why);
                continue;
            }
            const auto* gj = o.value.as_object().if_contains("genesis");
            auto g = gj ? json::genesis_from_json(*gj) : result<genesis_config>(make_error(core::errc::bad_json));
            if (!g) {
                last = u + ": its genesis does not parse";
                continue;
            }
            std::fprintf(stderr,
                         "ballotchain: no --genesis given: using %s's genesis, hash %s (compare it with the published one)\n",
                         u.c_str(), to_hex(genesis_hash<ed25519_sha256>(*g)).c_str());
            return *g;
        }
        fail("cannot get the genesis: " + last);
        return std::nullopt;
    }

    int status(client_type& c) {
        (void)c.check_health();
        std::printf("chain %llu, genesis %s, %zu validators, quorum %zu\n",
                    static_cast<unsigned long long>(c.genesis().chain_id), to_hex(c.genesis_hash()).c_str(),
                    c.genesis().n(), c.genesis().quorum());
        for (const auto& n : c.health())
            std::printf("%s  %s  height %llu%s%s\n", n.info.rpc_url.c_str(), client::to_string(n.status),
                        static_cast<unsigned long long>(n.height), n.detail.empty() ? "" : "  ", n.detail.c_str());
        auto s = c.get_blockchain_state();
        if (!s) return fail("no chain state: " + s.error().what());
        std::printf("head %llu %s (certified; from %s, peers %llu, pool %llu%s)\n", static_cast<unsigned long long>(s->height),
                    to_hex(s->head_hash).c_str(), s->node.c_str(), static_cast<unsigned long long>(s->peers),
                    static_cast<unsigned long long>(s->pool), s->syncing ? ", catching up" : "");
        return 0;
    }

    int submit(client_type& c) {
        auto kp = load_key_file(key_);
        if (!kp) return fail(key_ + ": " + kp.error().message());
        auto payload = from_hex(payload_, 64 * 1024);
        if (!payload) return fail("--payload: " + payload.error().message());
        int failures = 0;
        for (std::uint32_t k = 0; k < count_; ++k) {
            vote_tx tx;
            tx.chain_id = c.genesis().chain_id;
            tx.election_id = election_;
            tx.candidate_id = candidate_;
            tx.encrypted_vote = *payload;
            tx.voter_tag = cli_voter_tag(election_, count_ == 1 ? voter_ : voter_ + "-" + std::to_string(k));
            tx.timestamp_ms = steady_clock_adapter{}.wall_ms();
            const hash32 th = sign_tx<ed25519_sha256>(tx, *kp);
            auto r = c.submit_vote(tx);
            if (!r) {
                ++failures;
                std::fprintf(stderr, "refused %s: %s\n", to_hex(th).c_str(), r.error().what().c_str());
                continue;
            }
            std::printf("%s\n", to_hex(*r).c_str());
            if (wait_s_ == 0) continue;
            auto conf = c.wait_for_confirmation(th, std::chrono::seconds(wait_s_));
            if (!conf) {
                ++failures;
                std::fprintf(stderr, "not confirmed %s: %s\n", to_hex(th).c_str(), conf.error().what().c_str());
            } else if (conf->state == client::tx_state::dropped) {
                ++failures;
                std::fprintf(stderr, "dropped %s: another vote of this voter is final: %s\n", to_hex(th).c_str(),
                             to_hex(*conf->conflicting_tx).c_str());
            } else {
                std::printf("  final in block %llu %s, certified by %zu validators (verified)\n",
                            static_cast<unsigned long long>(conf->proof->block_number), to_hex(conf->proof->block_hash).c_str(),
                            conf->proof->certificate.seals.size());
            }
        }
        return failures == 0 ? 0 : 1;
    }

    /// The election as every reachable --rpc validator describes it; fails unless they all agree
    /// on its key (a lone validator could hand out a key it knows the secret of).
    int ballot(client_type& c) {
        std::optional<boost::json::object> agreed;
        std::size_t answered = 0;
        for (const auto& u : rpc_) {
            auto reply = client::rpc_request(*client::parse_url(u), "poa_getElection", {election_},
                                         std::chrono::milliseconds(5000), tls_.get());
            if (!reply.ok()) continue;
            auto r = std::optional<boost::json::value>(std::move(reply.value));
            if (!r->is_object()) return fail(u + ": election " + std::to_string(election_) + " is not on the chain");
            auto o = r->as_object();
            if (o.at("ballot") != "encrypted") return fail("election " + std::to_string(election_) + " takes plain votes (use submit)");
            if (o.at("phase") != "ready")
                return fail("election " + std::to_string(election_) + ": its key is not ready (" +
                            std::string(o.at("phase").as_string()) + ")");
            if (agreed && agreed->at("election_key") != o.at("election_key"))
                return fail("the validators disagree on the election key: not encrypting");
            agreed = std::move(o);
            ++answered;
        }
        if (!agreed) return fail("no validator answered");
        if (answered < c.genesis().quorum())
            std::fprintf(stderr, "ballotchain: warning: only %zu validator(s) vouch for the election key (quorum %zu)\n", answered,
                         c.genesis().quorum());
        const auto& cands = agreed->at("candidates").as_array();
        std::optional<std::uint32_t> choice;
        for (std::uint32_t i = 0; i < cands.size(); ++i)
            if (cands[i].at("id").to_number<std::uint64_t>() == candidate_) choice = i;
        if (!choice) return fail("candidate " + std::to_string(candidate_) + " is not in election " + std::to_string(election_));
        const auto key_bytes = from_hex(std::string(agreed->at("election_key").as_string()));
        const auto key = key_bytes ? ristretto::point::decode(*key_bytes) : std::nullopt;
        if (!key) return fail("the election key does not decode");
        hash32 tag;
        if (!voter_tag_.empty()) {
            auto t = from_hex_fixed<32>(voter_tag_);
            if (!t) return fail("--voter-tag must be 32 bytes of 0x-hex");
            tag = *t;
        } else if (!voter_.empty()) {
            tag = cli_voter_tag(election_, voter_);
        } else {
            return fail("give --voter-tag or --voter");
        }
        const auto b = elgamal::seal_ballot({c.genesis().chain_id, election_, *key, tag, {}},
                                            static_cast<std::uint32_t>(cands.size()), *choice);
        if (!elgamal::verify_ballot({c.genesis().chain_id, election_, *key, tag, {}}, b)) return fail("the ballot does not verify");
        const bytes body = election::encode(b);
        std::printf("{\"election_id\": %llu, \"voter_tag\": \"%s\", \"encrypted_vote\": \"%s\"}\n",
                    static_cast<unsigned long long>(election_), to_hex(tag).c_str(), app::encode_base64(body).c_str());
        if (key_.empty()) return 0;
        auto kp = load_key_file(key_);
        if (!kp) return fail(key_ + ": " + kp.error().message());
        vote_tx tx;
        tx.kind = tx_kind::ballot;
        tx.chain_id = c.genesis().chain_id;
        tx.election_id = election_;
        tx.encrypted_vote = body;
        tx.voter_tag = tag;
        tx.timestamp_ms = steady_clock_adapter{}.wall_ms();
        return sign_send_wait(c, tx, *kp);
    }

    /// Signs `tx` with the submitter key, sends it, prints its hash and, with --wait, waits until
    /// it is final and prints its block (the proof checked against the genesis).
    int sign_send_wait(client_type& c, vote_tx& tx, const ed25519::key_pair& kp) {
        const hash32 th = sign_tx<ed25519_sha256>(tx, kp);
        auto r = c.submit_vote(tx);
        if (!r) return fail("refused " + to_hex(th) + ": " + r.error().what());
        std::printf("%s\n", to_hex(*r).c_str());
        if (wait_s_ == 0) return 0;
        auto conf = c.wait_for_confirmation(th, std::chrono::seconds(wait_s_));
        if (!conf || conf->state != client::tx_state::final) return fail("not confirmed " + to_hex(th));
        std::printf("  final in block %llu %s, certified by %zu validators (verified)\n",
                    static_cast<unsigned long long>(conf->proof->block_number), to_hex(conf->proof->block_hash).c_str(),
                    conf->proof->certificate.seals.size());
        return 0;
    }

    /// `ballotchain define-election`: a plain definition record, checked here by the chain's own
    /// decoder and rules of a definition before it is sent.
    int define_election(client_type& c) {
        auto kp = load_key_file(key_);
        if (!kp) return fail(key_ + ": " + kp.error().message());
        election::definition d;
        d.ballot = election::ballot_kind::plain;
        d.name = def_name_;
        if (d.name.empty() || d.name.size() > election::limits::max_name_bytes) return fail("--name: 1..256 bytes");
        if (def_candidates_.empty() || def_candidates_.size() > election::limits::max_candidates)
            return fail("--candidate: 1..64 of them");
        for (const auto& text : def_candidates_) {
            const auto eq = text.find('=');
            std::uint64_t id = 0;
            const char* end = text.data() + (eq == std::string::npos ? 0 : eq);
            auto [p, ec] = std::from_chars(text.data(), end, id);
            if (eq == std::string::npos || ec != std::errc{} || p != end)
                return fail("--candidate " + text + ": expected ID=NAME, e.g. 1=Alice");
            const std::string name = text.substr(eq + 1);
            if (name.empty() || name.size() > election::limits::max_candidate_name_bytes)
                return fail("--candidate " + text + ": a name of 1..128 bytes");
            if (!d.candidates.empty() && id <= d.candidates.back().id)
                return fail("--candidate " + text + ": ids must be strictly ascending");
            d.candidates.push_back({id, name});
        }
        const auto now = steady_clock_adapter{}.wall_ms();
        auto when = [&](const std::string& s, std::uint64_t dflt, const char* opt) -> std::optional<std::uint64_t> {
            if (s.empty()) return dflt;
            auto t = parse_iso_time(s);
            if (!t) fail(std::string(opt) + " must be YYYY-MM-DDTHH:MM:SSZ, not " + s);
            return t;
        };
        const auto start = when(def_start_, now, "--start");
        if (!start) return 1;
        const auto end = when(def_end_, *start + 30ull * 24 * 3600 * 1000, "--end");
        if (!end) return 1;
        if (*end <= *start) return fail("--end must be after --start");
        d.start_ms = *start;
        d.end_ms = *end;
        vote_tx tx;
        tx.kind = tx_kind::define_election;
        tx.chain_id = c.genesis().chain_id;
        tx.election_id = election_;
        tx.encrypted_vote = election::encode(d);
        if (tx.encrypted_vote.size() > c.genesis().max_encrypted_vote_bytes)
            return fail("the definition is " + std::to_string(tx.encrypted_vote.size()) +
                        " bytes, above the genesis's max_encrypted_vote_bytes (" +
                        std::to_string(c.genesis().max_encrypted_vote_bytes) + "): shorter names or fewer candidates");
        tx.voter_tag = election::slot_tag(tx_kind::define_election, 0);
        tx.timestamp_ms = now;
        return sign_send_wait(c, tx, *kp);
    }

    int watch(client_type& c) {
        std::uint64_t seen = 0;
        boost::asio::cancellation_signal stop;
        // The election's tally, from the follower's saved position on, counted from verified blocks only.
        tally_map tally = watch_election_ ? c.follower().tallies[*watch_election_] : tally_map{};
        c.on_block([&](const client::verified_block& b) {
            const auto& h = b.fb.blk.header;
            std::string signers;
            for (const auto& s : b.fb.cert.seals) signers += (signers.empty() ? "" : ",") + std::to_string(s.validator + 1);
            std::printf("block %llu %s  %u votes  proposer %u  signed by %s\n", static_cast<unsigned long long>(h.height),
                        to_hex(b.hash).c_str(), h.tx_count, h.proposer + 1, signers.c_str());
            if (watch_election_) {
                std::uint64_t total = 0;
                for (const auto& tx : b.fb.blk.txs)
                    if (tx.election_id == *watch_election_ && tx.is_vote()) ++tally[tx.candidate_id];
                std::string line;
                for (const auto& [cand, n] : tally) {
                    line += (line.empty() ? "" : ", ") + std::string("candidate ") + std::to_string(cand) + " = " + std::to_string(n);
                    total += n;
                }
                std::printf("  election %llu: %s (total %llu)\n", static_cast<unsigned long long>(*watch_election_),
                            line.empty() ? "no votes" : line.c_str(), static_cast<unsigned long long>(total));
            }
            std::fflush(stdout);
            if (watch_blocks_ && ++seen >= *watch_blocks_) stop.emit(boost::asio::cancellation_type::terminal);
        });
        boost::asio::signal_set signals(io_, SIGINT, SIGTERM);
        signals.async_wait([&](boost::system::error_code ec, int) {
            if (!ec) stop.emit(boost::asio::cancellation_type::terminal);
        });
        std::optional<client::call_result<std::uint64_t>> done;
        c.async_follow(boost::asio::bind_cancellation_slot(stop.slot(), [&](client::call_result<std::uint64_t> r) {
            done = std::move(r);
            signals.cancel();
        }));
        io_.run();
        if (done && !*done && done->error().kind != client::errc::cancelled) return fail("watch: " + done->error().what());
        const auto f = c.follower();
        std::fprintf(stderr, "followed to block %llu %s\n", static_cast<unsigned long long>(f.height), to_hex(f.head_hash).c_str());
        return 0;
    }

    boost::asio::io_context io_;
    CLI::App* status_ = nullptr;
    CLI::App* submit_ = nullptr;
    CLI::App* watch_ = nullptr;
    CLI::App* ballot_ = nullptr;
    CLI::App* define_ = nullptr;
    std::vector<std::string> rpc_;
    std::string def_name_, def_start_, def_end_;
    std::vector<std::string> def_candidates_;
    std::string ca_;
    std::shared_ptr<boost::asio::ssl::context> tls_;  ///< for https --rpc URLs (--ca, or the system's store)
    std::string genesis_, key_, voter_, payload_ = "0x", state_, voter_tag_;
    std::uint64_t election_ = 0, candidate_ = 0;
    std::uint32_t count_ = 1, wait_s_ = 0, timeout_ms_ = 10'000;
    std::optional<std::uint64_t> watch_election_, watch_blocks_;
};

}  // namespace ballotchain::app
