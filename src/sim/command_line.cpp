#include "sim/command_line.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace qlik_reload::sim {

const char* const kQrsSimUsage =
    "usage: qrs-sim --scenario FILE --pki DIR [--host-name NAME] [--port N] [--port-file FILE]\n"
    "               [--time-scale X] [--bind ADDRESS] [--verbose]\n"
    "       qrs-sim --make-pki DIR [--host-name NAME]\n"
    "\n"
    "Serves a simulated Qlik Sense Repository Service over HTTPS with a required client\n"
    "certificate (DIR/server.pem, DIR/server_key.pem; clients verified against DIR/root.pem).\n"
    "  --port N          port to listen on; 0 (default) picks a free port\n"
    "  --port-file FILE  write the port there once listening (atomically)\n"
    "  --time-scale X    divide every simulated duration by X (default 1)\n"
    "  --bind ADDRESS    address to listen on (default 127.0.0.1)\n"
    "  --host-name NAME  --make-pki: name on the server certificate (default qlikserver1);\n"
    "                    serving: warn when server.pem is not issued for NAME\n"
    "  --verbose         log every request on stderr\n"
    "Exit codes: 0 ok, 64 bad arguments, 69 cannot listen, 70 make-pki failed,\n"
    "            73 cannot write the port file, 78 bad scenario or PKI files.\n";

Result<CommandLine> parseCommandLine(const std::vector<std::string>& args) {
  CommandLine line;
  bool serveOption = false;
  bool makePki = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      line.mode = CommandLine::Mode::kHelp;
      return line;
    }
    if (arg == "--verbose") {
      line.verbose = true;
      continue;
    }
    static const char* const kWithValue[] = {"--scenario", "--pki",       "--host-name", "--port",
                                             "--port-file", "--time-scale", "--bind",      "--make-pki"};
    bool known = false;
    for (const char* name : kWithValue) known = known || arg == name;
    if (!known) return Status::invalidArgument("unknown argument '" + arg + "'");
    if (i + 1 >= args.size()) return Status::invalidArgument(arg + ": missing value");
    const std::string& value = args[++i];
    if (arg == "--make-pki") {
      makePki = true;
      line.pkiDir = value;
      continue;
    }
    if (arg == "--host-name") {
      if (value.empty()) return Status::invalidArgument("--host-name: must not be empty");
      line.hostName = value;
      continue;
    }
    serveOption = true;
    if (arg == "--scenario") {
      line.scenarioFile = value;
    } else if (arg == "--pki") {
      line.pkiDir = value;
    } else if (arg == "--port") {
      char* end = nullptr;
      errno = 0;
      long port = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno != 0 || port < 0 || port > 65535) {
        return Status::invalidArgument("--port: expected a number from 0 to 65535, got '" + value + "'");
      }
      line.port = static_cast<std::uint16_t>(port);
    } else if (arg == "--port-file") {
      if (value.empty()) return Status::invalidArgument("--port-file: must not be empty");
      line.portFile = value;
    } else if (arg == "--time-scale") {
      char* end = nullptr;
      double scale = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !std::isfinite(scale) || scale <= 0) {
        return Status::invalidArgument("--time-scale: expected a number greater than 0, got '" + value + "'");
      }
      line.timeScale = scale;
    } else if (arg == "--bind") {
      if (value.empty()) return Status::invalidArgument("--bind: must not be empty");
      line.bindAddress = value;
    }
  }
  if (makePki) {
    if (serveOption) return Status::invalidArgument("--make-pki takes only --host-name");
    line.mode = CommandLine::Mode::kMakePki;
    return line;
  }
  if (line.scenarioFile.empty()) return Status::invalidArgument("--scenario FILE is required");
  if (line.pkiDir.empty()) return Status::invalidArgument("--pki DIR is required");
  return line;
}

Status writePortFile(const std::string& path, std::uint16_t port) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << port << "\n";
    out.flush();
    if (!out) return Status::unavailable("cannot write " + temporary);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return Status::unavailable("cannot rename " + temporary + " to " + path + ": " + std::strerror(errno));
  }
  return Status::ok();
}

}  // namespace qlik_reload::sim
