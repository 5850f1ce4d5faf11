#include "sim/filter.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>

#include "core/guid.h"
#include "qrs/types.h"
#include "sim/json_util.h"

namespace qlik_reload::sim {

enum class FilterOp { kEq, kNe, kGt, kGe, kLt, kLe, kSw, kEw, kSo };

struct Literal {
  enum Kind { kString, kGuid, kNumber, kBool, kNull, kName } kind = kNull;
  std::string text;  // kString, kGuid, kName; for kNumber the written form
  double number = 0;
  bool boolean = false;
};

struct Filter::Node {
  enum Kind { kAnd, kOr, kCompare } kind = kCompare;
  std::vector<Node> children;     // kAnd, kOr
  std::vector<std::string> path;  // kCompare
  std::string pathText;
  FilterOp op = FilterOp::kEq;
  Literal literal;
};

namespace {

using Node = Filter::Node;

constexpr int kMaxDepth = 64;

const char* opName(FilterOp op) {
  static const char* kNames[] = {"eq", "ne", "gt", "ge", "lt", "le", "sw", "ew", "so"};
  return kNames[static_cast<int>(op)];
}

bool parseOp(std::string_view word, FilterOp& out) {
  for (int i = 0; i <= static_cast<int>(FilterOp::kSo); ++i) {
    if (equalsIgnoreCase(word, opName(static_cast<FilterOp>(i)))) {
      out = static_cast<FilterOp>(i);
      return true;
    }
  }
  return false;
}

// Enum properties QRS lets a filter name by value name. -1: not a name of it.
int enumValue(std::string_view property, std::string_view name) {
  if (equalsIgnoreCase(property, "status")) return qrs::parseTaskExecutionStatusName(name);
  struct Table {
    const char* property;
    std::vector<const char*> names;
  };
  static const Table kTables[] = {
      {"abortReason", {"Undefined", "Manual", "Timeout", "DeletedTask"}},
      {"taskType", {"Reload", "ExternalProgram", "UserSync"}},
      {"detailsType", {"Error", "Warning", "Information"}},
  };
  for (const Table& table : kTables) {
    if (!equalsIgnoreCase(property, table.property)) continue;
    for (size_t i = 0; i < table.names.size(); ++i) {
      if (equalsIgnoreCase(name, table.names[i])) return static_cast<int>(i);
    }
  }
  return -1;
}

bool isEnumProperty(std::string_view property) {
  return equalsIgnoreCase(property, "status") || equalsIgnoreCase(property, "abortReason") ||
         equalsIgnoreCase(property, "taskType") || equalsIgnoreCase(property, "detailsType");
}

struct Token {
  enum Kind { kOpen, kClose, kString, kWord, kEnd } kind = kEnd;
  std::string text;
};

bool isWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == ':' || c == '+';
}

bool isPropertyPath(const std::string& word) {
  bool atStart = true;
  for (char c : word) {
    if (c == '.') {
      if (atStart) return false;
      atStart = true;
      continue;
    }
    bool letter = std::isalpha(static_cast<unsigned char>(c)) || c == '_';
    if (atStart ? !letter : !(letter || std::isdigit(static_cast<unsigned char>(c)))) return false;
    atStart = false;
  }
  return !atStart;
}

bool parseNumber(const std::string& word, double& out) {
  if (word.empty()) return false;
  size_t i = 0;
  if (word[i] == '-' || word[i] == '+') ++i;
  bool digits = false;
  while (i < word.size() && std::isdigit(static_cast<unsigned char>(word[i]))) ++i, digits = true;
  if (i < word.size() && word[i] == '.') {
    ++i;
    while (i < word.size() && std::isdigit(static_cast<unsigned char>(word[i]))) ++i, digits = true;
  }
  if (!digits || i != word.size()) return false;
  out = std::strtod(word.c_str(), nullptr);
  return std::isfinite(out);
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Status parse(Node& out) {
    if (!tokenize()) return syntaxError();
    Status status = parseOr(out, 0);
    if (!status.isOk()) return status;
    if (tokens_[pos_].kind != Token::kEnd) return syntaxError();
    return Status::ok();
  }

 private:
  Status syntaxError() const {
    return Status::invalidArgument("Cannot parse the expression: " + std::string(text_)).setHttpStatus(400);
  }

  bool tokenize() {
    size_t i = 0;
    while (i < text_.size()) {
      char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
      } else if (c == '(') {
        tokens_.push_back({Token::kOpen, "("});
        ++i;
      } else if (c == ')') {
        tokens_.push_back({Token::kClose, ")"});
        ++i;
      } else if (c == '\'') {
        std::string value;
        ++i;
        bool closed = false;
        while (i < text_.size()) {
          char d = text_[i++];
          if (d == '\\') {
            if (i >= text_.size()) return false;
            value.push_back(text_[i++]);
          } else if (d == '\'') {
            closed = true;
            break;
          } else {
            value.push_back(d);
          }
        }
        if (!closed) return false;
        tokens_.push_back({Token::kString, std::move(value)});
      } else if (isWordChar(c)) {
        size_t start = i;
        while (i < text_.size() && isWordChar(text_[i])) ++i;
        tokens_.push_back({Token::kWord, std::string(text_.substr(start, i - start))});
      } else {
        return false;
      }
    }
    tokens_.push_back({Token::kEnd, ""});
    return true;
  }

