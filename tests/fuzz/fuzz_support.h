// Helpers shared by the fuzz targets in this folder.
//
// Each target defines LLVMFuzzerTestOneInput. It is linked either with
// libFuzzer (clang, -fsanitize=fuzzer: the build-fuzz tree) or with
// replay_main.cpp (any compiler: every build replays the committed corpus as a
// CTest test). A property that does not hold calls fuzzFail(), which prints
// what was violated and aborts, so libFuzzer saves the input as a crash and
// the replay driver exits non-zero.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace qlik_reload::fuzz {

// Reports a violated property and aborts (never returns).
[[noreturn]] inline void fuzzFail(const std::string& what) {
  std::fprintf(stderr, "\nFUZZ PROPERTY VIOLATED: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline void require(bool condition, const std::string& what) {
  if (!condition) fuzzFail(what);
}

// Runs `body`; an exception escaping it is a violation (every function under
// test promises not to throw).
template <typename Body>
void noThrow(const char* what, Body body) {
  try {
    body();
  } catch (const std::exception& e) {
    fuzzFail(std::string(what) + " threw: " + e.what());
  } catch (...) {
    fuzzFail(std::string(what) + " threw a non-standard exception");
  }
}

// A message fit for a log line: not empty, no control characters (a line
// break could forge a log line), bounded.
inline void requireLogSafeMessage(const Status& status, const std::string& what, std::size_t maxBytes) {
  const std::string& message = status.message();
  require(!message.empty(), what + ": failed with an empty message (" + errorCodeName(status.code()) + ")");
  require(message.size() <= maxBytes,
          what + ": message longer than " + std::to_string(maxBytes) + " bytes: " + message.substr(0, 200));
  for (char c : message) {
    auto u = static_cast<unsigned char>(c);
    require(u >= 0x20 && u != 0x7f, what + ": control character " + std::to_string(u) + " in message");
  }
}

inline std::string_view asText(const std::uint8_t* data, std::size_t size) {
  return size == 0 ? std::string_view() : std::string_view(reinterpret_cast<const char*>(data), size);
}

// Splits at '\n' (no line break is kept; "" gives one empty piece).
inline std::vector<std::string> splitLines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.emplace_back(text.substr(start));
      return lines;
    }
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
}

// Text whose every byte is printable ASCII, for quoting inputs in failures.
inline std::string printable(std::string_view text, std::size_t max = 200) {
  std::string out;
  for (char c : text.substr(0, max)) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace qlik_reload::fuzz
