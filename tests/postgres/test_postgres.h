// The tests' PostgreSQL server: the one the "postgres" CTest fixture started
// (postgres_fixture.sh). Tests that use it list the fixture in
// FIXTURES_REQUIRED and are given QLIK_TEST_POSTGRES_DIR at compile time.
//
// Every test works in a schema of its own, so that tests running in parallel
// on the one server never see each other's tables.
#pragma once

#include <optional>
#include <string>

namespace qlik_reload::testing {

class TestPostgres {
 public:
  // The running server. nullopt when the fixture skipped it (no server
  // installed) and QLIK_RELOAD_TESTS_WITHOUT_POSTGRES=1 says that is wanted:
  // the caller then reports the test as skipped. Throws std::runtime_error
  // (a failed test) in every other case where there is no server.
  static std::optional<TestPostgres> find();

  // host=127.0.0.1 port=P dbname=qlik_reload user=qlik_reload (no password).
  const std::string& connection() const { return connection_; }
  int port() const { return port_; }
  // The file holding the role's password, and the password itself (made for
  // this run; tests look for it where it must never appear).
  const std::string& passwordFile() const { return passwordFile_; }
  const std::string& password() const { return password_; }

  // Creates an empty schema and returns connection() with it as the search
  // path (options=-csearch_path=NAME): the journal's tables land there.
  std::string freshSchema() const;
  // `connection` with the password appended, escaped for libpq.
  std::string withPassword(const std::string& connection) const;

 private:
  std::string connection_;
  int port_ = 0;
  std::string passwordFile_;
  std::string password_;
};

}  // namespace qlik_reload::testing
