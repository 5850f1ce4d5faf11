// QRS filter expressions (the `filter` query parameter), built so that no
// caller input can change the expression's structure (qrs-api.md §5):
//   * GUIDs are written unquoted and must pass isGuid (anything else is
//     refused, so a value can never smuggle in `or`, quotes or parentheses);
//   * strings are single-quoted with `\` in front of every `'` and `\`
//     (the form checked against a live QRS; doubling quotes is rejected);
//   * property names are fixed by this code, checked to be dotted names as
//     QRS's grammar reads them: [A-Za-z_][A-Za-z0-9_]* joined by '.'.
// The expression is plain text; it goes into a URL only through
// Poco::URI::addQueryParameter (see encodedQueryValueLength), never by string
// concatenation.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace qlik_reload::qrs {

// The classic safe URL length (path and query, percent-encoded) for anything
// between a client and QRS. The HTTP client's own limit is
// ConnectionOptions::maxUrlLength (4,000 by default).
inline constexpr std::size_t kMaxRequestUrlLength = 2000;

// 'Q1\'25' for Q1'25; a backslash becomes \\.
std::string quoteFilterString(std::string_view value);

// "name eq 'Q1\'25'". kInvalidArgument for a bad property name.
Result<std::string> filterStringEquals(std::string_view property, std::string_view value);

// "ExecutionId eq 2a8e1c4e-…" with the GUID unquoted and lower-cased.
// kInvalidArgument when `guid` is not a GUID or the property name is bad.
Result<std::string> filterGuidEquals(std::string_view property, std::string_view guid);

// "ExecutionId eq A" for one GUID, "(ExecutionId eq A or ExecutionId eq B)"
// for several. kInvalidArgument when the list is empty (QRS answers 400 to an
// empty group) or any entry is not a GUID.
Result<std::string> filterAnyGuidEquals(std::string_view property, const std::vector<std::string>& guids);

// Length of `value` once percent-encoded as a query parameter value by
// Poco::URI::addQueryParameter (space → %20, quote → %27, …).
std::size_t encodedQueryValueLength(std::string_view value);

// Splits `guids` into consecutive groups, in order, so that each group's
// filterAnyGuidEquals(property, group) is at most `maxEncodedLength`
// characters once percent-encoded. Every group holds at least one GUID; an
// empty input gives no groups. kInvalidArgument for a non-GUID entry, a bad
// property name, or a limit too small for even one GUID.
Result<std::vector<std::vector<std::string>>> chunkGuidsForFilter(std::string_view property,
                                                                  const std::vector<std::string>& guids,
                                                                  std::size_t maxEncodedLength);

}  // namespace qlik_reload::qrs
