#include "endpoint.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include <thrift/TConfiguration.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TProtocolException.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSSLServerSocket.h>
#include <thrift/transport/TSSLSocket.h>
#include <thrift/transport/TSocket.h>
#include <thrift/transport/TTransportException.h>

#include "core/log.h"

namespace qlik_reload::worker {
namespace {

using apache::thrift::TConfiguration;
using apache::thrift::TException;
using apache::thrift::TProcessor;
using apache::thrift::protocol::TProtocol;
using apache::thrift::protocol::TProtocolException;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TServerSocket;
using apache::thrift::transport::TSocket;
using apache::thrift::transport::TSSLException;
using apache::thrift::transport::TSSLServerSocket;
using apache::thrift::transport::TSSLSocketFactory;
using apache::thrift::transport::TTransport;
using apache::thrift::transport::TTransportException;
using apache::thrift::transport::TTransportFactory;
using SteadyClock = std::chrono::steady_clock;

constexpr std::uint32_t kInitialReadBuffer = 1024;  // requests are small; grown as a frame's bytes really arrive
constexpr std::uint32_t kWriteBuffer = 512;
constexpr std::uint32_t kReclaimAbove = 64 * 1024;  // buffers above this are freed after each message

std::string inMs(Duration d) { return std::to_string(d.count()) + " ms"; }

// Shuts a socket down when its deadline passes, which wakes the thread
// blocked on it (its read returns end-of-file or fails). One thread for all
// connections. A deadline is armed and disarmed by the connection's own
// thread, which also closes the socket, always after disarming: the
// watchdog never touches a descriptor that may have been reused.
class DeadlineWatchdog {
 public:
  struct Entry {
    int fd = -1;
    SteadyClock::time_point deadline;
    bool fired = false;  // guarded by the watchdog's mutex
  };

  DeadlineWatchdog() : thread_([this] { run(); }) {}
  ~DeadlineWatchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  DeadlineWatchdog(const DeadlineWatchdog&) = delete;
  DeadlineWatchdog& operator=(const DeadlineWatchdog&) = delete;

  void arm(Entry* entry) {
    bool earliest = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = queue_.emplace(entry->deadline, entry).first;
      earliest = it == queue_.begin();
    }
    if (earliest) wake_.notify_one();
  }

  void disarm(Entry* entry) {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.erase({entry->deadline, entry});
  }

  bool fired(const Entry* entry) {
    std::lock_guard<std::mutex> lock(mutex_);
    return entry->fired;
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      if (queue_.empty()) {
        wake_.wait(lock);
        continue;
      }
      auto first = queue_.begin();
      // A copy: the entry may be disarmed (erased) while this waits.
      const SteadyClock::time_point next = first->first;
      if (next > SteadyClock::now()) {
        wake_.wait_until(lock, next);
        continue;
      }
      Entry* entry = first->second;
      queue_.erase(first);
      entry->fired = true;
      ::shutdown(entry->fd, SHUT_RDWR);
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::set<std::pair<SteadyClock::time_point, Entry*>> queue_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once everything above exists
};

// One armed deadline for the scope of one phase (waiting, reading a request,
// writing an answer).
class Deadline {
 public:
  Deadline(DeadlineWatchdog& watchdog, int fd, Duration timeout) : watchdog_(watchdog) {
    entry_.fd = fd;
    entry_.deadline = SteadyClock::now() + timeout;
    if (fd >= 0) {
      watchdog_.arm(&entry_);
      armed_ = true;
    }
  }
  ~Deadline() {
    if (armed_) watchdog_.disarm(&entry_);
  }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // True once the deadline has passed (whether the watchdog or the socket's
  // own backstop timeout noticed first).
  bool passed() { return (armed_ && watchdog_.fired(&entry_)) || SteadyClock::now() >= entry_.deadline; }

