// FaultInjector: decides, request by request and connection by connection,
// whether a fault rule (fault_rule.h) hits, and records every hit in the
// engine's record ("faults_applied"). The HTTP layer carries the fault out.
//
// Rules are tried in order; the first one that hits wins. Probabilities draw
// from one generator seeded once, so the same sequence of requests meets the
// same faults. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <Poco/JSON/Array.h>

#include "core/clock.h"
#include "sim/fault_rule.h"

namespace qlik_reload::sim {

class SimEngine;

class FaultInjector {
 public:
  // `engine` receives the record entries and must outlive the injector.
  FaultInjector(std::vector<FaultRule> rules, std::uint64_t seed, SimEngine& engine);

  // Replaces all rules (an empty list turns faults off) and ends a down
  // window. Does not reseed.
  void setRules(std::vector<FaultRule> rules);
  // The current rules, with the counts that remain.
  Poco::JSON::Array::Ptr rulesJson() const;

  // For a request about to be handled: the rule that hits it, if any. During
  // a down window every request is hit by a "down" rule.
  std::optional<FaultRule> onRequest(const std::string& method, const std::string& path);

  // For a connection just accepted: true when it must be dropped before the
  // TLS handshake (a tls_fail rule hit, or a down window is open).
  bool onConnection();

 private:
  bool draw(const FaultRule& rule);
  void recordHit(const FaultRule& rule, const std::string& method, const std::string& path);
  bool downNow() const;

  SimEngine& engine_;
  Clock& clock_;
  mutable std::mutex mutex_;
  std::vector<FaultRule> rules_;
  std::mt19937_64 random_;
  std::optional<Clock::TimePoint> downUntil_;
};

}  // namespace qlik_reload::sim
