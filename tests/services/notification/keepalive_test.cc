// The follower's WatchChanges stream on a connection that goes silent
// without closing (a half-open connection: a peer that vanished, a NAT that
// forgot it): keepalive notices, the stream ends with UNAVAILABLE, and the
// follower resumes from the last change it received on a new connection, so
// the changes sent into the void are evaluated after all.
//
// kpi-service is the stand-in of fake_kpi_service.h behind a TCP relay that
// can silence its connections; notification-service is the in-process
// NotificationServer with its follower, over real gRPC, with keepalive at
// 300 ms + 300 ms instead of 30 s + 10 s.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/limits.h"
#include "common/server.h"
#include "tests/services/notification/fake_kpi_service.h"
#include "tests/services/notification/notification_server.h"
#include "tests/services/notification/suite_fixture.h"
#include "tests/support/temp_dir.h"

namespace suishin::notification {
namespace {

using testing::FakeKpiService;
using testing::NotificationServer;
using testing::NotificationServerOptions;
using testing::Subscriber;
using testing::TestKpi;

// A TCP relay on 127.0.0.1 to a local port, whose open connections can be
// silenced: from then on no byte passes either way, and the sockets stay
// open. Connections made later pass bytes as usual.
class Relay {
 public:
  explicit Relay(int upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(::listen(listen_fd_, 16), 0);
    socklen_t length = sizeof(address);
    EXPECT_EQ(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length), 0);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~Relay() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    std::vector<std::thread> pumps;
    {
      absl::MutexLock lock(&mu_);
      pumps.swap(pumps_);
    }
    for (std::thread& pump : pumps) pump.join();
    ::close(listen_fd_);
  }

  int port() const { return port_; }

  // The connections open now pass nothing more.
  void SilenceOpenConnections() {
    absl::MutexLock lock(&mu_);
    for (auto& silent : silent_) *silent = true;
  }

  int connections() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(silent_.size());
  }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      const int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client < 0) return;
      const int server = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      address.sin_port = htons(static_cast<uint16_t>(upstream_port_));
      if (::connect(server, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
        ::close(client);
        ::close(server);
        continue;
      }
      auto silent = std::make_shared<std::atomic<bool>>(false);
      absl::MutexLock lock(&mu_);
      silent_.push_back(silent);
      pumps_.emplace_back([this, client, server, silent] { Pump(client, server, *silent); });
    }
  }

  // Copies bytes both ways until either side closes, the connection is
  // silenced (then it only waits, sockets open, until the relay stops), or
  // the relay stops. Looks at the flags every 20 ms.
  void Pump(int client, int server, const std::atomic<bool>& silent) {
    char buffer[16384];
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    bool open = true;
    while (!stopping_ && open) {
      if (silent) {
        ::poll(nullptr, 0, 20);
        continue;
      }
      if (::poll(fds, 2, 20) <= 0) continue;
      for (int i = 0; i < 2 && open; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
        if (n <= 0) {
          open = false;
          break;
        }
        for (ssize_t sent = 0; sent < n;) {
          const ssize_t wrote = ::write(fds[1 - i].fd, buffer + sent, n - sent);
          if (wrote <= 0) {
            open = false;
            break;
          }
          sent += wrote;
        }
      }
    }
    ::close(client);
    ::close(server);
  }

  const int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<std::atomic<bool>>> silent_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> pumps_ ABSL_GUARDED_BY(mu_);
};

// True once an ACHIEVED event of `kpi_id` has arrived.
std::function<bool(const std::vector<v1::AlertEvent>&)> AchievedOf(const std::string& kpi_id) {
  return [kpi_id](const std::vector<v1::AlertEvent>& events) {
    for (const v1::AlertEvent& event : events) {
      if (event.alert().kpi_id() == kpi_id && event.kind() == v1::EVENT_KIND_FIRED) return true;
    }
    return false;
  };
}

TEST(KeepaliveTest, AStreamOnAConnectionThatWentSilentIsResumedOnANewOne) {
  const Limits saved = ProcessLimits();
  struct Restore {
    Limits limits;
    ~Restore() { SetProcessLimits(limits); }
  } restore{saved};
  Limits limits = saved;
  limits.keepalive_time = absl::Milliseconds(300);
  limits.keepalive_timeout = absl::Milliseconds(300);
  SetProcessLimits(limits);

  auto dir = suishin::testing::TempDir::Create("notification-keepalive");
  ASSERT_TRUE(dir.ok()) << dir.status();
  FakeKpiService kpi;
  auto host = ServiceHost::Start("127.0.0.1:0", {{kpi::v1::KpiService::service_full_name(), &kpi}});
  ASSERT_TRUE(host.ok()) << host.status();
  auto relay = std::make_unique<Relay>((*host)->port());
  kpi.AddKpi(TestKpi("good-1", "r-1"));

  NotificationServerOptions options;
  options.kpi_address = absl::StrCat("127.0.0.1:", relay->port());
  options.follow.rpc_timeout = absl::Seconds(2);
  options.follow.max_reconnect_delay = absl::Milliseconds(200);
  auto server = NotificationServer::Start(dir->File("notification.db"), std::move(options));
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->NewStub();
  auto subscriber = std::make_unique<Subscriber>(stub.get(), 0);
  ASSERT_TRUE(subscriber->WaitUntil(AchievedOf("good-1")));
  const int before = relay->connections();

  // The connection goes silent; the next change is sent into it.
  relay->SilenceOpenConnections();
  kpi.AddKpi(TestKpi("good-2", "r-2"));
  EXPECT_TRUE(subscriber->WaitUntil(AchievedOf("good-2"), absl::Seconds(10)))
      << "the stream on the silent connection was never given up";
  EXPECT_GT(relay->connections(), before);

  subscriber.reset();
  server->reset();
  (*host)->Shutdown(absl::Milliseconds(100));
  relay.reset();
}

}  // namespace
}  // namespace suishin::notification