 private:
  DeadlineWatchdog& watchdog_;
  DeadlineWatchdog::Entry entry_;
  bool armed_ = false;
};

// The socket under a server-side transport (TSocket or TSSLSocket), for its
// descriptor and peer address; null for anything else.
std::shared_ptr<TSocket> socketOf(const std::shared_ptr<TTransport>& transport) {
  return std::dynamic_pointer_cast<TSocket>(transport);
}

std::string describePeer(const std::shared_ptr<TSocket>& socket) {
  if (!socket) return "a client";
  try {
    // Numeric only: no name lookup on the connection's path.
    std::string address = socket->getPeerAddress();
    int port = socket->getPeerPort();
    if (address.empty()) return "a client";
    if (address.find(':') != std::string::npos) address = "[" + address + "]";
    return address + ":" + std::to_string(port);
  } catch (const TException&) {
    return "a client";
  }
}

std::shared_ptr<TConfiguration> transportConfiguration(const EndpointLimits& limits) {
  // Thrift's default recursion limit (64) stays.
  return std::make_shared<TConfiguration>(limits.maxFrameBytes, limits.maxFrameBytes);
}

// The reading side of a connection: TFramedTransport whose readFrame()
// enforces the frame limit, the idle and read deadlines, and that a request
// ends inside its frame. Thrift's own readFrame allocates the announced size
// at once; this one grows the buffer only as bytes arrive.
class GuardedFrameReader final : public TFramedTransport {
 public:
  GuardedFrameReader(std::shared_ptr<TTransport> transport, const EndpointLimits& limits,
                     std::shared_ptr<DeadlineWatchdog> watchdog)
      : TFramedTransport(transport, kWriteBuffer, kReclaimAbove, transportConfiguration(limits)),
        socket_(socketOf(transport)),
        tls_(std::dynamic_pointer_cast<apache::thrift::transport::TSSLSocket>(transport) != nullptr),
        limits_(limits),
        watchdog_(std::move(watchdog)),
        peer_(describePeer(socket_)) {
    setMaxFrameSize(static_cast<std::uint32_t>(limits_.maxFrameBytes));
  }

  const std::string& peer() const { return peer_; }

  uint32_t readEnd() override {
    messageOpen_ = false;
    return TFramedTransport::readEnd();
  }

 protected:
  bool readFrame() override {
    if (messageOpen_) {
      logWarn("closed connection from " + peer_ + ": its request continues past the end of its frame (a length " +
              "field larger than the data sent)");
      throw TTransportException(TTransportException::CORRUPTED_DATA, "request continues past its frame");
    }
    uint8_t header[4];
    uint32_t have = 0;
    {
      Deadline idle(*watchdog_, fd(), limits_.idleTimeout);
      have = readSome(header, sizeof(header), idle, Phase::kIdle);
    }
    if (have == 0) return false;  // closed between requests: the normal end

    Deadline request(*watchdog_, fd(), limits_.readTimeout);
    while (have < sizeof(header)) {
      uint32_t got = readSome(header + have, static_cast<uint32_t>(sizeof(header)) - have, request, Phase::kRequest);
      if (got == 0) throw closedInside("a frame header");
      have += got;
    }
    std::int32_t size = 0;
    std::memcpy(&size, header, sizeof(size));
    size = static_cast<std::int32_t>(ntohl(static_cast<std::uint32_t>(size)));
    if (size < 0 || size > limits_.maxFrameBytes) {
      std::string hint;
      if (header[0] == 0x16 && header[1] == 0x03) hint = " (a TLS handshake: this port is plain TCP)";
      if (std::memcmp(header, "GET ", 4) == 0 || std::memcmp(header, "POST", 4) == 0) hint = " (an HTTP request)";
      const std::string announced =
          size < 0 ? "a negative frame size"
                   : "a frame of " + std::to_string(size) + " bytes, more than listen.max_frame_bytes (" +
                         std::to_string(limits_.maxFrameBytes) + ")";
      logWarn("closed connection from " + peer_ + ": it announced " + announced + hint +
              "; clients must speak TFramedTransport + TBinaryProtocol");
      throw TTransportException(TTransportException::CORRUPTED_DATA, "frame size out of bounds");
    }

    const auto frame = static_cast<std::uint32_t>(size);
    if (rBufSize_ < std::min(frame, kInitialReadBuffer)) {
      rBuf_.reset(new uint8_t[kInitialReadBuffer]);
      rBufSize_ = kInitialReadBuffer;
    }
    std::uint32_t received = 0;
    while (received < frame) {
      if (received == rBufSize_) {
        std::uint32_t grown = std::min(frame, std::max(rBufSize_ * 2, kInitialReadBuffer));
        boost::scoped_array<uint8_t> bigger(new uint8_t[grown]);
        std::memcpy(bigger.get(), rBuf_.get(), received);
        rBuf_.swap(bigger);
        rBufSize_ = grown;
      }
      std::uint32_t room = std::min(frame, rBufSize_) - received;
      std::uint32_t got = readSome(rBuf_.get() + received, room, request, Phase::kRequest);
      if (got == 0) throw closedInside("a request");
      received += got;
    }
    setReadBuffer(rBuf_.get(), frame);
    // The protocol's container checks measure against the frame, not
    // against everything this connection has ever read.
    resetConsumedMessageSize();
    resetConsumedMessageSize(size);
    messageOpen_ = true;
    framesRead_ = true;
    return true;
  }

