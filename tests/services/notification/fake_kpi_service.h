// FakeKpiService: kpi-service as far as notification-service's follower
// uses it, for the failures the real one cannot be made to show on demand
// (an error for one KPI only, a reply too large to send, a deadline only one
// KPI misses, the whole service down). Serve it with a ServiceHost on
// 127.0.0.1:0. Thread-safe.
#ifndef SUISHIN_TESTS_SERVICES_NOTIFICATION_FAKE_KPI_SERVICE_H_
#define SUISHIN_TESTS_SERVICES_NOTIFICATION_FAKE_KPI_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "suishin/kpi/v1/kpi.grpc.pb.h"
#include "tests/services/notification/notification_server.h"

namespace suishin::notification::testing {

// ListKpis, GetKpi, GetProgress (every KPI has reached its target:
// AchievedProgress) and WatchChanges (from a change log of its own), with
// failures set per KPI or for everything.
class FakeKpiService final : public kpi::v1::KpiService::Service {
 public:
  // How GetProgress of a KPI fails.
  struct Poison {
    grpc::Status status;     // answered as is, unless OK
    bool too_large = false;  // a reply larger than any message may be
    absl::Duration delay;    // answered this late (or when cancelled)
  };

  // Adds a KPI and its KPI_CREATED change.
  void AddKpi(const kpi::v1::Kpi& kpi) {
    absl::MutexLock lock(&mu_);
    kpis_[kpi.id()] = kpi;
    AppendLocked(kpi::v1::CHANGE_KIND_KPI_CREATED, kpi.id(), kpi.area_id());
  }
  void RecordActual(const std::string& kpi_id, const std::string& region_id) {
    absl::MutexLock lock(&mu_);
    AppendLocked(kpi::v1::CHANGE_KIND_ACTUAL_RECORDED, kpi_id, region_id);
  }
  void SetPoison(const std::string& kpi_id, std::optional<Poison> poison) {
    absl::MutexLock lock(&mu_);
    if (poison) {
      poisons_[kpi_id] = *poison;
    } else {
      poisons_.erase(kpi_id);
    }
  }
  void SetDown(bool down) {
    absl::MutexLock lock(&mu_);
    down_ = down;
  }
  // The last change's sequence.
  int64_t last_sequence() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int64_t>(changes_.size());
  }
  // Waits until at least `n` calls were refused while down.
  bool WaitForRefusals(int n, absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return refused_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

  grpc::Status ListKpis(grpc::ServerContext*, const kpi::v1::ListKpisRequest*,
                        kpi::v1::ListKpisResponse* response) override {
    absl::MutexLock lock(&mu_);
    if (down_) return RefuseLocked();
    for (const auto& [id, kpi] : kpis_) *response->add_kpis() = kpi;
    return grpc::Status::OK;
  }

  grpc::Status GetKpi(grpc::ServerContext*, const kpi::v1::GetKpiRequest* request,
                      kpi::v1::GetKpiResponse* response) override {
    absl::MutexLock lock(&mu_);
    if (down_) return RefuseLocked();
    auto kpi = kpis_.find(request->id());
    if (kpi == kpis_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "id: no such KPI");
    *response->mutable_kpi() = kpi->second;
    return grpc::Status::OK;
  }

  grpc::Status GetProgress(grpc::ServerContext* context, const kpi::v1::GetProgressRequest* request,
                           kpi::v1::GetProgressResponse* response) override {
    absl::MutexLock lock(&mu_);
    if (down_) return RefuseLocked();
    auto kpi = kpis_.find(request->kpi_id());
    if (kpi == kpis_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "kpi_id: no such KPI");
    *response = AchievedProgress(kpi->second, request->region_id());
    auto found = poisons_.find(request->kpi_id());
    if (found == poisons_.end()) return grpc::Status::OK;
    // A copy: waiting below lets go of mu_, and the test may change or drop
    // the poison meanwhile.
    const auto poison = found->second;
    if (poison.delay > absl::ZeroDuration()) {
      // Late, but no later than the caller cares for.
      const absl::Time until = absl::Now() + poison.delay;
      bool never = false;
      while (absl::Now() < until && !context->IsCancelled()) {
        mu_.AwaitWithTimeout(absl::Condition(&never), absl::Milliseconds(10));
      }
    }
    if (poison.too_large) {
      // Larger than --max_message_bytes: it cannot be sent.
      response->mutable_points(0)->set_undefined_reason(std::string(5 * 1024 * 1024, 'x'));
    }
    return poison.status;
  }

  grpc::Status WatchChanges(grpc::ServerContext* context,
                            const kpi::v1::WatchChangesRequest* request,
                            grpc::ServerWriter<kpi::v1::WatchChangesResponse>* writer) override {
    int64_t next = std::max<int64_t>(request->from_sequence(), 1);
    while (!context->IsCancelled()) {
      std::vector<kpi::v1::Change> batch;
      {
        absl::MutexLock lock(&mu_);
        if (down_) return RefuseLocked();
        auto more = [this, next]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return static_cast<int64_t>(changes_.size()) >= next || down_;
        };
        // Woken by a change; looks at the cancellation now and then.
        mu_.AwaitWithTimeout(absl::Condition(&more), absl::Milliseconds(50));
        for (; next <= static_cast<int64_t>(changes_.size()); ++next) {
          batch.push_back(changes_[next - 1]);
        }
      }
      for (kpi::v1::Change& change : batch) {
        kpi::v1::WatchChangesResponse response;
        *response.mutable_change() = std::move(change);
        if (!writer->Write(response)) return grpc::Status::OK;
      }
    }
    return grpc::Status::OK;
  }

 private:
  void AppendLocked(kpi::v1::ChangeKind kind, const std::string& kpi_id,
                    const std::string& region_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    kpi::v1::Change& change = changes_.emplace_back();
    change.set_sequence(static_cast<int64_t>(changes_.size()));
    change.set_kind(kind);
    change.set_kpi_id(kpi_id);
    change.set_region_id(region_id);
    change.mutable_fiscal_year()->set_year(2018);
  }

  grpc::Status RefuseLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ++refused_;
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "kpi-service is down");
  }

  mutable absl::Mutex mu_;
  std::map<std::string, kpi::v1::Kpi> kpis_ ABSL_GUARDED_BY(mu_);
  std::vector<kpi::v1::Change> changes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Poison> poisons_ ABSL_GUARDED_BY(mu_);
  bool down_ ABSL_GUARDED_BY(mu_) = false;
  int refused_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace suishin::notification::testing

#endif  // SUISHIN_TESTS_SERVICES_NOTIFICATION_FAKE_KPI_SERVICE_H_
