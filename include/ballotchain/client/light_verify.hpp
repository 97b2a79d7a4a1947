#pragma once
/// @file What the verifying client checks before it believes a validator,
/// from the genesis alone (the trust anchor): a receipt (header hash, commit
/// certificate, Merkle inclusion), a final block (header hash, certificate,
/// transaction root, its place after its parent), a head (a certified header).
/// No chain state, no I/O: tests/unit/client/light_verify_test.cpp feeds it
/// honest and forged answers.

#include <ballotchain/client/answers.hpp>
#include <ballotchain/chain/rules.hpp>

#include <optional>
#include <string>

namespace ballotchain::client {

/// Checks answers against one chain's genesis.
/// @tparam Suite the chain's hash and signature suite
/// @par Thread safety Only learn_block changes it: share it read-only, or copy it to learn
/// (the verifying client replaces its verifier with a copy that learned the change).
template <suite Suite>
class light_verifier {
public:
    explicit light_verifier(genesis_config g)
        : g_(std::move(g)), genesis_hash_(ballotchain::genesis_hash<Suite>(g_)), block0_(make_genesis_block<Suite>(g_)),
          vs_(g_) {}

    const genesis_config& genesis() const noexcept { return g_; }
    /// The validator sets this verifier knows: the genesis's, then every change it learned
    /// (learn_block); a certificate above the last known change's height may need a later one.
    const validator_schedule& validators() const noexcept { return vs_; }
    const hash32& genesis_hash() const noexcept { return genesis_hash_; }
    /// Block 0 as the genesis implies it, and its hash.
    const finalized_block& block0() const noexcept { return block0_; }
    hash32 block0_hash() const { return block0_.cert.block_hash; }

    /// Why `r` does not prove that `tx` is final, or nullopt when it does.
    std::optional<std::string> check_receipt(const receipt& r, const hash32& tx) const {
        if (r.tx_hash != tx) return "receipt is for transaction " + to_hex(r.tx_hash) + ", not " + to_hex(tx);
        if (auto why = check_header(r.header, r.block_hash, r.certificate)) return why;
        if (r.block_number != r.header.height)
            return "block_number " + std::to_string(r.block_number) + " is not the header's height " +
                   std::to_string(r.header.height);
        if (!merkle_verify<Suite>(r.tx_hash, r.index, r.header.tx_count, r.proof, r.header.tx_root))
            return "Merkle proof does not lead from the transaction at index " + std::to_string(r.index) +
                   " to the header's tx_root";
        return std::nullopt;
    }

    /// Why `h` (claimed hash `bh`, certificate `c`) is not a final block of
    /// this chain, or nullopt: the hash is the header's, the chain id ours, and
    /// `c` a valid certificate (data-format.md §6). Block 0 must be the one the
    /// genesis implies.
    std::optional<std::string> check_header(const block_header& h, const hash32& bh, const commit_certificate& c) const {
        if (h.chain_id != g_.chain_id)
            return "header of chain " + std::to_string(h.chain_id) + ", not " + std::to_string(g_.chain_id);
        if (block_hash<Suite>(h) != bh) return "header does not hash to the block hash " + to_hex(bh);
        if (h.height == 0) {
            if (bh != block0_hash() || c != block0_.cert) return "block 0 is not the one the genesis implies";
            return std::nullopt;
        }
        if (auto ec = chain_rules<Suite>(g_).check_certificate(h, bh, c, vs_)) return "certificate: " + ec.message();
        return std::nullopt;
    }

    /// Checks a final block in isolation: certificate, header hash, the
    /// transaction root over its transactions, their count and chain id.
    /// Signatures of the transactions are checked only with `check_tx_signatures`
    /// (the certificate already says a quorum of validators checked them).
    decoded<verified_block> check_block(finalized_block fb, bool check_tx_signatures = false) const {
        using R = decoded<verified_block>;
        const auto& h = fb.blk.header;
        verified_block out;
        out.hash = block_hash<Suite>(h);
        if (auto why = check_header(h, out.hash, fb.cert)) return R(boost::system::in_place_error, *why);
        if (h.height == 0) {
            if (fb != block0_) return R(boost::system::in_place_error, "block 0 is not the one the genesis implies");
            out.fb = std::move(fb);
            return out;
        }
        if (h.tx_count != fb.blk.txs.size()) return R(boost::system::in_place_error, "tx_count is not the number of transactions");
        const chain_rules<Suite> rules(g_);
        out.tx_hashes.reserve(fb.blk.txs.size());
        signature_checker<Suite> sigs;
        for (const auto& tx : fb.blk.txs) {
            if (auto ec = rules.check_tx_fields(tx, vs_, h.height)) return R(boost::system::in_place_error, "transaction: " + ec.message());
            out.tx_hashes.push_back(tx_hash<Suite>(tx));
            if (check_tx_signatures && !sigs(tx, out.tx_hashes.back()))
                return R(boost::system::in_place_error, "transaction " + to_hex(out.tx_hashes.back()) + ": invalid signature");
        }
        if (merkle_root<Suite>(out.tx_hashes) != h.tx_root)
            return R(boost::system::in_place_error, "transactions do not hash to the header's tx_root");
        const auto& set = vs_.at(h.height);
        if (set.n() == 0 || h.proposer != set.proposer(h.height, h.round) ||
            !Suite::verify(vs_.key(h.proposer), out.hash.view(), fb.blk.proposer_sig))
            return R(boost::system::in_place_error, "proposer or proposer signature is wrong");
        out.fb = std::move(fb);
        return out;
    }

    /// Decodes a poa_getRawBlock answer (block ‖ certificate, at most `max_bytes`) and checks it.
    decoded<verified_block> check_raw_block(std::string_view hex, bool check_tx_signatures = false,
                                            std::size_t max_bytes = 64u << 20) const {
        using R = decoded<verified_block>;
        auto raw = from_hex(hex, max_bytes);
        if (!raw) return R(boost::system::in_place_error, "raw block is not hex within the size bound");
        auto fb = decode_finalized_block(*raw);
        if (!fb) return R(boost::system::in_place_error, "raw block does not decode: " + fb.error().message());
        return check_block(std::move(*fb), check_tx_signatures);
    }

    /// Learns the validator-set changes recorded in `b`, a block this verifier checked
    /// (check_block) whose parent's changes it already knows: each is checked as a validator
    /// would (sequence, height, approvals by a quorum of the set then active). Why one is
    /// refused, or nullopt.
    std::optional<std::string> learn_block(const finalized_block& b) {
        const chain_rules<Suite> rules(g_);
        for (const auto& tx : b.blk.txs) {
            if (tx.kind != tx_kind::validator_set) continue;
            auto rec = decode_validator_change(tx.encrypted_vote);
            if (!rec) return "validator-set change does not decode: " + rec.error().message();
            if (rec->change.sequence <= vs_.changes()) continue;  // known already
            if (auto ec = rules.check_record_signatures(tx, vs_)) return "validator-set change: " + ec.message();
            if (auto ec = vs_.check(*rec, b.blk.header.height)) return "validator-set change: " + ec.message();
            vs_.apply(*rec, b.blk.header.height);
        }
        return std::nullopt;
    }

private:
    genesis_config g_;
    hash32 genesis_hash_;
    finalized_block block0_;
    validator_schedule vs_;
};

}  // namespace ballotchain::client
