// Internal to src/qrs and src/config: small helpers around Poco::JSON for
// decoders that must never throw and must say what they received.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <Poco/Dynamic/Var.h>

#include "core/status.h"

namespace qlik_reload::qrs {

// "null", "boolean", "number", "string", "array", "object" (JSON's names).
const char* jsonTypeName(const Poco::Dynamic::Var& value);

// Parses one complete JSON text of any kind (object, array or scalar; Poco's
// own parser refuses top-level scalars), after an optional UTF-8 byte-order
// mark. Fails with kProtocol, message
// "<what>: <reason>" where reason is Poco's parse error or "empty answer".
// Never throws.
Result<Poco::Dynamic::Var> parseJsonText(std::string_view text, std::string_view what);

// The text with control characters and invalid bytes replaced by '?' and
// line breaks by spaces, trimmed, cut to `maxChars` bytes with "…" appended
// when longer. For quoting answers and inputs in messages.
std::string excerpt(std::string_view text, std::size_t maxChars = 200);

}  // namespace qlik_reload::qrs
