// rpc::json_text (json_text.hpp): numbers with a fraction come out as people and Python's json
// module write them (45.0, 16.67), not as Boost.JSON's default (4.5E1); everything else as before.
#include <ballotchain/rpc/json_text.hpp>

#include <ballotchain/rpc/http_server.hpp>
#include <ballotchain/rpc/jsonrpc.hpp>

#include <catch2/catch.hpp>

using namespace ballotchain;

TEST_CASE("json_text: whole doubles keep a .0, others their shortest form; integers, strings, nesting unchanged",
          "[rpc][json]") {
    namespace bj = boost::json;
    CHECK(rpc::json_text(bj::value(45.0)) == "45.0");
    CHECK(rpc::json_text(bj::value(100.0)) == "100.0");
    CHECK(rpc::json_text(bj::value(0.0)) == "0.0");
    CHECK(rpc::json_text(bj::value(16.67)) == "16.67");
    CHECK(rpc::json_text(bj::value(-2.5)) == "-2.5");
    CHECK(rpc::json_text(bj::value(1e-7)) == "1e-07");
    CHECK(rpc::json_text(bj::value(1e21)) == "1e+21");
    CHECK(rpc::json_text(bj::value(std::numeric_limits<double>::infinity())) == "null");
    // Whatever it writes reads back as the same numbers.
    bj::object o;
    o["percentage"] = 45.0;
    o["count"] = 7;
    o["big"] = std::uint64_t(18446744073709551615ull);
    o["name \"quoted\"\n"] = "tab\there";
    o["rows"] = bj::array{bj::object{{"p", 33.33}}, nullptr, true, bj::array{1.5, 2}};
    const auto text = rpc::json_text(o);
    CHECK(text == "{\"percentage\":45.0,\"count\":7,\"big\":18446744073709551615,\"name \\\"quoted\\\"\\n\":\"tab\\there\","
                  "\"rows\":[{\"p\":33.33},null,true,[1.5,2]]}");
    CHECK(bj::parse(text) == bj::value(o));
    // Without a double: exactly Boost.JSON's text.
    const bj::value plain = bj::object{{"a", 1}, {"b", "x"}};
    CHECK(rpc::json_text(plain) == bj::serialize(plain));
    // The responses use it.
    CHECK(rpc::json_response(boost::beast::http::status::ok, bj::object{{"percentage", 50.0}}).body() ==
          "{\"percentage\":50.0}");
}

TEST_CASE("json_text writes every JSON answer: an HTTP JSON response and a JSON-RPC reply say 45.0", "[rpc][json]") {
    namespace bj = boost::json;
    const auto res = rpc::json_response(rpc::http::status::ok, bj::object{{"percentage", 45.0}});
    CHECK(res.body() == "{\"percentage\":45.0}");
    rpc::method_table t;
    t["share"] = [](const bj::value&) -> rpc::reply { return bj::value(bj::object{{"percentage", 45.0}}); };
    CHECK(rpc::handle_jsonrpc(R"({"jsonrpc":"2.0","id":1,"method":"share","params":[]})", t) ==
          R"({"jsonrpc":"2.0","result":{"percentage":45.0},"id":1})");
    CHECK(rpc::handle_jsonrpc(R"([{"jsonrpc":"2.0","id":1,"method":"share","params":[]}])", t) ==
          R"([{"jsonrpc":"2.0","result":{"percentage":45.0},"id":1}])");
}
