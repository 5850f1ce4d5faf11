// QRS JSON answers → the plain structs of types.h.
//
// Every function takes the raw body (the HTTP layer caps its size first),
// never throws, and fails only with kProtocol, naming the field and what was
// found: "executionresult.status: expected a number, got string",
// "executionresult[2].startTime: invalid date-time '…'". Bodies quoted in
// messages are sanitized and cut short.
//
// Common rules:
//  * Fields this product does not use are ignored; a missing or null optional
//    field takes the struct's default. Required fields are named per function.
//  * GUID fields (id, taskID, executionID, appID, fileReferenceID,
//    reloadTask.id) must be GUIDs when present and come back lower-cased, so
//    callers can compare them with ==.
//  * Dates go through parseQrsTime: "not set" (1753-01-01) becomes nullopt.
//  * Integers must be JSON integers (or integral numbers like 5.0) in range.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "qrs/types.h"

namespace qlik_reload::qrs {

// POST …/start/synchronous. Accepts {"value":"<guid>"} (what QRS sends) and a
// bare JSON string "<guid>" (what QRS's own API reference shows). Anything
// else, or a value that is not a GUID, fails naming what was received. The
// all-zero GUID is a valid answer ("not started") and is returned as is.
Result<StartReply> decodeStartReply(std::string_view body);

// GET /qrs/executionsession/{id} (full). Required: id. reloadTask and
// executionResult may be missing or null.
Result<ExecutionSession> decodeExecutionSession(std::string_view body);
// GET /qrs/executionsession/full?filter=…: a JSON array of the above.
Result<std::vector<ExecutionSession>> decodeExecutionSessionList(std::string_view body);

// GET /qrs/executionresult/{id}: full or condensed (the condensed form has no
// taskID/executionID/appID; those stay empty). Required: id and status.
Result<ExecutionResult> decodeExecutionResult(std::string_view body);
// GET /qrs/executionresult[/full]?filter=…: a JSON array of the above.
Result<std::vector<ExecutionResult>> decodeExecutionResultList(std::string_view body);

// {"value":"<ticket>"} from …/scriptlog and …/scriptlogfile. The ticket must
// be a non-empty string.
Result<std::string> decodeTicket(std::string_view body);

// GET /qrs/reloadtask?filter=…: array of objects; required id and name,
// `enabled` defaults to true.
Result<std::vector<ReloadTaskInfo>> decodeReloadTaskList(std::string_view body);

// GET /qrs/about: an object; buildVersion and nodeType are optional.
Result<AboutInfo> decodeAbout(std::string_view body);

}  // namespace qlik_reload::qrs
