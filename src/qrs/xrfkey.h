// The anti-CSRF key QRS requires on every request: the same value in the
// X-Qlik-Xrfkey header and the `xrfkey` query parameter (qrs-api.md §2).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace qlik_reload::qrs {

inline constexpr std::size_t kXrfKeyLength = 16;

// 16 characters from [0-9A-Za-z], drawn from OpenSSL's CSPRNG without modulo
// bias. A fresh key on every call. Thread-safe. Aborts only if the system
// has no entropy at all (OpenSSL's RAND_bytes fails), which no request could
// survive anyway.
std::string newXrfKey();

// True for exactly 16 characters from [0-9A-Za-z].
bool isXrfKey(std::string_view text);

}  // namespace qlik_reload::qrs
