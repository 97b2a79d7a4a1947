#pragma once
/// @file JSON text as people and Python's json module (so FastAPI) write it: `45.0`,
/// `16.67`, not Boost.JSON's `4.5E1`. Every JSON answer of the backend and the
/// validators is written with json_text (docs/backend.md, docs/api.md).

#include <boost/json.hpp>

#include <charconv>
#include <cmath>
#include <string>
#include <string_view>

namespace ballotchain::rpc {

namespace detail {
inline bool has_double(const boost::json::value& v) {
    switch (v.kind()) {
    case boost::json::kind::double_: return true;
    case boost::json::kind::array:
        for (const auto& x : v.get_array())
            if (has_double(x)) return true;
        return false;
    case boost::json::kind::object:
        for (const auto& kv : v.get_object())
            if (has_double(kv.value())) return true;
        return false;
    default: return false;
    }
}
inline void write_json(std::string& out, const boost::json::value& v) {
    switch (v.kind()) {
    case boost::json::kind::double_: {
        const double d = v.get_double();
        if (!std::isfinite(d)) {
            out += "null";  // JSON has no NaN or infinity
            return;
        }
        char buf[32];
        auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);  // shortest text that reads back as d
        std::string_view t(buf, ec == std::errc{} ? static_cast<std::size_t>(p - buf) : 0);
        out += t;
        if (t.find_first_of(".e") == std::string_view::npos) out += ".0";  // 45 → 45.0, as Python writes it
        return;
    }
    case boost::json::kind::array: {
        out += '[';
        bool first = true;
        for (const auto& x : v.get_array()) {
            if (!first) out += ',';
            first = false;
            write_json(out, x);
        }
        out += ']';
        return;
    }
    case boost::json::kind::object: {
        out += '{';
        bool first = true;
        for (const auto& kv : v.get_object()) {
            if (!first) out += ',';
            first = false;
            out += boost::json::serialize(boost::json::string_view(kv.key()));
            out += ':';
            write_json(out, kv.value());
        }
        out += '}';
        return;
    }
    default: out += boost::json::serialize(v);
    }
}
}  // namespace detail

/// JSON text as people and Python's json module write it: a number with a fraction as its shortest
/// decimal form with a ".0" when it is whole (`45.0`, `16.67`), not Boost.JSON's `4.5E1`.
/// Everything else as Boost.JSON writes it.
inline std::string json_text(const boost::json::value& v) {
    if (!detail::has_double(v)) return boost::json::serialize(v);
    std::string out;
    detail::write_json(out, v);
    return out;
}

}  // namespace ballotchain::rpc