 private:
  enum class Phase { kIdle, kRequest };

  int fd() const { return socket_ ? static_cast<int>(socket_->getSocketFD()) : -1; }

  // One read from the socket; translates a passed deadline into a logged
  // TIMED_OUT and a failed TLS handshake into a logged refusal.
  uint32_t readSome(uint8_t* buffer, uint32_t length, Deadline& deadline, Phase phase) {
    uint32_t got = 0;
    try {
      got = transport_->read(buffer, length);
    } catch (const TTransportException& e) {
      if (e.getType() == TTransportException::INTERRUPTED) throw;  // the server is stopping
      if (deadline.passed() || e.getType() == TTransportException::TIMED_OUT) throw timedOut(phase);
      if (tls_ && !framesRead_ && dynamic_cast<const TSSLException*>(&e) != nullptr) {
        // A peer that hangs up during the handshake (a TCP health check) was
        // not refused; anything else was.
        if (std::strstr(e.what(), "unexpected eof") != nullptr) {
          logDebug("TLS connection from " + peer_ + " closed by the client during the handshake");
        } else {
          logWarn("refused TLS connection from " + peer_ + ": " + e.what());
        }
      }
      throw;
    }
    if (got > length) got = 0;  // a failed TLS read reported as a byte count
    if (got == 0 && deadline.passed()) throw timedOut(phase);
    return got;
  }

  TTransportException timedOut(Phase phase) const {
    if (phase == Phase::kIdle) {
      logInfo("closed connection from " + peer_ + ": no request for " + inMs(limits_.idleTimeout) +
              " (listen.idle_timeout_ms)");
    } else {
      logWarn("closed connection from " + peer_ + ": its request was not complete " + inMs(limits_.readTimeout) +
              " after its first byte (listen.read_timeout_ms): a stalled or too slow client");
    }
    return TTransportException(TTransportException::TIMED_OUT, "deadline passed");
  }

  TTransportException closedInside(const char* what) const {
    logInfo("connection from " + peer_ + " closed inside " + what);
    return TTransportException(TTransportException::END_OF_FILE, std::string("closed inside ") + what);
  }

  std::shared_ptr<TSocket> socket_;
  bool tls_;
  EndpointLimits limits_;
  std::shared_ptr<DeadlineWatchdog> watchdog_;
  std::string peer_;
  bool messageOpen_ = false;
  bool framesRead_ = false;
};

// The writing side: TFramedTransport whose flush (sending an answer) must
// finish within read_timeout_ms, so a client that stops reading cannot hold
// its thread in a blocked write.
class DeadlineFrameWriter final : public TFramedTransport {
 public:
  DeadlineFrameWriter(std::shared_ptr<TTransport> transport, const EndpointLimits& limits,
                      std::shared_ptr<DeadlineWatchdog> watchdog)
      : TFramedTransport(transport, kWriteBuffer, kReclaimAbove, transportConfiguration(limits)),
        socket_(socketOf(transport)),
        limits_(limits),
        watchdog_(std::move(watchdog)) {}

  void flush() override {
    Deadline deadline(*watchdog_, socket_ ? static_cast<int>(socket_->getSocketFD()) : -1, limits_.readTimeout);
    try {
      TFramedTransport::flush();
    } catch (const TTransportException& e) {
      if (e.getType() != TTransportException::INTERRUPTED &&
          (deadline.passed() || e.getType() == TTransportException::TIMED_OUT)) {
        logWarn("closed connection from " + describePeer(socket_) + ": it did not take its answer within " +
                inMs(limits_.readTimeout) + " (listen.read_timeout_ms)");
        throw TTransportException(TTransportException::TIMED_OUT, "deadline passed");
      }
      throw;
    }
  }

 private:
  std::shared_ptr<TSocket> socket_;
  EndpointLimits limits_;
  std::shared_ptr<DeadlineWatchdog> watchdog_;
};

class GuardedReaderFactory final : public TTransportFactory {
 public:
  GuardedReaderFactory(EndpointLimits limits, std::shared_ptr<DeadlineWatchdog> watchdog)
      : limits_(limits), watchdog_(std::move(watchdog)) {}
  std::shared_ptr<TTransport> getTransport(std::shared_ptr<TTransport> transport) override {
    return std::make_shared<GuardedFrameReader>(std::move(transport), limits_, watchdog_);
  }

