#include "report.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <sstream>

#include "core/duration.h"
#include "core/time_format.h"

namespace qlik_reload::cli {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

Var nullable(const std::string& text) { return text.empty() ? Var() : Var(text); }

Var isoTime(bool isSet, std::int64_t epochMs) {
  if (!isSet) return Var();
  return Var(formatIso8601(fromEpochMs(epochMs)));
}

Object::Ptr newObject() { return new Object(Poco::JSON_PRESERVE_KEY_ORDER); }

Object::Ptr errorObject(const std::optional<CliError>& error) {
  if (!error) return nullptr;
  Object::Ptr out = newObject();
  out->set("type", std::string(errorTypeName(error->type)));
  out->set("message", error->message);
  out->set("retryable", error->retryable);
  return out;
}

void setError(Object& object, const std::optional<CliError>& error) {
  Object::Ptr value = errorObject(error);
  if (value) {
    object.set("error", value);
  } else {
    object.set("error", Var());
  }
}

Object::Ptr attemptObject(const rpc::Attempt& attempt) {
  Object::Ptr out = newObject();
  out->set("qlik_status", nullable(attempt.qlikStatus));
  out->set("qlik_status_code", Var(static_cast<Poco::Int64>(attempt.qlikStatusCode)));
  out->set("started_at", isoTime(attempt.__isset.startedAtMs, attempt.startedAtMs));
  out->set("finished_at", isoTime(attempt.__isset.finishedAtMs, attempt.finishedAtMs));
  out->set("duration_ms", Var(static_cast<Poco::Int64>(attempt.durationMs)));
  out->set("node", nullable(attempt.node));
  Array::Ptr messages = new Array;
  for (const std::string& message : attempt.messages) messages->add(message);
  out->set("messages", messages);
  return out;
}

std::string stringify(const Object& object) {
  std::ostringstream out;
  object.stringify(out, 0);
  return out.str();
}

std::string pingJson(const Report& report) {
  Object out(Poco::JSON_PRESERVE_KEY_ORDER);
  if (report.workerInfo) {
    out.set("version", report.workerInfo->version);
    Array::Ptr sites = new Array;
    for (const std::string& site : report.workerInfo->sites) sites->add(site);
    out.set("sites", sites);
  } else {
    out.set("version", Var());
    out.set("sites", Var());
  }
  out.set("exit_code", report.exitCode());
  setError(out, report.error);
  return stringify(out);
}

// Qlik's last detail message of the last attempt, if it adds to `message`.
std::string lastQlikDetail(const rpc::ReloadStatus& status, const std::string& message) {
  if (status.attempts.empty()) return "";
  const auto& messages = status.attempts.back().messages;
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->empty()) continue;
    if (message.find(*it) != std::string::npos) return "";
    return *it;
  }
  return "";
}

}  // namespace

Outcome Report::outcome() const {
  Outcome out;
  out.command = command;
  if (status) out.state = status->state;
  out.timedOut = timedOut;
  out.error = error;
  out.signalNumber = signalNumber;
  return out;
}

std::string Report::effectiveExecutionId() const {
  if (status && !status->executionId.empty()) return status->executionId;
  return executionId;
}

std::string Report::effectiveMessage() const {
  if (!message.empty()) return message;
  if (error) return error->message;
  if (status) return status->message;
  return "";
}

std::string lastLines(const std::string& text, std::size_t maxLines) {
  if (maxLines == 0 || text.empty()) return "";
  std::size_t end = text.size();
  if (text[end - 1] == '\n') --end;  // a final newline ends the last line; it does not start another
  std::size_t begin = end;
  std::size_t lines = 0;
  while (begin > 0) {
    if (text[begin - 1] == '\n') {
      if (++lines == maxLines) break;
    }
    --begin;
  }
  return text.substr(begin);
}

