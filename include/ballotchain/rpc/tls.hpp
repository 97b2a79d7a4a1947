#pragma once
/// @file TLS (OpenSSL through Boost.Asio) for the HTTP ports: the server context
/// an http_server takes (http_server_options::tls) from a PEM certificate chain
/// and key, the client context that verifies a server against a CA file or the
/// system store, the per-connection setup of a client (SNI, host name or IP
/// address checked against the certificate's subjectAltName), and the expiry of
/// a loaded certificate (for a metric). Both sides: TLS 1.2 at least (1.3
/// preferred), forward-secret AEAD suites only for 1.2, no compression, no
/// renegotiation. docs/operations.md ("TLS") says how to make certificates.

#include <boost/asio/ssl.hpp>
#include <boost/system/result.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <ctime>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

namespace ballotchain::rpc {

namespace ssl = boost::asio::ssl;

/// A TLS context, or why it could not be made (a message for the operator that names the file).
using tls_context_result = boost::system::result<std::shared_ptr<ssl::context>, std::string>;

namespace detail {

/// TLS 1.2 suites allowed (TLS 1.3's are all AEAD and forward secret): ECDHE with AES-GCM or ChaCha20-Poly1305.
inline constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/// The settings both sides share; false when OpenSSL refuses one.
inline bool harden(ssl::context& ctx) {
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression);
    SSL_CTX* h = ctx.native_handle();
    SSL_CTX_set_options(h, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    return SSL_CTX_set_min_proto_version(h, TLS1_2_VERSION) == 1 && SSL_CTX_set_cipher_list(h, tls12_ciphers) == 1;
}

/// OpenSSL's reason for the last failure (its error queue, emptied), or `fallback`.
inline std::string openssl_reason(const boost::system::error_code& ec) {
    std::string why = ec ? ec.message() : std::string{};
    if (const unsigned long e = ERR_get_error(); e != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (why.empty()) why = buf;
    }
    ERR_clear_error();
    return why.empty() ? "unknown OpenSSL error" : why;
}

inline bool readable(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return f.good() && f.peek() != std::ifstream::traits_type::eof();
}

}  // namespace detail

/// The server side: `cert_file` is a PEM certificate chain (the server's first,
/// then intermediates), `key_file` its PEM private key (unencrypted). Fails,
/// naming the file, when one cannot be read or parsed, or when the key does not
/// belong to the certificate.
inline tls_context_result make_server_tls_context(const std::string& cert_file, const std::string& key_file) {
    if (!detail::readable(cert_file)) return "cannot read TLS certificate file " + cert_file;
    if (!detail::readable(key_file)) return "cannot read TLS key file " + key_file;
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    if (!detail::harden(*ctx)) return "OpenSSL refused the TLS settings: " + detail::openssl_reason({});
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(cert_file, ec);
    if (ec) return "TLS certificate " + cert_file + ": " + detail::openssl_reason(ec);
    ctx->use_private_key_file(key_file, ssl::context::pem, ec);
    if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
        ERR_clear_error();
        return "TLS key " + key_file + " does not match the certificate " + cert_file;
    }
    if (ec) return "TLS key " + key_file + ": " + detail::openssl_reason(ec);
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
        return "TLS key " + key_file + " does not match the certificate " + cert_file;
    return ctx;
}

/// The client side: verifies every server against the PEM CA certificates in
/// `ca_file`, or against the system's store when it is empty. The name or
/// address to check is set per connection (setup_tls_client).
inline tls_context_result make_client_tls_context(const std::string& ca_file = {}) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    if (!detail::harden(*ctx)) return "OpenSSL refused the TLS settings: " + detail::openssl_reason({});
    ctx->set_verify_mode(ssl::verify_peer);
    boost::system::error_code ec;
    if (ca_file.empty()) {
        ctx->set_default_verify_paths(ec);
        if (ec) return "cannot load the system's CA certificates: " + detail::openssl_reason(ec);
        return ctx;
    }
    if (!detail::readable(ca_file)) return "cannot read CA file " + ca_file;
    ctx->load_verify_file(ca_file, ec);
    if (ec) return "CA file " + ca_file + ": " + detail::openssl_reason(ec);
    return ctx;
}

/// The client context of a process that was given no CA file: the system's
/// store, made once (nullptr if even that fails). Safe to share between threads.
inline std::shared_ptr<ssl::context> default_client_tls_context() {
    static const std::shared_ptr<ssl::context> ctx = [] {
        auto r = make_client_tls_context();
        return r ? *r : std::shared_ptr<ssl::context>{};
    }();
    return ctx;
}

/// Prepares a client connection to `host` before its handshake: an IP address
/// is checked against the certificate's IP subjectAltNames, a name against its
/// DNS names (and sent as SNI). False when OpenSSL refuses (e.g. a bad name).
inline bool setup_tls_client(SSL* s, const std::string& host) {
    X509_VERIFY_PARAM* p = SSL_get0_param(s);
    X509_VERIFY_PARAM_set_hostflags(p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    boost::system::error_code ec;
    (void)boost::asio::ip::make_address(host, ec);
    if (!ec) return X509_VERIFY_PARAM_set1_ip_asc(p, host.c_str()) == 1;
    // SSL_set_tlsext_host_name is a macro with a C cast: its call written out.
    return SSL_ctrl(s, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str())) == 1 &&
           SSL_set1_host(s, host.c_str()) == 1;
}

/// Why a client's handshake failed, for an operator: "certificate verification
/// failed: <OpenSSL's reason>" when the server's certificate was refused (wrong
/// CA, name or address not in it, expired), else the error's message.
inline std::string tls_handshake_failure(SSL* s, const boost::system::error_code& ec) {
    const long v = SSL_get_verify_result(s);
    ERR_clear_error();
    if (v != X509_V_OK) return std::string("TLS certificate verification failed: ") + X509_verify_cert_error_string(v);
    return "TLS handshake failed: " + ec.message();
}

/// The notAfter time (unix seconds) of the certificate a context serves, or
/// nullopt when it has none (e.g. a client context). The validator exports it as
/// `ballotchain_tls_certificate_expiry_timestamp_seconds`.
inline std::optional<std::int64_t> tls_certificate_not_after(ssl::context& ctx) {
    X509* cert = SSL_CTX_get0_certificate(ctx.native_handle());
    if (!cert) return std::nullopt;
    std::tm tm{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return std::nullopt;
    return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace ballotchain::rpc
