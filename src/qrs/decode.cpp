#include "qrs/decode.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "core/guid.h"
#include "core/time_format.h"
#include "qrs/json_util.h"

namespace qlik_reload::qrs {
namespace {

using Poco::Dynamic::Var;
using ObjectPtr = Poco::JSON::Object::Ptr;
using ArrayPtr = Poco::JSON::Array::Ptr;

// The caller owns the body; every failure below names the path of the value.
Status wrongType(const std::string& path, const char* expected, const Var& found) {
  return Status::protocol(path + ": expected " + expected + ", got " + jsonTypeName(found));
}

bool isObject(const Var& v) {
  return !v.isEmpty() && v.type() == typeid(ObjectPtr) && !v.extract<ObjectPtr>().isNull();
}
bool isArray(const Var& v) { return !v.isEmpty() && v.type() == typeid(ArrayPtr) && !v.extract<ArrayPtr>().isNull(); }

Result<ObjectPtr> asObject(const Var& v, const std::string& path) {
  if (!isObject(v)) return wrongType(path, "an object", v);
  return v.extract<ObjectPtr>();
}

Result<ArrayPtr> asArray(const Var& v, const std::string& path) {
  if (!isArray(v)) return wrongType(path, "an array", v);
  return v.extract<ArrayPtr>();
}

// Reads the fields of one JSON object. The first failure sticks; later reads
// are skipped, so a decoder reads all its fields and checks status() once.
class FieldReader {
 public:
  FieldReader(ObjectPtr object, std::string path) : object_(std::move(object)), path_(std::move(path)) {}

  const Status& status() const { return status_; }
  std::string pathOf(const char* key) const { return path_ + "." + key; }

  // nullopt when missing or null (after recording an error if required).
  std::optional<Var> field(const char* key, bool required) {
    if (!status_.isOk()) return std::nullopt;
    Var value = object_->get(key);
    if (value.isEmpty()) {
      if (required) status_ = Status::protocol(pathOf(key) + (object_->has(key) ? ": is null" : ": missing"));
      return std::nullopt;
    }
    return value;
  }

  void string(const char* key, std::string& out, bool required = false) {
    std::optional<Var> v = field(key, required);
    if (!v) return;
    if (!v->isString()) {
      status_ = wrongType(pathOf(key), "a string", *v);
      return;
    }
    out = v->extract<std::string>();
  }

  void guid(const char* key, std::string& out, bool required = false) {
    std::optional<Var> v = field(key, required);
    if (!v) return;
    if (!v->isString()) {
      status_ = wrongType(pathOf(key), "a GUID string", *v);
      return;
    }
    const std::string& text = v->extract<std::string>();
    if (!isGuid(text)) {
      status_ = Status::protocol(pathOf(key) + ": expected a GUID, got '" + excerpt(text, 60) + "'");
      return;
    }
    out = normalizeGuid(text);
  }

  void boolean(const char* key, bool& out, bool required = false) {
    std::optional<Var> v = field(key, required);
    if (!v) return;
    if (!v->isBoolean()) {
      status_ = wrongType(pathOf(key), "a boolean", *v);
      return;
    }
    out = v->extract<bool>();
  }

  void int64(const char* key, std::int64_t& out, bool required = false) {
    std::optional<Var> v = field(key, required);
    if (!v) return;
    std::optional<std::int64_t> number = integerOf(*v);
    if (!number) {
      if (v->isBoolean() || !v->isNumeric()) {
        status_ = wrongType(pathOf(key), "a number", *v);
      } else {
        status_ = Status::protocol(pathOf(key) + ": expected an integer in range, got " + excerpt(v->toString(), 40));
      }
      return;
    }
    out = *number;
  }

  void int32(const char* key, int& out, bool required = false) {
    std::int64_t wide = out;
    int64(key, wide, required);
    if (!status_.isOk()) return;
    if (wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max()) {
      status_ = Status::protocol(pathOf(key) + ": expected an integer in range, got " + std::to_string(wide));
      return;
    }
    out = static_cast<int>(wide);
  }

  void time(const char* key, std::optional<WallTime>& out) {
    std::optional<Var> v = field(key, false);
    if (!v) return;
    if (!v->isString()) {
      status_ = wrongType(pathOf(key), "a date-time string", *v);
      return;
    }
    const std::string& text = v->extract<std::string>();
    Result<std::optional<WallTime>> parsed = parseQrsTime(text);
    if (!parsed.isOk()) {
      status_ = Status::protocol(pathOf(key) + ": invalid date-time '" + excerpt(text, 40) +
                                 "' (expected yyyy-MM-ddTHH:mm:ss.fffZ)");
      return;
    }
    out = *parsed;
  }

  // The nested object, or nullptr when missing or null.
  ObjectPtr object(const char* key) {
    std::optional<Var> v = field(key, false);
    if (!v) return nullptr;
    if (!isObject(*v)) {
      status_ = wrongType(pathOf(key), "an object", *v);
      return nullptr;
    }
    return v->extract<ObjectPtr>();
  }

