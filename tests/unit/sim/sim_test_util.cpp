#include "sim_test_util.h"

#include <catch2/catch.hpp>

#include <Poco/JSON/Parser.h>

namespace qlik_reload::sim::testing {

Poco::JSON::Object::Ptr parseObject(const std::string& text) {
  INFO("JSON: " << text);
  Poco::JSON::Parser parser;
  Poco::Dynamic::Var value;
  REQUIRE_NOTHROW(value = parser.parse(text));
  REQUIRE(value.type() == typeid(Poco::JSON::Object::Ptr));
  return value.extract<Poco::JSON::Object::Ptr>();
}

Poco::JSON::Array::Ptr parseArray(const std::string& text) {
  INFO("JSON: " << text);
  Poco::JSON::Parser parser;
  Poco::Dynamic::Var value;
  REQUIRE_NOTHROW(value = parser.parse(text));
  REQUIRE(value.type() == typeid(Poco::JSON::Array::Ptr));
  return value.extract<Poco::JSON::Array::Ptr>();
}

Scenario scenarioFrom(const std::string& json) {
  Result<Scenario> scenario = parseScenario(json);
  INFO(scenario.status().toString());
  REQUIRE(scenario.isOk());
  return std::move(scenario).value();
}

SimRequest qrsRequest(const std::string& method, const std::string& target, NameValueList extraHeaders,
                      std::string body) {
  std::string withKey = target + (target.find('?') == std::string::npos ? "?" : "&") + "xrfkey=" + kXrfkey;
  extraHeaders.emplace_back("X-Qlik-Xrfkey", kXrfkey);
  return SimRequest::make(method, withKey, std::move(extraHeaders), std::move(body));
}

}  // namespace qlik_reload::sim::testing
