// One change to a simulated QRS entity, as the SimEngine records it for
// change notifications (notifications.h). Plain data, no behaviour beyond
// naming the change type.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/JSON/Object.h>

#include "core/clock.h"

namespace qlik_reload::sim {

// QRS's change types, with QRS's numbers (the "changetype" parameter of
// POST /qrs/notification).
enum class ChangeType { kUndefined = 0, kAdd = 1, kUpdate = 2, kDelete = 3 };

// "Undefined", "Add", "Update", "Delete".
const char* changeTypeName(ChangeType type);
// "0".."3" or a name above in any case; nullopt for anything else.
std::optional<ChangeType> parseChangeType(std::string_view text);

// The entity types the engine reports changes for.
inline constexpr const char* kExecutionResultType = "ExecutionResult";
inline constexpr const char* kExecutionSessionType = "ExecutionSession";

struct EntityChange {
  std::string objectType;  // kExecutionResultType or kExecutionSessionType
  std::string objectId;    // the entity's id (lower-case GUID)
  ChangeType changeType = ChangeType::kUndefined;  // kAdd, kUpdate or kDelete
  // Top-level properties of the full entity whose value this change altered,
  // in the entity's key order. For kAdd every property; for kDelete none.
  std::vector<std::string> changedProperties;
  // The full entity (as GET /qrs/<type>/full shows it) right after the
  // change; null for kDelete. Not shared with the engine: readers may keep it.
  Poco::JSON::Object::Ptr entity;
  Clock::TimePoint at;     // simulated instant of the change (the engine's clock)
  std::string changeDate;  // the same instant as QRS writes dates, "2026-01-02T03:04:05.678Z"
};

}  // namespace qlik_reload::sim
