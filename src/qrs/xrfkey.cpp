#include "qrs/xrfkey.h"

#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <cstdlib>

namespace qlik_reload::qrs {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static_assert(kAlphabet.size() == 62);
// Bytes at or above 248 (= 4 * 62) are dropped so every character is equally likely.
constexpr unsigned kAcceptBelow = 256 - 256 % kAlphabet.size();

bool isAlphabetChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

}  // namespace

std::string newXrfKey() {
  std::string key;
  key.reserve(kXrfKeyLength);
  std::array<unsigned char, 32> random{};
  while (key.size() < kXrfKeyLength) {
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
      std::fputs("fatal: OpenSSL RAND_bytes failed; cannot make an xrfkey\n", stderr);
      std::abort();
    }
    for (unsigned char byte : random) {
      if (byte >= kAcceptBelow) continue;
      key.push_back(kAlphabet[byte % kAlphabet.size()]);
      if (key.size() == kXrfKeyLength) break;
    }
  }
  return key;
}

bool isXrfKey(std::string_view text) {
  if (text.size() != kXrfKeyLength) return false;
  for (char c : text) {
    if (!isAlphabetChar(c)) return false;
  }
  return true;
}

}  // namespace qlik_reload::qrs
