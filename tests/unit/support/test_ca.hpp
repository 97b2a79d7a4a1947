#pragma once
/// @file A throwaway certificate authority for TLS tests, made at run time with
/// OpenSSL's C API (no key is committed): a self-signed CA (P-256, SHA-256) that
/// issues server certificates for IP addresses and DNS names, written as PEM
/// files into a directory the test owns (temp_dir).
///
/// Unit tests include it as "../support/test_ca.hpp"; integration tests as <test_ca.hpp>.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace ballotchain::test {

/// A certificate and its key as PEM files.
struct cert_files {
    std::string cert;  ///< the certificate (PEM)
    std::string key;   ///< its private key (PEM, unencrypted)
    std::int64_t not_after = 0;  ///< unix time the certificate expires
};

namespace detail {
struct pkey_free {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct x509_free {
    void operator()(X509* x) const { X509_free(x); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;

inline void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("test CA: ") + what + " failed");
}

inline pkey_ptr new_p256_key() {
    pkey_ptr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", const_cast<char*>("P-256")));
    check(k != nullptr, "P-256 key generation");
    return k;
}

inline void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx{};
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    check(e != nullptr, "certificate extension");
    const int ok = X509_add_ext(cert, e, -1);
    X509_EXTENSION_free(e);
    check(ok == 1, "adding an extension");
}

inline void write_pem(const std::string& path, X509* cert) {
    BIO* b = BIO_new_file(path.c_str(), "w");
    check(b != nullptr, "opening a certificate file");
    const int ok = PEM_write_bio_X509(b, cert);
    BIO_free(b);
    check(ok == 1, "writing a certificate");
}

inline void write_pem(const std::string& path, EVP_PKEY* key) {
    BIO* b = BIO_new_file(path.c_str(), "w");
    check(b != nullptr, "opening a key file");
    const int ok = PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
    BIO_free(b);
    check(ok == 1, "writing a key");
}

/// A certificate for `key` named `cn`, valid from an hour ago for `days`, not yet signed.
inline x509_ptr new_cert(EVP_PKEY* key, const std::string& cn, long serial, long days) {
    x509_ptr x(X509_new());
    check(x != nullptr, "X509_new");
    check(X509_set_version(x.get(), 2) == 1, "X509_set_version");
    check(ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial) == 1, "serial number");
    check(X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600) != nullptr, "notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(x.get()), days * 86'400) != nullptr, "notAfter");
    check(X509_set_pubkey(x.get(), key) == 1, "X509_set_pubkey");
    X509_NAME* n = X509_get_subject_name(x.get());
    check(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                     0) == 1,
          "subject name");
    return x;
}

inline std::int64_t not_after(X509* x) {
    std::tm tm{};
    check(ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1, "reading notAfter");
    return static_cast<std::int64_t>(timegm(&tm));
}
}  // namespace detail

/// A CA whose certificate and key are files in `dir`; issue() writes server
/// certificates beside them. Each instance is a different CA (a fresh key), so
/// a second one plays "a CA the client does not trust".
class test_ca {
public:
    explicit test_ca(const std::filesystem::path& dir, std::string name = "ballotchain test CA")
        : dir_(dir), key_(detail::new_p256_key()), name_(std::move(name)) {
        cert_ = detail::new_cert(key_.get(), name_, 1, 30);
        detail::check(X509_set_issuer_name(cert_.get(), X509_get_subject_name(cert_.get())) == 1, "issuer name");
        detail::add_ext(cert_.get(), cert_.get(), NID_basic_constraints, "critical,CA:TRUE");
        detail::add_ext(cert_.get(), cert_.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
        detail::add_ext(cert_.get(), cert_.get(), NID_subject_key_identifier, "hash");
        detail::check(X509_sign(cert_.get(), key_.get(), EVP_sha256()) > 0, "signing the CA certificate");
        std::filesystem::create_directories(dir_);
        ca_file_ = (dir_ / (file_stem() + "-ca.crt")).string();
        detail::write_pem(ca_file_, cert_.get());
    }

    /// The CA certificate (PEM): what a client is given as its CA file.
    const std::string& cert_file() const noexcept { return ca_file_; }

    /// A server certificate named `stem` for the IP addresses `ips` and DNS
    /// names `dns` (subjectAltName), valid for `days`, signed by this CA.
    cert_files issue(const std::string& stem, const std::vector<std::string>& ips, const std::vector<std::string>& dns = {},
                     long days = 7) {
        auto key = detail::new_p256_key();
        auto x = detail::new_cert(key.get(), stem, ++serial_, days);
        detail::check(X509_set_issuer_name(x.get(), X509_get_subject_name(cert_.get())) == 1, "issuer name");
        std::string san;
        for (const auto& ip : ips) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
        for (const auto& d : dns) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
        detail::add_ext(x.get(), cert_.get(), NID_basic_constraints, "critical,CA:FALSE");
        detail::add_ext(x.get(), cert_.get(), NID_key_usage, "critical,digitalSignature");
        detail::add_ext(x.get(), cert_.get(), NID_ext_key_usage, "serverAuth");
        if (!san.empty()) detail::add_ext(x.get(), cert_.get(), NID_subject_alt_name, san);
        detail::add_ext(x.get(), cert_.get(), NID_authority_key_identifier, "keyid:always");
        detail::check(X509_sign(x.get(), key_.get(), EVP_sha256()) > 0, "signing a certificate");
        cert_files out;
        out.cert = (dir_ / (stem + ".crt")).string();
        out.key = (dir_ / (stem + ".key")).string();
        out.not_after = detail::not_after(x.get());
        detail::write_pem(out.cert, x.get());
        detail::write_pem(out.key, key.get());
        return out;
    }

private:
    std::string file_stem() const {
        std::string s;
        for (char c : name_) s += (c == ' ' || c == '/') ? '-' : c;
        return s;
    }

    std::filesystem::path dir_;
    detail::pkey_ptr key_;
    detail::x509_ptr cert_;
    std::string name_;
    std::string ca_file_;
    long serial_ = 1;
};

}  // namespace ballotchain::test
