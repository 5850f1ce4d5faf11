#include <catch2/catch.hpp>

#include <array>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "qrs/xrfkey.h"

using namespace qlik_reload::qrs;

TEST_CASE("An xrfkey is 16 characters of [0-9A-Za-z]", "[xrfkey]") {
  for (int i = 0; i < 200; ++i) {
    std::string key = newXrfKey();
    CAPTURE(key);
    REQUIRE(key.size() == 16);
    REQUIRE(isXrfKey(key));
  }
}

TEST_CASE("Every xrfkey is fresh", "[xrfkey]") {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) seen.insert(newXrfKey());
  CHECK(seen.size() == 2000);
}

TEST_CASE("xrfkeys use the whole alphabet", "[xrfkey]") {
  // 62 symbols over 20 000 draws: a symbol that never shows up means a biased
  // or truncated alphabet (each is missed with probability ~1e-140).
  std::set<char> symbols;
  for (int i = 0; i < 1250; ++i) {
    for (char c : newXrfKey()) symbols.insert(c);
  }
  CHECK(symbols.size() == 62);
}

TEST_CASE("xrfkeys can be made from many threads at once", "[xrfkey]") {
  std::mutex mutex;
  std::set<std::string> seen;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) {
        std::string key = newXrfKey();
        std::lock_guard<std::mutex> lock(mutex);
        seen.insert(key);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(seen.size() == 1000);
}

TEST_CASE("isXrfKey refuses wrong lengths and characters", "[xrfkey]") {
  auto [text, expected] = GENERATE(table<std::string, bool>({
      {"0123456789abcdef", true},
      {"ABCDEFGHIJKLMNOP", true},
      {"0123456789abcde", false},
      {"0123456789abcdefg", false},
      {"0123456789abcde-", false},
      {"0123456789abcde ", false},
      {"", false},
  }));
  CAPTURE(text);
  CHECK(isXrfKey(text) == expected);
}
