#include <catch2/catch.hpp>

#include "qrs/endpoint.h"

using namespace qlik_reload;
using namespace qlik_reload::qrs;

TEST_CASE("QRS URLs: host, default port 4242, virtual-proxy prefix", "[endpoint]") {
  auto [url, host, port, prefix, isIp, origin] =
      GENERATE(table<std::string, std::string, int, std::string, bool, std::string>({
          {"https://qlikserver1", "qlikserver1", 4242, "", false, "https://qlikserver1:4242"},
          {"https://qlikserver1:4242", "qlikserver1", 4242, "", false, "https://qlikserver1:4242"},
          {"https://qlikserver1/", "qlikserver1", 4242, "", false, "https://qlikserver1:4242"},
          {"HTTPS://QlikServer1:443/reload/", "qlikserver1", 443, "/reload", false, "https://qlikserver1:443/reload"},
          {"https://10.0.0.5:4242/a/b", "10.0.0.5", 4242, "/a/b", true, "https://10.0.0.5:4242/a/b"},
          {"https://[::1]:9000", "::1", 9000, "", true, "https://[::1]:9000"},
      }));
  CAPTURE(url);
  Result<QrsEndpoint> endpoint = parseQrsUrl(url);
  REQUIRE(endpoint.isOk());
  CHECK(Catch::toLower(endpoint->host) == host);
  CHECK(endpoint->port == port);
  CHECK(endpoint->pathPrefix == prefix);
  CHECK(endpoint->hostIsIpAddress == isIp);
  CHECK(Catch::toLower(endpoint->origin) == origin);
}

TEST_CASE("QRS URLs: everything else is a configuration error", "[endpoint]") {
  auto [url, fragment] = GENERATE(table<std::string, std::string>({
      {"", "empty"},
      {"http://qlikserver1:4242", "only https"},
      {"qlikserver1:4242", "only https"},
      {"https://", "no host"},
      {"https://user:pw@qlikserver1", "user info"},
      {"https://qlikserver1/?x=1", "query"},
      {"https://qlikserver1/#top", "fragment"},
      {"https://qlikserver1:99999", "url 'https://qlikserver1:99999'"},
      {"https://qlikserver1/qrs", "leave /qrs out"},
      {"https://qlikserver1/proxy/QRS/", "leave /qrs out"},
      {"https://qlikserver1/a b", "spaces"},
      {"https://qlikserver1/a/../b", "not a plain prefix"},
      {"https://qlikserver1/a;b", "[A-Za-z0-9._~-]"},
  }));
  CAPTURE(url);
  Result<QrsEndpoint> endpoint = parseQrsUrl(url);
  REQUIRE_FALSE(endpoint.isOk());
  CHECK(endpoint.status().code() == ErrorCode::kConfiguration);
  CHECK_THAT(endpoint.status().message(), Catch::Contains(fragment));
}
