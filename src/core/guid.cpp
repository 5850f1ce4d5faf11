#include "core/guid.h"

#include <cctype>
#include <cstdint>
#include <mutex>
#include <random>

namespace qlik_reload {

bool isGuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
    if (dash) {
      if (text[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return true;
}

bool isZeroGuid(std::string_view text) { return text == kZeroGuid; }

std::string normalizeGuid(std::string_view guid) {
  std::string out(guid);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string newGuid() {
  // One generator for the process: a thread_local one would add its 2.5 KiB
  // of state to every thread's static TLS, and the worker runs a thread per
  // waiting caller.
  static std::mutex mutex;
  static std::mt19937_64 random{std::random_device{}()};
  std::uint64_t high, low;
  {
    std::lock_guard<std::mutex> guard(mutex);
    high = random();
    low = random();
  }
  high = (high & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  low = (low & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;    // RFC 4122 variant
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out.push_back('-');
    std::uint64_t word = i < 16 ? high : low;
    int shift = 60 - 4 * (i % 16);
    out.push_back(kHex[(word >> shift) & 0xF]);
  }
  return out;
}

}  // namespace qlik_reload
