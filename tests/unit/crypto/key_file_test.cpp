// crypto/key_file.hpp: save (0600), load, refuse overwrite, clear errors for malformed files.
#include <ballotchain/crypto/key_file.hpp>

#include "../support/fixtures.hpp"
#include "../support/temp_dir.hpp"

#include <filesystem>
#include <fstream>
#include <sys/stat.h>

using namespace ballotchain;
using namespace ballotchain::test;

namespace {
const std::string keys_dir = ballotchain::test_support::data_dir() + "/keys";

unsigned mode_of(const std::string& path) {
    struct stat st{};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777u;
}

error_code parse_error(std::string_view t) {
    auto r = parse_key_file(t);
    return r ? error_code{} : r.error();
}

std::string key_json(std::string_view type, std::string_view pub, std::string_view sec) {
    return R"({"type":")" + std::string(type) + R"(","public_key":")" + std::string(pub) + R"(","secret_key":")" +
           std::string(sec) + "\"}";
}
}  // namespace

TEST_CASE("key files: the text is one JSON object with type, public_key and secret_key", "[crypto][keyfile]") {
    const auto kp = key(4);
    const std::string t = key_file_text(kp);
    CHECK(t == R"({"type":"ed25519","public_key":")" + to_hex(kp.public_key()) + R"(","secret_key":")" +
                   to_hex(kp.secret()) + "\"}\n");
    auto back = parse_key_file(t);
    REQUIRE(back);
    CHECK(back->public_key() == kp.public_key());
    CHECK(back->secret() == kp.secret());
}

TEST_CASE("key files: saved with mode 0600 whatever the umask; load round-trips", "[crypto][keyfile]") {
    temp_dir d;
    const mode_t old = ::umask(0);
    const auto path = d.file("k.json");
    const auto kp = key(4);
    const auto saved = save_key_file(path, kp);
    ::umask(old);
    REQUIRE(saved);
    CHECK(mode_of(path) == 0600);
    auto back = load_key_file(path);
    REQUIRE(back);
    CHECK(back->public_key() == kp.public_key());
    CHECK(back->secret() == kp.secret());
}

TEST_CASE("key files: an existing file is never replaced unless asked", "[crypto][keyfile]") {
    temp_dir d;
    const auto path = d.file("k.json");
    REQUIRE(save_key_file(path, key(4)));
    const auto again = save_key_file(path, key(5));
    REQUIRE_FALSE(again);
    CHECK(again.error().value() == EEXIST);
    CHECK(load_key_file(path)->public_key() == key(4).public_key());
    // an explicit overwrite replaces it, and a world-readable file becomes 0600
    ::chmod(path.c_str(), 0644);
    REQUIRE(save_key_file(path, key(5), true));
    CHECK(load_key_file(path)->public_key() == key(5).public_key());
    CHECK(mode_of(path) == 0600);
}

TEST_CASE("key files: the committed sample is exactly what save_key_file writes for key 100", "[crypto][keyfile]") {
    const auto text = read_file(keys_dir + "/submitter.json", max_key_file_bytes);
    REQUIRE(text);
    CHECK(*text == key_file_text(key(100)));
    const auto kp = load_key_file(keys_dir + "/submitter.json");
    REQUIRE(kp);
    CHECK(kp->public_key() == key(100).public_key());
    // the sample's public key is the one the RFC 8032 derivation gives for its secret
    CHECK(ed25519::from_secret(kp->secret()).public_key() == kp->public_key());
}

