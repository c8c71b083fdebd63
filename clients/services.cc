#include "clients/services.h"

#include "absl/strings/str_cat.h"
#include "common/channel.h"

namespace suishin::clients {
namespace {

// `status` with `prefix` before its message.
absl::Status Prefixed(absl::string_view prefix, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

}  // namespace

ServiceStubs::ServiceStubs(const std::shared_ptr<grpc::ChannelInterface>& plan,
                           const std::shared_ptr<grpc::ChannelInterface>& kpi,
                           const std::shared_ptr<grpc::ChannelInterface>& notification)
    : plan_(plan ? plan::v1::PlanService::NewStub(plan) : nullptr),
      kpi_(kpi ? kpi::v1::KpiService::NewStub(kpi) : nullptr),
      notification_(notification ? notification::v1::NotificationService::NewStub(notification)
                                 : nullptr) {}

Services ServiceStubs::For(absl::Duration timeout,
                           std::vector<std::pair<std::string, std::string>> metadata) const {
  Services services;
  services.plan = plan_.get();
  services.kpi = kpi_.get();
  services.notification = notification_.get();
  services.timeout = timeout;
  services.metadata = std::move(metadata);
  return services;
}

std::unique_ptr<grpc::ClientContext> NewCallContext(const Services& services,
                                                    absl::Duration extra) {
  std::unique_ptr<grpc::ClientContext> context = NewClientContext(services.timeout + extra);
  for (const auto& [key, value] : services.metadata) context->AddMetadata(key, value);
  return context;
}

absl::StatusOr<std::vector<plan::v1::Region>> AllRegions(const Services& services,
                                                         plan::v1::ListRegionsRequest request) {
  absl::StatusOr<std::vector<plan::v1::Region>> regions =
      ListAll(services, services.plan, std::move(request), kListPageSize,
              &plan::v1::PlanService::StubInterface::ListRegions,
              &plan::v1::ListRegionsResponse::mutable_regions);
  if (!regions.ok()) return Prefixed("plan-service ListRegions: ", regions.status());
  return regions;
}

absl::StatusOr<std::vector<kpi::v1::Kpi>> AllKpis(const Services& services,
                                                  kpi::v1::ListKpisRequest request) {
  absl::StatusOr<std::vector<kpi::v1::Kpi>> kpis = ListAll(
      services, services.kpi, std::move(request), kListPageSize,
      &kpi::v1::KpiService::StubInterface::ListKpis, &kpi::v1::ListKpisResponse::mutable_kpis);
  if (!kpis.ok()) return Prefixed("kpi-service ListKpis: ", kpis.status());
  return kpis;
}

}  // namespace suishin::clients
