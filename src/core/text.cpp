#include "core/text.h"

namespace qlik_reload {

bool isCleanText(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) return false;
    std::size_t extra;
    if (c < 0x80) {
      extra = 0;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
      extra = 1;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
      extra = 3;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= extra; ++k) {
      if (i + k >= n || (static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

std::string quoteForMessage(std::string_view text, std::size_t maxChars) {
  std::string shown;
  for (char c : text.substr(0, maxChars)) {
    auto u = static_cast<unsigned char>(c);
    shown += (u < 0x20 || u == 0x7F) ? '?' : c;
  }
  if (text.size() <= maxChars) return "'" + shown + "'";
  return "'" + shown + "…' (" + std::to_string(text.size()) + " bytes)";
}

}  // namespace qlik_reload
