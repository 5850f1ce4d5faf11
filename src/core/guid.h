// Qlik identifiers are GUIDs written 8-4-4-4-12 in hex, e.g.
// 2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b. The all-zero GUID is Qlik's answer for
// "nothing was started".
#pragma once

#include <string>
#include <string_view>

namespace qlik_reload {

inline constexpr std::string_view kZeroGuid = "00000000-0000-0000-0000-000000000000";

// True for exactly 36 characters in the 8-4-4-4-12 hex layout (either case).
bool isGuid(std::string_view text);
bool isZeroGuid(std::string_view text);
// Lower-case copy; Qlik compares GUIDs case-insensitively.
std::string normalizeGuid(std::string_view guid);
// A random version-4 GUID, lower case. Thread-safe.
std::string newGuid();

}  // namespace qlik_reload
