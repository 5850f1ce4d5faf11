#include "sim/message.h"

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "sim/json_util.h"

namespace qlik_reload::sim {
namespace {

const std::string* findIn(const NameValueList& list, std::string_view name) {
  for (const auto& [key, value] : list) {
    if (equalsIgnoreCase(key, name)) return &value;
  }
  return nullptr;
}

}  // namespace

const std::string* SimRequest::header(std::string_view name) const { return findIn(headers, name); }

const std::string* SimRequest::queryParameter(std::string_view name) const { return findIn(query, name); }

SimRequest SimRequest::make(std::string method, std::string_view target, NameValueList headers, std::string body) {
  SimRequest request;
  request.method = std::move(method);
  request.headers = std::move(headers);
  request.body = std::move(body);
  try {
    Poco::URI uri{std::string(target)};
    request.path = uri.getPath();
    for (auto& parameter : uri.getQueryParameters()) request.query.push_back(std::move(parameter));
  } catch (const Poco::Exception&) {
    request.path = std::string(target.substr(0, target.find('?')));
  }
  return request;
}

SimReply SimReply::text(int status, std::string body) {
  return SimReply{status, "text/plain; charset=utf-8", std::move(body), {}};
}

SimReply SimReply::json(int status, std::string body) {
  return SimReply{status, "application/json; charset=utf-8", std::move(body), {}};
}

SimReply SimReply::noContent() { return SimReply{204, "", "", {}}; }

}  // namespace qlik_reload::sim
