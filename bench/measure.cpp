#include "measure.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace qlik_reload::bench {

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  // Nearest rank: the smallest value with at least p % of the values at or below it.
  const double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return values[std::min(index, values.size() - 1)];
}

double wallMsNow() {
  using namespace std::chrono;
  return static_cast<double>(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()) / 1000.0;
}

ProcessSample sampleProcess(pid_t pid) {
  ProcessSample sample;
  const std::string base = "/proc/" + std::to_string(pid);
  {
    std::ifstream in(base + "/stat");
    std::string text;
    std::getline(in, text);
    // The command name may hold spaces and parentheses: fields count from the last ')'.
    const auto close = text.rfind(')');
    if (close != std::string::npos) {
      std::istringstream fields(text.substr(close + 2));
      std::string field;
      unsigned long utime = 0, stime = 0;
      // After ")": state is field 3 of stat(5); utime and stime are 14 and 15.
      for (int index = 3; index <= 15 && fields >> field; ++index) {
        if (index == 14) utime = std::stoul(field);
        if (index == 15) stime = std::stoul(field);
      }
      sample.cpuSeconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  std::ifstream in(base + "/status");
  std::string line;
  auto number = [&](const char* key) { return std::stol(line.substr(std::strlen(key))); };
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) sample.rssKib = number("VmRSS:");
    else if (line.rfind("VmHWM:", 0) == 0) sample.peakRssKib = number("VmHWM:");
    else if (line.rfind("Threads:", 0) == 0) sample.threads = static_cast<int>(number("Threads:"));
  }
  return sample;
}

StackSample sampleThreadStacks(pid_t pid, std::size_t stackBytes) {
  StackSample sample;
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
  std::string line;
  bool anonymous = false;
  long sizeKib = 0;
  const long wantedKib = static_cast<long>(stackBytes / 1024);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') != std::string::npos &&
        line.find(':') > line.find(' ')) {
      // "start-end perms offset dev inode [path]": anonymous when there is no path.
      std::istringstream fields(line);
      std::string range, perms, offset, device, inode, path;
      fields >> range >> perms >> offset >> device >> inode >> path;
      anonymous = path.empty() && perms.rfind("rw", 0) == 0;
      sizeKib = 0;
    } else if (line.rfind("Size:", 0) == 0) {
      sizeKib = std::stol(line.substr(5));
    } else if (line.rfind("Rss:", 0) == 0 && anonymous && sizeKib == wantedKib) {
      ++sample.mappings;
      sample.rssKib += std::stol(line.substr(4));
    }
  }
  return sample;
}

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string line;
  std::getline(in, line);
  return line;
}

rlim_t raiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

SmallStackThread::SmallStackThread(std::function<void()> body, std::size_t stackBytes)
    : body_(std::make_unique<std::function<void()>>(std::move(body))) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  std::size_t size = std::max<std::size_t>(stackBytes, PTHREAD_STACK_MIN);
  size = (size + page - 1) / page * page;
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, size);
  const int rc = pthread_create(&thread_, &attributes, &SmallStackThread::trampoline, body_.get());
  pthread_attr_destroy(&attributes);
  if (rc != 0) throw std::runtime_error(std::string("pthread_create: ") + std::strerror(rc));
  joinable_ = true;
}

SmallStackThread::~SmallStackThread() { join(); }

void SmallStackThread::join() {
  if (!joinable_) return;
  pthread_join(thread_, nullptr);
  joinable_ = false;
}

void* SmallStackThread::trampoline(void* argument) {
  (*static_cast<std::function<void()>*>(argument))();
  return nullptr;
}

}  // namespace qlik_reload::bench
