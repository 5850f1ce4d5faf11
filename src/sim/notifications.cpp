#include "sim/notifications.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "core/guid.h"
#include "core/time_format.h"
#include "sim/json_util.h"

namespace qlik_reload::sim {
namespace {

std::string trimmed(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

// The callback URL from the body: a JSON string, or the bare URL.
Result<std::string> callbackUrl(std::string_view body) {
  std::string text = trimmed(body);
  if (text.empty()) return Status::invalidArgument("Invalid callback URL: the body is empty");
  if (text.front() == '"') {
    // Poco's parser wants an object or array at the top, so read it as the
    // only element of one.
    Result<Poco::Dynamic::Var> parsed = parseJsonText("[" + text + "]");
    Poco::JSON::Array::Ptr array;
    if (parsed.isOk() && isJsonArray(*parsed)) array = parsed->extract<Poco::JSON::Array::Ptr>();
    if (!array || array->size() != 1 || !array->get(0).isString()) {
      return Status::invalidArgument("Invalid callback URL: the body is not a JSON string");
    }
    text = trimmed(array->get(0).extract<std::string>());
  }
  try {
    Poco::URI uri(text);
    const std::string scheme = toLower(uri.getScheme());
    if (scheme != "http" && scheme != "https") {
      return Status::invalidArgument("Invalid callback URL: " + text + " (http or https only)");
    }
    if (uri.getHost().empty()) return Status::invalidArgument("Invalid callback URL: " + text + " (no host)");
  } catch (const Poco::Exception& e) {
    return Status::invalidArgument("Invalid callback URL: " + text + " (" + e.displayText() + ")");
  }
  return text;
}

const std::string* parameter(const SimRequest& request, const char* name) {
  const std::string* value = request.queryParameter(name);
  return value == nullptr || value->empty() ? nullptr : value;
}

// One record of a callback body, folding every change of one entity.
struct PendingRecord {
  std::string objectType;
  std::string objectId;
  ChangeType changeType;
  std::vector<std::string> properties;
  std::string changeDate;
};

std::string recordText(const PendingRecord& record) {
  auto object = newJsonObject();
  object->set("objectType", record.objectType);
  object->set("objectID", record.objectId);
  object->set("changeType", std::string(changeTypeName(record.changeType)));
  auto properties = newJsonArray();
  for (const std::string& name : record.properties) properties->add(name);
  object->set("changedProperties", properties);
  object->set("changeDate", record.changeDate);
  return toJsonText(object);
}

}  // namespace

std::string CallbackDelivery::body() const {
  std::string text = "[";
  for (size_t i = 0; i < records.size(); ++i) {
    if (i > 0) text += ",";
    text += records[i];
  }
  return text + "]";
}

NotificationHub::NotificationHub(SimEngine& engine) : engine_(engine) {}

void NotificationHub::setSubscriptionListener(std::function<void()> listener) {
  std::lock_guard<std::mutex> lock(mutex_);
  subscriptionListener_ = std::move(listener);
}

SimReply NotificationHub::subscribe(const SimRequest& request) {
  const std::string* name = parameter(request, "name");
  if (name == nullptr) return SimReply::text(400, kMissingParameter);

  Subscription subscription;
  subscription.name = *name;
  if (const std::string* changeType = parameter(request, "changetype")) {
    std::optional<ChangeType> parsed = parseChangeType(trimmed(*changeType));
    if (!parsed) return SimReply::text(400, "The value '" + *changeType + "' is not valid for changetype.");
    subscription.changeType = *parsed;
  }
  if (const std::string* filterText = parameter(request, "filter")) {
    Result<Filter> filter = Filter::parse(*filterText);
    if (!filter.isOk()) return SimReply::text(400, filter.status().message());
    Status checked = engine_.checkFilter(*name, *filter);
    if (!checked.isOk()) return SimReply::text(400, checked.message());
    subscription.filterText = *filterText;
    subscription.filter = std::move(filter).value();
  }
  if (const std::string* id = parameter(request, "id")) {
    if (!isGuid(*id)) return SimReply::text(400, "The value '" + *id + "' is not valid for id.");
    if (!isZeroGuid(*id)) subscription.id = normalizeGuid(*id);
  }
  if (const std::string* property = parameter(request, "propertyname")) subscription.propertyName = *property;
  if (const std::string* condition = parameter(request, "condition")) subscription.condition = *condition;
  Result<std::string> url = callbackUrl(request.body);
  if (!url.isOk()) return SimReply::text(400, url.status().message());
  subscription.url = std::move(url).value();
  subscription.handle = newGuid();
  subscription.createdAt = formatIso8601(engine_.wallTimeOf(engine_.clock().now()));

  auto reply = newJsonObject();
  reply->set("value", subscription.handle);
  std::function<void()> listener;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    subscriptions_.push_back(std::move(subscription));
    updateTracking();
    listener = subscriptionListener_;
  }
  if (listener) listener();
  return SimReply::json(201, toJsonText(reply));
}

SimReply NotificationHub::unsubscribe(const SimRequest& request) {
  const std::string* handle = parameter(request, "handle");
  if (handle == nullptr) return SimReply::text(400, kMissingParameter);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = std::find_if(subscriptions_.begin(), subscriptions_.end(), [&](const Subscription& subscription) {
    return isGuid(*handle) && subscription.handle == normalizeGuid(*handle);
  });
  if (it == subscriptions_.end()) return SimReply::text(404, kNotFound);
  subscriptions_.erase(it);
  updateTracking();
  return SimReply::noContent();
}

void NotificationHub::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  subscriptions_.clear();
  updateTracking();
}

