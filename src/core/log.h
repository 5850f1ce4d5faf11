// Process log: one line per event on stderr,
//   2026-01-02T03:04:05.678Z INFO  started execution 2a8e… of task 7f3c… [dag=sales run=r1]
// Thread-safe. Never pass secrets (keys, passphrases, tokens) to it: nothing
// here can tell them apart from other text.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace qlik_reload {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void setLogLevel(LogLevel level);
LogLevel logLevel();
// Parses "debug", "info", "warn", "error".
bool parseLogLevel(std::string_view text, LogLevel& out);

// Replaces stderr as the destination (tests capture lines). Pass nullptr to restore.
void setLogSink(std::function<void(LogLevel, const std::string&)> sink);

void log(LogLevel level, std::string_view message);
inline void logDebug(std::string_view m) { log(LogLevel::kDebug, m); }
inline void logInfo(std::string_view m) { log(LogLevel::kInfo, m); }
inline void logWarn(std::string_view m) { log(LogLevel::kWarn, m); }
inline void logError(std::string_view m) { log(LogLevel::kError, m); }

}  // namespace qlik_reload
