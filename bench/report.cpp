#include "report.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>
#include <stdexcept>

namespace qlik_reload::bench {
namespace {

std::string num(double value, int digits) {
  if (std::isnan(value)) return "–";
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << value;
  return s.str();
}

// Digits that keep three significant figures for small values.
std::string sig(double value) {
  if (std::isnan(value)) return "–";
  const double a = std::fabs(value);
  return num(value, a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
}

std::string ratio(double value, double baseline) {
  if (std::isnan(value) || std::isnan(baseline) || baseline == 0) return "–";
  const double r = value / baseline;
  return r >= 0.1 ? sig(r) + "×" : num(r, 4) + "×";
}

std::string label(const RunResult& r) {
  return std::string(modeName(r.spec.mode)) + (r.spec.mode == Mode::kWorkerPush && !r.pushActive ? " (inactive)" : "");
}

const RunResult* find(const std::vector<RunResult>& results, Mode mode, int n) {
  for (const RunResult& r : results) {
    if (r.spec.mode == mode && r.spec.reloads == n) return &r;
  }
  return nullptr;
}

std::string latency(const RunResult& r, double value) {
  return num(value, r.latencyReal || value < 100 ? 1 : 0) + (r.latencyReal ? " real" : "");
}

double mib(long kib) { return static_cast<double>(kib) / 1024.0; }

std::string steadyMark(const RunResult& r) { return r.steadyFromWindow ? "" : " *"; }

}  // namespace

std::vector<Target> evaluateTargets(const std::vector<RunResult>& results, const HarnessOptions& options) {
  std::vector<Target> targets;
  auto verdict = [](bool met) { return met ? Target::Verdict::kMet : Target::Verdict::kNotMet; };

  {
    Target t{"QRS requests per reload, 1,000 concurrent 60 s reloads, push mode ≤ 2.5 on average", "", Target::Verdict::kNotMeasured};
    if (const RunResult* r = find(results, Mode::kWorkerPush, 1000); r && r->problems.empty() && r->pushActive) {
      t.measured = num(r->requestsPerReload, 2) + " requests per reload";
      t.verdict = verdict(r->requestsPerReload <= 2.5);
    }
    targets.push_back(t);
  }
  {
    Target t{"polling: QRS poll requests per tick per site constant from N = 100 to 5,000 (within the chunking "
             "factor; 25 % tolerance)",
             "", Target::Verdict::kNotMeasured};
    const RunResult* small = find(results, Mode::kWorkerPoll, 100);
    const RunResult* large = find(results, Mode::kWorkerPoll, 5000);
    if (small && large && small->problems.empty() && large->problems.empty() && small->steadyFromWindow &&
        large->steadyFromWindow && small->chunksForAll > 0 && large->chunksForAll > 0) {
      const double perChunkSmall = small->resultReadsPerCap / small->chunksForAll;
      const double perChunkLarge = large->resultReadsPerCap / large->chunksForAll;
      t.measured = "result reads per cap interval: " + num(small->resultReadsPerCap, 1) + " at N=100 (" +
                   std::to_string(small->chunksForAll) + " chunks, " + num(perChunkSmall, 2) + " per chunk), " +
                   num(large->resultReadsPerCap, 1) + " at N=5000 (" + std::to_string(large->chunksForAll) +
                   " chunks, " + num(perChunkLarge, 2) + " per chunk)";
      t.verdict = verdict(perChunkLarge <= 1.25 * perChunkSmall);
    }
    targets.push_back(t);
  }
  auto worstOver = [&](Mode mode, auto value, int minN) {
    double worst = std::nan("");
    std::string where;
    for (const RunResult& r : results) {
      if (r.spec.mode != mode || r.spec.reloads < minN || !r.problems.empty()) continue;
      if (mode == Mode::kWorkerPush && !r.pushActive) continue;
      const double v = value(r);
      if (std::isnan(v)) continue;
      if (std::isnan(worst) || v > worst) {
        worst = v;
        where = "N=" + std::to_string(r.spec.reloads);
      }
    }
    return std::make_pair(worst, where);
  };
  {
    Target t{"completion-detection latency with push p99 ≤ 100 ms (every N)", "", Target::Verdict::kNotMeasured};
    auto [worst, where] = worstOver(Mode::kWorkerPush, [](const RunResult& r) { return r.latencyP99Ms; }, 1);
    if (!std::isnan(worst)) {
      t.measured = "worst p99 " + num(worst, 1) + " ms (real time) at " + where;
      t.verdict = verdict(worst <= 100);
    }
    targets.push_back(t);
  }
  {
    const double cap = static_cast<double>(options.worker.pollMaxMs);
    Target t{"completion-detection latency with polling p99 ≤ the configured cap (poll.max_ms " + num(cap, 0) +
                 " ms, every N)",
             "", Target::Verdict::kNotMeasured};
    auto [worst, where] = worstOver(Mode::kWorkerPoll, [](const RunResult& r) { return r.latencyP99Ms; }, 1);
    if (!std::isnan(worst)) {
      t.measured = "worst p99 " + num(worst, 0) + " ms (simulated time) at " + where;
      t.verdict = verdict(worst <= cap);
    }
    targets.push_back(t);
  }
  {
    Target t{"worker peak RSS with 5,000 waiting clients ≤ 150 MB", "", Target::Verdict::kNotMeasured};
    double worst = std::nan("");
    std::string which;
    for (Mode mode : {Mode::kWorkerPoll, Mode::kWorkerPush}) {
      if (const RunResult* r = find(results, mode, 5000); r && r->peakRssKib > 0) {
        if (std::isnan(worst) || static_cast<double>(r->peakRssKib) > worst) {
          worst = static_cast<double>(r->peakRssKib);
          which = modeName(mode);
        }
      }
    }
    if (!std::isnan(worst)) {
      const double mb = worst * 1024.0 / 1e6;
      t.measured = "VmHWM " + num(mb, 1) + " MB (" + num(worst / 1024.0, 1) + " MiB), " + which;
      t.verdict = verdict(mb <= 150);
    }
    targets.push_back(t);
  }
  {
    Target t{"worker CPU ≤ 5 ms per reload (every N ≥ 100, both worker modes)", "", Target::Verdict::kNotMeasured};
    double worst = std::nan("");
    std::string where;
    for (Mode mode : {Mode::kWorkerPoll, Mode::kWorkerPush}) {
      auto [v, w] = worstOver(mode, [](const RunResult& r) { return r.cpuMsPerReload; }, 100);
      if (!std::isnan(v) && (std::isnan(worst) || v > worst)) {
        worst = v;
        where = std::string(modeName(mode)) + " " + w;
      }
    }
    if (!std::isnan(worst)) {
      t.measured = "worst " + num(worst, 2) + " ms per reload (" + where + ")";
      t.verdict = verdict(worst <= 5);
    }
    targets.push_back(t);
  }
  {
    Target t{"getReload round trip on loopback p50 ≤ 200 µs (every worker run)", "", Target::Verdict::kNotMeasured};
    double worst = std::nan("");
    std::string where;
    for (Mode mode : {Mode::kWorkerPoll, Mode::kWorkerPush}) {
      auto [v, w] = worstOver(mode, [](const RunResult& r) { return r.getReloadP50Us; }, 1);
      if (!std::isnan(v) && (std::isnan(worst) || v > worst)) {
        worst = v;
        where = std::string(modeName(mode)) + " " + w;
      }
    }
    if (!std::isnan(worst)) {
      t.measured = "worst p50 " + num(worst, 0) + " µs (" + where + ")";
      t.verdict = verdict(worst <= 200);
    }
    targets.push_back(t);
  }
  return targets;
}

void printReport(std::ostream& out, const RunContext& context, const std::vector<RunResult>& results,
                 const std::vector<Target>& targets) {
  out << "## Benchmark\n\n";
  out << "- command: `" << context.command << "`\n";
  out << "- machine: " << context.machine << "\n";
  out << "- load average before / after: " << context.loadBefore << " / " << context.loadAfter << "\n";
  out << "- scenario: one task per reload, outcome success, queue " << context.options.shape.queueMs
      << " ms, run time uniform in " << context.options.shape.runMinMs / 1000 << "–"
      << context.options.shape.runMaxMs / 1000 << " s (simulated), seed " << context.options.shape.seed << "\n";
  out << "- worker: product defaults (poll " << context.options.worker.pollInitialMs << " → "
      << context.options.worker.pollMaxMs << " ms, push fallback " << context.options.worker.pushFallbackMs
      << " ms; simulated time, divided by the time scale), listen.max_connections N + 64\n\n";

  out << "### Figures\n\n";
  out << "Latency: simulated ms for the polling modes (real ms × time scale), real ms for push ('real').\n"
         "Requests/s: per simulated second at steady state (every reload started, none finished);\n"
         "'*': no such window, average over the whole run.\n\n";
  out << "| N | mode | time scale | QRS req/reload | QRS req/s | latency p50 ms | latency p99 ms | worker CPU "
         "ms/reload | worker peak RSS MiB | RSS/waiting KiB | getReload p50/p99 µs | run s | load before |\n";
  out << "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (const RunResult& r : results) {
    out << "| " << r.spec.reloads << " | " << label(r) << " | " << sig(r.spec.timeScale) << " | "
        << num(r.requestsPerReload, 2) << " | " << sig(r.requestsPerSimS) << steadyMark(r) << " | "
        << latency(r, r.latencyP50Ms) << " | " << latency(r, r.latencyP99Ms) << " | "
        << (r.hasWorker ? num(r.cpuMsPerReload, 2) : "–") << " | "
        << (r.hasWorker ? num(mib(r.peakRssKib), 1) : "–") << " | "
        << (r.hasWorker ? num(r.rssPerWaitingKib, 1) : "–") << " | "
        << (r.hasWorker ? num(r.getReloadP50Us, 0) + " / " + num(r.getReloadP99Us, 0) : "–") << " | "
        << num(r.wallSeconds, 1) << " | " << r.loadBefore.substr(0, r.loadBefore.find(' ', 10)) << " |\n";
  }

