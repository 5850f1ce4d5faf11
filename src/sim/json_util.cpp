#include "sim/json_util.h"

#include <cctype>
#include <sstream>

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

namespace qlik_reload::sim {

Poco::JSON::Object::Ptr newJsonObject() { return new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER); }

Poco::JSON::Array::Ptr newJsonArray() { return new Poco::JSON::Array(); }

std::string toJsonText(const Poco::Dynamic::Var& value) {
  std::ostringstream out;
  Poco::JSON::Stringifier::condense(value, out);
  return out.str();
}

Result<Poco::Dynamic::Var> parseJsonText(std::string_view text) {
  try {
    Poco::JSON::Parser parser;
    return parser.parse(std::string(text));
  } catch (const Poco::Exception& e) {
    return Status::invalidArgument("invalid JSON: " + e.displayText());
  }
}

bool isJsonObject(const Poco::Dynamic::Var& value) { return value.type() == typeid(Poco::JSON::Object::Ptr); }

bool isJsonArray(const Poco::Dynamic::Var& value) { return value.type() == typeid(Poco::JSON::Array::Ptr); }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string toLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

JsonFields::JsonFields(const Poco::JSON::Object& object, std::string where)
    : object_(object), where_(std::move(where)) {}

bool JsonFields::has(const char* key) const { return object_.has(key); }

std::string JsonFields::keyPath(const char* key) const { return where_.empty() ? key : where_ + "." + key; }

const Poco::Dynamic::Var* JsonFields::find(const char* key) {
  read_.insert(key);
  auto it = object_.begin();
  for (; it != object_.end(); ++it) {
    if (it->first == key) return &it->second;
  }
  return nullptr;
}

void JsonFields::fail(const char* key, const std::string& problem) {
  if (status_.isOk()) status_ = Status::configuration(keyPath(key) + ": " + problem);
}

void JsonFields::requiredString(const char* key, std::string& out) {
  if (!has(key)) {
    read_.insert(key);
    fail(key, "missing (required)");
    return;
  }
  optionalString(key, out);
}

void JsonFields::optionalString(const char* key, std::string& out) {
  const Poco::Dynamic::Var* value = find(key);
  if (value == nullptr) return;
  if (!value->isString()) return fail(key, "expected a string");
  out = value->extract<std::string>();
}

void JsonFields::optionalString(const char* key, std::optional<std::string>& out) {
  const Poco::Dynamic::Var* value = find(key);
  if (value == nullptr) return;
  if (!value->isString()) return fail(key, "expected a string");
  out = value->extract<std::string>();
}

void JsonFields::optionalBool(const char* key, bool& out) {
  const Poco::Dynamic::Var* value = find(key);
  if (value == nullptr) return;
  if (!value->isBoolean()) return fail(key, "expected true or false");
  out = value->extract<bool>();
}

void JsonFields::optionalNonNegative(const char* key, std::int64_t& out) {
  std::optional<std::int64_t> value;
  optionalInt(key, value);
  if (!value) return;
  if (*value < 0) return fail(key, "expected a non-negative integer");
  out = *value;
}

void JsonFields::optionalInt(const char* key, std::optional<std::int64_t>& out) {
  const Poco::Dynamic::Var* value = find(key);
  if (value == nullptr) return;
  if (!value->isInteger() || value->isBoolean()) return fail(key, "expected an integer");
  try {
    out = value->convert<std::int64_t>();
  } catch (const Poco::Exception&) {
    fail(key, "integer out of range");
  }
}

void JsonFields::optionalNumber(const char* key, std::optional<double>& out) {
  const Poco::Dynamic::Var* value = find(key);
  if (value == nullptr) return;
  if (!value->isNumeric() || value->isBoolean()) return fail(key, "expected a number");
  out = value->convert<double>();
}

void JsonFields::optionalStringList(const char* key, std::vector<std::string>& out) {
  const Poco::Dynamic::Var* value = find(key);
  if (value == nullptr) return;
  if (!isJsonArray(*value)) return fail(key, "expected an array of strings");
  auto array = value->extract<Poco::JSON::Array::Ptr>();
  std::vector<std::string> result;
  for (size_t i = 0; i < array->size(); ++i) {
    Poco::Dynamic::Var item = array->get(static_cast<unsigned>(i));
    if (!item.isString()) return fail(key, "expected an array of strings (item " + std::to_string(i) + ")");
    result.push_back(item.extract<std::string>());
  }
  out = std::move(result);
}

std::optional<Poco::Dynamic::Var> JsonFields::take(const char* key) {
  const Poco::Dynamic::Var* value = find(key);
  if (value == nullptr) return std::nullopt;
  return std::optional<Poco::Dynamic::Var>(std::in_place, *value);
}

Status JsonFields::finish() {
  if (!status_.isOk()) return status_;
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (read_.count(it->first) == 0) return Status::configuration(keyPath(it->first.c_str()) + ": unknown key");
  }
  return Status::ok();
}

}  // namespace qlik_reload::sim
