#include "sim/command_line.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>

namespace qlik_reload::sim {
namespace {

TEST_CASE("qrs-sim's serve arguments become options", "[command_line]") {
  Result<CommandLine> line = parseCommandLine({"--scenario", "s.json", "--pki", "pki", "--host-name", "qs1", "--port",
                                               "4242", "--port-file", "p", "--time-scale", "2.5", "--bind", "0.0.0.0",
                                               "--verbose"});
  REQUIRE(line.isOk());
  CHECK(line->mode == CommandLine::Mode::kServe);
  CHECK(line->scenarioFile == "s.json");
  CHECK(line->pkiDir == "pki");
  CHECK(line->hostName == "qs1");
  CHECK(line->port == 4242);
  CHECK(line->portFile == "p");
  CHECK(line->timeScale == 2.5);
  CHECK(line->bindAddress == "0.0.0.0");
  CHECK(line->verbose);

  Result<CommandLine> defaults = parseCommandLine({"--scenario", "s.json", "--pki", "pki"});
  REQUIRE(defaults.isOk());
  CHECK(defaults->port == 0);
  CHECK(defaults->timeScale == 1.0);
  CHECK(defaults->bindAddress == "127.0.0.1");
  CHECK(defaults->portFile.empty());
}

TEST_CASE("qrs-sim --make-pki and --help", "[command_line]") {
  Result<CommandLine> line = parseCommandLine({"--make-pki", "dir", "--host-name", "qs1"});
  REQUIRE(line.isOk());
  CHECK(line->mode == CommandLine::Mode::kMakePki);
  CHECK(line->pkiDir == "dir");
  CHECK(line->hostName == "qs1");
  CHECK(parseCommandLine({"--help"})->mode == CommandLine::Mode::kHelp);
}

TEST_CASE("bad qrs-sim arguments name the problem", "[command_line]") {
  using Args = std::vector<std::string>;
  auto [args, expected] = GENERATE(table<Args, std::string>({
      {Args{}, "--scenario FILE is required"},
      {Args{"--scenario", "s"}, "--pki DIR is required"},
      {Args{"--pki", "p"}, "--scenario FILE is required"},
      {Args{"--scenario"}, "--scenario: missing value"},
      {Args{"--frobnicate"}, "unknown argument '--frobnicate'"},
      {Args{"--scenario", "s", "--pki", "p", "--port", "x"}, "--port: expected a number from 0 to 65535, got 'x'"},
      {Args{"--scenario", "s", "--pki", "p", "--port", "70000"}, "--port: expected a number from 0 to 65535"},
      {Args{"--scenario", "s", "--pki", "p", "--port", "-1"}, "--port: expected a number from 0 to 65535"},
      {Args{"--scenario", "s", "--pki", "p", "--time-scale", "0"}, "--time-scale: expected a number greater than 0"},
      {Args{"--scenario", "s", "--pki", "p", "--time-scale", "fast"}, "--time-scale: expected a number greater than 0"},
      {Args{"--make-pki", "d", "--port", "1"}, "--make-pki takes only --host-name"},
      {Args{"--scenario", "s", "--pki", "p", "--host-name", ""}, "--host-name: must not be empty"},
  }));
  Result<CommandLine> line = parseCommandLine(args);
  REQUIRE_FALSE(line.isOk());
  CHECK(line.status().code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(line.status().message(), Catch::StartsWith(expected));
}

TEST_CASE("the port file is written whole, through a temporary file", "[command_line]") {
  Poco::TemporaryFile file;
  const std::string path = file.path();
  REQUIRE(writePortFile(path, 45123).isOk());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() == "45123\n");
  CHECK_FALSE(Poco::File(path + ".tmp").exists());
  CHECK_FALSE(writePortFile("/nonexistent-dir/port", 1).isOk());
}

}  // namespace
}  // namespace qlik_reload::sim
