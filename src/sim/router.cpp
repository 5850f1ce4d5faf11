#include "sim/router.h"

#include <cctype>
#include <vector>

#include "core/guid.h"
#include "sim/faults.h"
#include "sim/json_util.h"
#include "sim/notifications.h"

namespace qlik_reload::sim {
namespace {

enum class Action {
  kAbout,
  kStartById,
  kStartByName,
  kStartMany,
  kStop,
  kStopMany,
  kList,
  kListFull,
  kCount,
  kGet,
  kScriptLogFile,
  kScriptLog,
  kDownload,
  kSubscribe,
  kUnsubscribe,
};

struct Route {
  std::string method;
  std::string pattern;  // "{fileName}" matches any segment, other "{...}" a GUID
  Action action;
  Collection collection = Collection::kReloadTask;
  StartMode mode = StartMode::kSynchronous;
};

const std::vector<Route>& routes() {
  static const std::vector<Route> kRoutes = [] {
    std::vector<Route> table = {
        {"GET", "/qrs/about", Action::kAbout},
        {"POST", "/qrs/task/{id}/start/synchronous", Action::kStartById, {}, StartMode::kSynchronous},
        {"POST", "/qrs/task/start/synchronous", Action::kStartByName, {}, StartMode::kSynchronous},
        {"POST", "/qrs/task/{id}/start", Action::kStartById, {}, StartMode::kAsynchronous},
        {"POST", "/qrs/task/start", Action::kStartByName, {}, StartMode::kAsynchronous},
        {"POST", "/qrs/task/start/many", Action::kStartMany},
        {"POST", "/qrs/task/{id}/stop", Action::kStop},
        {"POST", "/qrs/task/stop/many", Action::kStopMany},
        {"GET", "/qrs/reloadtask/{id}/scriptlogfile", Action::kScriptLogFile},
        {"GET", "/qrs/reloadtask/{id}/scriptlog", Action::kScriptLog},
        {"GET", "/qrs/download/reloadtask/{ticket}/{fileName}", Action::kDownload},
        {"POST", "/qrs/notification", Action::kSubscribe},
        {"DELETE", "/qrs/notification", Action::kUnsubscribe},
    };
    const std::pair<const char*, Collection> kCollections[] = {
        {"reloadtask", Collection::kReloadTask},
        {"executionresult", Collection::kExecutionResult},
        {"executionsession", Collection::kExecutionSession},
    };
    for (const auto& [name, collection] : kCollections) {
      const std::string base = std::string("/qrs/") + name;
      const std::pair<std::string, Action> kForms[] = {{base, Action::kList},
                                                       {base + "/full", Action::kListFull},
                                                       {base + "/count", Action::kCount},
                                                       {base + "/{id}", Action::kGet}};
      for (const auto& [pattern, action] : kForms) table.push_back(Route{"GET", pattern, action, collection});
    }
    return table;
  }();
  return kRoutes;
}

std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  if (!path.empty() && path[0] == '/') start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return segments;
}

// The route for `method` whose pattern matches `path`; its "{...}" segments
// go to `captures`. Literal segments compare case-insensitively.
const Route* matchPath(std::string_view path, std::vector<std::string>& captures, const std::string& method) {
  std::vector<std::string_view> segments = splitPath(path);
  for (const Route& route : routes()) {
    std::vector<std::string_view> pattern = splitPath(route.pattern);
    if (pattern.size() != segments.size()) continue;
    std::vector<std::string> found;
    bool ok = true;
    for (size_t i = 0; i < pattern.size() && ok; ++i) {
      if (pattern[i] == "{fileName}") {
        ok = !segments[i].empty();
        found.emplace_back(segments[i]);
      } else if (!pattern[i].empty() && pattern[i][0] == '{') {
        ok = isGuid(segments[i]);
        found.emplace_back(segments[i]);
      } else {
        ok = equalsIgnoreCase(pattern[i], segments[i]);
      }
    }
    if (!ok || method != route.method) continue;
    captures = std::move(found);
    return &route;
  }
  return nullptr;
}

std::string trim(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

bool startsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && equalsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

bool isQrsPath(std::string_view path) { return startsWithIgnoreCase(path, "/qrs/"); }

bool isXrfkeyValue(const std::string& value) {
  if (value.size() != 16) return false;
  for (char c : value) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

bool hasValidXrfkey(const SimRequest& request) {
  const std::string* parameter = request.queryParameter("xrfkey");
  const std::string* header = request.header("X-Qlik-Xrfkey");
  return parameter != nullptr && header != nullptr && *parameter == *header && isXrfkeyValue(*parameter);
}

std::string callerIdentity(const SimRequest& request) {
  const std::string* header = request.header("X-Qlik-User");
  if (header != nullptr) {
    std::string directory;
    std::string id;
    std::string_view rest = *header;
    while (!rest.empty()) {
      size_t semicolon = rest.find(';');
      std::string_view part = rest.substr(0, semicolon);
      rest = semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
      size_t equals = part.find('=');
      if (equals == std::string_view::npos) continue;
      std::string key = trim(part.substr(0, equals));
      std::string value = trim(part.substr(equals + 1));
      if (equalsIgnoreCase(key, "UserDirectory")) directory = value;
      if (equalsIgnoreCase(key, "UserId")) id = value;
    }
    if (!id.empty()) return directory + "\\" + id;
  }
  return "INTERNAL\\" + (request.clientCommonName.empty() ? std::string("sa_repository") : request.clientCommonName);
}

Router::Router(SimEngine& engine, FaultInjector* faults, NotificationHub* notifications)
    : engine_(engine), faults_(faults), notifications_(notifications) {}

std::string Router::routeTemplate(const SimRequest& request) {
  std::vector<std::string> captures;
  const Route* route = matchPath(request.path, captures, request.method);
  if (route == nullptr) return request.method + " (unmatched)";
  return request.method + " " + route->pattern;
}

void Router::countOnly(const SimRequest& request) {
  if (isQrsPath(request.path)) engine_.countRequest(routeTemplate(request));
}

SimReply Router::handle(const SimRequest& request) {
  if (request.path.rfind("/sim/", 0) == 0) return handleSim(request);
  if (isQrsPath(request.path)) {
    engine_.countRequest(routeTemplate(request));
    return handleQrs(request);
  }
  return SimReply::text(404, kNoMatchingEndpoint);
}

SimReply Router::handleQrs(const SimRequest& request) {
  if (!hasValidXrfkey(request)) return SimReply::text(403, kXsrfFailed);
  const std::string user = callerIdentity(request);
  if (engine_.isDenied(user)) return SimReply::text(403, kAccessDenied);

  std::vector<std::string> captures;
  const Route* route = matchPath(request.path, captures, request.method);
  if (route == nullptr) return SimReply::text(404, kNoMatchingEndpoint);

  auto parameter = [&](const char* name) -> std::string {
    const std::string* value = request.queryParameter(name);
    return value == nullptr ? std::string() : *value;
  };
  switch (route->action) {
    case Action::kAbout: return engine_.about();
    case Action::kStartById: return engine_.startTask(captures[0], route->mode, user);
    case Action::kStartByName: {
      const std::string* name = request.queryParameter("name");
      if (name == nullptr || name->empty()) return SimReply::text(400, kMissingParameter);
      return engine_.startTaskByName(*name, route->mode, user);
    }
    case Action::kStartMany: return engine_.startMany(request.body, user);
    case Action::kStop: return engine_.stopTask(captures[0]);
    case Action::kStopMany: return engine_.stopMany(request.body);
    case Action::kList: return engine_.list(route->collection, parameter("filter"), false);
    case Action::kListFull: return engine_.list(route->collection, parameter("filter"), true);
    case Action::kCount: return engine_.count(route->collection, parameter("filter"));
    case Action::kGet: return engine_.get(route->collection, captures[0]);
    case Action::kScriptLogFile: {
      const std::string* id = request.queryParameter("executionResultId");
      if (id == nullptr || id->empty()) return SimReply::text(400, kMissingParameter);
      return engine_.scriptLogFile(captures[0], *id);
    }
    case Action::kScriptLog: {
      const std::string* id = request.queryParameter("fileReferenceId");
      if (id == nullptr || id->empty()) return SimReply::text(400, kMissingParameter);
      return engine_.scriptLog(captures[0], *id);
    }
    case Action::kDownload: return engine_.download(captures[0]);
    case Action::kSubscribe:
      if (notifications_ == nullptr) break;
      return notifications_->subscribe(request);
    case Action::kUnsubscribe:
      if (notifications_ == nullptr) break;
      return notifications_->unsubscribe(request);
  }
  return SimReply::text(404, kNoMatchingEndpoint);
}

SimReply Router::handleSim(const SimRequest& request) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  if (path == "/sim/record") {
    if (method == "GET") return engine_.record();
    if (method == "DELETE") {
      engine_.clearRecord();
      return SimReply::noContent();
    }
  }
  if (path == "/sim/tasks" && method == "POST") return engine_.putTasks(request.body);
  if (path == "/sim/notifications" && notifications_ != nullptr) {
    if (method == "GET") return notifications_->describe();
    if (method == "DELETE") {
      notifications_->clear();
      return SimReply::noContent();
    }
  }
  if (path == "/sim/faults" && faults_ != nullptr) {
    if (method == "GET") return SimReply::json(200, toJsonText(faults_->rulesJson()));
    if (method == "DELETE") {
      faults_->setRules({});
      return SimReply::noContent();
    }
    if (method == "POST") {
      Result<Poco::Dynamic::Var> parsed = parseJsonText(request.body);
      if (!parsed.isOk()) return SimReply::text(400, parsed.status().message());
      Result<std::vector<FaultRule>> rules = parseFaultRules(*parsed, "faults");
      if (!rules.isOk()) return SimReply::text(400, rules.status().message());
      faults_->setRules(std::move(rules).value());
      return SimReply::json(200, toJsonText(faults_->rulesJson()));
    }
  }
  return SimReply::text(404, kNoMatchingEndpoint);
}

}  // namespace qlik_reload::sim
