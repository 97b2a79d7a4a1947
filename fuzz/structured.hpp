#pragma once
// The byte format of the structured fuzz targets (fuzz_jsonrpc, fuzz_http_validator,
// fuzz_http_backend): small integers and length-prefixed strings read from the front of the
// input, and JSON values built from them. The `writer` produces the same format, so
// fuzz_make_corpus can write seeds that mean something (a call of each method, a request to
// each route) and the fuzzer mutates from there. Reading past the end yields zeros and empty
// strings, so every input means something.
#include <boost/json.hpp>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ballotchain::fuzz_fixture {

/// With BALLOTCHAIN_FUZZ_TRACE set in the environment, the targets print every request and
/// answer to stderr (to see what a seed or a found input does).
inline void trace(std::string_view what, std::string_view text) {
    static const bool on = std::getenv("BALLOTCHAIN_FUZZ_TRACE") != nullptr;
    if (on)
        std::fprintf(stderr, "%.*s: %.*s\n", static_cast<int>(what.size()), what.data(),
                     static_cast<int>(std::min<std::size_t>(text.size(), 600)), text.data());
}

/// Prints what broke, with the request and the answer, and aborts (libFuzzer saves the input).
[[noreturn]] inline void violated(std::string_view what, std::string_view request, std::string_view answer) {
    std::fprintf(stderr, "INVARIANT VIOLATED: %.*s\n--- request (%zu bytes)\n%.*s\n--- answer (%zu bytes)\n%.*s\n",
                 static_cast<int>(what.size()), what.data(), request.size(),
                 static_cast<int>(std::min<std::size_t>(request.size(), 4000)), request.data(), answer.size(),
                 static_cast<int>(std::min<std::size_t>(answer.size(), 4000)), answer.data());
    if (const char* dir = std::getenv("BALLOTCHAIN_FUZZ_DUMP")) {  // the whole request and answer, as files
        for (auto [name, text] : {std::pair{"request", request}, std::pair{"answer", answer}})
            if (FILE* f = std::fopen((std::string(dir) + "/" + name).c_str(), "wb")) {
                std::fwrite(text.data(), 1, text.size(), f);
                std::fclose(f);
            }
    }
    std::abort();
}

/// Reads the fuzzer input front to back.
struct reader {
    const std::uint8_t* p;
    std::size_t n;

    bool empty() const noexcept { return n == 0; }
    std::uint8_t u8() {
        if (!n) return 0;
        --n;
        return *p++;
    }
    std::uint16_t u16() { return static_cast<std::uint16_t>((u8() << 8) | u8()); }
    std::uint64_t u64() {
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v = (v << 8) | u8();
        return v;
    }
    /// A string of at most `max` bytes: u16 length, then the bytes (cut at the input's end).
    std::string str(std::size_t max = 4096) {
        std::size_t k = std::min<std::size_t>(u16(), max);
        k = std::min(k, n);
        std::string s(reinterpret_cast<const char*>(p), k);
        p += k;
        n -= k;
        return s;
    }
    /// Everything left.
    std::string rest() {
        std::string s(reinterpret_cast<const char*>(p), n);
        p += n;
        n = 0;
        return s;
    }
};

/// Writes what `reader` reads (used by fuzz_make_corpus).
struct writer {
    std::string out;
    writer& u8(std::uint8_t v) {
        out.push_back(static_cast<char>(v));
        return *this;
    }
    writer& u16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v >> 8)).u8(static_cast<std::uint8_t>(v)); }
    writer& u64(std::uint64_t v) {
        for (int i = 7; i >= 0; --i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
        return *this;
    }
    writer& str(std::string_view s) {
        u16(static_cast<std::uint16_t>(s.size()));
        out.append(s.substr(0, 0xffff));
        return *this;
    }
    writer& raw(std::string_view s) {
        out.append(s);
        return *this;
    }
};

/// Kinds of a generated JSON value (the first byte of each value).
enum class vk : std::uint8_t { null, boolean, small, u64, negative, dbl, string, special, array, object, count };

/// Values and object keys a target knows to be meaningful (hashes of its chain, valid
/// transactions, field names), picked by index so mutations move between them.
struct vocabulary {
    std::vector<std::pair<std::string, boost::json::value>> specials;
    std::vector<std::string> keys;

    std::uint8_t special_index(std::string_view name) const {
        for (std::size_t i = 0; i < specials.size(); ++i)
            if (specials[i].first == name) return static_cast<std::uint8_t>(i);
        throw std::logic_error("no special value " + std::string(name));
    }
    std::uint8_t key_index(std::string_view name) const {
        for (std::size_t i = 0; i < keys.size(); ++i)
            if (keys[i] == name) return static_cast<std::uint8_t>(i);
        throw std::logic_error("no key " + std::string(name));
    }
};