  out << "\n### Ratios against the naive baselines at the same N\n\n";
  out << "value ÷ naive-1s / value ÷ naive-30s; below 1 is better. CPU, RSS and getReload have no naive\n"
         "counterpart (the naive tools have no worker).\n\n";
  out << "| N | mode | req/reload | req/s | latency p50 | latency p99 |\n|---:|---|---:|---:|---:|---:|\n";
  for (const RunResult& r : results) {
    if (!isWorkerMode(r.spec.mode)) continue;
    const RunResult* one = find(results, Mode::kNaive1s, r.spec.reloads);
    const RunResult* thirty = find(results, Mode::kNaive30s, r.spec.reloads);
    auto both = [&](auto field) {
      const double v = field(r);
      return (one ? ratio(v, field(*one)) : "–") + " / " + (thirty ? ratio(v, field(*thirty)) : "–");
    };
    out << "| " << r.spec.reloads << " | " << label(r) << " | "
        << both([](const RunResult& x) { return x.requestsPerReload; }) << " | "
        << both([](const RunResult& x) { return x.requestsPerSimS; }) << " | "
        << both([](const RunResult& x) { return x.latencyP50Ms; }) << " | "
        << both([](const RunResult& x) { return x.latencyP99Ms; }) << " |\n";
  }