  bool atKeyword(const char* keyword) const {
    return tokens_[pos_].kind == Token::kWord && equalsIgnoreCase(tokens_[pos_].text, keyword);
  }

  Status parseOr(Node& out, int depth) {
    Node first;
    Status status = parseAnd(first, depth);
    if (!status.isOk()) return status;
    if (!atKeyword("or")) {
      out = std::move(first);
      return Status::ok();
    }
    out = Node();
    out.kind = Node::kOr;
    out.children.push_back(std::move(first));
    while (atKeyword("or")) {
      ++pos_;
      Node next;
      status = parseAnd(next, depth);
      if (!status.isOk()) return status;
      out.children.push_back(std::move(next));
    }
    return Status::ok();
  }

  Status parseAnd(Node& out, int depth) {
    Node first;
    Status status = parseFactor(first, depth);
    if (!status.isOk()) return status;
    if (!atKeyword("and")) {
      out = std::move(first);
      return Status::ok();
    }
    out = Node();
    out.kind = Node::kAnd;
    out.children.push_back(std::move(first));
    while (atKeyword("and")) {
      ++pos_;
      Node next;
      status = parseFactor(next, depth);
      if (!status.isOk()) return status;
      out.children.push_back(std::move(next));
    }
    return Status::ok();
  }

  Status parseFactor(Node& out, int depth) {
    const Token& token = tokens_[pos_];
    if (token.kind == Token::kOpen) {
      if (depth >= kMaxDepth) return syntaxError();
      ++pos_;
      if (tokens_[pos_].kind == Token::kClose) return Status::invalidArgument("Invalid expression").setHttpStatus(400);
      Status status = parseOr(out, depth + 1);
      if (!status.isOk()) return status;
      if (tokens_[pos_].kind != Token::kClose) return syntaxError();
      ++pos_;
      return Status::ok();
    }
    if (token.kind != Token::kWord || !isPropertyPath(token.text)) return syntaxError();
    out = Node();
    out.kind = Node::kCompare;
    out.pathText = token.text;
    std::string segment;
    for (char c : token.text) {
      if (c == '.') {
        out.path.push_back(segment);
        segment.clear();
      } else {
        segment.push_back(c);
      }
    }
    out.path.push_back(segment);
    ++pos_;
    if (tokens_[pos_].kind != Token::kWord || !parseOp(tokens_[pos_].text, out.op)) return syntaxError();
    ++pos_;
    const Token& value = tokens_[pos_];
    if (value.kind == Token::kString) {
      out.literal.kind = Literal::kString;
      out.literal.text = value.text;
    } else if (value.kind == Token::kWord) {
      out.literal.text = value.text;
      if (isGuid(value.text)) {
        out.literal.kind = Literal::kGuid;
      } else if (parseNumber(value.text, out.literal.number)) {
        out.literal.kind = Literal::kNumber;
      } else if (equalsIgnoreCase(value.text, "true") || equalsIgnoreCase(value.text, "false")) {
        out.literal.kind = Literal::kBool;
        out.literal.boolean = equalsIgnoreCase(value.text, "true");
      } else if (equalsIgnoreCase(value.text, "null")) {
        out.literal.kind = Literal::kNull;
      } else if (isPropertyPath(value.text) && value.text.find('.') == std::string::npos) {
        out.literal.kind = Literal::kName;
      } else {
        return syntaxError();
      }
    } else {
      return syntaxError();
    }
    ++pos_;
    return Status::ok();
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

// Case-insensitive key lookup; nullptr when absent.
const Poco::Dynamic::Var* findKey(const Poco::JSON::Object& object, const std::string& key) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (equalsIgnoreCase(it->first, key)) return &it->second;
  }
  return nullptr;
}

