// The qrs-sim command line, parsed into options (main.cpp stays thin).
//
//   qrs-sim --scenario FILE --pki DIR [--host-name NAME] [--port N]
//           [--port-file FILE] [--time-scale X] [--bind ADDRESS] [--verbose]
//   qrs-sim --make-pki DIR [--host-name NAME]
//   qrs-sim --help
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace qlik_reload::sim {

extern const char* const kQrsSimUsage;

// Exit codes of qrs-sim (sysexits.h values).
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 64;        // bad arguments
inline constexpr int kExitUnavailable = 69;  // cannot listen
inline constexpr int kExitSoftware = 70;     // make-pki failed, internal error
inline constexpr int kExitCantCreate = 73;   // cannot write the port file
inline constexpr int kExitConfig = 78;       // bad scenario or PKI files

struct CommandLine {
  enum class Mode { kServe, kMakePki, kHelp };
  Mode mode = Mode::kServe;
  std::string scenarioFile;
  std::string pkiDir;  // --pki, or the --make-pki target
  std::string hostName;  // empty: not given
  std::uint16_t port = 0;
  std::string portFile;
  double timeScale = 1.0;
  std::string bindAddress = "127.0.0.1";
  bool verbose = false;
};

// `args` excludes the program name. kInvalidArgument naming the problem
// ("--port: expected a number from 0 to 65535, got 'x'").
Result<CommandLine> parseCommandLine(const std::vector<std::string>& args);

// Writes `port` and a newline to FILE.tmp, then renames it to FILE, so a
// reader never sees a partial file. kUnavailable on I/O failure.
Status writePortFile(const std::string& path, std::uint16_t port);

}  // namespace qlik_reload::sim
