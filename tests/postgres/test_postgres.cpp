#include "test_postgres.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>

#include "core/guid.h"

namespace qlik_reload::testing {
namespace {

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

bool exists(const std::string& path) { return std::ifstream(path).good(); }

}  // namespace

std::optional<TestPostgres> TestPostgres::find() {
  const std::string dir = QLIK_TEST_POSTGRES_DIR;
  const char* without = std::getenv("QLIK_RELOAD_TESTS_WITHOUT_POSTGRES");
  const bool skipWanted = without != nullptr && std::string(without) == "1";
  if (exists(dir + "/unavailable") && skipWanted) return std::nullopt;
  TestPostgres server;
  server.connection_ = readText(dir + "/connection");
  if (server.connection_.empty()) {
    throw std::runtime_error("no test PostgreSQL server: " + dir + "/connection is missing (the CTest fixture "
                             "postgres-start did not run or failed; run the test through ctest)");
  }
  const std::string portKey = "port=";
  const std::size_t at = server.connection_.find(portKey);
  if (at == std::string::npos) throw std::runtime_error("no port in " + dir + "/connection");
  server.port_ = std::atoi(server.connection_.c_str() + at + portKey.size());
  server.passwordFile_ = dir + "/password.pass";
  server.password_ = readText(server.passwordFile_);
  static const bool registered = [] {
    Poco::Data::PostgreSQL::Connector::registerConnector();
    return true;
  }();
  (void)registered;
  return server;
}

std::string TestPostgres::withPassword(const std::string& connection) const {
  std::string escaped;
  for (char c : password_) {
    if (c == '\\' || c == '\'') escaped += '\\';
    escaped += c;
  }
  return connection + " password=" + escaped;
}

std::string TestPostgres::freshSchema() const {
  std::string name = "test_" + newGuid();
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  Poco::Data::Session session("PostgreSQL", withPassword(connection_), 10);
  session << "CREATE SCHEMA " + name, Poco::Data::Keywords::now;
  return connection_ + " options=-csearch_path=" + name;
}

}  // namespace qlik_reload::testing
