// ChildProcess: runs one of the product's programs for an integration test,
// with stdout and stderr captured to files.
//
// Readiness is always a signal from the program (a port file, a line), never
// a sleep: waitForFile() watches for the file and fails early, quoting the
// program's stderr, when the program dies first.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace qlik_reload::testing {

class ChildProcess {
 public:
  // Starts `argv[0]` (a path) with `argv`; `env` entries are added to (or
  // replace those in) the test's environment. Output goes to the two files.
  ChildProcess(std::vector<std::string> argv, std::string stdoutPath, std::string stderrPath,
               std::map<std::string, std::string> env = {});
  ~ChildProcess();  // SIGKILLs a process still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits for the exit; returns the exit code, 128+N when killed by signal
  // N, nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);

  // Waits until `path` exists and is not empty. Returns false on timeout or
  // when the process exits first.
  bool waitForFile(const std::string& path, std::chrono::milliseconds timeout);
  // Waits until the stderr file contains `text`.
  bool waitForStderr(const std::string& text, std::chrono::milliseconds timeout);

  std::string stdoutText() const;
  std::string stderrText() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exitCode_;
  std::string stdoutPath_;
  std::string stderrPath_;
};

std::string readFile(const std::string& path);
void writeFile(const std::string& path, const std::string& text);

}  // namespace qlik_reload::testing
