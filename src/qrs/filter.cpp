#include "qrs/filter.h"

#include <Poco/URI.h>

#include <algorithm>
#include <cstddef>

#include "core/guid.h"

namespace qlik_reload::qrs {
namespace {

// A dotted path of names, each a letter or '_' followed by letters, digits or
// '_': what QRS's filter grammar reads as a property ("1id" or "a..b" is not).
Status checkProperty(std::string_view property) {
  bool ok = true;
  bool atNameStart = true;
  for (char c : property) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (c == '.') {
      ok = ok && !atNameStart;
      atNameStart = true;
    } else {
      ok = ok && (letter || (digit && !atNameStart));
      atNameStart = false;
    }
  }
  ok = ok && !atNameStart;  // also refuses "" and a trailing '.'
  if (!ok) return Status::invalidArgument("bad filter property name '" + std::string(property) + "'");
  return Status::ok();
}

std::string shortened(std::string_view text) {
  constexpr std::size_t kMax = 60;
  if (text.size() <= kMax) return std::string(text);
  return std::string(text.substr(0, kMax)) + "…";
}

Status checkGuid(std::string_view guid) {
  if (isGuid(guid)) return Status::ok();
  return Status::invalidArgument("not a GUID: '" + shortened(guid) + "'");
}

std::string term(std::string_view property, std::string_view guid) {
  return std::string(property) + " eq " + normalizeGuid(guid);
}

}  // namespace

std::string quoteFilterString(std::string_view value) {
  std::string quoted;
  quoted.reserve(value.size() + 2);
  quoted.push_back('\'');
  for (char c : value) {
    if (c == '\'' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  quoted.push_back('\'');
  return quoted;
}

Result<std::string> filterStringEquals(std::string_view property, std::string_view value) {
  if (Status s = checkProperty(property); !s.isOk()) return s;
  return std::string(property) + " eq " + quoteFilterString(value);
}

Result<std::string> filterGuidEquals(std::string_view property, std::string_view guid) {
  if (Status s = checkProperty(property); !s.isOk()) return s;
  if (Status s = checkGuid(guid); !s.isOk()) return s;
  return term(property, guid);
}

Result<std::string> filterAnyGuidEquals(std::string_view property, const std::vector<std::string>& guids) {
  if (Status s = checkProperty(property); !s.isOk()) return s;
  if (guids.empty()) return Status::invalidArgument("filter on " + std::string(property) + ": no ids given");
  for (const std::string& guid : guids) {
    if (Status s = checkGuid(guid); !s.isOk()) return s;
  }
  if (guids.size() == 1) return term(property, guids.front());
  std::string filter = "(";
  for (std::size_t i = 0; i < guids.size(); ++i) {
    if (i > 0) filter += " or ";
    filter += term(property, guids[i]);
  }
  filter += ')';
  return filter;
}

std::size_t encodedQueryValueLength(std::string_view value) {
  Poco::URI uri;
  uri.addQueryParameter("f", std::string(value));
  return uri.getRawQuery().size() - 2;  // minus "f="
}

Result<std::vector<std::vector<std::string>>> chunkGuidsForFilter(std::string_view property,
                                                                  const std::vector<std::string>& guids,
                                                                  std::size_t maxEncodedLength) {
  if (Status s = checkProperty(property); !s.isOk()) return s;
  for (const std::string& guid : guids) {
    if (Status s = checkGuid(guid); !s.isOk()) return s;
  }
  // Every GUID term has the same length, so the encoded size of a group of n
  // is exact arithmetic: n terms, n-1 separators, and "(" ")" when n > 1.
  const std::size_t termLength = encodedQueryValueLength(term(property, kZeroGuid));
  const std::size_t separatorLength = encodedQueryValueLength(" or ");
  const std::size_t parenthesesLength = encodedQueryValueLength("()");
  if (termLength > maxEncodedLength) {
    return Status::invalidArgument("filter on " + std::string(property) + ": a limit of " +
                                   std::to_string(maxEncodedLength) + " characters cannot hold one id");
  }
  // n terms fit when n*term + (n-1)*separator + parentheses <= limit (n >= 2).
  std::size_t perGroup = 1;
  if (maxEncodedLength >= 2 * termLength + separatorLength + parenthesesLength) {
    perGroup = (maxEncodedLength - parenthesesLength + separatorLength) / (termLength + separatorLength);
  }
  std::vector<std::vector<std::string>> groups;
  for (std::size_t start = 0; start < guids.size(); start += perGroup) {
    std::size_t end = std::min(guids.size(), start + perGroup);
    groups.emplace_back(guids.begin() + static_cast<std::ptrdiff_t>(start),
                        guids.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return groups;
}

}  // namespace qlik_reload::qrs
