#include "sim/change.h"

#include "sim/json_util.h"

namespace qlik_reload::sim {

const char* changeTypeName(ChangeType type) {
  switch (type) {
    case ChangeType::kUndefined: return "Undefined";
    case ChangeType::kAdd: return "Add";
    case ChangeType::kUpdate: return "Update";
    case ChangeType::kDelete: return "Delete";
  }
  return "Undefined";
}

std::optional<ChangeType> parseChangeType(std::string_view text) {
  for (ChangeType type : {ChangeType::kUndefined, ChangeType::kAdd, ChangeType::kUpdate, ChangeType::kDelete}) {
    if (text == std::to_string(static_cast<int>(type)) || equalsIgnoreCase(text, changeTypeName(type))) return type;
  }
  return std::nullopt;
}

}  // namespace qlik_reload::sim
