// Fuzz target: the QRS filter builders of qrs/filter.h, checked round trip
// against qrs-sim's parser (sim/filter.h, QRS's grammar) and Poco::URI.
//
// Input: the first byte picks the builder (its value modulo 4); the rest is
// text split at line breaks:
//   0  property \n value            quoteFilterString, filterStringEquals
//                                   (the value is everything after the first
//                                   line break, line breaks included)
//   1  property \n guid             filterGuidEquals
//   2  property \n guid \n guid …   filterAnyGuidEquals
//   3  property \n limit \n guid …  chunkGuidsForFilter (limit in decimal)
// A guid line starting with '#' stands for a GUID made from its other bytes,
// so mutations keep producing valid GUIDs; other lines are taken as written.
//
// Properties:
//  * a builder accepts exactly the inputs its contract allows: property
//    names QRS can parse, GUIDs that pass isGuid, a non-empty list;
//  * what it builds parses in qrs-sim's parser to the same expression, keeps
//    the value exactly (an entity holding the value matches, one holding
//    another value does not), and names the values in requiredValues();
//  * in a URL built with Poco::URI::addQueryParameter the filter decodes back
//    unchanged, holds no raw '+' (which servers read as a space), and has the
//    length encodedQueryValueLength() predicts;
//  * chunkGuidsForFilter keeps every id in order, respects the limit, and
//    fills each group but the last as far as the limit allows.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/URI.h>

#include "core/guid.h"
#include "fuzz_support.h"
#include "qrs/filter.h"
#include "sim/filter.h"
#include "sim/json_util.h"

