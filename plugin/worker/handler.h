// WorkerHandler: the Thrift face of the worker. It validates every request
// (nothing invalid reaches QRS), picks the site's ReloadOperator, and turns
// domain results into IDL types and typed IDL exceptions. Generated Thrift
// types stop here: nothing below includes them.
//
// Thread-safe: TThreadedServer calls it from one thread per connection.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "ReloadWorker.h"
#include "reload/operator.h"

namespace qlik_reload::worker {

// Limits on request fields; larger values are InvalidRequest.
struct RequestLimits {
  std::size_t maxTaskNameBytes = 512;
  std::size_t maxIdempotencyKeyBytes = 256;
  std::size_t maxLabels = 32;
  std::size_t maxLabelKeyBytes = 64;
  std::size_t maxLabelValueBytes = 256;
  std::int64_t maxTimeoutMs = 30LL * 24 * 3600 * 1000;  // 30 days
  std::int32_t maxWaitMs = 3600 * 1000;                 // one long poll, at most an hour
};

class WorkerHandler final : public rpc::ReloadWorkerIf {
 public:
  // `operators` maps site names to their operators; they must outlive the handler.
  WorkerHandler(std::map<std::string, ReloadOperator*> operators, std::string version,
                RequestLimits limits = {});

  void startReload(rpc::ReloadStatus& out, const rpc::ReloadRequest& request) override;
  void getReload(rpc::ReloadStatus& out, const rpc::ExecutionRef& ref) override;
  void waitReload(rpc::ReloadStatus& out, const rpc::ExecutionRef& ref, int32_t maxWaitMs) override;
  void runReload(rpc::ReloadStatus& out, const rpc::ReloadRequest& request) override;
  void cancelReload(rpc::ReloadStatus& out, const rpc::ExecutionRef& ref) override;
  void ping(rpc::WorkerInfo& out) override;

  // Exposed for tests: the domain form of a request, or InvalidRequest / UnknownSite thrown.
  StartRequest validate(const rpc::ReloadRequest& request, ReloadOperator*& site) const;

 private:
  ReloadOperator& siteFor(const std::string& site) const;
  std::string validExecutionId(const rpc::ExecutionRef& ref) const;

  std::map<std::string, ReloadOperator*> operators_;
  std::string version_;
  RequestLimits limits_;
};

// Field-by-field conversion, exposed for tests.
rpc::ReloadStatus toRpc(const ReloadStatus& status);

// Throws the IDL exception that matches a failed Status (never returns).
[[noreturn]] void throwRpcError(const Status& status, const std::string& executionId);

}  // namespace qlik_reload::worker
