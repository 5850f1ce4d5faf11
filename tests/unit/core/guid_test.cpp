#include <catch2/catch.hpp>

#include <set>

#include "core/guid.h"

using namespace qlik_reload;

TEST_CASE("isGuid accepts exactly the 8-4-4-4-12 hex layout", "[guid]") {
  CHECK(isGuid("2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b"));
  CHECK(isGuid("2A8E1C4E-3F11-4B8A-9A57-0C1D2E3F4A5B"));
  CHECK(isGuid(kZeroGuid));
  CHECK_FALSE(isGuid(""));
  CHECK_FALSE(isGuid("2a8e1c4e3f114b8a9a570c1d2e3f4a5b"));
  CHECK_FALSE(isGuid("{2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b}"));
  CHECK_FALSE(isGuid("2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5g"));
  CHECK_FALSE(isGuid("2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b "));
  CHECK_FALSE(isGuid("2a8e1c4e-3f11-4b8a-9a570-c1d2e3f4a5b"));
}

TEST_CASE("newGuid makes distinct, valid, lower-case version-4 GUIDs", "[guid]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string g = newGuid();
    REQUIRE(isGuid(g));
    REQUIRE(g == normalizeGuid(g));
    REQUIRE(g[14] == '4');
    seen.insert(g);
  }
  CHECK(seen.size() == 1000);
  CHECK(isZeroGuid(kZeroGuid));
  CHECK_FALSE(isZeroGuid(newGuid()));
}