TEST_CASE("key files: every malformation is a clear error, never a crash", "[crypto][keyfile]") {
    const auto kp = key(6);
    const std::string pub = to_hex(kp.public_key()), sec = to_hex(kp.secret());
    using crypto::errc;
    // not a JSON object of the documented shape
    CHECK(parse_error("") == make_error(errc::key_file_malformed));
    CHECK(parse_error("not json") == make_error(errc::key_file_malformed));
    CHECK(parse_error("[]") == make_error(errc::key_file_malformed));
    CHECK(parse_error("null") == make_error(errc::key_file_malformed));
    CHECK(parse_error(R"("0x00")") == make_error(errc::key_file_malformed));
    CHECK(parse_error(key_json("ed25519", pub, sec).substr(0, 40)) == make_error(errc::key_file_malformed));
    CHECK(parse_error(key_json("ed25519", pub, sec) + " x") == make_error(errc::key_file_malformed));
    CHECK(parse_error(key_json("ed25519", pub, sec) + key_json("ed25519", pub, sec)) ==
          make_error(errc::key_file_malformed));
    // missing fields
    CHECK(parse_error(R"({"type":"ed25519"})") == make_error(errc::key_file_malformed));
    CHECK(parse_error(R"({"type":"ed25519","public_key":")" + pub + "\"}") == make_error(errc::key_file_malformed));
    CHECK(parse_error(R"({"type":"ed25519","secret_key":")" + sec + "\"}") == make_error(errc::key_file_malformed));
    CHECK(parse_error(R"({"public_key":")" + pub + R"(","secret_key":")" + sec + "\"}") ==
          make_error(errc::key_file_malformed));
    // wrong JSON types
    CHECK(parse_error(R"({"type":1,"public_key":")" + pub + R"(","secret_key":")" + sec + "\"}") ==
          make_error(errc::key_file_malformed));
    CHECK(parse_error(R"({"type":"ed25519","public_key":null,"secret_key":")" + sec + "\"}") ==
          make_error(errc::key_file_malformed));
    CHECK(parse_error(R"({"type":"ed25519","public_key":")" + pub + R"(","secret_key":["0x00"]})") ==
          make_error(errc::key_file_malformed));
    // unknown type
    CHECK(parse_error(key_json("rsa", pub, sec)) == make_error(errc::key_type_unknown));
    CHECK(parse_error(key_json("Ed25519", pub, sec)) == make_error(errc::key_type_unknown));
    // wrong lengths and bad hex, in either key
    CHECK(parse_error(key_json("ed25519", pub, "0x12")) == make_error(core::errc::hex_wrong_length));
    CHECK(parse_error(key_json("ed25519", pub, sec + "00")) == make_error(core::errc::hex_wrong_length));
    CHECK(parse_error(key_json("ed25519", pub.substr(0, 64), sec)) == make_error(core::errc::hex_wrong_length));
    CHECK(parse_error(key_json("ed25519", pub, sec.substr(2))) == make_error(core::errc::hex_missing_prefix));
    CHECK(parse_error(key_json("ed25519", pub, sec.substr(0, 65))) == make_error(core::errc::hex_odd_length));
    std::string upper = sec;
    for (std::size_t i = 2; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
    REQUIRE(upper != sec);
    CHECK(parse_error(key_json("ed25519", pub, upper)) == make_error(core::errc::hex_bad_digit));
    CHECK(parse_error(key_json("ed25519", "0x" + std::string(64, 'g'), sec)) == make_error(core::errc::hex_bad_digit));
    // a public key that is not derived from the secret key
    CHECK(parse_error(key_json("ed25519", to_hex(key(7).public_key()), sec)) == make_error(errc::key_mismatch));
    // the errors have readable messages
    CHECK(make_error(errc::key_mismatch).message() == "key file public_key does not match its secret_key");
}

TEST_CASE("key files: unknown extra fields are ignored", "[crypto][keyfile]") {
    const auto kp = key(6);
    const std::string t = R"({"type":"ed25519","comment":"validator 1","public_key":")" + to_hex(kp.public_key()) +
                          R"(","secret_key":")" + to_hex(kp.secret()) + "\"}";
    CHECK(parse_key_file(t)->public_key() == kp.public_key());
}

TEST_CASE("key files: oversize and missing files are errors", "[crypto][keyfile]") {
    temp_dir d;
    const auto big = d.file("big.json");
    // a valid key file padded with whitespace to one byte over the bound
    std::string t = key_file_text(key(6));
    t.resize(max_key_file_bytes + 1, ' ');
    std::ofstream(big) << t;
    CHECK(load_key_file(big).error() == make_error(crypto::errc::key_file_too_large));
    t.resize(max_key_file_bytes);  // exactly the bound still loads
    std::ofstream(big, std::ios::trunc) << t;
    CHECK(load_key_file(big)->public_key() == key(6).public_key());
    const auto missing = load_key_file(d.file("missing.json"));
    REQUIRE_FALSE(missing);
    CHECK(missing.error().value() == ENOENT);
}

TEST_CASE("key files: the committed malformed samples fail with their documented reasons", "[crypto][keyfile]") {
    const std::pair<const char*, error_code> samples[] = {
        {"bad-json.json", make_error(crypto::errc::key_file_malformed)},
        {"not-object.json", make_error(crypto::errc::key_file_malformed)},
        {"missing-secret.json", make_error(crypto::errc::key_file_malformed)},
        {"wrong-type.json", make_error(crypto::errc::key_type_unknown)},
        {"number-type.json", make_error(crypto::errc::key_file_malformed)},
        {"short-secret.json", make_error(core::errc::hex_wrong_length)},
        {"uppercase-hex.json", make_error(core::errc::hex_bad_digit)},
        {"no-prefix.json", make_error(core::errc::hex_missing_prefix)},
        {"mismatch.json", make_error(crypto::errc::key_mismatch)},
        {"oversize.json", make_error(crypto::errc::key_file_too_large)},
    };
    for (const auto& [name, why] : samples) {
        INFO(name);
        const auto r = load_key_file(keys_dir + "/" + name);
        REQUIRE_FALSE(r);
        CHECK(r.error() == why);
    }
}

TEST_CASE("regenerate the valid key file sample", "[.generate]") {
    REQUIRE(save_key_file(keys_dir + "/submitter.json", key(100), true));
}