bool NotificationHub::active() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return active_;
}

void NotificationHub::updateTracking() {
  std::set<std::string> types;
  for (const Subscription& subscription : subscriptions_) types.insert(toLower(subscription.name));
  engine_.trackChanges(types);
  active_ = types.count(toLower(kExecutionResultType)) > 0 || types.count(toLower(kExecutionSessionType)) > 0;
}

SimReply NotificationHub::describe() const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto list = newJsonArray();
  for (const Subscription& subscription : subscriptions_) {
    auto item = newJsonObject();
    item->set("handle", subscription.handle);
    item->set("name", subscription.name);
    item->set("filter", subscription.filterText);
    item->set("changetype", static_cast<int>(subscription.changeType));
    item->set("changetype_name", std::string(changeTypeName(subscription.changeType)));
    item->set("id", subscription.id.empty() ? std::string(kZeroGuid) : subscription.id);
    item->set("propertyname", subscription.propertyName);
    item->set("condition", subscription.condition);
    item->set("url", subscription.url);
    item->set("created_at", subscription.createdAt);
    auto deliveries = newJsonObject();
    deliveries->set("attempted", subscription.attempted);
    deliveries->set("delivered", subscription.delivered);
    deliveries->set("failed", subscription.failed);
    item->set("deliveries", deliveries);
    item->set("records", subscription.records);
    list->add(item);
  }
  auto root = newJsonObject();
  root->set("subscriptions", list);
  root->set("sent", sent_);
  root->set("failed", failed_);
  return SimReply::json(200, toJsonText(root));
}

bool NotificationHub::matches(const Subscription& subscription, const EntityChange& change) const {
  if (!equalsIgnoreCase(subscription.name, change.objectType)) return false;
  if (subscription.changeType != ChangeType::kUndefined && subscription.changeType != change.changeType) return false;
  if (!subscription.id.empty() && subscription.id != change.objectId) return false;
  if (!subscription.propertyName.empty() && change.changeType == ChangeType::kUpdate &&
      std::none_of(change.changedProperties.begin(), change.changedProperties.end(),
                   [&](const std::string& name) { return equalsIgnoreCase(name, subscription.propertyName); })) {
    return false;
  }
  if (change.changeType == ChangeType::kDelete || subscription.filter.matchesAll()) return true;
  return change.entity && subscription.filter.matches(*change.entity);
}

std::vector<CallbackDelivery> NotificationHub::route(const std::vector<EntityChange>& changes) {
  std::vector<CallbackDelivery> deliveries;
  if (changes.empty()) return deliveries;
  std::lock_guard<std::mutex> lock(mutex_);
  for (Subscription& subscription : subscriptions_) {
    std::vector<PendingRecord> records;
    std::map<std::string, size_t> byObject;  // objectType + id -> index in records
    for (const EntityChange& change : changes) {
      if (!matches(subscription, change)) continue;
      const std::string key = change.objectType + "/" + change.objectId;
      auto found = byObject.find(key);
      if (found == byObject.end()) {
        byObject.emplace(key, records.size());
        records.push_back(PendingRecord{change.objectType, change.objectId, change.changeType,
                                        change.changedProperties, change.changeDate});
        continue;
      }
      PendingRecord& record = records[found->second];
      for (const std::string& name : change.changedProperties) {
        if (std::find(record.properties.begin(), record.properties.end(), name) == record.properties.end()) {
          record.properties.push_back(name);
        }
      }
      record.changeDate = change.changeDate;
    }
    if (records.empty()) continue;
    CallbackDelivery delivery{subscription.handle, subscription.url, {}};
    for (const PendingRecord& record : records) delivery.records.push_back(recordText(record));
    subscription.records += static_cast<std::int64_t>(records.size());
    deliveries.push_back(std::move(delivery));
  }
  return deliveries;
}

void NotificationHub::noteDelivery(const std::string& handle, bool delivered) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++(delivered ? sent_ : failed_);
  for (Subscription& subscription : subscriptions_) {
    if (subscription.handle != handle) continue;
    ++subscription.attempted;
    ++(delivered ? subscription.delivered : subscription.failed);
    break;
  }
}

}  // namespace qlik_reload::sim
