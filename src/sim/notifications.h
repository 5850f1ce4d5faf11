// NotificationHub: QRS change subscriptions ("change notifications",
// qrs-api.md §8) for qrs-sim: it keeps the subscriptions, decides which
// engine changes (change.h) each one gets, and turns them into callback
// POSTs for CallbackSender (callback_sender.h) to deliver. No threads, no
// sockets.
//
// ---- The contract a subscriber codes against ------------------------------
//
// Subscribe (xrfkey required, like every /qrs call):
//   POST /qrs/notification?name={type}&changetype={t}&filter={expr}&id={guid}
//        &propertyname={p}&condition={expr}
//   body: the callback URL as a JSON string, "http://127.0.0.1:8123/qrs-callback"
//         (the same URL unquoted is accepted too; QRS's behaviour there is
//         unconfirmed). http:// and https:// URLs with a host.
//   Parameter names are case-insensitive (changeType= works).
//   name        required. The entity type, compared case-insensitively. Changes
//               are reported for ExecutionResult and ExecutionSession; any
//               other name is accepted and never fires.
//   changetype  optional: 0 Undefined (any change, the default), 1 Add,
//               2 Update, 3 Delete, or those names in any case.
//   filter      optional: QRS filter syntax (filter.h), evaluated against the
//               full entity (GET /qrs/<type>/full) right after each change.
//               Not applied to Delete changes (there is no entity), as QRS
//               documents. Checked against the type's properties when the
//               type is one the simulator serves.
//   id          optional GUID: only changes of that entity (zero GUID: any).
//   propertyname optional: Update changes fire only when this top-level
//               property changed (case-insensitive); Add/Delete unaffected.
//   condition   optional: stored and shown, not evaluated (its semantics are
//               unconfirmed).
//   Reply: 201 application/json {"value":"<handle guid>"}.
//   400 text/plain: "Missing parameter value(s)" (no name),
//     "The value '<v>' is not valid for changetype.", QRS's filter texts
//     ("Cannot parse the expression: <filter>", "Invalid expression"),
//     "The value '<v>' is not valid for id.", "Invalid callback URL: <why>".
//
// Unsubscribe: DELETE /qrs/notification?handle={guid} -> 204; no handle ->
//   400 "Missing parameter value(s)"; a handle that is not subscribed -> 404
//   "Not found". Deliveries already queued still go out.
//
// Callback: POST <url>, Content-Type: application/json; charset=utf-8, body a
//   JSON array with one record per entity that changed, oldest first:
//     [{"objectType":"ExecutionResult","objectID":"<result id>",
//       "changeType":"Update","changedProperties":["modifiedDate","status",...],
//       "changeDate":"2026-01-02T03:04:05.678Z"}]
//   objectType and objectID are what QRS is known to send; the rest are
//   simulator extensions a client must not depend on: changeType is the
//   change's name (Add/Update/Delete); changedProperties the top-level
//   properties that changed (all of them for Add, none for Delete);
//   changeDate the simulated instant of the latest change folded into the
//   record. Changes found together (one engine step, or queued while the
//   previous POST to the same destination was in flight) go in one POST per
//   subscription, one record per entity: an entity that changed twice shows
//   once, with the first change's type and the union of the properties.
//   Every subscription gets its own POSTs, even when two share a URL.
//   A 2xx answer is a delivery; anything else (refused, timeout, other
//   status) is a failure, counted and dropped: no retry (QRS's retry
//   behaviour is unconfirmed). Treat a callback as a wake-up: read the
//   entity by id, and keep a slow poll for lost callbacks.
//
// Test hooks (no xrfkey):
//   GET /sim/notifications -> 200 {"subscriptions":[{"handle","name","filter",
//     "changetype" (number),"changetype_name","id","propertyname","condition",
//     "url","created_at","deliveries":{"attempted","delivered","failed"},
//     "records": n}], "sent": n, "failed": n}
//     ("records": change records routed to it; "sent"/"failed": totals of
//     all POSTs, including those of subscriptions since removed).
//   DELETE /sim/notifications -> 204, removes every subscription.
//
// Subscriptions live as long as the simulator (QRS keeps them across a
// subscriber's restarts too).
//
// Thread-safe: one mutex; route() may run while subscriptions change.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "sim/change.h"
#include "sim/engine.h"
#include "sim/filter.h"
#include "sim/message.h"

namespace qlik_reload::sim {

// One POST to make: `records` JSON object texts form the body's array.
struct CallbackDelivery {
  std::string handle;  // the subscription it is for
  std::string url;
  std::vector<std::string> records;

  // The JSON array text of `records`.
  std::string body() const;
};

class NotificationHub {
 public:
  // `engine` must outlive the hub. The hub turns the engine's change
  // tracking on for the types that have subscriptions.
  explicit NotificationHub(SimEngine& engine);

  NotificationHub(const NotificationHub&) = delete;
  NotificationHub& operator=(const NotificationHub&) = delete;

  // POST /qrs/notification and DELETE /qrs/notification (the router has
  // checked the xrfkey and the caller).
  SimReply subscribe(const SimRequest& request);
  SimReply unsubscribe(const SimRequest& request);
  // GET and DELETE /sim/notifications.
  SimReply describe() const;
  void clear();

  // True while some subscription is for a type the engine reports.
  bool active() const;

  // The POSTs these changes call for, per subscription in subscription
  // order, each with one record per entity (see the contract above).
  std::vector<CallbackDelivery> route(const std::vector<EntityChange>& changes);

  // Counts one finished POST for `handle` (ignored when it is gone) and in
  // the totals.
  void noteDelivery(const std::string& handle, bool delivered);

  // Called, without the hub's lock, after a subscription is added, so a
  // driver that sleeps while nothing is subscribed wakes up. Set before use.
  void setSubscriptionListener(std::function<void()> listener);

 private:
  struct Subscription {
    std::string handle;
    std::string name;
    std::string filterText;
    Filter filter;
    ChangeType changeType = ChangeType::kUndefined;
    std::string id;  // lower-case; empty: any
    std::string propertyName;
    std::string condition;
    std::string url;
    std::string createdAt;
    std::int64_t attempted = 0;
    std::int64_t delivered = 0;
    std::int64_t failed = 0;
    std::int64_t records = 0;
  };

  bool matches(const Subscription& subscription, const EntityChange& change) const;
  // Tells the engine which types to track (mutex_ held).
  void updateTracking();

  SimEngine& engine_;
  mutable std::mutex mutex_;
  std::vector<Subscription> subscriptions_;  // in subscription order
  bool active_ = false;
  std::int64_t sent_ = 0;
  std::int64_t failed_ = 0;
  std::function<void()> subscriptionListener_;
};

}  // namespace qlik_reload::sim
