// Fuzz target: the JSON-RPC dispatcher with every validator method (rpc::handle_jsonrpc over
// rpc::add_validator_methods) on an in-memory node holding three final blocks, two pooled votes
// and one dropped vote, fresh for every input. The first byte chooses:
//   bit 0 clear: the rest is a raw request body (single or batch, any bytes);
//   bit 0 set:   a structured body (jsonrpc_fixture.hpp): calls of the table's methods, or of
//                names from the input, with generated params, alone or batched;
//   bit 1:       whether the per-client limiter admits poa_verifyChain (the validator's
//                limiter refuses with -32029 once an address spent its budget).
// Properties: nothing crashes or throws out of a method (-32603); the answer is JSON-RPC 2.0
// (objects with jsonrpc "2.0", the request's id, exactly one of result and error, error codes
// docs/api.md lists), one per non-notification in a batch, none for notifications; a body over
// 100 calls, an empty batch and non-JSON get one error; poa_verifyChain runs at most once per
// body and the later ones get -32020; an acknowledged transaction answers its own hash and is
// pending; the chain's height and head never change (only consensus appends).
#include "jsonrpc_fixture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ballotchain;
    namespace fx = fuzz_fixture;
    static const fx::vocabulary voc = fx::chain_vocabulary();
    const auto& names = fx::validator_method_names();

    fx::reader in{data, size};
    const std::uint8_t mode = in.u8();
    const bool admit_verify = mode & 2;
    const std::string body = (mode & 1) ? fx::read_jsonrpc_body(in, voc, names) : in.rest();

    auto node = fx::make_memory_node();
    rpc::method_table table;
    rpc::add_validator_methods(table, node);
    rpc::jsonrpc_limits lim;
    lim.max_per_request["poa_verifyChain"] = 1;
    lim.admit = [&](std::string_view method) -> std::optional<rpc::rpc_error> {
        if (method != "poa_verifyChain" || admit_verify) return std::nullopt;
        return rpc::rpc_error{rpc::code::rate_limited, "poa_verifyChain: rate limit reached; retry after 1000 ms",
                              boost::json::object{{"retry_after_ms", 1000}}};
    };
    const auto height = node.height();
    const auto head = node.head_hash();
    const auto pooled = node.pool_size();

    const std::string answer = rpc::handle_jsonrpc(body, table, lim);
    fx::trace("request", body);
    fx::trace("answer", answer);

    const auto sum = fx::check_jsonrpc(body, answer, node, names);
    if (node.height() != height || node.head_hash() != head) fx::violated("a method changed the chain", body, answer);
    if (node.verify_runs > 1) fx::violated("poa_verifyChain ran more than once in one body", body, answer);
    if (sum.verify_calls > 0 && node.verify_runs != (admit_verify ? 1u : 0u))
        fx::violated("poa_verifyChain: the first call runs exactly when admitted", body, answer);
    if (sum.verify_results > node.verify_runs) fx::violated("a poa_verifyChain result without a run", body, answer);
    if (node.pool_size() < pooled + sum.submitted || node.pool_size() > pooled + sum.send_calls)
        fx::violated("the pool grew by other than the accepted submissions", body, answer);
    return 0;
}
