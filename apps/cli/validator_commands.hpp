#pragma once
/// @file `ballotchain validators show|propose|approve|submit`: validator-set changes from the
/// command line (docs/protocol.md §12, data-format.md §17, operations.md "Changing the validator
/// set"). A change travels as a JSON file: `propose` writes it unsigned, with a snapshot of the
/// registry and the active set it was proposed against; each approving validator's operator runs
/// `approve` on it with their key; `submit` sends it as a `validator_set` transaction signed by
/// an active validator's key and waits until it is final.
///
/// These commands talk plain JSON-RPC to the --rpc validators (client/http_client.hpp): the
/// chain checks every rule and every approval itself, and its JSON-RPC error is printed as is.

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/chain/json.hpp>
#include <ballotchain/chain/rules.hpp>
#include <ballotchain/chain/validator_set.hpp>
#include <ballotchain/client/http_client.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/core/file.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/crypto/key_file.hpp>

#include <boost/json.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace ballotchain::app {

/// A change file: the change, its approvals, and the context it was proposed in (the registry
/// and the set whose quorum must approve it), so `approve` can work offline.
struct change_file {
    std::uint64_t chain_id = 0;
    validator_change_record rec;
    std::vector<validator_info> registry;  ///< every validator known when proposed, by id
    std::vector<std::uint32_t> active;     ///< ids of the set that approves it (ascending)
    std::vector<public_key> submitters;    ///< submitter keys of that set
    std::uint64_t proposed_at = 0;         ///< the chain's next height when proposed
};