std::string toJson(const Report& report) {
  if (report.command == Command::kPing) return pingJson(report);
  const rpc::ReloadStatus* status = report.status ? &*report.status : nullptr;
  Object out(Poco::JSON_PRESERVE_KEY_ORDER);
  out.set("execution_id", nullable(report.effectiveExecutionId()));
  out.set("site", nullable(status && !status->site.empty() ? status->site : report.site));
  out.set("task_id", nullable(status && !status->taskId.empty() ? status->taskId : report.taskId));
  out.set("task_name", nullable(status && !status->taskName.empty() ? status->taskName : report.taskName));
  out.set("state", status ? Var(stateName(status->state)) : Var());
  const bool hasQlikStatus = status && !status->qlikStatus.empty();
  out.set("qlik_status", hasQlikStatus ? Var(status->qlikStatus) : Var());
  out.set("qlik_status_code",
          hasQlikStatus && status->qlikStatusCode >= 0 ? Var(static_cast<Poco::Int64>(status->qlikStatusCode)) : Var());
  Array::Ptr attempts = new Array;
  if (status) {
    for (const rpc::Attempt& attempt : status->attempts) attempts->add(attemptObject(attempt));
  }
  out.set("attempts", attempts);
  const bool started = status && status->__isset.startedAtMs;
  const bool finished = status && status->__isset.finishedAtMs;
  out.set("started_at", started ? isoTime(true, status->startedAtMs) : Var());
  out.set("finished_at", finished ? isoTime(true, status->finishedAtMs) : Var());
  out.set("duration_ms",
          started && finished ? Var(static_cast<Poco::Int64>(status->finishedAtMs - status->startedAtMs)) : Var());
  out.set("timed_out", report.timedOut);
  out.set("attached", status ? status->attached : false);
  out.set("message", report.effectiveMessage());
  out.set("script_log_tail", status ? lastLines(status->scriptLogTail) : std::string());
  out.set("exit_code", report.exitCode());
  setError(out, report.error);
  return stringify(out);
}

std::string humanSummary(const Report& report, const std::string& workerAddress) {
  if (report.command == Command::kPing && report.workerInfo) {
    std::string sites;
    for (const std::string& site : report.workerInfo->sites) sites += (sites.empty() ? "" : ", ") + site;
    return "worker " + report.workerInfo->version + " at " + workerAddress + "; sites: " +
           (sites.empty() ? "(none)" : sites);
  }
  std::string first = "-";
  if (report.error && !(report.timedOut && report.status)) {
    first = errorTypeName(report.error->type);
  } else if (report.status) {
    first = stateName(report.status->state);
  }
  if (report.timedOut && first != "-") first += " (timed out)";
  const std::string id = report.effectiveExecutionId();
  std::string line = first + " " + (id.empty() ? "-" : id);
  const std::string message = report.effectiveMessage();
  if (!message.empty()) line += ": " + message;
  return line;
}

std::vector<std::string> outcomeLines(const Report& report) {
  std::vector<std::string> lines;
  const std::string message = report.effectiveMessage();
  std::string headline = "qlik-reload: ";
  if (report.command == Command::kPing && report.workerInfo) {
    headline += "worker " + report.workerInfo->version + " answered";
  } else if (report.error && !(report.timedOut && report.status)) {
    headline += std::string("error (") + errorTypeName(report.error->type) + ")";
    if (!message.empty()) headline += ": " + message;
  } else {
    headline += report.status ? stateName(report.status->state) : std::string("no status");
    if (report.timedOut && message.rfind("Timed out", 0) != 0) headline += ", timed out";
    if (report.elapsed) headline += " after " + formatDuration(*report.elapsed);
    if (!message.empty()) headline += ": " + message;
  }
  lines.push_back(headline);
  if (!report.status || report.exitCode() == kExitSucceeded) return lines;
  const std::string detail = lastQlikDetail(*report.status, message);
  if (!detail.empty()) lines.push_back("  Qlik: " + detail);
  const std::string tail = lastLines(report.status->scriptLogTail);
  if (!tail.empty()) {
    lines.push_back("  script log (last lines):");
    std::istringstream in(tail);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back("    " + line);
    }
  }
  return lines;
}

}  // namespace qlik_reload::cli
