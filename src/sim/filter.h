// QRS filter expressions ("?filter=..."), parsed and evaluated against an
// entity's JSON object, so every list endpoint filters the same way.
//
// Grammar (keywords, operators and property names are case-insensitive):
//   expression := term ("or" term)*
//   term       := factor ("and" factor)*           "and" binds tighter
//   factor     := "(" expression ")" | property op value
//   property   := name ("." name)*                  e.g. reloadTask.id
//   op         := eq | ne | gt | ge | lt | le | sw | ew | so
//   value      := 'single-quoted string'            backslash escapes the next
//                                                   character: 'Q1\'25'
//               | GUID (unquoted) | number | true | false | null
//               | enum name                         e.g. status eq FinishedFail
//
// Semantics: strings compare case-insensitively (gt/lt lexicographically,
// which orders QRS's ISO dates correctly); "sw" starts with, "ew" ends with,
// "so" contains ("substring of"). A path that crosses an array matches when
// any element matches. A null (or null-valued parent) property equals null
// and nothing else. Enum names are accepted for status (TaskExecutionStatus),
// abortReason, taskType and detailsType, also when quoted.
//
// Errors carry the exact QRS answer text as message and http status 400:
// "Cannot parse the expression: <filter>" for any syntax error, unknown
// property or unknown enum name, and "Invalid expression" for an empty "()".
//
// A Filter is immutable after parse() and safe to share between threads.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <Poco/JSON/Object.h>

#include "core/status.h"

namespace qlik_reload::sim {

class Filter {
 public:
  // Blank text gives a filter that matches everything.
  static Result<Filter> parse(std::string_view text);

  bool matchesAll() const { return root_ == nullptr; }

  // Fails (as parse() would) when a property path does not exist in
  // `prototype`, a fully populated entity of the collection being filtered,
  // or when an enum name does not fit its property.
  Status checkAgainst(const Poco::JSON::Object& prototype) const;

  bool matches(const Poco::JSON::Object& entity) const;

  // When every match must have `property` equal to one of a few values (the
  // filter is "property eq 'v'", an "or" of such comparisons, or an "and"
  // with one of those as a direct part), those values in lower case, so a
  // caller can skip entities cheaply. `property` is a dotted path compared
  // case-insensitively; only string and GUID values qualify.
  std::optional<std::set<std::string>> requiredValues(std::string_view property) const;

  // Canonical text of the parsed tree, e.g. "((a eq 'x') or ((b eq 1) and (c ne null)))",
  // for tests and logs. "" for a match-all filter.
  std::string describe() const;

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
  std::string text_;
};

}  // namespace qlik_reload::sim
