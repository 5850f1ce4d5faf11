#include "secret_scan.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <ostream>
#include <regex>
#include <set>
#include <system_error>

namespace qlik_reload::testing {
namespace {

namespace fs = std::filesystem;

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
    start = end + 1;
  }
  return out;
}

// Regular files under `root`, recursively, sorted; none when it is missing.
std::vector<std::string> regularFilesUnder(const std::string& root) {
  std::vector<std::string> files;
  std::error_code error;
  if (!fs::is_directory(root, error)) return files;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    std::error_code statusError;
    if (it->is_regular_file(statusError)) files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string extensionOf(const std::string& file) {
  std::string extension = fs::path(file).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
  return extension;
}

// Keeps the first of secrets with the same text.
void addUnique(std::vector<Secret>& secrets, std::set<std::string>& seen, Secret secret) {
  if (seen.insert(secret.text).second) secrets.push_back(std::move(secret));
}

}  // namespace

std::vector<Secret> pemPrivateKeyMarkers() {
  return {{"a PEM private-key marker (PRIVATE KEY-----)", "PRIVATE KEY-----"}};
}

std::vector<Secret> privateKeyLinesIn(const std::string& folder, std::size_t& keyFiles) {
  keyFiles = 0;
  std::vector<Secret> secrets;
  std::set<std::string> seen;
  const fs::path base = fs::path(folder).lexically_normal().parent_path();
  for (const std::string& file : regularFilesUnder(folder)) {
    const std::string name = fs::path(file).lexically_normal().lexically_relative(base).string();
    bool inKey = false;
    bool holdsKey = false;
    std::size_t bodyLine = 0;
    for (const std::string& line : lines(readAll(file))) {
      if (line.rfind("-----BEGIN ", 0) == 0 && line.find("PRIVATE KEY-----") != std::string::npos) {
        inKey = true;
        holdsKey = true;
        bodyLine = 0;
      } else if (line.rfind("-----END ", 0) == 0) {
        inKey = false;
      } else if (inKey && line.find(':') == std::string::npos && !line.empty()) {
        ++bodyLine;  // header lines of legacy encrypted PEM (Proc-Type: …) are not counted
        if (line.size() >= kMinKeyLineLength) {
          addUnique(secrets, seen, {"body line " + std::to_string(bodyLine) + " of the private key " + name, line});
        }
      }
    }
    if (holdsKey) ++keyFiles;
  }
  return secrets;
}

std::vector<Secret> passphrasesInSources(const std::string& folder) {
  // name…passphrase… = "literal"  (also '…', {…}, (…) and std::string("…"))
  static const std::regex kAssignment(R"(passphrase\w*\s*(?:=|\{|\()\s*(?:std::string\s*\(\s*)?(["'])([^"'\\\n]+)\1)",
                                      std::regex::ECMAScript | std::regex::icase);
  static const std::set<std::string> kSourceExtensions = {".cpp", ".h", ".py", ".sh"};
  std::vector<Secret> secrets;
  std::set<std::string> seen;
  const fs::path base = fs::path(folder).lexically_normal().parent_path();
  for (const std::string& file : regularFilesUnder(folder)) {
    if (kSourceExtensions.count(extensionOf(file)) == 0) continue;
    const std::string name = fs::path(file).lexically_normal().lexically_relative(base).string();
    std::size_t number = 0;
    for (const std::string& line : lines(readAll(file))) {
      ++number;
      for (auto it = std::sregex_iterator(line.begin(), line.end(), kAssignment); it != std::sregex_iterator(); ++it) {
        const std::string literal = (*it)[2].str();
        if (literal.size() < kMinPassphraseLength) continue;
        addUnique(secrets, seen, {"the test passphrase of " + name + ":" + std::to_string(number), literal});
      }
    }
  }
  return secrets;
}

