// The secrets scan: after the test suite ran, every file it wrote (program
// logs, CLI outputs, journals, CTest's own log) is searched for secret
// material, which must never appear there:
//   * PEM private-key markers ("PRIVATE KEY-----": PKCS#8, RSA, EC and
//     encrypted keys alike);
//   * the base64 body lines of the test PKI's private keys;
//   * the test passphrases, found in the test sources (string literals
//     assigned to a name that contains "passphrase").
//
// A finding names the file, the line and what was found (a label such as
// "body line 3 of test-pki/main/client_key.pem"), never the secret itself, so
// the scan's own output is safe to keep.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

namespace qlik_reload::testing {

// A secret to look for. Only `label` is ever printed.
struct Secret {
  std::string label;
  std::string text;
};

struct Finding {
  std::string file;
  std::size_t line = 0;  // 1-based
  std::string label;
};

// Base64 lines shorter than this (a key's last line can be a few characters)
// are not distinctive enough to look for.
inline constexpr std::size_t kMinKeyLineLength = 32;
// Passphrases shorter than this are not looked for (too likely by chance).
inline constexpr std::size_t kMinPassphraseLength = 6;

// The markers every PEM private key carries.
std::vector<Secret> pemPrivateKeyMarkers();

// The body lines (at least kMinKeyLineLength long) of every PEM private key
// in the files under `folder`, recursively. Labels name the file relative to
// `folder`'s parent. Sets `keyFiles` to the number of files holding a key.
std::vector<Secret> privateKeyLinesIn(const std::string& folder, std::size_t& keyFiles);

// String literals (at least kMinPassphraseLength long) assigned to a name
// containing "passphrase", any case, in *.cpp, *.h, *.py and *.sh files under
// `folder`: `kPassphrase = "…"`, `passphrase = '…'`, `passphrase{"…"}`.
std::vector<Secret> passphrasesInSources(const std::string& folder);

// The files under `root` (recursively) the scan reads: every regular file
// except the key material and passphrase files tests write on purpose
// (*.pem, *.key, *.crt, *.csr, *.srl, *.p12, *.pfx, *.pass). Sorted.
std::vector<std::string> filesToScan(const std::string& root);

// Every line of `file` that contains one of `secrets` (one finding per line
// and secret). Line breaks are '\n'; binary files are read the same way.
std::vector<Finding> scanFile(const std::string& file, const std::vector<Secret>& secrets);

struct ScanOptions {
  std::vector<std::string> roots;    // folders to scan; missing ones are noted and skipped
  std::string keyFolder;             // the test PKI; may be missing (markers still apply)
  std::string sourceFolder;          // where the test passphrases are found
  std::size_t minPassphrases = 1;    // fewer found means the pattern no longer fits the sources
};

// The whole scan, reporting to `out`: one line per finding
// ("FILE:LINE: LABEL"), then a summary. Returns 0 when nothing was found, 1
// when something was, 2 when the scan itself could not do its job (too few
// passphrases found, a key folder without keys).
int runSecretScan(const ScanOptions& options, std::ostream& out);

}  // namespace qlik_reload::testing