  out << "\n### Where the QRS requests go (per reload)\n\n";
  out << "| N | mode | start | result reads | session reads | subscribe | other | callbacks received | "
         "steady result reads/s | result reads per cap interval (chunks for all N) |\n";
  out << "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const RunResult& r : results) {
    const double n = r.spec.reloads;
    const std::int64_t known = r.requests.route(kRouteStart) + r.requests.route(kRouteResults) +
                               r.requests.route(kRouteSession) + r.requests.route(kRouteSubscribe);
    out << "| " << r.spec.reloads << " | " << label(r) << " | "
        << num(static_cast<double>(r.requests.route(kRouteStart)) / n, 2) << " | "
        << num(static_cast<double>(r.requests.route(kRouteResults)) / n, 3) << " | "
        << num(static_cast<double>(r.requests.route(kRouteSession)) / n, 2) << " | "
        << num(static_cast<double>(r.requests.route(kRouteSubscribe)) / n, 3) << " | "
        << num(static_cast<double>(r.requests.total - known) / n, 3) << " | "
        << num(static_cast<double>(r.requests.callbacksSent) / n, 3) << " | " << sig(r.resultReadsPerSimS)
        << steadyMark(r) << " | "
        << (r.spec.mode == Mode::kWorkerPoll
                ? num(r.resultReadsPerCap, 1) + " (" + std::to_string(r.chunksForAll) + ")"
                : "–")
        << " |\n";
  }

