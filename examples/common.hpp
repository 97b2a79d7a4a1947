#pragma once
// Shared by the examples: "--name value" arguments, and the client over the
// validators named by --rpc (repeatable) checked against --genesis.
// Copy it along with an example; it uses nothing but the ballotchain headers.

#include <ballotchain/chain/json.hpp>
#include <ballotchain/client/client.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace example {

/// argv as "--name value" pairs; a name may repeat (--rpc URL --rpc URL).
struct args {
    std::multimap<std::string, std::string> kv;
    args(int argc, char** argv) {
        for (int i = 1; i + 1 < argc; i += 2) kv.emplace(argv[i], argv[i + 1]);
    }
    std::string get(const std::string& k, std::string fallback = {}) const {
        auto it = kv.find(k);
        return it == kv.end() ? fallback : it->second;
    }
    std::vector<std::string> all(const std::string& k) const {
        std::vector<std::string> out;
        for (auto [a, b] = kv.equal_range(k); a != b; ++a) out.push_back(a->second);
        return out;
    }
    std::uint64_t number(const std::string& k, std::uint64_t fallback) const {
        auto s = get(k);
        return s.empty() ? fallback : std::strtoull(s.c_str(), nullptr, 10);
    }
};

/// The validators of --rpc, as the client's nodes.
inline std::vector<ballotchain::client::node_info> nodes_of(const args& a) {
    std::vector<ballotchain::client::node_info> out;
    for (const auto& url : a.all("--rpc")) out.push_back({url, url, ""});
    return out;
}

/// The genesis every answer is checked against (--genesis FILE); exits when it cannot be read.
inline ballotchain::genesis_config genesis_of(const args& a) {
    auto g = ballotchain::json::load_genesis_file(a.get("--genesis"));
    if (!g) {
        std::fprintf(stderr, "--genesis %s: %s\n", a.get("--genesis").c_str(), g.error().message().c_str());
        std::exit(1);
    }
    return *g;
}

}  // namespace example
