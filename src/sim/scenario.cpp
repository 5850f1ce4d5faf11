#include "sim/scenario.h"

#include <fstream>
#include <set>
#include <sstream>

#include "core/guid.h"
#include "qrs/types.h"
#include "sim/json_util.h"

namespace qlik_reload::sim {
namespace {

bool parseOutcome(const std::string& text, Outcome& out) {
  static const std::pair<const char*, Outcome> kOutcomes[] = {{"success", Outcome::kSuccess},
                                                             {"fail", Outcome::kFail},
                                                             {"skip", Outcome::kSkip},
                                                             {"error", Outcome::kError},
                                                             {"reset", Outcome::kReset}};
  for (const auto& [name, outcome] : kOutcomes) {
    if (text == name) {
      out = outcome;
      return true;
    }
  }
  return false;
}

void readOutcome(JsonFields& fields, const char* key, Outcome& out) {
  std::string text;
  if (!fields.has(key)) return;
  fields.optionalString(key, text);
  if (!fields.ok()) return;
  if (!parseOutcome(text, out)) fields.fail(key, "unknown outcome '" + text + "' (expected success, fail, skip, error or reset)");
}

// Complement of every hex digit: a stable app id that differs from the task id.
std::string derivedAppId(const std::string& taskId) {
  static const char* kHex = "0123456789abcdef";
  std::string out = taskId;
  for (char& c : out) {
    if (c == '-') continue;
    int digit = (c >= '0' && c <= '9') ? c - '0' : c - 'a' + 10;
    c = kHex[15 - digit];
  }
  return out;
}

Result<AttemptSpec> parseAttempt(const Poco::Dynamic::Var& value, const std::string& where,
                                 const AttemptSpec& defaults) {
  if (!isJsonObject(value)) return Status::configuration(where + ": expected an object");
  auto object = value.extract<Poco::JSON::Object::Ptr>();
  AttemptSpec attempt = defaults;
  JsonFields fields(*object, where);
  readOutcome(fields, "outcome", attempt.outcome);
  fields.optionalNonNegative("queue_ms", attempt.queueMs);
  fields.optionalNonNegative("run_ms", attempt.runMs);
  fields.optionalString("script_log", attempt.scriptLog);
  Status status = fields.finish();
  if (!status.isOk()) return status;
  return attempt;
}

}  // namespace

const char* outcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSuccess: return "success";
    case Outcome::kFail: return "fail";
    case Outcome::kSkip: return "skip";
    case Outcome::kError: return "error";
    case Outcome::kReset: return "reset";
  }
  return "unknown";
}

int finalStatusOf(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSuccess: return qrs::kFinishedSuccess;
    case Outcome::kFail: return qrs::kFinishedFail;
    case Outcome::kSkip: return qrs::kSkipped;
    case Outcome::kError: return qrs::kError;
    case Outcome::kReset: return qrs::kReset;
  }
  return qrs::kError;
}

