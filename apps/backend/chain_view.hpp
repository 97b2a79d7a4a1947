#pragma once
/// @file What the backend shows of the chain itself, for the web app's verify
/// page and explorer (docs/backend.md, "The chain for browsers"): the genesis
/// (the trust anchor a browser checks against), a vote's inclusion proof with
/// the block header and commit certificate, the validator-set changes since the
/// genesis with the blocks that recorded them, and the latest final blocks. Every
/// block and proof passed on here was verified by the backend's client first;
/// the browser verifies them again itself and need not believe the backend.

#include "http_util.hpp"
#include "validator_client.hpp"

#include <ballotchain/app/text.hpp>
#include <ballotchain/chain/codec.hpp>
#include <ballotchain/chain/genesis.hpp>
#include <ballotchain/chain/json.hpp>
#include <ballotchain/client/client.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/rpc/validator_api.hpp>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>
#include <optional>
#include <string>

namespace ballotchain::backend {

/// A final block as the API shows it; `with_txs` adds its transactions.
inline bjson::object block_json(const client::verified_block& b, bool with_txs) {
    const auto& h = b.fb.blk.header;
    bjson::array signers;
    for (const auto& s : b.fb.cert.seals) signers.push_back(s.validator);
    bjson::object o;
    o["height"] = h.height;
    o["hash"] = to_hex(b.hash);
    o["parent"] = to_hex(h.parent);
    o["timestamp_ms"] = h.timestamp_ms;
    o["time"] = app::iso_time(h.timestamp_ms);
    o["proposer"] = h.proposer;
    o["round"] = h.round;
    o["tx_root"] = to_hex(h.tx_root);
    o["tx_count"] = h.tx_count;
    o["signers"] = std::move(signers);
    if (with_txs) {
        bjson::array txs;
        for (std::size_t i = 0; i < b.fb.blk.txs.size(); ++i) {
            const auto& tx = b.fb.blk.txs[i];
            bjson::object t;
            t["hash"] = i < b.tx_hashes.size() ? to_hex(b.tx_hashes[i]) : std::string();
            t["kind"] = to_string(tx.kind);
            t["election_id"] = tx.election_id;
            t["voter_tag"] = to_hex(tx.voter_tag);
            txs.push_back(std::move(t));
        }
        o["transactions"] = std::move(txs);
    }
    return o;
}

/// The chain for browsers over the verifying client.
///
/// @par Thread safety Every member may be called from any thread (the recent
/// blocks under their own mutex; the client locks on its own).
template <client::async_rpc_transport Transport, clock Clock>
class chain_view {
public:
    using client_type = validator_client<Transport, Clock>;
    static constexpr std::size_t recent_blocks = 32;

    /// Registers itself for the client's verified blocks (the client's only block observer).
    explicit chain_view(client_type& client) : client_(client) {
        client_.on_block([this](const client::verified_block& b) {
            std::lock_guard lk(mu_);
            recent_.push_front(b);
            while (recent_.size() > recent_blocks) recent_.pop_back();
        });
    }

    /// GET /api/chain/genesis: the chain id, the genesis hash, the quorum, the validators' keys
    /// and the genesis itself.
    bjson::object genesis() const {
        const auto& g = client_.genesis();
        bjson::array vs;
        for (const auto& v : g.validators) {
            bjson::object o;
            o["name"] = v.name;
            o["public_key"] = to_hex(v.key);
            vs.push_back(std::move(o));
        }
        bjson::object out;
        out["chain_id"] = g.chain_id;
        out["genesis_hash"] = to_hex(client_.genesis_hash());
        out["quorum"] = g.quorum();
        out["validators"] = std::move(vs);
        out["genesis"] = json::to_json(g);
        return out;
    }

    /// GET /api/votes/proof?transaction_id=0x…: a vote's inclusion proof, as poa_getTransactionProof
    /// gives it, once the client verified it. 404 while not final, 503 with no validator.
    bjson::object proof(const hash32& th) {
        auto r = client_.get_transaction_receipt(th);
        if (!r) {
            if (r.error().kind == client::errc::unreachable || r.error().kind == client::errc::timeout ||
                r.error().kind == client::errc::no_validators)
                throw http_error{http::status::service_unavailable, "no validator reachable"};
            throw http_error{http::status::bad_gateway, "no validator gave a proof that verifies: " + r.error().what()};
        }
        if (!*r) throw http_error{http::status::not_found, "the transaction is not in a final block (yet)"};
        const client::receipt& rc = **r;
        bjson::array path;
        for (const auto& h : rc.proof) path.push_back(bjson::value(to_hex(h)));
        bjson::object out;
        out["tx_hash"] = to_hex(rc.tx_hash);
        out["block_number"] = rc.block_number;
        out["block_hash"] = to_hex(rc.block_hash);
        out["index"] = rc.index;
        out["tx_count"] = rc.header.tx_count;
        out["tx_root"] = to_hex(rc.header.tx_root);
        out["proof"] = std::move(path);
        out["header"] = to_hex(encode(rc.header));
        out["certificate"] = json::to_json(rc.certificate);
        return out;
    }