  ArrayPtr array(const char* key) {
    std::optional<Var> v = field(key, false);
    if (!v) return nullptr;
    if (!isArray(*v)) {
      status_ = wrongType(pathOf(key), "an array", *v);
      return nullptr;
    }
    return v->extract<ArrayPtr>();
  }

  void fail(Status status) {
    if (status_.isOk()) status_ = std::move(status);
  }

 private:
  static std::optional<std::int64_t> integerOf(const Var& v) {
    if (v.isBoolean() || !v.isNumeric()) return std::nullopt;
    try {
      if (v.isInteger()) {
        if (v.isSigned()) return v.convert<std::int64_t>();
        auto value = v.convert<std::uint64_t>();
        if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
        return static_cast<std::int64_t>(value);
      }
      double d = v.convert<double>();
      // 2^63 is exactly representable; anything at or above it is out of range.
      if (!std::isfinite(d) || d != std::floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0) {
        return std::nullopt;
      }
      return static_cast<std::int64_t>(d);
    } catch (...) {
      return std::nullopt;
    }
  }

  ObjectPtr object_;
  std::string path_;
  Status status_;
};

Status decodeDetails(FieldReader& reader, std::vector<ExecutionResultDetail>& out) {
  ArrayPtr details = reader.array("details");
  if (!reader.status().isOk() || details.isNull()) return reader.status();
  for (unsigned i = 0; i < details->size(); ++i) {
    std::string path = reader.pathOf("details") + "[" + std::to_string(i) + "]";
    Result<ObjectPtr> item = asObject(details->get(i), path);
    if (!item.isOk()) return item.status();
    FieldReader fields(*item, path);
    ExecutionResultDetail detail;
    fields.int32("detailsType", detail.detailsType);
    fields.string("message", detail.message);
    fields.time("detailCreatedDate", detail.createdAt);
    if (!fields.status().isOk()) return fields.status();
    out.push_back(std::move(detail));
  }
  return Status::ok();
}

Result<ExecutionResult> executionResultFrom(const Var& value, const std::string& path) {
  Result<ObjectPtr> object = asObject(value, path);
  if (!object.isOk()) return object.status();
  FieldReader fields(*object, path);
  ExecutionResult result;
  result.fileReferenceId = std::string(kZeroGuid);
  fields.guid("id", result.id, true);
  fields.int32("status", result.status, true);
  fields.guid("taskID", result.taskId);
  fields.guid("executionID", result.executionId);
  fields.guid("appID", result.appId);
  fields.string("executingNodeName", result.node);
  fields.time("createdDate", result.createdAt);
  fields.time("startTime", result.startTime);
  fields.time("stopTime", result.stopTime);
  fields.int64("duration", result.durationMs);
  fields.guid("fileReferenceID", result.fileReferenceId);
  fields.boolean("scriptLogAvailable", result.scriptLogAvailable);
  fields.int64("scriptLogSize", result.scriptLogSize);
  if (!fields.status().isOk()) return fields.status();
  if (Status s = decodeDetails(fields, result.details); !s.isOk()) return s;
  return result;
}

Result<ExecutionSession> executionSessionFrom(const Var& value, const std::string& path) {
  Result<ObjectPtr> object = asObject(value, path);
  if (!object.isOk()) return object.status();
  FieldReader fields(*object, path);
  ExecutionSession session;
  fields.guid("id", session.id, true);
  fields.time("createdDate", session.createdAt);
  fields.int32("abortReason", session.abortReason);
  if (ObjectPtr task = fields.object("reloadTask"); !task.isNull()) {
    FieldReader taskFields(task, fields.pathOf("reloadTask"));
    taskFields.guid("id", session.taskId);
    taskFields.string("name", session.taskName);
    fields.fail(taskFields.status());
  }
  if (!fields.status().isOk()) return fields.status();
  std::optional<Var> result = fields.field("executionResult", false);
  if (result) {
    Result<ExecutionResult> decoded = executionResultFrom(*result, fields.pathOf("executionResult"));
    if (!decoded.isOk()) return decoded.status();
    session.executionResult = std::move(decoded).value();
  }
  return session;
}

Result<ReloadTaskInfo> reloadTaskFrom(const Var& value, const std::string& path) {
  Result<ObjectPtr> object = asObject(value, path);
  if (!object.isOk()) return object.status();
  FieldReader fields(*object, path);
  ReloadTaskInfo task;
  fields.guid("id", task.id, true);
  fields.string("name", task.name, true);
  fields.boolean("enabled", task.enabled);
  if (!fields.status().isOk()) return fields.status();
  return task;
}

template <typename T>
Result<std::vector<T>> decodeList(std::string_view body, const std::string& what,
                                  Result<T> (*decodeOne)(const Var&, const std::string&)) {
  Result<Var> parsed = parseJsonText(body, what + " list");
  if (!parsed.isOk()) return parsed.status();
  Result<ArrayPtr> array = asArray(*parsed, what + " list");
  if (!array.isOk()) return array.status();
  std::vector<T> out;
  out.reserve((*array)->size());
  for (unsigned i = 0; i < (*array)->size(); ++i) {
    Result<T> item = decodeOne((*array)->get(i), what + "[" + std::to_string(i) + "]");
    if (!item.isOk()) return item.status();
    out.push_back(std::move(item).value());
  }
  return out;
}

template <typename T>
Result<T> decodeOneEntity(std::string_view body, const std::string& what,
                          Result<T> (*decodeOne)(const Var&, const std::string&)) {
  Result<Var> parsed = parseJsonText(body, what);
  if (!parsed.isOk()) return parsed.status();
  return decodeOne(*parsed, what);
}

// The string inside {"value":"…"}, or nullopt when the body has another shape.
std::optional<std::string> valueStringOf(const Var& parsed) {
  if (!isObject(parsed)) return std::nullopt;
  Var value = parsed.extract<ObjectPtr>()->get("value");
  if (value.isEmpty() || !value.isString()) return std::nullopt;
  return value.extract<std::string>();
}

// The checks above keep Poco's accessors from throwing; this is the backstop
// that keeps the promise "never throws" should one of them still do.
template <typename Decode>
auto guarded(const char* what, Decode decode) -> decltype(decode()) {
  try {
    return decode();
  } catch (const std::exception& e) {
    return Status::protocol(std::string(what) + ": cannot decode (" + excerpt(e.what(), 120) + ")");
  } catch (...) {
    return Status::protocol(std::string(what) + ": cannot decode");
  }
}

}  // namespace

Result<StartReply> decodeStartReply(std::string_view body) {
  return guarded("start reply", [&]() -> Result<StartReply> {
    const std::string what = "start reply";
    auto unexpected = [&] {
      return Status::protocol(what + ": expected {\"value\":\"<guid>\"} or a GUID string, got '" + excerpt(body, 120) +
                              "'");
    };
    Result<Var> parsed = parseJsonText(body, what);
    if (!parsed.isOk()) {
      if (excerpt(body).empty()) return Status::protocol(what + ": empty answer (expected {\"value\":\"<guid>\"})");
      return unexpected();
    }
    std::optional<std::string> id;
    if (parsed->isString()) {
      id = parsed->extract<std::string>();
    } else {
      id = valueStringOf(*parsed);
    }
    if (!id || !isGuid(*id)) return unexpected();
    return StartReply{normalizeGuid(*id)};
  });
}

Result<ExecutionSession> decodeExecutionSession(std::string_view body) {
  return guarded("executionsession",
                 [&] { return decodeOneEntity<ExecutionSession>(body, "executionsession", &executionSessionFrom); });
}

Result<std::vector<ExecutionSession>> decodeExecutionSessionList(std::string_view body) {
  return guarded("executionsession list",
                 [&] { return decodeList<ExecutionSession>(body, "executionsession", &executionSessionFrom); });
}

Result<ExecutionResult> decodeExecutionResult(std::string_view body) {
  return guarded("executionresult",
                 [&] { return decodeOneEntity<ExecutionResult>(body, "executionresult", &executionResultFrom); });
}

Result<std::vector<ExecutionResult>> decodeExecutionResultList(std::string_view body) {
  return guarded("executionresult list",
                 [&] { return decodeList<ExecutionResult>(body, "executionresult", &executionResultFrom); });
}

Result<std::string> decodeTicket(std::string_view body) {
  return guarded("script log ticket", [&]() -> Result<std::string> {
    const std::string what = "script log ticket";
    Result<Var> parsed = parseJsonText(body, what);
    std::optional<std::string> ticket;
    if (parsed.isOk()) ticket = valueStringOf(*parsed);
    if (!ticket || ticket->empty()) {
      return Status::protocol(what + ": expected {\"value\":\"<ticket>\"}, got '" + excerpt(body, 120) + "'");
    }
    return *ticket;
  });
}

Result<std::vector<ReloadTaskInfo>> decodeReloadTaskList(std::string_view body) {
  return guarded("reloadtask list", [&] { return decodeList<ReloadTaskInfo>(body, "reloadtask", &reloadTaskFrom); });
}

Result<AboutInfo> decodeAbout(std::string_view body) {
  return guarded("about", [&]() -> Result<AboutInfo> {
    Result<Var> parsed = parseJsonText(body, "about");
    if (!parsed.isOk()) return parsed.status();
    Result<ObjectPtr> object = asObject(*parsed, "about");
    if (!object.isOk()) return object.status();
    FieldReader fields(*object, "about");
    AboutInfo about;
    fields.string("buildVersion", about.buildVersion);
    fields.int32("nodeType", about.nodeType);
    if (!fields.status().isOk()) return fields.status();
    return about;
  });
}

}  // namespace qlik_reload::qrs