  out << "\n### Targets\n\n";
  for (const Target& t : targets) {
    const char* verdict = t.verdict == Target::Verdict::kMet      ? "met"
                          : t.verdict == Target::Verdict::kNotMet ? "NOT MET"
                                                                  : "not measured";
    out << "- **" << verdict << "** — " << t.name << (t.measured.empty() ? "" : ": " + t.measured) << "\n";
  }

  bool anyNote = false;
  for (const RunResult& r : results) {
    for (const std::string& note : r.notes) {
      if (!anyNote) out << "\n### Notes\n\n";
      anyNote = true;
      out << "- " << modeName(r.spec.mode) << " N=" << r.spec.reloads << ": " << note << "\n";
    }
  }
  bool anyProblem = false;
  for (const RunResult& r : results) {
    for (const std::string& problem : r.problems) {
      if (!anyProblem) out << "\n### Invariants that did not hold\n\n";
      anyProblem = true;
      out << "- " << modeName(r.spec.mode) << " N=" << r.spec.reloads << ": " << problem << "\n";
    }
  }
  out << "\n" << (anyProblem ? "INVARIANTS FAILED" : "every invariant held") << "\n";
}

void writeCsv(const std::string& path, const std::vector<RunResult>& results) {
  std::ofstream out(path);
  out << "mode,n,time_scale,wall_s,requests_total,requests_per_reload,start_requests,result_reads,session_reads,"
         "subscribe_requests,callbacks_sent,steady_from_window,steady_window_sim_s,requests_per_sim_s,"
         "result_reads_per_sim_s,result_reads_per_cap,chunks_for_all,latency_unit,latency_p50_ms,latency_p99_ms,"
         "latency_max_ms,cpu_ms_per_reload,rss_idle_kib,rss_waiting_kib,peak_rss_kib,threads_waiting,"
         "rss_per_waiting_kib,stack_rss_idle_kib,stack_rss_waiting_kib,stack_mappings_waiting,push_active,getreload_p50_us,getreload_p99_us,lateness_p99_ms,start_spread_sim_s,problems\n";
  auto v = [](double x) { return std::isnan(x) ? std::string("NaN") : num(x, 4); };
  for (const RunResult& r : results) {
    out << modeName(r.spec.mode) << "," << r.spec.reloads << "," << v(r.spec.timeScale) << "," << v(r.wallSeconds)
        << "," << r.requests.total << "," << v(r.requestsPerReload) << "," << r.requests.route(kRouteStart) << ","
        << r.requests.route(kRouteResults) << "," << r.requests.route(kRouteSession) << ","
        << r.requests.route(kRouteSubscribe) << "," << r.requests.callbacksSent << ","
        << (r.steadyFromWindow ? 1 : 0) << "," << v(r.steadyWindowSimS) << "," << v(r.requestsPerSimS) << ","
        << v(r.resultReadsPerSimS) << "," << v(r.resultReadsPerCap) << "," << r.chunksForAll << ","
        << (r.latencyReal ? "real" : "simulated") << "," << v(r.latencyP50Ms) << "," << v(r.latencyP99Ms) << ","
        << v(r.latencyMaxMs) << "," << (r.hasWorker ? v(r.cpuMsPerReload) : "NaN") << "," << r.rssIdleKib << ","
        << r.rssWaitingKib << "," << r.peakRssKib << "," << r.threadsWaiting << ","
        << (r.hasWorker ? v(r.rssPerWaitingKib) : "NaN") << "," << r.stackRssIdleKib << ","
        << r.stackRssWaitingKib << "," << r.stackMappingsWaiting << "," << (r.pushActive ? 1 : 0) << "," << v(r.getReloadP50Us) << ","
        << v(r.getReloadP99Us) << "," << v(r.latenessP99Ms) << "," << v(r.startSpreadSimS) << ","
        << r.problems.size() << "\n";
  }
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace qlik_reload::bench
