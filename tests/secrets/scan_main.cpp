// secret_scan: searches the files the test suite wrote for secret material
// (see secret_scan.h). Registered as the CTest test that runs last.
//
//   secret_scan --keys DIR --sources DIR [--min-passphrases N] --scan DIR [--scan DIR]...
//
// Exits 0 when nothing was found, 1 when something was (each finding as
// FILE:LINE: WHAT, never the secret), 2 on a usage error or when the scan
// could not do its job.
#include <cstdio>
#include <iostream>
#include <string>

#include "secret_scan.h"

int main(int argc, char** argv) {
  qlik_reload::testing::ScanOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "secret_scan: %s needs a value\n", flag.c_str());
      return 2;
    }
    const std::string value = argv[++i];
    if (flag == "--keys") {
      options.keyFolder = value;
    } else if (flag == "--sources") {
      options.sourceFolder = value;
    } else if (flag == "--scan") {
      options.roots.push_back(value);
    } else if (flag == "--min-passphrases") {
      options.minPassphrases = static_cast<std::size_t>(std::stoul(value));
    } else {
      std::fprintf(stderr, "secret_scan: unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  if (options.roots.empty() || options.sourceFolder.empty()) {
    std::fprintf(stderr, "usage: secret_scan --keys DIR --sources DIR [--min-passphrases N] --scan DIR...\n");
    return 2;
  }
  return qlik_reload::testing::runSecretScan(options, std::cout);
}