/// A JSON value from the input: nesting at most `depth` levels, arrays and objects of at
/// most 6 members.
inline boost::json::value read_value(reader& in, const vocabulary& voc, int depth = 3) {
    const auto kind = static_cast<vk>(in.u8() % static_cast<std::uint8_t>(vk::count));
    switch (kind) {
    case vk::null: return nullptr;
    case vk::boolean: return (in.u8() & 1) != 0;
    case vk::small: return static_cast<std::int64_t>(in.u8());
    case vk::u64: return in.u64();
    case vk::negative: return -static_cast<std::int64_t>(in.u64() >> 1) - 1;
    case vk::dbl: {
        const double d = std::bit_cast<double>(in.u64());
        return d == d && d - d == 0 ? d : 0.5;  // JSON has no NaN or infinity
    }
    case vk::string: return boost::json::string(in.str());
    case vk::special: {
        if (voc.specials.empty()) return nullptr;
        return voc.specials[in.u8() % voc.specials.size()].second;
    }
    case vk::array: {
        boost::json::array a;
        const std::size_t k = in.u8() % 7;
        for (std::size_t i = 0; i < k && depth > 0; ++i) a.push_back(read_value(in, voc, depth - 1));
        return a;
    }
    case vk::object: {
        boost::json::object o;
        const std::size_t k = in.u8() % 7;
        for (std::size_t i = 0; i < k && depth > 0; ++i) {
            const std::uint8_t sel = in.u8();
            std::string key = sel < voc.keys.size() ? voc.keys[sel] : in.str(64);
            o[key] = read_value(in, voc, depth - 1);
        }
        return o;
    }
    case vk::count: break;
    }
    return nullptr;
}

/// Writes values in read_value's format.
struct value_writer {
    writer& w;
    const vocabulary& voc;
    value_writer& null() {
        w.u8(static_cast<std::uint8_t>(vk::null));
        return *this;
    }
    value_writer& boolean(bool b) {
        w.u8(static_cast<std::uint8_t>(vk::boolean)).u8(b ? 1 : 0);
        return *this;
    }
    value_writer& small(std::uint8_t v) {
        w.u8(static_cast<std::uint8_t>(vk::small)).u8(v);
        return *this;
    }
    value_writer& u64(std::uint64_t v) {
        w.u8(static_cast<std::uint8_t>(vk::u64)).u64(v);
        return *this;
    }
    value_writer& negative(std::int64_t v) {
        w.u8(static_cast<std::uint8_t>(vk::negative)).u64(static_cast<std::uint64_t>(-(v + 1)) << 1);
        return *this;
    }
    value_writer& dbl(double d) {
        w.u8(static_cast<std::uint8_t>(vk::dbl)).u64(std::bit_cast<std::uint64_t>(d));
        return *this;
    }
    value_writer& string(std::string_view s) {
        w.u8(static_cast<std::uint8_t>(vk::string)).str(s);
        return *this;
    }
    value_writer& special(std::string_view name) {
        w.u8(static_cast<std::uint8_t>(vk::special)).u8(voc.special_index(name));
        return *this;
    }
    /// Then `k` values.
    value_writer& array(std::uint8_t k) {
        w.u8(static_cast<std::uint8_t>(vk::array)).u8(k);
        return *this;
    }
    /// Then `k` times key(...) and a value.
    value_writer& object(std::uint8_t k) {
        w.u8(static_cast<std::uint8_t>(vk::object)).u8(k);
        return *this;
    }
    value_writer& key(std::string_view name) {
        w.u8(voc.key_index(name));
        return *this;
    }
    value_writer& other_key(std::string_view name) {
        w.u8(0xff).str(name);
        return *this;
    }
};

/// Writes any JSON value in read_value's format; a string "$name" stands for the special
/// value `name`, and object keys the vocabulary knows are written by their index.
inline void put_value(value_writer& vw, const boost::json::value& v) {
    switch (v.kind()) {
    case boost::json::kind::null: vw.null(); break;
    case boost::json::kind::bool_: vw.boolean(v.as_bool()); break;
    case boost::json::kind::int64:
        if (v.as_int64() < 0)
            vw.negative(v.as_int64());
        else if (v.as_int64() <= 255)
            vw.small(static_cast<std::uint8_t>(v.as_int64()));
        else
            vw.u64(static_cast<std::uint64_t>(v.as_int64()));
        break;
    case boost::json::kind::uint64: vw.u64(v.as_uint64()); break;
    case boost::json::kind::double_: vw.dbl(v.as_double()); break;
    case boost::json::kind::string: {
        const std::string_view s = v.as_string();
        if (s.starts_with("$"))
            vw.special(s.substr(1));
        else
            vw.string(s);
        break;
    }
    case boost::json::kind::array:
        vw.array(static_cast<std::uint8_t>(v.as_array().size()));
        for (const auto& e : v.as_array()) put_value(vw, e);
        break;
    case boost::json::kind::object:
        vw.object(static_cast<std::uint8_t>(v.as_object().size()));
        for (const auto& [k, e] : v.as_object()) {
            const auto it = std::find(vw.voc.keys.begin(), vw.voc.keys.end(), std::string_view(k));
            if (it != vw.voc.keys.end())
                vw.key(k);
            else
                vw.other_key(k);
            put_value(vw, e);
        }
        break;
    }
}

/// put_value of JSON text.
inline void put_json(value_writer& vw, std::string_view json) { put_value(vw, boost::json::parse(json)); }

}  // namespace ballotchain::fuzz_fixture
