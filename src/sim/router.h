// Router: turns one SimRequest into a SimReply the way QRS would, then hands
// it to the SimEngine. It owns QRS's request rules, not the simulation:
//   /qrs/...  counted in the record under its route template; the xrfkey
//             pair must be valid (else 403 with QRS's XSRF text); a caller
//             listed in denied_users gets 403 "Access denied"; unknown path
//             or method: 404 "No matching endpoint found".
//   /sim/...  test hooks, no xrfkey, not counted:
//             GET /sim/record, DELETE /sim/record, POST /sim/tasks,
//             GET|POST|DELETE /sim/faults (when a FaultInjector is attached),
//             GET|DELETE /sim/notifications (when a NotificationHub is).
// POST and DELETE /qrs/notification go to the NotificationHub (see
// notifications.h for the parameters); without one they answer 404 "No
// matching endpoint found".
// Thread-safe as far as the engine and injector are (both are).
#pragma once

#include <string>
#include <string_view>

#include "sim/engine.h"
#include "sim/message.h"

namespace qlik_reload::sim {

class FaultInjector;
class NotificationHub;

// True when the request carries a valid xrfkey pair: an `xrfkey` query
// parameter (name case-insensitive) and an X-Qlik-Xrfkey header with the
// same 16 characters from [0-9A-Za-z].
bool hasValidXrfkey(const SimRequest& request);

// The caller as "DIRECTORY\\id" from a leniently parsed X-Qlik-User
// ("UserDirectory=INTERNAL; UserId=sa_api", any spacing, keys
// case-insensitive). Without a usable header: the client certificate's
// identity, "INTERNAL\\<certificate CN>" ("INTERNAL\\sa_repository" when the
// CN is unknown).
std::string callerIdentity(const SimRequest& request);

class Router {
 public:
  // `engine` (and `faults` and `notifications`, when given) must outlive
  // the router.
  explicit Router(SimEngine& engine, FaultInjector* faults = nullptr, NotificationHub* notifications = nullptr);

  SimReply handle(const SimRequest& request);

  // The route template a request falls under, e.g.
  // "POST /qrs/task/{id}/start/synchronous"; "GET (unmatched)" otherwise.
  static std::string routeTemplate(const SimRequest& request);

  // Counts a /qrs/ request that a fault kept from handle() in the record.
  void countOnly(const SimRequest& request);

 private:
  SimReply handleQrs(const SimRequest& request);
  SimReply handleSim(const SimRequest& request);

  SimEngine& engine_;
  FaultInjector* faults_;
  NotificationHub* notifications_;
};

}  // namespace qlik_reload::sim
