// Helpers shared by the qrs-sim unit tests.
#pragma once

#include <string>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "sim/message.h"
#include "sim/scenario.h"

namespace qlik_reload::sim::testing {

// Parse JSON text; a test failure (REQUIRE) if it is not an object/array.
Poco::JSON::Object::Ptr parseObject(const std::string& text);
Poco::JSON::Array::Ptr parseArray(const std::string& text);

// A scenario from JSON text; REQUIREs that it parses.
Scenario scenarioFrom(const std::string& json);

// A GET/POST with a valid xrfkey pair.
SimRequest qrsRequest(const std::string& method, const std::string& target, NameValueList extraHeaders = {},
                      std::string body = "");

inline constexpr const char* kXrfkey = "abcdefgh12345678";

}  // namespace qlik_reload::sim::testing
