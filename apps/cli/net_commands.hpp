#pragma once
/// @file `ballotchain status` and `ballotchain submit`: talk to a validator's RPC.

#include <ballotchain/client/http_client.hpp>

#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/key_file.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>

namespace ballotchain::app {

using client::http_get;
using client::parse_http_url;
using client::rpc_call;

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
    explicit net_commands(CLI::App& app) {
        status_ = app.add_subcommand("status", "print a validator's health and chain head");
        status_->add_option("--rpc", rpc_, "validator RPC URL, e.g. http://127.0.0.1:8001")->required();

        submit_ = app.add_subcommand("submit", "sign vote transactions with a submitter key and send them; prints each tx hash");
        submit_->add_option("--rpc", rpc_, "validator RPC URL")->required();
        submit_->add_option("--key", key_, "submitter key file")->required()->check(CLI::ExistingFile);
        submit_->add_option("--election", election_, "election id")->required();
        submit_->add_option("--candidate", candidate_, "candidate id")->required();
        submit_->add_option("--voter", voter_, "voter id (with --count N: voters ID-0 .. ID-(N-1))")->required();
        submit_->add_option("--count", count_, "number of votes to send")->capture_default_str()
            ->check(CLI::Range(1u, 1'000'000u));
        submit_->add_option("--payload", payload_, "opaque encrypted_vote bytes as 0x-hex")->capture_default_str();
    }

    int run() {
        std::string path;
        if (!parse_http_url(rpc_, host_, port_, path)) return fail("--rpc must be http://host:port");
        if (*status_) return status();
        if (*submit_) return submit();
        return 1;
    }

private:
    static int fail(const std::string& m) {
        std::fprintf(stderr, "ballotchain: %s\n", m.c_str());
        return 1;
    }

    int status() {
        auto h = http_get(host_, port_, "/health");
        if (h.status == 0) return fail("no answer from " + rpc_);
        std::printf("%s\n", h.body.c_str());
        boost::json::value err;
        auto head = rpc_call(host_, port_, "eth_getBlockByNumber", {"latest", false}, &err);
        if (head && head->is_object()) {
            const auto& o = head->as_object();
            std::printf("head block %s hash %s\n", std::string(o.at("number").as_string()).c_str(),
                        std::string(o.at("hash").as_string()).c_str());
        }
        return h.status == 200 ? 0 : 1;
    }

    int submit() {
        auto kp = load_key_file(key_);
        if (!kp) return fail(key_ + ": " + kp.error().message());
        auto payload = from_hex(payload_, 64 * 1024);
        if (!payload) return fail("--payload: " + payload.error().message());
        boost::json::value err;
        auto cid = rpc_call(host_, port_, "eth_chainId", {}, &err);
        const auto chain_id = cid && cid->is_string() ? parse_quantity(cid->as_string()) : std::nullopt;
        if (!chain_id) return fail("eth_chainId failed at " + rpc_ + ": " + boost::json::serialize(cid ? *cid : err));
        int failures = 0;
        for (std::uint32_t k = 0; k < count_; ++k) {
            vote_tx tx;
            tx.chain_id = *chain_id;
            tx.election_id = election_;
            tx.candidate_id = candidate_;
            tx.encrypted_vote = *payload;
            tx.voter_tag = cli_voter_tag(election_, count_ == 1 ? voter_ : voter_ + "-" + std::to_string(k));
            tx.timestamp_ms = steady_clock_adapter{}.wall_ms();
            const hash32 th = sign_tx<ed25519_sha256>(tx, *kp);
            boost::json::value e;
            auto r = rpc_call(host_, port_, "eth_sendRawTransaction", {to_hex(encode(tx))}, &e);
            if (r && r->is_string()) {
                std::printf("%s\n", std::string(r->as_string()).c_str());
            } else {
                ++failures;
                std::fprintf(stderr, "refused %s: %s\n", to_hex(th).c_str(),
                             e.is_null() ? "no answer" : boost::json::serialize(e).c_str());
            }
        }
        return failures == 0 ? 0 : 1;
    }

    CLI::App* status_ = nullptr;
    CLI::App* submit_ = nullptr;
    std::string rpc_, key_, voter_, payload_ = "0x";
    std::uint64_t election_ = 0, candidate_ = 0;
    std::uint32_t count_ = 1;
    std::string host_;
    std::uint16_t port_ = 0;
};

}  // namespace ballotchain::app
