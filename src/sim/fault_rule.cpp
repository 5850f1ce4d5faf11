#include "sim/fault_rule.h"

#include <cctype>

#include "sim/json_util.h"

namespace qlik_reload::sim {
namespace {

bool parseNonNegative(std::string_view text, std::int64_t& out) {
  if (text.empty() || text.size() > 12) return false;
  std::int64_t value = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

// Parses "action" into the rule; false when it is not one of the known forms.
bool parseAction(const std::string& text, FaultRule& rule) {
  rule.actionText = text;
  auto colon = text.find(':');
  std::string verb = text.substr(0, colon);
  std::string argument = colon == std::string::npos ? "" : text.substr(colon + 1);
  bool hasArgument = colon != std::string::npos;
  std::int64_t number = 0;
  if (verb == "status" && hasArgument && parseNonNegative(argument, number) && number >= 400 && number <= 599) {
    rule.action = FaultAction::kStatus;
    rule.status = static_cast<int>(number);
    return true;
  }
  if (verb == "delay" && hasArgument && parseNonNegative(argument, number)) {
    rule.action = FaultAction::kDelay;
    rule.durationMs = number;
    return true;
  }
  if (verb == "down" && hasArgument && parseNonNegative(argument, number)) {
    rule.action = FaultAction::kDown;
    rule.durationMs = number;
    return true;
  }
  if (hasArgument) return false;
  if (verb == "reset_before") rule.action = FaultAction::kResetBefore;
  else if (verb == "reset_after") rule.action = FaultAction::kResetAfter;
  else if (verb == "malformed_json") rule.action = FaultAction::kMalformedJson;
  else if (verb == "truncated") rule.action = FaultAction::kTruncated;
  else if (verb == "tls_fail") rule.action = FaultAction::kTlsFail;
  else return false;
  return true;
}

bool globMatchAt(std::string_view pattern, size_t p, std::string_view path, size_t s) {
  while (p < pattern.size()) {
    char c = pattern[p];
    if (c == '*') {
      bool crossSegments = p + 1 < pattern.size() && pattern[p + 1] == '*';
      size_t next = p + (crossSegments ? 2 : 1);
      for (size_t i = s;; ++i) {
        if (globMatchAt(pattern, next, path, i)) return true;
        if (i >= path.size()) return false;
        if (!crossSegments && path[i] == '/') return false;
      }
    }
    if (s >= path.size()) return false;
    if (c == '?') {
      if (path[s] == '/') return false;
    } else if (c != path[s]) {
      return false;
    }
    ++p;
    ++s;
  }
  return s == path.size();
}

}  // namespace

bool globMatch(std::string_view pattern, std::string_view path) { return globMatchAt(pattern, 0, path, 0); }

Result<FaultRule> parseFaultRule(const Poco::JSON::Object& object, const std::string& where) {
  FaultRule rule;
  JsonFields fields(object, where);
  fields.optionalString("route", rule.route);
  if (rule.route.empty()) fields.fail("route", "must not be empty");
  std::string method;
  fields.optionalString("method", method);
  for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  rule.method = method;
  fields.optionalInt("count", rule.count);
  if (rule.count && *rule.count < 0) fields.fail("count", "expected a non-negative integer");
  fields.optionalNumber("probability", rule.probability);
  if (rule.probability && (*rule.probability < 0 || *rule.probability > 1)) {
    fields.fail("probability", "expected a number from 0 to 1");
  }
  fields.optionalInt("retry_after_s", rule.retryAfterSeconds);
  if (rule.retryAfterSeconds && *rule.retryAfterSeconds < 0) {
    fields.fail("retry_after_s", "expected a non-negative integer");
  }
  std::string action;
  fields.requiredString("action", action);
  if (fields.ok() && !parseAction(action, rule)) {
    fields.fail("action",
                "unknown action '" + action +
                    "' (expected status:400..599, reset_before, reset_after, delay:MS, malformed_json, truncated, "
                    "tls_fail or down:MS)");
  }
  Status status = fields.finish();
  if (!status.isOk()) return status;
  return rule;
}

Result<std::vector<FaultRule>> parseFaultRules(const Poco::Dynamic::Var& value, const std::string& where) {
  if (!isJsonArray(value)) return Status::configuration(where + ": expected an array of fault rules");
  auto array = value.extract<Poco::JSON::Array::Ptr>();
  std::vector<FaultRule> rules;
  for (unsigned i = 0; i < array->size(); ++i) {
    std::string itemWhere = where + "[" + std::to_string(i) + "]";
    Poco::Dynamic::Var item = array->get(i);
    if (!isJsonObject(item)) return Status::configuration(itemWhere + ": expected an object");
    Result<FaultRule> rule = parseFaultRule(*item.extract<Poco::JSON::Object::Ptr>(), itemWhere);
    if (!rule.isOk()) return rule.status();
    rules.push_back(std::move(rule).value());
  }
  return rules;
}

Poco::JSON::Object::Ptr faultRuleToJson(const FaultRule& rule) {
  auto object = newJsonObject();
  object->set("route", rule.route);
  if (!rule.method.empty()) object->set("method", rule.method);
  if (rule.count) object->set("count", *rule.count);
  if (rule.probability) object->set("probability", *rule.probability);
  object->set("action", rule.actionText);
  if (rule.retryAfterSeconds) object->set("retry_after_s", *rule.retryAfterSeconds);
  return object;
}

}  // namespace qlik_reload::sim