namespace change_json {

inline constexpr std::string_view format = "ballotchain-validator-change/1";
/// A change file is small (at most 256 additions and approvals): 1 MiB is far above it.
inline constexpr std::size_t max_file_bytes = 1u << 20;

inline boost::json::object to_json(const change_file& f) {
    using boost::json::array;
    using boost::json::object;
    const auto& c = f.rec.change;
    array add, remove, add_s, remove_s, approvals, registry, active, subs;
    for (const auto& a : c.add) add.push_back(object{{"name", a.name}, {"public_key", to_hex(a.key)}});
    for (auto id : c.remove) remove.push_back(id);
    for (const auto& k : c.add_submitters) add_s.push_back(boost::json::string(to_hex(k)));
    for (const auto& k : c.remove_submitters) remove_s.push_back(boost::json::string(to_hex(k)));
    for (const auto& a : f.rec.approvals) approvals.push_back(object{{"validator", a.validator}, {"signature", to_hex(a.sig)}});
    for (std::size_t i = 0; i < f.registry.size(); ++i)
        registry.push_back(object{{"id", i}, {"name", f.registry[i].name}, {"public_key", to_hex(f.registry[i].key)}});
    for (auto id : f.active) active.push_back(id);
    for (const auto& k : f.submitters) subs.push_back(boost::json::string(to_hex(k)));
    return object{{"format", format},
                  {"chain_id", f.chain_id},
                  {"sequence", c.sequence},
                  {"effective_height", c.effective_height},
                  {"add", std::move(add)},
                  {"remove", std::move(remove)},
                  {"add_submitters", std::move(add_s)},
                  {"remove_submitters", std::move(remove_s)},
                  {"approvals", std::move(approvals)},
                  {"context", object{{"proposed_at_height", f.proposed_at},
                                     {"registry", std::move(registry)},
                                     {"active", std::move(active)},
                                     {"submitters", std::move(subs)}}}};
}

namespace detail {
inline std::optional<std::uint64_t> u64(const boost::json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    if (!v) return std::nullopt;
    if (v->is_uint64()) return v->as_uint64();
    if (v->is_int64() && v->as_int64() >= 0) return static_cast<std::uint64_t>(v->as_int64());
    return std::nullopt;
}
inline const boost::json::array* arr(const boost::json::object& o, std::string_view k, std::size_t max) {
    const auto* v = o.if_contains(k);
    const auto* a = v ? v->if_array() : nullptr;
    return a && a->size() <= max ? a : nullptr;
}
template <std::size_t N>
inline std::optional<fixed_bytes<N>> hex_fixed(const boost::json::value& v) {
    if (!v.is_string()) return std::nullopt;
    auto k = from_hex_fixed<N>(std::string_view(v.as_string()));
    if (!k) return std::nullopt;
    return *k;
}
inline std::optional<std::string> str(const boost::json::object& o, std::string_view k, std::size_t max) {
    const auto* v = o.if_contains(k);
    if (!v || !v->is_string() || v->as_string().size() > max) return std::nullopt;
    return std::string(v->as_string());
}
inline bool ids(const boost::json::array& a, std::vector<std::uint32_t>& out) {
    for (const auto& v : a) {
        if (!v.is_uint64() && !(v.is_int64() && v.as_int64() >= 0)) return false;
        const auto x = v.is_uint64() ? v.as_uint64() : static_cast<std::uint64_t>(v.as_int64());
        if (x >= limits::max_registry) return false;
        out.push_back(static_cast<std::uint32_t>(x));
    }
    return true;
}
inline bool keys(const boost::json::array& a, std::vector<public_key>& out) {
    for (const auto& v : a) {
        auto k = hex_fixed<32>(v);
        if (!k) return false;
        out.push_back(*k);
    }
    return true;
}
}  // namespace detail

/// Parses a change file; every list bounded before it is read. The chain checks the rules; this
/// checks the shape (and says which field is wrong).
inline std::optional<change_file> from_json(const boost::json::value& v, std::string& why) {
    using detail::arr;
    auto bad = [&](const std::string& w) -> std::optional<change_file> {
        why = w;
        return std::nullopt;
    };
    const auto* o = v.if_object();
    if (!o) return bad("not a JSON object");
    if (detail::str(*o, "format", 64) != std::string(format)) return bad(std::string("\"format\" is not \"") + std::string(format) + "\"");
    change_file f;
    auto& c = f.rec.change;
    const auto chain = detail::u64(*o, "chain_id");
    const auto seq = detail::u64(*o, "sequence");
    const auto eff = detail::u64(*o, "effective_height");
    if (!chain || !seq || !eff) return bad("chain_id, sequence and effective_height must be unsigned integers");
    f.chain_id = *chain;
    c.sequence = *seq;
    c.effective_height = *eff;
    const auto* add = arr(*o, "add", limits::max_validators);
    const auto* rem = arr(*o, "remove", limits::max_validators);
    const auto* add_s = arr(*o, "add_submitters", limits::max_submitters);
    const auto* rem_s = arr(*o, "remove_submitters", limits::max_submitters);
    const auto* appr = arr(*o, "approvals", limits::max_validators);
    if (!add || !rem || !add_s || !rem_s || !appr)
        return bad("add, remove, add_submitters, remove_submitters and approvals must be arrays (at most 256 or 1024 entries)");
    for (const auto& a : *add) {
        const auto* ao = a.if_object();
        auto name = ao ? detail::str(*ao, "name", limits::max_name_bytes) : std::nullopt;
        auto key = ao && ao->if_contains("public_key") ? detail::hex_fixed<32>(ao->at("public_key")) : std::nullopt;
        if (!name || !key) return bad("add: each entry is {\"name\" (1..64 bytes), \"public_key\" (0x + 64 hex digits)}");
        c.add.push_back({*name, *key});
    }
    if (!detail::ids(*rem, c.remove)) return bad("remove: validator ids (unsigned integers below 1024)");
    if (!detail::keys(*add_s, c.add_submitters) || !detail::keys(*rem_s, c.remove_submitters))
        return bad("add_submitters/remove_submitters: public keys, 0x + 64 hex digits");
    for (const auto& a : *appr) {
        const auto* ao = a.if_object();
        auto id = ao ? detail::u64(*ao, "validator") : std::nullopt;
        auto sig = ao && ao->if_contains("signature") ? detail::hex_fixed<64>(ao->at("signature")) : std::nullopt;
        if (!id || *id >= limits::max_registry || !sig)
            return bad("approvals: each entry is {\"validator\" (id), \"signature\" (0x + 128 hex digits)}");
        f.rec.approvals.push_back({static_cast<std::uint32_t>(*id), *sig});
    }
    const auto* ctx = o->if_contains("context") ? o->at("context").if_object() : nullptr;
    if (!ctx) return bad("context: missing (write the file with `ballotchain validators propose`)");
    const auto* reg = arr(*ctx, "registry", limits::max_registry);
    const auto* act = arr(*ctx, "active", limits::max_validators);
    const auto* subs = arr(*ctx, "submitters", limits::max_submitters);
    const auto at = detail::u64(*ctx, "proposed_at_height");
    if (!reg || !act || !subs || !at) return bad("context: registry, active, submitters and proposed_at_height required");
    f.proposed_at = *at;
    for (std::size_t i = 0; i < reg->size(); ++i) {
        const auto* ro = (*reg)[i].if_object();
        auto name = ro ? detail::str(*ro, "name", limits::max_name_bytes) : std::nullopt;
        auto key = ro && ro->if_contains("public_key") ? detail::hex_fixed<32>(ro->at("public_key")) : std::nullopt;
        if (!name || !key || detail::u64(*ro, "id") != i) return bad("context.registry: entries {id (0, 1, ...), name, public_key}");
        f.registry.push_back({*name, *key});
    }
    if (!detail::ids(*act, f.active) || !detail::keys(*subs, f.submitters)) return bad("context: active ids or submitter keys");
    for (auto id : f.active)
        if (id >= f.registry.size()) return bad(std::string("context.active: id ") + std::to_string(id) + " is not in the registry");
    return f;
}

}  // namespace change_json

