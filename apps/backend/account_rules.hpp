#pragma once
/// @file The rules for accounts: which email addresses and passwords the
/// backend accepts (docs/backend.md, "Accounts").

#include <ballotchain/app/text.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>

namespace ballotchain::backend {

/// Why `email` is not an address we accept, or nullopt. Practical rather than
/// RFC 5321 in full: 3..254 bytes, exactly one '@', a local part of 1..64
/// bytes without leading, trailing or double dots, and a domain that is
/// `localhost` or has a dot, made of labels of 1..63 letters, digits,
/// hyphens (not at either end) or non-ASCII (UTF-8) bytes. No whitespace,
/// control characters or any of `"(),:;<>[\]` anywhere.
inline std::optional<std::string> email_problem(std::string_view email) {
    if (email.size() < 3 || email.size() > 254) return "email must be 3..254 characters";
    for (const char ch : email) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c == 0x7f) return "email must not contain spaces or control characters";
        if (std::string_view("\"(),:;<>[\\]").find(ch) != std::string_view::npos)
            return "email must not contain any of \"(),:;<>[\\]";
    }
    const auto at = email.find('@');
    if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos)
        return "email must contain exactly one @";
    const auto local = email.substr(0, at);
    const auto domain = email.substr(at + 1);
    if (local.empty() || local.size() > 64) return "the part before @ must be 1..64 characters";
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
        return "the part before @ must not start or end with a dot or hold two dots in a row";
    if (domain != "localhost" && domain.find('.') == std::string_view::npos)
        return "the domain must contain a dot (or be localhost)";
    std::size_t start = 0;
    while (start <= domain.size()) {
        const auto end = std::min(domain.find('.', start), domain.size());
        const auto label = domain.substr(start, end - start);
        if (label.empty() || label.size() > 63) return "each part of the domain must be 1..63 characters";
        if (label.front() == '-' || label.back() == '-') return "a part of the domain must not start or end with -";
        for (const char ch : label) {
            const auto c = static_cast<unsigned char>(ch);
            if (!(std::isalnum(c) || c == '-' || c >= 0x80)) return "the domain may hold only letters, digits, - and .";
        }
        start = end + 1;
    }
    return std::nullopt;
}

/// Why `password` is too weak for the account `email`, or nullopt: it must not
/// be only whitespace, must have 8..128 characters (UTF-8 code points; at most
/// 512 bytes), must not be one character repeated, must not be one of the most
/// common passwords (compared without case), and must not be the email address
/// or its part before the @.
inline std::optional<std::string> password_problem(std::string_view password, std::string_view email) {
    if (password.find_first_not_of(" \t\r\n\v\f") == std::string_view::npos)
        return "password must not be empty or only whitespace";
    std::size_t chars = 0;
    for (const char ch : password) chars += (static_cast<unsigned char>(ch) & 0xc0) != 0x80;
    if (chars < 8 || chars > 128 || password.size() > 512) return "password must be 8..128 characters";
    if (password.find_first_not_of(password.front()) == std::string_view::npos)
        return "password must not be one character repeated";
    const std::string pw = app::lower(password);
    static constexpr std::string_view common[] = {
        "password", "password1", "password12", "password123", "password1234", "password!", "passw0rd", "p@ssw0rd",
        "p@ssword", "pa$$word", "12345678", "123456789", "1234567890", "0123456789", "12345678910", "11111111",
        "00000000", "88888888", "87654321", "987654321", "9876543210", "12341234", "11223344", "12121212",
        "123123123", "112233445566", "1q2w3e4r", "1q2w3e4r5t", "1qaz2wsx", "zaq12wsx", "q1w2e3r4", "q1w2e3r4t5",
        "qwertyui", "qwertyuiop", "qwerty12", "qwerty123", "qwerty1234", "qwe123456", "123qweasd", "asdfghjk",
        "asdfghjkl", "asdf1234", "zxcvbnm1", "zxcvbnm123", "abcd1234", "abc12345", "abcdefgh", "abcdefg1",
        "aa123456", "a1234567", "a123456789", "123456789a", "iloveyou", "iloveyou1", "sunshine", "princess",
        "football", "baseball", "basketball", "welcome1", "welcome123", "superman", "starwars", "trustno1",
        "letmein1", "letmein123", "changeme", "changeme1", "administrator", "admin123", "admin1234", "computer",
        "internet", "whatever", "michelle", "jennifer", "liverpool", "chelsea1", "charlie1", "shadow12",
        "secret123", "login123", "default1", "master123", "dragon123", "monkey123", "elephant", "butterfly",
        "12qwaszx", "1qazxsw2", "qazwsxedc", "password2", "ballotchain", "election", "election1", "voting123"};
    for (const auto c : common)
        if (pw == c) return "password is one of the most common passwords";
    const std::string em = app::lower(email);
    if (pw == em || pw == em.substr(0, em.find('@'))) return "password must not be the email address";
    return std::nullopt;
}

}  // namespace ballotchain::backend
