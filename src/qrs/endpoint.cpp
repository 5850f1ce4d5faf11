#include "qrs/endpoint.h"

#include <Poco/Exception.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include "qrs/json_util.h"

namespace qlik_reload::qrs {
namespace {

bool isPathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '~' || c == '-';
}

}  // namespace

Result<QrsEndpoint> parseQrsUrl(std::string_view url) {
  auto bad = [&](const std::string& reason) {
    return Status::configuration("url '" + excerpt(url, 200) + "': " + reason);
  };
  if (url.empty()) return bad("empty");
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return bad("contains spaces or control characters");
    }
  }
  Poco::URI uri;
  try {
    uri = Poco::URI(std::string(url));
  } catch (const Poco::Exception& e) {
    return bad(e.displayText());
  }
  if (Poco::toLower(uri.getScheme()) != "https") return bad("only https is supported");
  if (uri.getHost().empty()) return bad("no host");
  if (!uri.getUserInfo().empty()) return bad("user info is not allowed");
  if (!uri.getRawQuery().empty() || url.find('?') != std::string_view::npos) return bad("a query is not allowed");
  if (!uri.getFragment().empty() || url.find('#') != std::string_view::npos) return bad("a fragment is not allowed");

  QrsEndpoint endpoint;
  endpoint.host = uri.getHost();
  endpoint.port = uri.getSpecifiedPort() == 0 ? kDefaultQrsPort : uri.getSpecifiedPort();
  Poco::Net::IPAddress address;
  endpoint.hostIsIpAddress = Poco::Net::IPAddress::tryParse(endpoint.host, address);

  std::string path = uri.getPath();
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (!path.empty()) {
    std::size_t start = 1;
    while (start <= path.size()) {
      std::size_t end = path.find('/', start);
      if (end == std::string::npos) end = path.size();
      std::string_view segment(path.data() + start, end - start);
      if (segment.empty() || segment == "." || segment == "..") return bad("path '" + path + "' is not a plain prefix");
      for (char c : segment) {
        if (!isPathChar(c)) return bad("path '" + path + "' may only hold [A-Za-z0-9._~-] segments");
      }
      start = end + 1;
    }
    std::string lower = Poco::toLower(path);
    if (lower == "/qrs" || (lower.size() > 4 && lower.compare(lower.size() - 4, 4, "/qrs") == 0)) {
      return bad("leave /qrs out of the url (the client adds it); only a virtual-proxy prefix belongs there");
    }
  }
  endpoint.pathPrefix = path;
  std::string hostPart = endpoint.host.find(':') != std::string::npos ? "[" + endpoint.host + "]" : endpoint.host;
  endpoint.origin = "https://" + hostPart + ":" + std::to_string(endpoint.port) + endpoint.pathPrefix;
  return endpoint;
}

}  // namespace qlik_reload::qrs
