#include "naive_clients.h"

#include <optional>
#include <random>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include "measure.h"

namespace qlik_reload::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string newXrfkey() {
  static const char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  thread_local std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> pick(0, static_cast<int>(sizeof kAlphabet) - 2);
  std::string key(16, '0');
  for (char& c : key) c = kAlphabet[pick(random)];
  return key;
}

struct Answer {
  int status = 0;  // 0: transport failure
  std::string body;
};

Answer send(Poco::Net::HTTPSClientSession& session, const std::string& method, const std::string& path,
            std::vector<std::pair<std::string, std::string>> query) {
  const std::string key = newXrfkey();
  Poco::URI uri;
  uri.setPath(path);
  for (const auto& [name, value] : query) uri.addQueryParameter(name, value);
  uri.addQueryParameter("xrfkey", key);
  Poco::Net::HTTPRequest request(method, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
  request.set("X-Qlik-Xrfkey", key);
  request.set("X-Qlik-User", "UserDirectory=INTERNAL; UserId=sa_scheduler");
  request.setKeepAlive(true);
  if (method == "POST") request.setContentLength(0);
  Answer answer;
  try {
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    Poco::StreamCopier::copyToString(in, answer.body);
    answer.status = static_cast<int>(response.getStatus());
  } catch (const Poco::Exception&) {
    session.reset();
    answer.status = 0;
  }
  return answer;
}

// The terminal state of the latest attempt in an executionresult list, ""
// while it is not final.
std::string finalStateOf(const std::string& body) {
  Poco::JSON::Parser parser;
  auto rows = parser.parse(body).extract<Poco::JSON::Array::Ptr>();
  if (rows->size() == 0) return "";
  // Attempts are appended in order; the latest decides (Qlik retries add rows).
  int status = -1;
  std::string latestStart;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    auto row = rows->getObject(static_cast<unsigned>(i));
    const std::string created = row->optValue<std::string>("createdDate", "");
    if (status < 0 || created >= latestStart) {
      latestStart = created;
      status = row->getValue<int>("status");
    }
  }
  switch (status) {
    case 6: return "ABORTED";
    case 7: return "SUCCEEDED";
    case 8:
    case 11:
    case 12: return "FAILED";
    case 9: return "SKIPPED";
    default: return "";
  }
}

}  // namespace

NaiveClients::NaiveClients(NaiveClientOptions options, std::vector<TaskPlan> plans, ReloadTracker& tracker)
    : options_(std::move(options)),
      plans_(std::move(plans)),
      tracker_(tracker),
      context_(clientContext(options_.pkiDir)),
      executionIds_(plans_.size()) {}

NaiveClients::~NaiveClients() { stop(); }

void NaiveClients::start() {
  const auto now = SteadyClock::now();
  {
    std::lock_guard<std::mutex> guard(mutex_);
    for (std::size_t i = 0; i < plans_.size(); ++i) schedule_.push(Due{now, i, Step::kStart});
    open_ = plans_.size();
  }
  const int threads = std::max(1, std::min<int>(options_.connections, static_cast<int>(plans_.size())));
  for (int t = 0; t < threads; ++t) threads_.emplace_back([this] { runThread(); });
}

void NaiveClients::stop() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    stopping_ = true;
    changed_.notify_all();
  }
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

std::vector<double> NaiveClients::lateness() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return lateness_;
}

std::size_t NaiveClients::errors() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return errors_;
}

void NaiveClients::runThread() {
  Poco::Net::HTTPSClientSession session("127.0.0.1", static_cast<Poco::UInt16>(options_.simPort), context_);
  session.setKeepAlive(true);
  session.setTimeout(Poco::Timespan(30, 0));
  std::vector<double> late;
  std::size_t errors = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_ && open_ > 0) {
    if (schedule_.empty()) {
      changed_.wait(lock);
      continue;
    }
    const Due due = schedule_.top();
    if (SteadyClock::now() < due.at) {
      changed_.wait_until(lock, due.at);
      continue;
    }
    schedule_.pop();
    lock.unlock();
    // Every start is due at once by design: only polls have a schedule to keep.
    if (due.step == Step::kPoll) {
      late.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - due.at).count());
    }
    const std::size_t i = due.index;
    std::optional<Step> next;  // what this reload does next (none: done)
    if (due.step == Step::kStart) {
      Answer a = send(session, "POST", "/qrs/task/" + plans_[i].taskId + "/start/synchronous", {});
      std::string id;
      if (a.status == 201) {
        try {
          Poco::JSON::Parser parser;
          id = parser.parse(a.body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("value");
        } catch (const Poco::Exception&) {
        }
      }
      if (id.empty()) {
        tracker_.failed(i, "start answered " + std::to_string(a.status) + " " + a.body.substr(0, 200));
      } else {
        executionIds_[i] = id;
        tracker_.started(i, id, wallMsNow());
        next = Step::kPoll;
      }
    } else if (due.step == Step::kPoll) {
      Answer a = send(session, "GET", "/qrs/executionsession/" + executionIds_[i], {});
      if (a.status == 404) {
        next = Step::kResult;  // the session ended: read the outcome at once
      } else {
        if (a.status != 200) ++errors;
        next = Step::kPoll;
      }
    } else {
      Answer a = send(session, "GET", "/qrs/executionresult/full",
                      {{"filter", "ExecutionId eq " + executionIds_[i]}});
      std::string state;
      if (a.status == 200) {
        try {
          state = finalStateOf(a.body);
        } catch (const Poco::Exception&) {
          ++errors;
        }
      } else {
        ++errors;
      }
      if (!state.empty()) {
        tracker_.finished(i, state, wallMsNow());
      } else {
        next = Step::kPoll;
      }
    }
    lock.lock();
    if (!next) {
      --open_;
      changed_.notify_all();
    } else {
      const auto at = *next == Step::kResult ? SteadyClock::now() : SteadyClock::now() + options_.pollInterval;
      schedule_.push(Due{at, i, *next});
      changed_.notify_one();
    }
  }
  lateness_.insert(lateness_.end(), late.begin(), late.end());
  errors_ += errors;
  changed_.notify_all();
}

}  // namespace qlik_reload::bench
