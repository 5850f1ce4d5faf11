// Fuzz target: the worker's configuration parser (config/config.h
// parseWorkerConfig) on arbitrary text.
//
// Relative paths resolve against a temporary folder that holds one file,
// key.pass, with a passphrase in it, so inputs can reach the passphrase code
// (naming key.pass as certificate, key and passphrase file). Nearly every
// input fails, which is the point. Properties:
//  * no exception escapes;
//  * a failure is a configuration error with a non-empty message that never
//    contains the passphrase (unless the input itself spells it);
//  * a success has at least one site, each named as its key and with a URL.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "fuzz_support.h"

namespace {

using namespace qlik_reload;
using qlik_reload::fuzz::require;

const std::string kPassphrase = "Fuzz-Passphrase-3c9b71";

// The folder configurations resolve against; removed at exit.
class BaseDir {
 public:
  BaseDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/qlik-reload-fuzz-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) fuzz::fuzzFail("mkdtemp failed for " + pattern);
    path_ = buffer.data();
    std::ofstream(path_ + "/key.pass") << kPassphrase << "\n";
  }
  ~BaseDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  BaseDir(const BaseDir&) = delete;
  BaseDir& operator=(const BaseDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const BaseDir kBaseDir;
  const std::string text(fuzz::asText(data, size));
  fuzz::noThrow("parseWorkerConfig", [&] {
    Result<WorkerConfig> config = parseWorkerConfig(text, kBaseDir.path(), "fuzz.json");
    if (!config.isOk()) {
      const Status& status = config.status();
      require(status.code() == ErrorCode::kConfiguration,
              std::string("failed with ") + errorCodeName(status.code()) + " instead of configuration");
      require(!status.message().empty(), "failed with an empty message");
      // Only the passphrase file is secret: an input that spells the same
      // text itself (as a site name, say) may see it quoted back.
      if (text.find(kPassphrase) == std::string::npos) {
        require(status.message().find(kPassphrase) == std::string::npos, "the passphrase appears in the message");
      }
      return;
    }
    require(!config->sites.empty(), "a configuration without sites was accepted");
    for (const auto& [name, site] : config->sites) {
      require(!name.empty() && site.name == name, "a site's name is empty or differs from its key");
      require(!site.qrs.url.empty(), "site " + name + " has no URL");
    }
  });
  return 0;
}