// Collects the values at `path` from `value` (arrays fan out).
void collect(const Poco::Dynamic::Var& value, const std::vector<std::string>& path, size_t index,
             std::vector<Poco::Dynamic::Var>& out) {
  if (isJsonArray(value)) {
    auto array = value.extract<Poco::JSON::Array::Ptr>();
    for (unsigned i = 0; i < array->size(); ++i) collect(array->get(i), path, index, out);
    return;
  }
  if (index == path.size()) {
    out.push_back(value);
    return;
  }
  if (isJsonObject(value)) {
    const Poco::Dynamic::Var* child = findKey(*value.extract<Poco::JSON::Object::Ptr>(), path[index]);
    if (child != nullptr) collect(*child, path, index + 1, out);
    return;
  }
  // A null (or scalar) parent: the property counts as null.
  out.push_back(Poco::Dynamic::Var());
}

// Does `path` exist in the prototype? Empty arrays and null parents accept
// any deeper path: there is nothing to check against.
bool pathExists(const Poco::Dynamic::Var& value, const std::vector<std::string>& path, size_t index) {
  if (index == path.size()) return true;
  if (isJsonArray(value)) {
    auto array = value.extract<Poco::JSON::Array::Ptr>();
    if (array->size() == 0) return true;
    return pathExists(array->get(0), path, index);
  }
  if (isJsonObject(value)) {
    const Poco::Dynamic::Var* child = findKey(*value.extract<Poco::JSON::Object::Ptr>(), path[index]);
    return child != nullptr && pathExists(*child, path, index + 1);
  }
  return value.isEmpty();
}

int compareIgnoreCase(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    int x = std::tolower(static_cast<unsigned char>(a[i]));
    int y = std::tolower(static_cast<unsigned char>(b[i]));
    if (x != y) return x < y ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

bool orderHolds(FilterOp op, int cmp) {
  switch (op) {
    case FilterOp::kEq: return cmp == 0;
    case FilterOp::kNe: return cmp != 0;
    case FilterOp::kGt: return cmp > 0;
    case FilterOp::kGe: return cmp >= 0;
    case FilterOp::kLt: return cmp < 0;
    case FilterOp::kLe: return cmp <= 0;
    default: return false;
  }
}

bool endsWithIgnoreCase(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && equalsIgnoreCase(text.substr(text.size() - suffix.size()), suffix);
}

bool containsIgnoreCase(std::string_view text, std::string_view part) {
  std::string lowerText = toLower(text);
  std::string lowerPart = toLower(part);
  return lowerText.find(lowerPart) != std::string::npos;
}

bool compareValue(const Poco::Dynamic::Var& value, const Node& node) {
  const Literal& literal = node.literal;
  const std::string& property = node.path.back();
  if (literal.kind == Literal::kNull) {
    if (node.op == FilterOp::kEq) return value.isEmpty();
    if (node.op == FilterOp::kNe) return !value.isEmpty();
    return false;
  }
  if (value.isEmpty()) return node.op == FilterOp::kNe;
  try {
    if (value.isBoolean()) {
      if (literal.kind != Literal::kBool) return false;
      bool actual = value.extract<bool>();
      if (node.op == FilterOp::kEq) return actual == literal.boolean;
      if (node.op == FilterOp::kNe) return actual != literal.boolean;
      return false;
    }
    if (value.isNumeric()) {
      double expected = 0;
      if (literal.kind == Literal::kNumber) {
        expected = literal.number;
      } else if ((literal.kind == Literal::kName || literal.kind == Literal::kString) && isEnumProperty(property)) {
        int number = enumValue(property, literal.text);
        if (number < 0) return false;
        expected = number;
      } else {
        return false;
      }
      double actual = value.convert<double>();
      return orderHolds(node.op, actual < expected ? -1 : (actual > expected ? 1 : 0));
    }
    if (value.isString()) {
      if (literal.kind != Literal::kString && literal.kind != Literal::kGuid) return false;
      std::string actual = value.extract<std::string>();
      switch (node.op) {
        case FilterOp::kSw: return actual.size() >= literal.text.size() &&
                                   equalsIgnoreCase(std::string_view(actual).substr(0, literal.text.size()), literal.text);
        case FilterOp::kEw: return endsWithIgnoreCase(actual, literal.text);
        case FilterOp::kSo: return containsIgnoreCase(actual, literal.text);
        default: return orderHolds(node.op, compareIgnoreCase(actual, literal.text));
      }
    }
  } catch (const Poco::Exception&) {
    return false;
  }
  return false;
}

void collectFromObject(const Poco::JSON::Object& object, const std::vector<std::string>& path,
                       std::vector<Poco::Dynamic::Var>& out) {
  const Poco::Dynamic::Var* child = findKey(object, path[0]);
  if (child != nullptr) collect(*child, path, 1, out);
}

bool evaluate(const Node& node, const Poco::JSON::Object& entity) {
  switch (node.kind) {
    case Node::kAnd:
      for (const Node& child : node.children) {
        if (!evaluate(child, entity)) return false;
      }
      return true;
    case Node::kOr:
      for (const Node& child : node.children) {
        if (evaluate(child, entity)) return true;
      }
      return false;
    case Node::kCompare: {
      std::vector<Poco::Dynamic::Var> values;
      collectFromObject(entity, node.path, values);
      if (values.empty()) values.emplace_back();  // missing property: null
      for (const auto& value : values) {
        if (compareValue(value, node)) return true;
      }
      return false;
    }
  }
  return false;
}

Status check(const Node& node, const Poco::JSON::Object& prototype, const Status& error) {
  if (node.kind != Node::kCompare) {
    for (const Node& child : node.children) {
      Status status = check(child, prototype, error);
      if (!status.isOk()) return status;
    }
    return Status::ok();
  }
  const Poco::Dynamic::Var* first = findKey(prototype, node.path[0]);
  if (first == nullptr || !pathExists(*first, node.path, 1)) return error;
  const Literal& literal = node.literal;
  if (literal.kind == Literal::kName && enumValue(node.path.back(), literal.text) < 0) return error;
  return Status::ok();
}

void describeNode(const Node& node, std::ostringstream& out) {
  if (node.kind == Node::kCompare) {
    out << "(" << node.pathText << " " << opName(node.op) << " ";
    const Literal& literal = node.literal;
    switch (literal.kind) {
      case Literal::kString: {
        out << "'";
        for (char c : literal.text) {
          if (c == '\'' || c == '\\') out << '\\';
          out << c;
        }
        out << "'";
        break;
      }
      case Literal::kBool: out << (literal.boolean ? "true" : "false"); break;
      case Literal::kNull: out << "null"; break;
      default: out << literal.text; break;
    }
    out << ")";
    return;
  }
  out << "(";
  for (size_t i = 0; i < node.children.size(); ++i) {
    if (i > 0) out << (node.kind == Node::kAnd ? " and " : " or ");
    describeNode(node.children[i], out);
  }
  out << ")";
}

}  // namespace