namespace {

using namespace qlik_reload;
using qlik_reload::fuzz::require;
using qlik_reload::sim::Filter;

// QRS property paths: dot-separated names, each a letter or '_' followed by
// letters, digits or '_' (what qrs-sim's parser accepts).
bool isQrsPropertyPath(std::string_view path) {
  bool atStart = true;
  for (char c : path) {
    if (c == '.') {
      if (atStart) return false;
      atStart = true;
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    const bool letter = (u < 0x80 && std::isalpha(u)) || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (atStart ? !letter : !(letter || digit)) return false;
    atStart = false;
  }
  return !atStart;
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::string guidFromLine(const std::string& line) {
  if (line.empty() || line[0] != '#') return line;
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  unsigned sum = 0;
  for (std::size_t i = 1; i < line.size() && hex.size() < 32; ++i) {
    const auto u = static_cast<unsigned char>(line[i]);
    sum += u;
    hex.push_back(kHex[u >> 4]);
    hex.push_back(kHex[u & 0xf]);
  }
  hex.resize(32, '0');
  if (sum % 2 == 1) hex = upper(hex);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

// {"a": {"b": value}} for the path "a.b".
Poco::JSON::Object::Ptr entityWith(const std::string& path, const std::string& value) {
  std::vector<std::string> names;
  std::string name;
  for (char c : path) {
    if (c == '.') {
      names.push_back(name);
      name.clear();
    } else {
      name.push_back(c);
    }
  }
  names.push_back(name);
  Poco::JSON::Object::Ptr root = new Poco::JSON::Object;
  Poco::JSON::Object::Ptr object = root;
  for (std::size_t i = 0; i + 1 < names.size(); ++i) {
    Poco::JSON::Object::Ptr child = new Poco::JSON::Object;
    object->set(names[i], child);
    object = child;
  }
  object->set(names.back(), value);
  return root;
}

// Parses `filter` as qrs-sim (QRS's grammar) would.
Filter parsedBySim(const std::string& filter) {
  Result<Filter> parsed = Filter::parse(filter);
  require(parsed.isOk(), "qrs-sim cannot parse the built filter: " + fuzz::printable(filter) + " (" +
                             parsed.status().message() + ")");
  return std::move(parsed).value();
}

void checkUrl(const std::string& filter) {
  Poco::URI uri("https://qlikserver1:4242/qrs/executionresult/full");
  uri.addQueryParameter("xrfkey", "abcdefghij123456");
  uri.addQueryParameter("filter", filter);
  const std::string raw = uri.getRawQuery();
  const std::string prefix = "xrfkey=abcdefghij123456&filter=";
  require(raw.compare(0, prefix.size(), prefix) == 0, "unexpected query: " + fuzz::printable(raw));
  const std::string encoded = raw.substr(prefix.size());
  require(encoded.find_first_of("+&# ") == std::string::npos,
          "raw '+', '&', '#' or space in the encoded filter: " + fuzz::printable(encoded));
  require(encoded.size() == qrs::encodedQueryValueLength(filter),
          "encodedQueryValueLength is " + std::to_string(qrs::encodedQueryValueLength(filter)) + ", the URL has " +
              std::to_string(encoded.size()));
  Poco::URI back(uri.toString());
  Poco::URI::QueryParameters parameters = back.getQueryParameters();
  require(parameters.size() == 2 && parameters[1].first == "filter" && parameters[1].second == filter,
          "the filter does not decode back from the URL: " + fuzz::printable(uri.toString()));
}

void checkStringEquals(const std::string& property, const std::string& value) {
  const std::string quoted = qrs::quoteFilterString(value);
  require(quoted.size() >= 2 && quoted.front() == '\'' && quoted.back() == '\'', "quoteFilterString: not quoted");

  Result<std::string> built = qrs::filterStringEquals(property, value);
  require(built.isOk() == isQrsPropertyPath(property),
          "filterStringEquals " + std::string(built.isOk() ? "accepted" : "refused") + " the property '" +
              fuzz::printable(property) + "'");
  if (!built.isOk()) {
    require(built.status().code() == ErrorCode::kInvalidArgument, "filterStringEquals: not invalid argument");
    return;
  }
  require(*built == property + " eq " + quoted, "filterStringEquals: unexpected text");
  Filter filter = parsedBySim(*built);
  require(filter.describe() == "(" + *built + ")", "qrs-sim reads the filter differently: " +
                                                       fuzz::printable(filter.describe()));
  require(filter.matches(*entityWith(property, value)), "an entity holding the value does not match");
  require(!filter.matches(*entityWith(property, value + "x")), "an entity holding another value matches");
  auto required = filter.requiredValues(property);
  require(required && *required == std::set<std::string>{sim::toLower(value)}, "requiredValues lost the value");
  checkUrl(*built);
}

void checkGuidEquals(const std::string& property, const std::string& guid) {
  Result<std::string> built = qrs::filterGuidEquals(property, guid);
  require(built.isOk() == (isQrsPropertyPath(property) && isGuid(guid)),
          "filterGuidEquals " + std::string(built.isOk() ? "accepted" : "refused") + " '" +
              fuzz::printable(property) + "' / '" + fuzz::printable(guid) + "'");
  if (!built.isOk()) return;
  require(*built == property + " eq " + normalizeGuid(guid), "filterGuidEquals: unexpected text");
  Filter filter = parsedBySim(*built);
  require(filter.matches(*entityWith(property, upper(guid))), "an entity holding the GUID does not match");
  require(filter.requiredValues(property) == std::set<std::string>{normalizeGuid(guid)},
          "requiredValues lost the GUID");
  checkUrl(*built);
}

// A GUID that is not in `taken`.
std::string otherGuid(const std::set<std::string>& taken) {
  for (unsigned i = 0;; ++i) {
    std::string candidate = "ffffffff-ffff-4fff-8fff-" + std::string(12 - std::to_string(i).size(), '0') +
                            std::to_string(i);
    if (taken.count(candidate) == 0) return candidate;
  }
}

void checkAnyGuidEquals(const std::string& property, const std::vector<std::string>& guids) {
  Result<std::string> built = qrs::filterAnyGuidEquals(property, guids);
  const bool allGuids = std::all_of(guids.begin(), guids.end(), [](const std::string& g) { return isGuid(g); });
  require(built.isOk() == (isQrsPropertyPath(property) && !guids.empty() && allGuids),
          "filterAnyGuidEquals " + std::string(built.isOk() ? "accepted" : "refused") + " its input");
  if (!built.isOk()) return;
  std::set<std::string> expected;
  for (const std::string& guid : guids) expected.insert(normalizeGuid(guid));
  Filter filter = parsedBySim(*built);
  require(filter.requiredValues(property) == expected, "requiredValues differ from the ids given");
  for (const std::string& guid : guids) {
    require(filter.matches(*entityWith(property, upper(guid))), "an entity holding one of the ids does not match");
  }
  require(!filter.matches(*entityWith(property, otherGuid(expected))), "an entity holding another id matches");
  checkUrl(*built);
}

void checkChunks(const std::string& property, const std::string& limitText, const std::vector<std::string>& guids) {
  std::size_t limit = 0;
  for (char c : limitText.substr(0, 6)) {
    if (c >= '0' && c <= '9') limit = limit * 10 + static_cast<std::size_t>(c - '0');
  }
  auto chunks = qrs::chunkGuidsForFilter(property, guids, limit);
  const bool allGuids = std::all_of(guids.begin(), guids.end(), [](const std::string& g) { return isGuid(g); });
  if (!isQrsPropertyPath(property) || !allGuids) {
    require(!chunks.isOk(), "chunkGuidsForFilter accepted a bad property or id");
    return;
  }
  const std::string probe(kZeroGuid);
  const std::size_t oneTerm = qrs::encodedQueryValueLength(*qrs::filterGuidEquals(property, probe));
  require(chunks.isOk() == (oneTerm <= limit), "chunkGuidsForFilter: wrong answer for a limit of " +
                                                   std::to_string(limit) + " (one id needs " +
                                                   std::to_string(oneTerm) + ")");
  if (!chunks.isOk()) return;
  std::vector<std::string> flat;
  for (std::size_t i = 0; i < chunks->size(); ++i) {
    const std::vector<std::string>& group = (*chunks)[i];
    require(!group.empty(), "chunkGuidsForFilter: an empty group");
    Result<std::string> filter = qrs::filterAnyGuidEquals(property, group);
    require(filter.isOk(), "a group's filter cannot be built");
    require(qrs::encodedQueryValueLength(*filter) <= limit, "a group exceeds the limit");
    if (i + 1 < chunks->size()) {
      std::vector<std::string> bigger = group;
      bigger.push_back((*chunks)[i + 1].front());
      require(qrs::encodedQueryValueLength(*qrs::filterAnyGuidEquals(property, bigger)) > limit,
              "a group could have held one more id");
    }
    flat.insert(flat.end(), group.begin(), group.end());
  }
  require(flat == guids, "chunkGuidsForFilter lost, added or reordered ids");
  if (!chunks->empty()) checkAnyGuidEquals(property, chunks->front());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int builder = data[0] % 4;
  const std::string_view text = fuzz::asText(data + 1, size - 1);
  fuzz::noThrow("filter builders", [&] {
    const std::size_t firstBreak = text.find('\n');
    const std::string property(text.substr(0, firstBreak));
    const std::string_view rest = firstBreak == std::string_view::npos ? "" : text.substr(firstBreak + 1);
    std::vector<std::string> lines = fuzz::splitLines(rest);
    switch (builder) {
      case 0: checkStringEquals(property, std::string(rest)); break;
      case 1: checkGuidEquals(property, guidFromLine(lines[0])); break;
      case 2: {
        std::vector<std::string> guids;
        if (!rest.empty()) {
          for (const std::string& line : lines) guids.push_back(guidFromLine(line));
        }
        checkAnyGuidEquals(property, guids);
        break;
      }
      default: {
        std::vector<std::string> guids;
        for (std::size_t i = 1; i < lines.size(); ++i) guids.push_back(guidFromLine(lines[i]));
        checkChunks(property, lines[0], guids);
        break;
      }
    }
  });
  return 0;
}
