// The one human sentence in every ReloadStatus.message: what happened and,
// when the reload did not succeed, why.
#pragma once

#include <string>
#include <vector>

#include "reload/status.h"

namespace qlik_reload {

// "Reload failed in Qlik (FinishedFail) after 3.2s, attempt 2 of 2: <detail>."
// `lastDetail` is Qlik's most relevant detail message of the latest attempt
// (an error detail when there is one), empty when none.
std::string describeStatus(const ReloadStatus& status, const std::string& lastDetail);

// The last `maxLines` lines of a script log (CRLF or LF), without trailing
// blank lines, joined with "\n".
std::string logTail(const std::string& log, std::size_t maxLines);

// The error Qlik's script log names: the line after "The following error
// occurred:", else the last line that starts with "Error"; timestamps cut.
// Empty when the log names none.
std::string scriptLogError(const std::string& log);

// "dag=sales run=r1" from labels, for log lines; keys sorted.
std::string formatLabels(const std::vector<std::pair<std::string, std::string>>& labels);

}  // namespace qlik_reload