Result<TaskSpec> parseTaskSpec(const Poco::JSON::Object& object, const std::string& where) {
  TaskSpec task;
  JsonFields fields(object, where);
  fields.requiredString("id", task.id);
  if (fields.ok() && !isGuid(task.id)) fields.fail("id", "expected a GUID, got '" + task.id + "'");
  task.id = normalizeGuid(task.id);
  fields.requiredString("name", task.name);
  if (fields.ok() && task.name.empty()) fields.fail("name", "must not be empty");
  fields.optionalBool("enabled", task.enabled);
  fields.optionalString("app_id", task.appId);
  if (!task.appId.empty() && !isGuid(task.appId)) fields.fail("app_id", "expected a GUID, got '" + task.appId + "'");
  fields.optionalString("app_name", task.appName);

  AttemptSpec defaults;
  readOutcome(fields, "outcome", defaults.outcome);
  fields.optionalNonNegative("queue_ms", defaults.queueMs);
  fields.optionalNonNegative("run_ms", defaults.runMs);
  fields.optionalNonNegative("retry_delay_ms", task.retryDelayMs);
  fields.optionalNonNegative("abort_ms", task.abortMs);
  fields.optionalNonNegative("log_delay_ms", task.logDelayMs);
  fields.optionalString("script_log", task.scriptLog);
  fields.optionalString("node", task.node);
  if (task.node.empty()) fields.fail("node", "must not be empty");
  std::string startReply = "value";
  fields.optionalString("start_reply", startReply);
  if (startReply == "bare") {
    task.startReply = StartReplyShape::kBare;
  } else if (startReply != "value") {
    fields.fail("start_reply", "expected \"value\" or \"bare\", got '" + startReply + "'");
  }

  std::optional<Poco::Dynamic::Var> attempts = fields.take("attempts");
  Status status = fields.finish();
  if (!status.isOk()) return status;

  if (attempts) {
    const std::string attemptsWhere = fields.keyPath("attempts");
    if (!isJsonArray(*attempts)) return Status::configuration(attemptsWhere + ": expected an array of attempts");
    auto array = attempts->extract<Poco::JSON::Array::Ptr>();
    if (array->size() == 0) return Status::configuration(attemptsWhere + ": must hold at least one attempt");
    for (unsigned i = 0; i < array->size(); ++i) {
      Result<AttemptSpec> attempt =
          parseAttempt(array->get(i), attemptsWhere + "[" + std::to_string(i) + "]", defaults);
      if (!attempt.isOk()) return attempt.status();
      task.attempts.push_back(std::move(attempt).value());
    }
    for (size_t i = 0; i + 1 < task.attempts.size(); ++i) {
      Outcome outcome = task.attempts[i].outcome;
      if (outcome != Outcome::kFail && outcome != Outcome::kError) {
        return Status::configuration(attemptsWhere + "[" + std::to_string(i) +
                                     "].outcome: only the last attempt may end in '" + outcomeName(outcome) +
                                     "' (a retry follows only fail or error)");
      }
    }
  } else {
    task.attempts.push_back(defaults);
  }
  if (task.attempts.size() > 21) {
    return Status::configuration(fields.keyPath("attempts") + ": at most 21 attempts (QRS allows 20 retries)");
  }
  if (task.appId.empty()) task.appId = derivedAppId(task.id);
  task.appId = normalizeGuid(task.appId);
  if (task.appName.empty()) task.appName = task.name;
  return task;
}

Result<Scenario> parseScenario(std::string_view json) {
  Result<Poco::Dynamic::Var> parsed = parseJsonText(json);
  if (!parsed.isOk()) return Status::configuration("scenario: " + parsed.status().message());
  if (!isJsonObject(*parsed)) return Status::configuration("scenario: expected a JSON object at the top");
  auto root = parsed->extract<Poco::JSON::Object::Ptr>();

  Scenario scenario;
  JsonFields fields(*root, "");
  std::optional<Poco::Dynamic::Var> tasks = fields.take("tasks");
  fields.optionalStringList("denied_users", scenario.deniedUsers);
  std::int64_t maxConcurrent = 0;
  fields.optionalNonNegative("max_concurrent", maxConcurrent);
  if (maxConcurrent > 100000) fields.fail("max_concurrent", "too large");
  scenario.maxConcurrent = static_cast<int>(maxConcurrent);
  fields.optionalBool("legacy_scriptlog_only", scenario.legacyScriptlogOnly);
  std::optional<std::int64_t> seed;
  fields.optionalInt("seed", seed);
  if (seed) scenario.seed = static_cast<std::uint64_t>(*seed);
  std::optional<Poco::Dynamic::Var> faults = fields.take("faults");
  Status status = fields.finish();
  if (!status.isOk()) return status;

  if (tasks) {
    if (!isJsonArray(*tasks)) return Status::configuration("tasks: expected an array of task objects");
    auto array = tasks->extract<Poco::JSON::Array::Ptr>();
    std::set<std::string> ids;
    for (unsigned i = 0; i < array->size(); ++i) {
      std::string where = "tasks[" + std::to_string(i) + "]";
      Poco::Dynamic::Var item = array->get(i);
      if (!isJsonObject(item)) return Status::configuration(where + ": expected an object");
      Result<TaskSpec> task = parseTaskSpec(*item.extract<Poco::JSON::Object::Ptr>(), where);
      if (!task.isOk()) return task.status();
      if (!ids.insert(task->id).second) {
        return Status::configuration(where + ".id: duplicate task id " + task->id);
      }
      scenario.tasks.push_back(std::move(task).value());
    }
  }
  if (faults) {
    Result<std::vector<FaultRule>> rules = parseFaultRules(*faults, "faults");
    if (!rules.isOk()) return rules.status();
    scenario.faults = std::move(rules).value();
  }
  return scenario;
}

Result<Scenario> loadScenarioFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::configuration("cannot read scenario file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::configuration("cannot read scenario file " + path);
  Result<Scenario> scenario = parseScenario(text.str());
  if (!scenario.isOk()) return scenario.status().withContext(path);
  return scenario;
}

}  // namespace qlik_reload::sim