Result<Filter> Filter::parse(std::string_view text) {
  Filter filter;
  filter.text_ = std::string(text);
  bool blank = true;
  for (char c : text) blank = blank && std::isspace(static_cast<unsigned char>(c));
  if (blank) return filter;
  auto root = std::make_shared<Node>();
  Status status = Parser(text).parse(*root);
  if (!status.isOk()) return status;
  filter.root_ = std::move(root);
  return filter;
}

Status Filter::checkAgainst(const Poco::JSON::Object& prototype) const {
  if (!root_) return Status::ok();
  Status error = Status::invalidArgument("Cannot parse the expression: " + text_).setHttpStatus(400);
  return check(*root_, prototype, error);
}

bool Filter::matches(const Poco::JSON::Object& entity) const {
  if (!root_) return true;
  return evaluate(*root_, entity);
}

std::optional<std::set<std::string>> Filter::requiredValues(std::string_view property) const {
  if (!root_) return std::nullopt;
  auto fits = [&](const Node& node) {
    return node.kind == Node::kCompare && node.op == FilterOp::kEq && equalsIgnoreCase(node.pathText, property) &&
           (node.literal.kind == Literal::kString || node.literal.kind == Literal::kGuid);
  };
  auto valuesOf = [&](const Node& node) -> std::optional<std::set<std::string>> {
    if (fits(node)) return std::set<std::string>{toLower(node.literal.text)};
    if (node.kind != Node::kOr) return std::nullopt;
    std::set<std::string> values;
    for (const Node& child : node.children) {
      if (!fits(child)) return std::nullopt;
      values.insert(toLower(child.literal.text));
    }
    return values;
  };
  if (auto values = valuesOf(*root_)) return values;
  if (root_->kind == Node::kAnd) {
    for (const Node& child : root_->children) {
      if (auto values = valuesOf(child)) return values;
    }
  }
  return std::nullopt;
}

std::string Filter::describe() const {
  if (!root_) return "";
  std::ostringstream out;
  describeNode(*root_, out);
  return out.str();
}

}  // namespace qlik_reload::sim
