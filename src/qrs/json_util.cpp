#include "qrs/json_util.h"

#include <algorithm>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace qlik_reload::qrs {
namespace {

// Nesting deeper than this is no QRS answer; the limit keeps a hostile or
// broken body from exhausting the stack.
constexpr std::size_t kMaxJsonDepth = 64;

bool isJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

const char* jsonTypeName(const Poco::Dynamic::Var& value) {
  if (value.isEmpty()) return "null";
  if (value.type() == typeid(Poco::JSON::Object::Ptr)) return "object";
  if (value.type() == typeid(Poco::JSON::Array::Ptr)) return "array";
  if (value.isBoolean()) return "boolean";
  if (value.isString()) return "string";
  if (value.isNumeric()) return "number";
  return "unknown";
}

Result<Poco::Dynamic::Var> parseJsonText(std::string_view text, std::string_view what) {
  // A UTF-8 byte-order mark is not JSON, but .NET servers sometimes send one.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::size_t first = 0;
  while (first < text.size() && isJsonSpace(text[first])) ++first;
  if (first == text.size()) return Status::protocol(std::string(what) + ": empty answer");
  // Poco 1.11's handler cannot hold a top-level scalar, so a scalar is parsed
  // as the only element of an array. Anything that is not exactly one value
  // ("1,2", "\"a\"] [\"b\"") then fails the size check or the parse.
  const bool scalar = text[first] != '{' && text[first] != '[';
  std::string source = scalar ? "[" + std::string(text) + "]" : std::string(text);
  try {
    Poco::JSON::Parser parser;
    parser.setAllowComments(false);
    parser.setAllowNullByte(false);
    parser.setDepth(kMaxJsonDepth);
    Poco::Dynamic::Var parsed = parser.parse(source);
    if (!scalar) return parsed;
    Poco::JSON::Array::Ptr array = parsed.extract<Poco::JSON::Array::Ptr>();
    if (array.isNull() || array->size() != 1) {
      return Status::protocol(std::string(what) + ": not a single JSON value");
    }
    return array->get(0);
  } catch (const Poco::Exception& e) {
    return Status::protocol(std::string(what) + ": invalid JSON (" + excerpt(e.message(), 120) + ")");
  } catch (const std::exception& e) {
    return Status::protocol(std::string(what) + ": invalid JSON (" + excerpt(e.what(), 120) + ")");
  }
}

std::string excerpt(std::string_view text, std::size_t maxChars) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (begin < end && blank(text[begin])) ++begin;
  while (end > begin && blank(text[end - 1])) --end;
  std::string out;
  out.reserve(std::min(end - begin, maxChars) + 3);
  std::size_t i = begin;
  while (i < end && out.size() < maxChars) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\r' || c == '\n' || c == '\t') {
      out.push_back(' ');
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      out.push_back('?');
      ++i;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else {
      // Copy a well-formed UTF-8 sequence whole (so a cut never splits one);
      // anything else is one '?'.
      std::size_t length = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
      bool valid = length > 0 && i + length <= end;
      for (std::size_t k = 1; valid && k < length; ++k) {
        valid = (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
      }
      if (!valid) {
        out.push_back('?');
        ++i;
      } else if (out.size() + length > maxChars) {
        break;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
    }
  }
  if (i < end) out += "…";
  return out;
}

}  // namespace qlik_reload::qrs
