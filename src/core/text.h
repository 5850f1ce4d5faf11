// Small text checks shared by request validation and config parsing.
#pragma once

#include <string>
#include <string_view>

namespace qlik_reload {

// Valid UTF-8 with no control characters (below U+0020, and U+007F).
bool isCleanText(std::string_view text);

// 'text' quoted for a message, cut to `maxChars` with its byte length noted.
std::string quoteForMessage(std::string_view text, std::size_t maxChars = 40);

}  // namespace qlik_reload
