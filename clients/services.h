// Typed clients of the three services: the stubs a front end calls them
// through, one call with a deadline and the caller's metadata, and a List
// method followed page after page. Whatever calls the services on someone's
// behalf (suishinctl, the report, the dataset exchange, a gateway) goes
// through here, so that every call has a deadline and carries the same
// metadata.
//
// Contract: no terminal, file or process state; a Services value only points
// at stubs it does not own, made once at start-up from a grpc::Channel
// (Services::For or the caller's own). Calls are synchronous, each with a
// fresh deadline of Services::timeout, carrying Services::metadata (a
// gateway passes its caller's `authorization` there). Errors come back as
// absl::Status, converted once by common/grpc_status.h. Safe to use from
// several threads when the stubs are (gRPC's are).
//
// Example:
//   clients::Services services;
//   services.plan = plan_stub.get();
//   services.metadata = {{"authorization", "Bearer eyJ…"}};
//   ASSIGN_OR_RETURN(std::vector<plan::v1::Region> regions, clients::AllRegions(services));
#ifndef SUISHIN_CLIENTS_SERVICES_H_
#define SUISHIN_CLIENTS_SERVICES_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "suishin/kpi/v1/kpi.grpc.pb.h"
#include "suishin/notification/v1/notification.grpc.pb.h"
#include "suishin/plan/v1/plan.grpc.pb.h"

namespace suishin::clients {

// The stubs of the three services and how every call through them is made.
// The stubs are not owned; a service not needed may stay null.
struct Services {
  plan::v1::PlanService::StubInterface* plan = nullptr;
  kpi::v1::KpiService::StubInterface* kpi = nullptr;
  notification::v1::NotificationService::StubInterface* notification = nullptr;
  // Deadline of every call, from its start.
  absl::Duration timeout = absl::Seconds(5);
  // Metadata sent with every call, e.g. {"authorization", "Bearer …"}: a
  // gateway passes its caller's through. Keys are lower case.
  std::vector<std::pair<std::string, std::string>> metadata;
};

// The stubs a Services points at, made from channels and owned here. Make it
// once and keep it as long as the Services it gives.
class ServiceStubs {
 public:
  // A null channel leaves that service's stub null.
  ServiceStubs(const std::shared_ptr<grpc::ChannelInterface>& plan,
               const std::shared_ptr<grpc::ChannelInterface>& kpi,
               const std::shared_ptr<grpc::ChannelInterface>& notification);
  ServiceStubs(const ServiceStubs&) = delete;
  ServiceStubs& operator=(const ServiceStubs&) = delete;

  // Services over these stubs, with `timeout` and `metadata`.
  Services For(absl::Duration timeout,
               std::vector<std::pair<std::string, std::string>> metadata = {}) const;

 private:
  std::unique_ptr<plan::v1::PlanService::StubInterface> plan_;
  std::unique_ptr<kpi::v1::KpiService::StubInterface> kpi_;
  std::unique_ptr<notification::v1::NotificationService::StubInterface> notification_;
};

// A client context for one call: a deadline of services.timeout plus
// `extra` from now, and services.metadata.
std::unique_ptr<grpc::ClientContext> NewCallContext(const Services& services,
                                                    absl::Duration extra = absl::ZeroDuration());

// Makes one call (see NewCallContext) and returns its status as
// absl::Status. `call` takes the grpc::ClientContext* and returns the call's
// grpc::Status.
template <typename Call>
absl::Status Invoke(const Services& services, Call call) {
  std::unique_ptr<grpc::ClientContext> context = NewCallContext(services);
  return FromGrpcStatus(call(context.get()));
}

// Items per page of a paged list: the most a service sends in one.
inline constexpr int kListPageSize = 1000;

// Calls a List method of `stub` page after page until the last one and
// returns every item; each page is a call of its own (Invoke). The request's
// page_size is set to `page_size`. INTERNAL when the service returns the
// same page token twice (it would never end).
template <typename Item, typename Stub, typename Request, typename Response>
absl::StatusOr<std::vector<Item>> ListAll(
    const Services& services, Stub* stub, Request request, int page_size,
    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
    google::protobuf::RepeatedPtrField<Item>* (Response::*items)()) {
  std::vector<Item> all;
  request.set_page_size(page_size);
  do {
    Response response;
    RETURN_IF_ERROR(Invoke(services, [&](grpc::ClientContext* context) {
      return (stub->*method)(context, request, &response);
    }));
    for (Item& item : *(response.*items)()) all.push_back(std::move(item));
    if (!response.next_page_token().empty() && response.next_page_token() == request.page_token()) {
      return absl::InternalError("the service returned the same page token twice");
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return all;
}

// Every region (ListRegions with `request`'s filters), in tree order. An
// error's message starts with "plan-service ListRegions: ".
absl::StatusOr<std::vector<plan::v1::Region>> AllRegions(const Services& services,
                                                         plan::v1::ListRegionsRequest request = {});
// Every KPI (ListKpis with `request`'s filters). An error's message starts
// with "kpi-service ListKpis: ".
absl::StatusOr<std::vector<kpi::v1::Kpi>> AllKpis(const Services& services,
                                                  kpi::v1::ListKpisRequest request = {});

}  // namespace suishin::clients

#endif  // SUISHIN_CLIENTS_SERVICES_H_
