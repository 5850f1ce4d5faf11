#include "sim/faults.h"

#include "core/time_format.h"
#include "sim/engine.h"
#include "sim/json_util.h"

namespace qlik_reload::sim {

FaultInjector::FaultInjector(std::vector<FaultRule> rules, std::uint64_t seed, SimEngine& engine)
    : engine_(engine), clock_(engine.clock()), rules_(std::move(rules)), random_(seed) {}

void FaultInjector::setRules(std::vector<FaultRule> rules) {
  std::lock_guard<std::mutex> lock(mutex_);
  rules_ = std::move(rules);
  downUntil_.reset();
}

Poco::JSON::Array::Ptr FaultInjector::rulesJson() const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto array = newJsonArray();
  for (const FaultRule& rule : rules_) array->add(faultRuleToJson(rule));
  return array;
}

bool FaultInjector::downNow() const { return downUntil_ && clock_.now() < *downUntil_; }

bool FaultInjector::draw(const FaultRule& rule) {
  if (rule.count && *rule.count <= 0) return false;
  if (rule.probability) {
    double roll = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
    if (roll >= *rule.probability) return false;
  }
  return true;
}

void FaultInjector::recordHit(const FaultRule& rule, const std::string& method, const std::string& path) {
  auto entry = newJsonObject();
  entry->set("action", rule.actionText);
  entry->set("route", rule.route);
  entry->set("method", method);
  entry->set("path", path);
  entry->set("at", formatIso8601(engine_.wallTimeOf(clock_.now())));
  engine_.recordFault(entry);
}

std::optional<FaultRule> FaultInjector::onRequest(const std::string& method, const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (downNow()) {
    FaultRule down;
    down.action = FaultAction::kDown;
    down.actionText = "down";
    return down;
  }
  for (FaultRule& rule : rules_) {
    if (rule.action == FaultAction::kTlsFail) continue;
    if (!rule.method.empty() && rule.method != method) continue;
    if (!globMatch(rule.route, path)) continue;
    if (!draw(rule)) continue;
    if (rule.count) --*rule.count;
    if (rule.action == FaultAction::kDown) {
      downUntil_ = clock_.now() + std::chrono::milliseconds(rule.durationMs);
    }
    recordHit(rule, method, path);
    return rule;
  }
  return std::nullopt;
}

bool FaultInjector::onConnection() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (downNow()) return true;
  for (FaultRule& rule : rules_) {
    if (rule.action != FaultAction::kTlsFail) continue;
    if (!draw(rule)) continue;
    if (rule.count) --*rule.count;
    recordHit(rule, "", "");
    return true;
  }
  return false;
}

}  // namespace qlik_reload::sim
