#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "core/clock.h"
#include "core/time_format.h"

namespace qlik_reload {
namespace {

std::atomic<int> gLevel{static_cast<int>(LogLevel::kInfo)};
std::mutex gMutex;
std::function<void(LogLevel, const std::string&)> gSink;

const char* levelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO ";
    case LogLevel::kWarn: return "WARN ";
    case LogLevel::kError: return "ERROR";
  }
  return "?    ";
}

}  // namespace

void setLogLevel(LogLevel level) { gLevel.store(static_cast<int>(level)); }
LogLevel logLevel() { return static_cast<LogLevel>(gLevel.load()); }

bool parseLogLevel(std::string_view text, LogLevel& out) {
  if (text == "debug") out = LogLevel::kDebug;
  else if (text == "info") out = LogLevel::kInfo;
  else if (text == "warn" || text == "warning") out = LogLevel::kWarn;
  else if (text == "error") out = LogLevel::kError;
  else return false;
  return true;
}

void setLogSink(std::function<void(LogLevel, const std::string&)> sink) {
  std::lock_guard<std::mutex> guard(gMutex);
  gSink = std::move(sink);
}

void log(LogLevel level, std::string_view message) {
  if (static_cast<int>(level) < gLevel.load()) return;
  std::string line = formatIso8601(SystemClock::instance().wallNow());
  line += ' ';
  line += levelName(level);
  line += ' ';
  line += message;
  std::lock_guard<std::mutex> guard(gMutex);
  if (gSink) {
    gSink(level, line);
    return;
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace qlik_reload