std::vector<std::string> filesToScan(const std::string& root) {
  static const std::set<std::string> kSkipped = {".pem", ".key", ".crt", ".csr", ".srl", ".p12", ".pfx", ".pass"};
  std::vector<std::string> files;
  for (const std::string& file : regularFilesUnder(root)) {
    if (kSkipped.count(extensionOf(file)) == 0) files.push_back(file);
  }
  return files;
}

std::vector<Finding> scanFile(const std::string& file, const std::vector<Secret>& secrets) {
  const std::string text = readAll(file);
  // Searching the whole text once per secret is far faster than per line;
  // line numbers come from the offsets of the line starts.
  std::vector<std::size_t> lineStarts = {0};
  for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 1)) {
    lineStarts.push_back(at + 1);
  }
  std::map<std::pair<std::size_t, std::size_t>, Finding> found;  // (line, secret) → finding, in line order
  for (std::size_t s = 0; s < secrets.size(); ++s) {
    const std::string& needle = secrets[s].text;
    if (needle.empty()) continue;
    for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
      const auto line = static_cast<std::size_t>(
          std::upper_bound(lineStarts.begin(), lineStarts.end(), at) - lineStarts.begin());
      found.emplace(std::make_pair(line, s), Finding{file, line, secrets[s].label});
    }
  }
  std::vector<Finding> findings;
  for (auto& entry : found) findings.push_back(std::move(entry.second));
  return findings;
}

int runSecretScan(const ScanOptions& options, std::ostream& out) {
  std::vector<Secret> secrets = pemPrivateKeyMarkers();
  const std::size_t markers = secrets.size();

  std::size_t keyFiles = 0;
  std::vector<Secret> keyLines;
  std::error_code error;
  if (!options.keyFolder.empty() && fs::is_directory(options.keyFolder, error)) {
    keyLines = privateKeyLinesIn(options.keyFolder, keyFiles);
    if (keyFiles == 0) {
      out << "secrets scan: " << options.keyFolder << " holds no PEM private key; is it the test PKI?\n";
      return 2;
    }
  } else {
    out << "secrets scan: no key folder " << options.keyFolder << " (no test PKI made): markers and passphrases only\n";
  }
  secrets.insert(secrets.end(), keyLines.begin(), keyLines.end());

  const std::vector<Secret> passphrases = passphrasesInSources(options.sourceFolder);
  if (passphrases.size() < options.minPassphrases) {
    out << "secrets scan: found " << passphrases.size() << " test passphrases in " << options.sourceFolder
        << ", expected at least " << options.minPassphrases
        << ": tests must assign them to a name containing \"passphrase\" (see secret_scan.h)\n";
    return 2;
  }
  secrets.insert(secrets.end(), passphrases.begin(), passphrases.end());

  std::size_t files = 0;
  std::uintmax_t bytes = 0;
  std::vector<Finding> findings;
  for (const std::string& root : options.roots) {
    if (!fs::is_directory(root, error)) {
      out << "secrets scan: no folder " << root << ", skipped\n";
      continue;
    }
    for (const std::string& file : filesToScan(root)) {
      ++files;
      std::error_code sizeError;
      const std::uintmax_t size = fs::file_size(file, sizeError);
      if (!sizeError) bytes += size;
      std::vector<Finding> more = scanFile(file, secrets);
      findings.insert(findings.end(), more.begin(), more.end());
    }
  }
  for (const Finding& finding : findings) out << finding.file << ":" << finding.line << ": " << finding.label << "\n";
  out << "secrets scan: " << files << " files (" << bytes / 1024 << " KiB) searched for " << secrets.size()
      << " secrets (" << markers << " marker, " << keyLines.size() << " key lines from " << keyFiles << " key files, "
      << passphrases.size() << " passphrases): ";
  if (findings.empty()) {
    out << "none found\n";
    return 0;
  }
  out << findings.size() << " found. Secrets must never reach logs, errors, ping answers or the journal"
      << " (files from earlier runs count too: empty test-tmp to start afresh)\n";
  return 1;
}

}  // namespace qlik_reload::testing