    /// GET /api/chain/validator-changes?from_sequence=N: {"changes": [...]}, the validator-set
    /// changes from sequence `from` (1-based; 0 reads as 1), each with the final block that
    /// recorded it, in the shape of poa_getValidatorChanges (docs/api.md), so a browser holding
    /// only the genesis checks each block against the sets before it as the client does
    /// (docs/client.md, "Validator-set changes"). Only changes the backend's own client learned,
    /// verified, are passed on: the client first learns what it lacks (503 when no validator is
    /// reachable; a validator that lies teaches it nothing, and what the client knows is
    /// answered). At most rpc::validator_changes_max_count, stopping before the hex passes
    /// rpc::raw_blocks_max_hex_chars (the first always comes); none past the last change.
    bjson::object validator_changes(std::uint64_t from) {
        if (auto u = client_.update_validators(); !u && unreachable(u.error()))
            throw http_error{http::status::service_unavailable, "no validator reachable"};
        const validator_schedule vs = client_.validators();
        bjson::array out;
        std::size_t chars = 0;
        for (std::uint64_t seq = std::max<std::uint64_t>(from, 1);
             seq <= vs.changes() && out.size() < rpc::validator_changes_max_count; ++seq) {
            bjson::object o = change_entry(vs, seq);
            const std::size_t size = o.at("raw_block").as_string().size();
            if (!out.empty() && size > rpc::raw_blocks_max_hex_chars - chars) break;
            chars += size;
            out.push_back(std::move(o));
            if (chars >= rpc::raw_blocks_max_hex_chars) break;
        }
        bjson::object res;
        res["changes"] = std::move(out);
        return res;
    }

    /// Brings the client's follower to the validators' head (its blocks reach recent_); the
    /// backend's loop calls it every second.
    void refresh() { (void)client_.sync_follower(std::nullopt); }

    /// GET /api/chain/blocks?limit=N: the latest verified final blocks, newest first.
    bjson::object blocks(std::size_t limit) const {
        // The follower's lock first, never inside mu_ (on_block takes mu_ under the follower's).
        const std::uint64_t followed = client_.follower().height;
        std::lock_guard lk(mu_);
        bjson::array bs;
        for (const auto& b : recent_) {
            if (bs.size() >= limit) break;
            bs.push_back(block_json(b, false));
        }
        bjson::object out;
        out["height"] = recent_.empty() ? followed : recent_.front().fb.blk.header.height;
        out["blocks"] = std::move(bs);
        return out;
    }

    /// GET /api/chain/blocks/{height}: one final block with its transactions, verified.
    bjson::object block(std::uint64_t height) {
        {
            std::lock_guard lk(mu_);
            for (const auto& b : recent_)
                if (b.fb.blk.header.height == height) return block_json(b, true);
        }
        auto b = client_.get_block(height);
        if (!b) {
            if (b.error().kind == client::errc::unreachable || b.error().kind == client::errc::timeout)
                throw http_error{http::status::service_unavailable, "no validator reachable"};
            throw http_error{http::status::not_found, "no final block " + std::to_string(height)};
        }
        return block_json(*b, true);
    }

private:
    /// Change `seq`'s entry of validator_changes(), from the block that recorded it as the client
    /// fetched and verified it. A final block does not change, so entries are kept, in sequence
    /// order, up to change_cache_chars of hex: a page of the verify page costs no fetch then.
    bjson::object change_entry(const validator_schedule& vs, std::uint64_t seq) {
        {
            std::lock_guard lk(changes_mu_);
            if (seq <= changes_.size()) return changes_[static_cast<std::size_t>(seq - 1)];
        }
        const auto& e = vs.epochs()[static_cast<std::size_t>(seq)];
        auto b = client_.get_block(e.recorded_at);
        if (!b) {
            if (unreachable(b.error())) throw http_error{http::status::service_unavailable, "no validator reachable"};
            throw http_error{http::status::bad_gateway, "no validator gave a block that verifies: " + b.error().what()};
        }
        bjson::object o;
        o["sequence"] = seq;
        o["height"] = e.recorded_at;
        o["effective_height"] = e.from;
        std::string raw = to_hex(encode(b->fb));
        const std::size_t size = raw.size();
        o["raw_block"] = std::move(raw);
        std::lock_guard lk(changes_mu_);
        if (seq == changes_.size() + 1 && changes_chars_ + size <= change_cache_chars) {
            changes_.push_back(o);
            changes_chars_ += size;
        }
        return o;
    }

    /// No validator could be asked: the backend's side, 503 (anything else is the validators' answer).
    static bool unreachable(const client::call_error& e) noexcept {
        return e.kind == client::errc::unreachable || e.kind == client::errc::timeout ||
               e.kind == client::errc::no_validators;
    }

    static constexpr std::size_t change_cache_chars = 16u << 20;  ///< hex kept by change_entry()

    client_type& client_;
    std::mutex changes_mu_;
    std::vector<bjson::object> changes_;  ///< entries of changes 1..size(), under changes_mu_
    std::size_t changes_chars_ = 0;       ///< their raw blocks' hex, under changes_mu_
    mutable std::mutex mu_;
    std::deque<client::verified_block> recent_;  ///< newest first
};

}  // namespace ballotchain::backend
