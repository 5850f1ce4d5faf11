#include <catch2/catch.hpp>

#include <Poco/Net/Context.h>

#include "qrs/session_pool.h"

using namespace qlik_reload::qrs;

namespace {

std::unique_ptr<PooledSession> unconnectedSession() {
  static Poco::Net::Context::Ptr context = new Poco::Net::Context(
      Poco::Net::Context::TLS_CLIENT_USE, "", Poco::Net::Context::VERIFY_NONE, 9, false);
  return std::make_unique<PooledSession>("127.0.0.1", 1, context);
}

}  // namespace

TEST_CASE("The pool keeps at most maxIdle sessions and hands back the newest", "[pool]") {
  SessionPool pool(2, std::chrono::milliseconds(60'000));
  CHECK(pool.takeIdle() == nullptr);
  auto first = unconnectedSession();
  auto second = unconnectedSession();
  PooledSession* newest = second.get();
  pool.giveBack(std::move(first));
  pool.giveBack(std::move(second));
  pool.giveBack(unconnectedSession());  // over the limit: closed
  CHECK(pool.idleCount() == 2);
  auto taken = pool.takeIdle();
  CHECK(taken.get() == newest);
  CHECK(pool.idleCount() == 1);
  pool.giveBack(nullptr);
  CHECK(pool.idleCount() == 1);
}

TEST_CASE("Idle sessions past the idle limit are not handed out", "[pool]") {
  SessionPool pool(4, std::chrono::milliseconds(0));
  pool.giveBack(unconnectedSession());
  pool.giveBack(unconnectedSession());
  CHECK(pool.takeIdle() == nullptr);
  CHECK(pool.idleCount() == 0);
}
