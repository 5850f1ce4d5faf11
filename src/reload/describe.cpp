#include "reload/describe.h"

#include <algorithm>
#include <cctype>

#include "core/duration.h"

namespace qlik_reload {
namespace {

std::string elapsed(const ReloadStatus& s) {
  if (s.startedAt && s.finishedAt && *s.finishedAt >= *s.startedAt) {
    return " after " + formatDuration(std::chrono::duration_cast<Duration>(*s.finishedAt - *s.startedAt));
  }
  return "";
}

std::string attemptsNote(const ReloadStatus& s) {
  if (s.attempts.size() <= 1) return "";
  return ", attempt " + std::to_string(s.attempts.size()) + " of " + std::to_string(s.attempts.size());
}

std::string withDetail(std::string sentence, const std::string& detail) {
  if (!detail.empty()) sentence += ": " + detail;
  if (sentence.empty() || sentence.back() != '.') sentence += '.';
  return sentence;
}

}  // namespace

std::string describeStatus(const ReloadStatus& s, const std::string& lastDetail) {
  const std::string qlik = s.qlikStatus.empty() ? "" : " (" + s.qlikStatus + ")";
  switch (s.state) {
    case ReloadState::kQueued:
      return "Waiting in Qlik's queue" + qlik + ".";
    case ReloadState::kRunning:
      if (s.qlikStatusCode == 10) return "Attempt " + std::to_string(s.attempts.size()) + " failed; Qlik will retry (Retry).";
      if (!s.attempts.empty() && !s.attempts.back().node.empty()) {
        return "Running in Qlik on " + s.attempts.back().node + qlik + ".";
      }
      return "Running in Qlik" + qlik + ".";
    case ReloadState::kStopping:
      return "Stopping in Qlik" + qlik + ".";
    case ReloadState::kSucceeded:
      return "Reload succeeded" + elapsed(s) + attemptsNote(s) + ".";
    case ReloadState::kFailed:
      return withDetail("Reload failed in Qlik" + qlik + elapsed(s) + attemptsNote(s), lastDetail);
    case ReloadState::kAborted:
      return withDetail("Reload was aborted in Qlik" + qlik + elapsed(s), lastDetail);
    case ReloadState::kSkipped:
      return withDetail("Qlik skipped the reload" + qlik, lastDetail);
    case ReloadState::kNotStarted:
      return "Qlik did not start the reload.";
  }
  return "";
}

std::string logTail(const std::string& log, std::size_t maxLines) {
  std::vector<std::string> lines;
  std::string current;
  for (char c : log) {
    if (c == '\r') continue;
    if (c == '\n') {
      lines.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) lines.push_back(std::move(current));
  while (!lines.empty() && lines.back().find_first_not_of(" \t") == std::string::npos) lines.pop_back();
  std::size_t first = lines.size() > maxLines ? lines.size() - maxLines : 0;
  std::string out;
  for (std::size_t i = first; i < lines.size(); ++i) {
    if (i != first) out += '\n';
    out += lines[i];
  }
  return out;
}

namespace {

// Qlik prefixes log lines with "20260102T080001.411+0000 ": drop it.
std::string withoutTimestamp(const std::string& line) {
  std::size_t i = 0;
  while (i < line.size() && (std::isdigit(static_cast<unsigned char>(line[i])) || line[i] == 'T' || line[i] == '.' ||
                             line[i] == '+' || line[i] == '-')) {
    ++i;
  }
  const bool stamped = i >= 15 && i < line.size() && (line[i] == ' ' || line[i] == '\t') && line[8] == 'T';
  std::string rest = stamped ? line.substr(i) : line;
  const auto first = rest.find_first_not_of(" \t");
  return first == std::string::npos ? "" : rest.substr(first);
}

}  // namespace

std::string scriptLogError(const std::string& log) {
  std::vector<std::string> lines;
  std::string current;
  for (char c : log + "\n") {
    if (c == '\r') continue;
    if (c == '\n') {
      lines.push_back(withoutTimestamp(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    if (lines[i] != "The following error occurred:") continue;
    for (std::size_t j = i + 1; j < lines.size(); ++j) {
      if (!lines[j].empty()) return lines[j];
    }
  }
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (it->rfind("Error", 0) == 0) return *it;
  }
  return "";
}

std::string formatLabels(const std::vector<std::pair<std::string, std::string>>& labels) {
  auto sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (const auto& [key, value] : sorted) {
    if (!out.empty()) out += ' ';
    out += key + "=" + value;
  }
  return out;
}

}  // namespace qlik_reload