class validator_commands {
public:
    explicit validator_commands(CLI::App& app) {
        top_ = app.add_subcommand(
            "validators",
            "validator-set changes by on-chain vote of the active validators (docs/operations.md \"Changing the validator "
            "set\"): show the registry and sets, propose a change, approve it with validator keys, submit it");
        top_->require_subcommand(1);
        show_ = top_->add_subcommand("show", "print the validator registry (ids), every scheduled set and the changes "
                                             "(poa_validatorSet of one validator)");
        propose_ = top_->add_subcommand(
            "propose",
            "write an unsigned change as JSON: validators to add and remove, submitter keys to add and remove, the "
            "height it takes effect; sequence, registry and active set come from --rpc (or, for a chain's first change, "
            "--genesis)");
        approve_ = top_->add_subcommand(
            "approve",
            "add this validator's approval (its signature over the change, data-format.md §17) to a change file; the "
            "key must be in the set that approves it (the file's context, or --rpc's current one)");
        submit_ = top_->add_subcommand(
            "submit",
            "send a change file's change and approvals as a validator_set transaction signed with an active validator's "
            "key; with --wait, wait until it is final and print its block and effective height");

        show_->add_option("--rpc", rpc_, "validator RPC URL, e.g. http://127.0.0.1:8001")->required();
        show_->add_flag("--json", json_, "print poa_validatorSet's answer as JSON");

        auto* src = propose_->add_option("--rpc", rpc_, "validator RPC URL: the chain id, next sequence, registry and set");
        propose_->add_option("--genesis", genesis_,
                             "genesis file instead of --rpc (offline; only for the chain's first change, sequence 1)")
            ->check(CLI::ExistingFile)
            ->excludes(src);
        propose_->add_option("--add", add_,
                             "a validator to add, NAME=PUBKEY (0x + 64 hex digits, `ballotchain keygen --show`); "
                             "repeat; each gets the next id in this order");
        propose_->add_option("--remove", remove_, "an active validator to remove, by id or name (repeat)");
        propose_->add_option("--add-submitter", add_sub_, "a submitter (backend) key to allow, 0x-hex (repeat)");
        propose_->add_option("--remove-submitter", remove_sub_, "a submitter key to revoke, 0x-hex (repeat)");
        auto* eff = propose_->add_option("--effective-height", effective_, "the first height the new set decides");
        propose_->add_option("--in", in_,
                             "or: that many heights after the chain's head (leave time for approvals: the change "
                             "must be final before this height)")
            ->excludes(eff)
            ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{validator_change_limits::max_lead}));
        propose_->add_option("--out,-o", out_, "change file to write (default: print to stdout)");
        propose_->add_flag("--force", force_, "replace an existing file");

        for (auto* c : {approve_, submit_}) c->add_option("file", file_, "change file (from `validators propose`)")->required()->check(CLI::ExistingFile);
        approve_->add_option("--key", key_, "this validator's key file")->required()->check(CLI::ExistingFile);
        approve_->add_option("--rpc", rpc_, "check against this validator's current registry and set instead of the file's");
        submit_->add_option("--key", key_, "an active validator's key file (signs the transaction)")->required()
            ->check(CLI::ExistingFile);
        submit_->add_option("--rpc", rpcs_, "validator RPC URL (repeat for several: the next is tried when one does not answer)")
            ->required();
        submit_->add_option("--wait", wait_s_, "wait up to this many seconds until it is final (0: do not wait)")
            ->capture_default_str()
            ->check(CLI::Range(0u, 86'400u));
        for (auto* c : {show_, propose_, approve_, submit_})
            c->add_option("--timeout-ms", timeout_ms_, "deadline of each JSON-RPC call")->capture_default_str()
                ->check(CLI::Range(1u, 3'600'000u));
    }

    bool selected() const { return top_->parsed(); }

    int run() {
        if (*show_) return show();
        if (*propose_) return propose();
        if (*approve_) return approve();
        if (*submit_) return submit();
        return fail("validators: give a subcommand (show, propose, approve, submit)");
    }

private:
    static int fail(const std::string& m) {
        std::fprintf(stderr, "ballotchain: %s\n", m.c_str());
        return 1;
    }

    /// One JSON-RPC call; on an error answer or none, prints why and returns nullopt.
    std::optional<boost::json::value> call(const std::string& url, const std::string& method, boost::json::array params,
                                           std::string* why = nullptr) const {
        const auto u = client::parse_url(url);
        std::string w;
        if (!u) {
            w = "--rpc must be http://host:port or https://host:port, not " + url;
        } else {
            auto o = client::rpc_request(*u, method, params, std::chrono::milliseconds(timeout_ms_));
            if (o.ok()) return std::move(o.value);
            if (o.answered()) {
                const auto* eo = o.value.if_object();
                const auto* m = eo ? eo->if_contains("message") : nullptr;
                w = (m && m->is_string() ? std::string(m->as_string()) : boost::json::serialize(o.value));
                if (auto code = o.error_code()) w += std::string(" (JSON-RPC error ") + std::to_string(*code) + ")";
            } else {
                w = url + ": " + o.why;
            }
        }
        if (why) *why = w;
        else fail(method + ": " + w);
        return std::nullopt;
    }

    /// The context of a change from poa_validatorSet: chain id, next sequence, registry, set.
    std::optional<change_file> context_from_rpc(const std::string& url) const {
        auto v = call(url, "poa_validatorSet", {});
        if (!v) return std::nullopt;
        const auto* o = v->if_object();
        change_file f;
        std::string why;
        const auto chain = o ? change_json::detail::u64(*o, "chain_id") : std::nullopt;
        const auto changes = o ? change_json::detail::u64(*o, "changes") : std::nullopt;
        const auto next = o ? change_json::detail::u64(*o, "next_height") : std::nullopt;
        const auto* reg = o ? change_json::detail::arr(*o, "registry", limits::max_registry) : nullptr;
        const auto* epochs = o ? change_json::detail::arr(*o, "epochs", limits::max_registry) : nullptr;
        if (!chain || !changes || !next || !reg || !epochs || epochs->empty()) {
            fail(url + ": poa_validatorSet's answer is not what this version expects");
            return std::nullopt;
        }
        boost::json::object fake{{"format", change_json::format}, {"chain_id", *chain}, {"sequence", *changes + 1},
                                 {"effective_height", 0}, {"add", boost::json::array{}}, {"remove", boost::json::array{}},
                                 {"add_submitters", boost::json::array{}}, {"remove_submitters", boost::json::array{}},
                                 {"approvals", boost::json::array{}}};
        const auto& last = epochs->back().as_object();
        fake["context"] = boost::json::object{{"proposed_at_height", *next},
                                              {"registry", *reg},
                                              {"active", last.contains("members") ? last.at("members") : boost::json::value()},
                                              {"submitters", last.contains("submitters") ? last.at("submitters") : boost::json::value()}};
        auto parsed = change_json::from_json(fake, why);
        if (!parsed) {
            fail(url + ": poa_validatorSet: " + why);
            return std::nullopt;
        }
        const auto from = change_json::detail::u64(last, "from_height");
        if (from && *from > *next)
            std::fprintf(stderr,
                         "ballotchain: note: change %llu takes effect at height %llu; a new change can be recorded only "
                         "from then on (else: change_pending)\n",
                         static_cast<unsigned long long>(*changes), static_cast<unsigned long long>(*from));
        return parsed;
    }

    int show() {
        auto v = call(rpc_, "poa_validatorSet", {});
        if (!v) return 1;
        if (json_) {
            std::printf("%s\n", boost::json::serialize(*v).c_str());
            return 0;
        }
        auto ctx = context_from_rpc(rpc_);
        if (!ctx) return 1;
        const auto& o = v->as_object();
        const auto next = *change_json::detail::u64(o, "next_height");
        std::printf("chain %llu, next height %llu, %llu validator-set change(s)\n", static_cast<unsigned long long>(ctx->chain_id),
                    static_cast<unsigned long long>(next), static_cast<unsigned long long>(ctx->rec.change.sequence - 1));
        // Which set decides the next height, and which one is scheduled after it (if any).
        const auto& epochs = o.at("epochs").as_array();
        const boost::json::object* now = nullptr;
        const boost::json::object* later = nullptr;
        for (const auto& e : epochs) {
            const auto& eo = e.as_object();
            if (change_json::detail::u64(eo, "from_height").value_or(0) <= next) now = &eo;
            else later = &eo;
        }
        auto member = [](const boost::json::object* e, std::size_t id) {
            if (!e) return false;
            for (const auto& m : e->at("members").as_array())
                if (m.to_number<std::uint64_t>() == id) return true;
            return false;
        };
        std::printf("registry (id  name  public key  status):\n");
        for (std::size_t i = 0; i < ctx->registry.size(); ++i) {
            const bool a = member(now, i), b = member(later, i);
            std::string status = a ? "active" : "not active";
            if (later && a && !b) status += std::string(", removed from height ") + std::to_string(later->at("from_height").to_number<std::uint64_t>());
            if (later && !a && b) status += std::string(", active from height ") + std::to_string(later->at("from_height").to_number<std::uint64_t>());
            std::printf("  %zu  %s  %s  %s\n", i, ctx->registry[i].name.c_str(), to_hex(ctx->registry[i].key).c_str(),
                        status.c_str());
        }
        std::printf("sets:\n");
        for (const auto& e : epochs) {
            const auto& eo = e.as_object();
            std::string ids;
            for (const auto& m : eo.at("members").as_array()) {
                if (!ids.empty()) ids += ' ';
                ids += std::to_string(m.to_number<std::uint64_t>());
            }
            std::printf("  from height %llu: ids %s (quorum %llu), %zu submitter key(s)%s\n",
                        static_cast<unsigned long long>(eo.at("from_height").to_number<std::uint64_t>()), ids.c_str(),
                        static_cast<unsigned long long>(eo.at("quorum").to_number<std::uint64_t>()),
                        eo.at("submitters").as_array().size(), &eo == now ? "  <- decides the next height" : "");
        }
        return 0;
    }

    /// --remove's argument: a registry name, or an id.
    static std::optional<std::uint32_t> id_by_name_or_number(const change_file& f, const std::string& s) {
        for (std::size_t i = 0; i < f.registry.size(); ++i)
            if (f.registry[i].name == s) return static_cast<std::uint32_t>(i);
        std::uint64_t id = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
        if (ec == std::errc{} && p == s.data() + s.size() && id < f.registry.size()) return static_cast<std::uint32_t>(id);
        return std::nullopt;
    }

    static std::optional<public_key> valid_key(const std::string& what, const std::string& s) {
        auto k = from_hex_fixed<32>(s);
        if (!k) {
            fail(what + " " + s + ": not a public key (0x followed by 64 hex digits)");
            return std::nullopt;
        }
        if (ed25519_small_order(*k) || !ed25519_canonical(*k)) {
            fail(what + " " + s + ": not a valid Ed25519 public key (small order or non-canonical)");
            return std::nullopt;
        }
        return *k;
    }

    int propose() {
        std::optional<change_file> f;
        if (!rpc_.empty()) {
            f = context_from_rpc(rpc_);
            if (!f) return 1;
        } else if (!genesis_.empty()) {
            auto g = json::load_genesis_file(genesis_);
            if (!g) return fail(genesis_ + ": " + g.error().message());
            f.emplace();
            f->chain_id = g->chain_id;
            f->rec.change.sequence = 1;
            f->registry = g->validators;
            for (std::uint32_t i = 0; i < g->validators.size(); ++i) f->active.push_back(i);
            f->submitters = g->submitters;
            f->proposed_at = 1;
        } else {
            return fail("validators propose: give --rpc (or --genesis for the chain's first change)");
        }
        auto& c = f->rec.change;
        const std::uint64_t head = f->proposed_at - 1;
        if (effective_) c.effective_height = *effective_;
        else if (in_) c.effective_height = head + *in_;
        else return fail("give --effective-height H or --in N (heights after the head)");
        if (c.effective_height <= head)
            return fail(std::string("--effective-height ") + std::to_string(c.effective_height) + " is not after the chain's head (" +
                        std::to_string(head) + ")");
        if (c.effective_height - head > validator_change_limits::max_lead)
            return fail("--effective-height: at most 1,000,000 heights after the head");
        for (const auto& text : add_) {
            const auto eq = text.find('=');
            if (eq == std::string::npos) return fail("--add " + text + ": expected NAME=PUBKEY");
            const std::string name = text.substr(0, eq);
            if (name.empty() || name.size() > limits::max_name_bytes) return fail("--add " + text + ": a name of 1..64 bytes");
            auto k = valid_key("--add", text.substr(eq + 1));
            if (!k) return 1;
            for (std::size_t i = 0; i < f->registry.size(); ++i)
                if (f->registry[i].key == *k)
                    return fail("--add " + text + ": this key is already validator id " + std::to_string(i) + " (" +
                                f->registry[i].name + "); a key is never added twice: generate a new one");
            for (const auto& a : c.add)
                if (a.key == *k) return fail("--add " + text + ": the key is given twice");
            c.add.push_back({name, *k});
        }
        for (const auto& r : remove_) {
            auto id = id_by_name_or_number(*f, r);
            if (!id) return fail("--remove " + r + ": no validator with this name or id in the registry");
            if (!std::binary_search(f->active.begin(), f->active.end(), *id))
                return fail("--remove " + r + ": validator id " + std::to_string(*id) + " is not in the active set");
            if (std::find(c.remove.begin(), c.remove.end(), *id) != c.remove.end()) return fail("--remove " + r + ": given twice");
            c.remove.push_back(*id);
        }
        std::sort(c.remove.begin(), c.remove.end());
        auto is_sub = [&](const public_key& k) { return std::find(f->submitters.begin(), f->submitters.end(), k) != f->submitters.end(); };
        for (const auto& s : add_sub_) {
            auto k = valid_key("--add-submitter", s);
            if (!k) return 1;
            if (is_sub(*k)) return fail("--add-submitter " + s + ": already a submitter");
            if (std::find(c.add_submitters.begin(), c.add_submitters.end(), *k) != c.add_submitters.end())
                return fail("--add-submitter " + s + ": given twice");
            c.add_submitters.push_back(*k);
        }
        for (const auto& s : remove_sub_) {
            auto k = valid_key("--remove-submitter", s);
            if (!k) return 1;
            if (!is_sub(*k)) return fail("--remove-submitter " + s + ": not a submitter of the active set");
            if (std::find(c.remove_submitters.begin(), c.remove_submitters.end(), *k) != c.remove_submitters.end())
                return fail("--remove-submitter " + s + ": given twice");
            c.remove_submitters.push_back(*k);
        }
        if (c.add.empty() && c.remove.empty() && c.add_submitters.empty() && c.remove_submitters.empty())
            return fail("the change changes nothing: give --add, --remove, --add-submitter or --remove-submitter");
        const std::size_t n_after = f->active.size() - c.remove.size() + c.add.size();
        if (n_after == 0 || n_after > limits::max_validators)
            return fail(std::string("the new set would have ") + std::to_string(n_after) + " validators (1..256)");
        if (f->registry.size() + c.add.size() > limits::max_registry) return fail("the registry would exceed 1024 validators");
        if (f->submitters.size() - c.remove_submitters.size() + c.add_submitters.size() > limits::max_submitters)
            return fail("more than 1024 submitter keys");
        if (f->submitters.size() == c.remove_submitters.size() && c.add_submitters.empty())
            std::fprintf(stderr, "ballotchain: warning: no submitter key is left after this change: no vote can be sent\n");
        const std::size_t q = (2 * f->active.size() + 2) / 3;
        if (int rc = write(*f, out_, force_)) return rc;
        std::fprintf(stderr,
                     "change %llu of chain %llu: +%zu validator(s), -%zu, +%zu/-%zu submitter key(s), from height %llu; "
                     "new set of %zu (quorum %zu). Needs approvals from %zu of the %zu active validators "
                     "(`ballotchain validators approve`)\n",
                     static_cast<unsigned long long>(c.sequence), static_cast<unsigned long long>(f->chain_id), c.add.size(),
                     c.remove.size(), c.add_submitters.size(), c.remove_submitters.size(),
                     static_cast<unsigned long long>(c.effective_height), n_after, (2 * n_after + 2) / 3, q, f->active.size());
        return 0;
    }

    static int write(const change_file& f, const std::string& out, bool force) {
        const std::string text = boost::json::serialize(change_json::to_json(f)) + "\n";
        if (out.empty()) {
            std::fputs(text.c_str(), stdout);
            return 0;
        }
        if (auto r = write_file_atomic(out, text, 0644, force); !r)
            return fail(out + ": " + r.error().message() +
                        (std::filesystem::exists(out) && !force ? " (use --force to replace it)" : ""));
        return 0;
    }

    std::optional<change_file> load(const std::string& path) const {
        auto text = read_file(path, change_json::max_file_bytes);
        if (!text) {
            fail(path + ": " + text.error().message());
            return std::nullopt;
        }
        boost::system::error_code ec;
        auto v = boost::json::parse(*text, ec);
        if (ec) {
            fail(path + ": not JSON: " + ec.message());
            return std::nullopt;
        }
        std::string why;
        auto f = change_json::from_json(v, why);
        if (!f) fail(path + ": " + why);
        return f;
    }

    int approve() {
        auto f = load(file_);
        if (!f) return 1;
        auto kp = load_key_file(key_);
        if (!kp) return fail(key_ + ": " + kp.error().message());
        if (!rpc_.empty()) {
            auto now = context_from_rpc(rpc_);
            if (!now) return 1;
            if (now->chain_id != f->chain_id)
                return fail(rpc_ + " is chain " + std::to_string(now->chain_id) + ", the change is for chain " +
                            std::to_string(f->chain_id));
            if (now->rec.change.sequence != f->rec.change.sequence)
                return fail(std::string("the chain's next change is ") + std::to_string(now->rec.change.sequence) + ", this file's is " +
                            std::to_string(f->rec.change.sequence) + ": propose it again");
            f->registry = now->registry;
            f->active = now->active;
            f->submitters = now->submitters;
        }
        std::optional<std::uint32_t> id;
        for (std::size_t i = 0; i < f->registry.size(); ++i)
            if (f->registry[i].key == kp->public_key()) id = static_cast<std::uint32_t>(i);
        if (!id) return fail(key_ + " (" + to_hex(kp->public_key()) + ") is not a validator of this chain's registry");
        if (!std::binary_search(f->active.begin(), f->active.end(), *id))
            return fail(key_ + ": validator id " + std::to_string(*id) + " (" + f->registry[*id].name +
                        ") is not in the active set: its approval would not count");
        auto& ap = f->rec.approvals;
        if (std::any_of(ap.begin(), ap.end(), [&](const change_approval& a) { return a.validator == *id; }))
            return fail(file_ + ": validator id " + std::to_string(*id) + " (" + f->registry[*id].name + ") already approved it");
        const bytes msg = change_message(f->chain_id, f->rec.change);
        ap.push_back({*id, ed25519_sha256::sign(*kp, msg)});
        std::sort(ap.begin(), ap.end(), [](const change_approval& a, const change_approval& b) { return a.validator < b.validator; });
        if (int rc = write(*f, file_, true)) return rc;
        const std::size_t q = (2 * f->active.size() + 2) / 3;
        std::printf("approved by validator id %u (%s): %zu of %zu approvals needed%s\n", *id, f->registry[*id].name.c_str(),
                    ap.size(), q, ap.size() >= q ? " (enough: `ballotchain validators submit`)" : "");
        return 0;
    }

    int submit() {
        auto f = load(file_);
        if (!f) return 1;
        auto kp = load_key_file(key_);
        if (!kp) return fail(key_ + ": " + kp.error().message());
        // The approvals are checked here too (a bad one would only come back as bad_change_approval).
        const bytes msg = change_message(f->chain_id, f->rec.change);
        for (const auto& a : f->rec.approvals)
            if (a.validator >= f->registry.size() || !ed25519_sha256::verify(f->registry[a.validator].key, msg, a.sig))
                return fail(file_ + ": the approval of validator id " + std::to_string(a.validator) +
                            " does not verify (the change was edited after it was approved?)");
        vote_tx tx;
        tx.kind = tx_kind::validator_set;
        tx.chain_id = f->chain_id;
        tx.election_id = 0;
        tx.candidate_id = 0;
        tx.voter_tag = change_slot_tag(f->rec.change.sequence);
        tx.encrypted_vote = encode(f->rec);
        tx.timestamp_ms = steady_clock_adapter{}.wall_ms();
        const hash32 th = sign_tx<ed25519_sha256>(tx, *kp);
        const std::string raw = to_hex(encode(tx));
        std::string why;
        std::optional<std::string> sent_to;
        for (const auto& u : rpcs_) {
            auto r = call(u, "eth_sendRawTransaction", {boost::json::string(raw)}, &why);
            if (r) {
                sent_to = u;
                break;
            }
            if (why.rfind(u + ": ", 0) != 0) {  // an answer: do not retry
                if (why.find("(JSON-RPC error -32003)") != std::string::npos)
                    why += std::string(": change ") + std::to_string(f->rec.change.sequence) +
                           "'s slot is taken, a change with this sequence is recorded or pooled (`ballotchain validators show`)";
                return fail("refused " + to_hex(th) + ": " + why);
            }
        }
        if (!sent_to) return fail("no validator answered: " + why);
        std::printf("%s\n", to_hex(th).c_str());
        if (wait_s_ == 0) return 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s_);
        while (std::chrono::steady_clock::now() < deadline) {
            auto st = call(*sent_to, "poa_getTransactionStatus", {boost::json::string(to_hex(th))}, &why);
            const auto* so = st ? st->if_object() : nullptr;
            const auto* s = so ? so->if_contains("status") : nullptr;
            if (s && s->is_string() && s->as_string() == "final") {
                const auto block = change_json::detail::u64(*so, "block_number").value_or(0);
                std::printf("  final in block %llu; validator-set change %llu takes effect at height %llu\n",
                            static_cast<unsigned long long>(block), static_cast<unsigned long long>(f->rec.change.sequence),
                            static_cast<unsigned long long>(f->rec.change.effective_height));
                return 0;
            }
            if (s && s->is_string() && s->as_string() == "dropped")
                return fail("dropped " + to_hex(th) + ": another record holds change " + std::to_string(f->rec.change.sequence) +
                            "'s slot (`ballotchain validators show`)");
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        return fail(std::string("not final after ") + std::to_string(wait_s_) + " s: " + to_hex(th) +
                    " (if the chain passes height " + std::to_string(f->rec.change.effective_height - 1) +
                    " first, it is refused: propose again with a later height)");
    }

    CLI::App* top_ = nullptr;
    CLI::App* show_ = nullptr;
    CLI::App* propose_ = nullptr;
    CLI::App* approve_ = nullptr;
    CLI::App* submit_ = nullptr;
    std::string rpc_, genesis_, out_, file_, key_;
    std::vector<std::string> rpcs_, add_, remove_, add_sub_, remove_sub_;
    std::optional<std::uint64_t> effective_, in_;
    bool json_ = false, force_ = false;
    std::uint32_t wait_s_ = 0, timeout_ms_ = 10'000;
};

}  // namespace ballotchain::app
