// The simulator's own view of an HTTP exchange, free of any HTTP library, so
// the engine and the routing rules are tested without sockets. The HTTP
// layer (simulator.h) converts Poco's request into a SimRequest and writes
// the SimReply back.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qlik_reload::sim {

using NameValueList = std::vector<std::pair<std::string, std::string>>;

struct SimRequest {
  std::string method;      // "GET", "POST", ... (upper case)
  std::string path;        // percent-decoded, without the query
  NameValueList query;     // decoded parameters in order
  NameValueList headers;   // as received
  std::string body;
  std::string clientCommonName;  // CN of the client certificate, empty when unknown

  // First value whose name matches case-insensitively, nullptr if none.
  const std::string* header(std::string_view name) const;
  const std::string* queryParameter(std::string_view name) const;

  // Builds a request from a method and a target such as
  // "/qrs/about?xrfkey=abc" (query percent-decoded). For tests and tools.
  static SimRequest make(std::string method, std::string_view target, NameValueList headers = {},
                         std::string body = "");
};

struct SimReply {
  int status = 200;
  std::string contentType;  // empty for 204
  std::string body;
  NameValueList headers;    // extra headers (e.g. Retry-After)

  static SimReply text(int status, std::string body);
  static SimReply json(int status, std::string body);
  static SimReply noContent();
};

// QRS's plain-text answers.
inline constexpr const char* kNoMatchingEndpoint = "No matching endpoint found";
inline constexpr const char* kXsrfFailed = "XSRF prevention check failed. Possible XSRF discovered.";
inline constexpr const char* kAccessDenied = "Access denied";
inline constexpr const char* kMissingParameter = "Missing parameter value(s)";
inline constexpr const char* kNotFound = "Not found";

}  // namespace qlik_reload::sim
