// Small JSON helpers shared by the simulator's files (internal to qrs-sim).
//
// JsonFields reads a configuration object strictly: each getter consumes one
// key, and finish() reports the first wrong type, missing required key or key
// nobody asked for, always naming it ("tasks[1].run_ms: ..."). Not
// thread-safe; use one per object being read.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "core/status.h"

namespace qlik_reload::sim {

// A new object that keeps keys in insertion order (QRS-like output).
Poco::JSON::Object::Ptr newJsonObject();
Poco::JSON::Array::Ptr newJsonArray();

// Compact JSON text of any value Poco::JSON can hold.
std::string toJsonText(const Poco::Dynamic::Var& value);

// Parses JSON text; kInvalidArgument quoting the parser's complaint.
Result<Poco::Dynamic::Var> parseJsonText(std::string_view text);

bool isJsonObject(const Poco::Dynamic::Var& value);
bool isJsonArray(const Poco::Dynamic::Var& value);
// Null in Poco's parse tree is an empty Var.
inline bool isJsonNull(const Poco::Dynamic::Var& value) { return value.isEmpty(); }

// ASCII case-insensitive equality and lower-casing.
bool equalsIgnoreCase(std::string_view a, std::string_view b);
std::string toLower(std::string_view text);

class JsonFields {
 public:
  // `where` is the path of `object` in the document ("" for the root).
  JsonFields(const Poco::JSON::Object& object, std::string where);

  bool has(const char* key) const;
  // "where.key" (or "key" at the root).
  std::string keyPath(const char* key) const;

  void requiredString(const char* key, std::string& out);
  void optionalString(const char* key, std::string& out);
  void optionalString(const char* key, std::optional<std::string>& out);
  void optionalBool(const char* key, bool& out);
  void optionalNonNegative(const char* key, std::int64_t& out);
  void optionalNumber(const char* key, std::optional<double>& out);
  void optionalInt(const char* key, std::optional<std::int64_t>& out);
  void optionalStringList(const char* key, std::vector<std::string>& out);
  // The raw value of a key (arrays, nested objects); marks it as read.
  std::optional<Poco::Dynamic::Var> take(const char* key);

  // True while no error was recorded (unknown keys are checked by finish()).
  bool ok() const { return status_.isOk(); }
  // Records an error found by the caller (first error wins).
  void fail(const char* key, const std::string& problem);
  // First error, including "unknown key" for keys nobody read.
  Status finish();

 private:
  const Poco::Dynamic::Var* find(const char* key);

  const Poco::JSON::Object& object_;
  std::string where_;
  std::set<std::string> read_;
  Status status_;
};

}  // namespace qlik_reload::sim