 private:
  EndpointLimits limits_;
  std::shared_ptr<DeadlineWatchdog> watchdog_;
};

class DeadlineWriterFactory final : public TTransportFactory {
 public:
  DeadlineWriterFactory(EndpointLimits limits, std::shared_ptr<DeadlineWatchdog> watchdog)
      : limits_(limits), watchdog_(std::move(watchdog)) {}
  std::shared_ptr<TTransport> getTransport(std::shared_ptr<TTransport> transport) override {
    return std::make_shared<DeadlineFrameWriter>(std::move(transport), limits_, watchdog_);
  }

 private:
  EndpointLimits limits_;
  std::shared_ptr<DeadlineWatchdog> watchdog_;
};

// accept() failing (EMFILE, ENFILE, ENOBUFS, ...) makes Thrift's server loop
// give up for good; here it is logged (at most every 10 s) and retried after
// a short pause, while the pending connection waits in the backlog.
template <class Base>
class PersistentServerSocket final : public Base {
 public:
  using Base::Base;

 protected:
  std::shared_ptr<TTransport> acceptImpl() override {
    for (;;) {
      try {
        return Base::acceptImpl();
      } catch (const TTransportException& e) {
        if (e.getType() != TTransportException::UNKNOWN) throw;
        auto now = SteadyClock::now();
        if (now - lastWarning_ >= std::chrono::seconds(10)) {
          lastWarning_ = now;
          logWarn(std::string("cannot accept connections on the Thrift port (") + e.what() +
                  "); retrying. Too many open files? Raise the limit (LimitNOFILE=) or lower listen.max_connections");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }

 private:
  SteadyClock::time_point lastWarning_{};
};

// TLS 1.2 or newer, server side (Thrift's TLSv1_2 would mean exactly 1.2,
// refusing TLS 1.3 clients). The key's passphrase is answered from memory
// through OpenSSL's callback (never a terminal prompt) and wiped once the
// key is loaded.
class WorkerSslFactory final : public TSSLSocketFactory {
 public:
  explicit WorkerSslFactory(std::string passphrase)
      : TSSLSocketFactory(apache::thrift::transport::SSLProtocol::SSLTLS), passphrase_(std::move(passphrase)) {
    overrideDefaultPasswordCallback();
    if (SSL_CTX_set_min_proto_version(ctx_->get(), TLS1_2_VERSION) != 1) {
      throw TSSLException("cannot require TLS 1.2 or newer");
    }
  }
  ~WorkerSslFactory() override { forgetPassphrase(); }
  WorkerSslFactory(const WorkerSslFactory&) = delete;
  WorkerSslFactory& operator=(const WorkerSslFactory&) = delete;

  void forgetPassphrase() {
    if (!passphrase_.empty()) OPENSSL_cleanse(&passphrase_[0], passphrase_.size());
    passphrase_.clear();
  }

  // Advertises the accepted CAs to clients, and names the session context
  // OpenSSL needs to resume sessions when client certificates are verified.
  Status finishServerSetup(const std::string& caFile) {
    SSL_CTX* ctx = ctx_->get();
    static const unsigned char kContext[] = "qlik-reload-worker";
    if (SSL_CTX_set_session_id_context(ctx, kContext, sizeof(kContext) - 1) != 1) {
      return Status::internal("cannot set the TLS session context");
    }
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(caFile.c_str()); names != nullptr) {
      SSL_CTX_set_client_CA_list(ctx, names);
    }
    return Status::ok();
  }

 protected:
  void getPassword(std::string& password, int size) override {
    if (passphrase_.size() <= static_cast<std::size_t>(std::max(size, 0))) password = passphrase_;
  }

 private:
  std::string passphrase_;
};

Result<std::shared_ptr<TServerSocket>> makeTlsSocket(const ListenConfig& listen) {
  const ListenTlsConfig& tls = *listen.tls;
  std::shared_ptr<WorkerSslFactory> factory;
  // Thrift reports these as exceptions; they stop here. Their messages name
  // files and OpenSSL's reasons, never a key or a passphrase.
  const char* key = "listen.tls";
  try {
    factory = std::make_shared<WorkerSslFactory>(tls.keyPassphrase);
    factory->server(true);
    key = "listen.tls.cert_file";
    factory->loadCertificate(tls.certFile.c_str());
    key = "listen.tls.key_file";
    factory->loadPrivateKey(tls.keyFile.c_str());
    factory->forgetPassphrase();
    key = "listen.tls.ca_file";
    factory->loadTrustedCertificates(tls.caFile.c_str());
    factory->authenticate(true);  // a client certificate is required and verified
  } catch (const TException& e) {
    if (factory) factory->forgetPassphrase();
    return Status::configuration(std::string(key) + ": cannot load: " + e.what());
  }
  if (Status s = factory->finishServerSetup(tls.caFile); !s.isOk()) return s;
  return std::shared_ptr<TServerSocket>(
      std::make_shared<PersistentServerSocket<TSSLServerSocket>>(listen.host, listen.port, factory));
}

}  // namespace

EndpointLimits EndpointLimits::fromConfig(const ListenConfig& listen) {
  EndpointLimits limits;
  limits.idleTimeout = listen.idleTimeout;
  limits.readTimeout = listen.readTimeout;
  limits.maxFrameBytes = listen.maxFrameBytes;
  limits.maxStringBytes = listen.maxStringBytes;
  limits.maxContainerItems = listen.maxContainerItems;
  return limits;
}

Result<ThriftEndpoint> makeThriftEndpoint(const ListenConfig& listen) {
  ThriftEndpoint endpoint;
  endpoint.limits = EndpointLimits::fromConfig(listen);
  if (listen.tls) {
    Result<std::shared_ptr<TServerSocket>> socket = makeTlsSocket(listen);
    if (!socket.isOk()) return socket.status();
    endpoint.socket = std::move(socket).value();
  } else {
    endpoint.socket = std::make_shared<PersistentServerSocket<TServerSocket>>(listen.host, listen.port);
  }
  // The watchdog enforces the deadlines; the sockets' own timeouts are only
  // a backstop in case it is late, set so that they never fire first.
  const auto backstop = static_cast<int>(
      std::min<Duration::rep>((endpoint.limits.idleTimeout + endpoint.limits.readTimeout).count(), 2'000'000'000));
  endpoint.socket->setRecvTimeout(backstop);
  endpoint.socket->setSendTimeout(backstop);

  auto watchdog = std::make_shared<DeadlineWatchdog>();
  endpoint.inputTransports = std::make_shared<GuardedReaderFactory>(endpoint.limits, watchdog);
  endpoint.outputTransports = std::make_shared<DeadlineWriterFactory>(endpoint.limits, watchdog);
  endpoint.protocols = std::make_shared<apache::thrift::protocol::TBinaryProtocolFactory>(
      endpoint.limits.maxStringBytes, endpoint.limits.maxContainerItems, /*strict_read=*/true,
      /*strict_write=*/true);
  return endpoint;
}

namespace {

class GuardedProcessor final : public TProcessor {
 public:
  GuardedProcessor(std::shared_ptr<TProcessor> inner, const EndpointLimits& limits)
      : inner_(std::move(inner)), limits_(limits) {}

  using TProcessor::process;
  bool process(std::shared_ptr<TProtocol> in, std::shared_ptr<TProtocol> out, void* context) override {
    try {
      return inner_->process(in, out, context);
    } catch (const TProtocolException& e) {
      std::string why = e.what();
      if (e.getType() == TProtocolException::SIZE_LIMIT) {
        why = "a string longer than listen.max_string_bytes (" + std::to_string(limits_.maxStringBytes) +
              ") or a container with more than listen.max_container_items (" +
              std::to_string(limits_.maxContainerItems) + ")";
      }
      logWarn("closed connection from " + peerOf(in) + ": malformed request: " + why);
      return false;
    } catch (const TTransportException& e) {
      // Thrift's own check that a string or container fits in what is left
      // of the message (here: of the frame).
      if (std::strstr(e.what(), "MaxMessageSize") == nullptr) throw;
      logWarn("closed connection from " + peerOf(in) + ": malformed request: a string or container announcing " +
              "more data than its frame holds");
      return false;
    }
  }

 private:
  std::shared_ptr<TProcessor> inner_;
  EndpointLimits limits_;
};

}  // namespace

std::shared_ptr<TProcessor> guardProcessor(std::shared_ptr<TProcessor> processor, const EndpointLimits& limits) {
  return std::make_shared<GuardedProcessor>(std::move(processor), limits);
}

std::string peerOf(const std::shared_ptr<TProtocol>& input) {
  if (!input) return "a client";
  if (auto* reader = dynamic_cast<GuardedFrameReader*>(input->getTransport().get())) return reader->peer();
  return "a client";
}

}  // namespace qlik_reload::worker
