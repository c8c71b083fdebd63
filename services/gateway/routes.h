// The gateway's routing table: every RPC of the suite's services that
// declares an HTTP route (suishin.common.v1.http, proto/suishin/common/v1/
// http.proto), matched by HTTP method and path, and the request message an
// HTTP request stands for.
//
// The table is made from the services' descriptors, so a route exists in one
// place: beside its RPC. Nothing here calls a service.
//
// Example:
//   RouteTable table = *RouteTable::ForServices({KpiServiceDescriptor()});
//   const RouteMatch match = table.Match("GET", "/v1/kpis/k1/progress");
//   absl::StatusOr<std::unique_ptr<google::protobuf::Message>> request =
//       BuildRequest(match, {{"region_id", "soya"}}, /*body=*/"");
#ifndef SUISHIN_SERVICES_GATEWAY_ROUTES_H_
#define SUISHIN_SERVICES_GATEWAY_ROUTES_H_

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "suishin/common/v1/http.pb.h"

namespace suishin::gateway {

// One segment of a path template: a literal ("kpis") or a variable bound to
// a field of the request ("kpi_id", "actual.kpi_id").
struct Segment {
  std::string literal;
  std::string field;  // non-empty for a variable
};

struct Route {
  const google::protobuf::MethodDescriptor* method = nullptr;
  // "GET", "POST", "PATCH" or "DELETE".
  std::string http_method;
  // As declared, "/v1/kpis/{kpi_id}/progress".
  std::string path_template;
  std::vector<Segment> segments;
  // The last segment's ":verb", without the colon; empty when none.
  std::string verb;
  common::v1::HttpRoute rule;

  // "/suishin.kpi.v1.KpiService/GetProgress": the gRPC method path.
  std::string grpc_path;
  bool server_streaming() const { return method->server_streaming(); }
  bool client_streaming() const { return method->client_streaming(); }
};

struct RouteMatch {
  const Route* route = nullptr;  // null: no route has this path
  // Path variables: field path and its (already percent-decoded) value.
  std::vector<std::pair<std::string, std::string>> bindings;
  // True when a route has the path but not the HTTP method (405, not 404).
  bool method_not_allowed = false;
};

class RouteTable {
 public:
  // The routes the RPCs of `services` declare. INTERNAL naming the RPC when a
  // declaration is malformed (a variable naming no scalar field of the
  // request, a body naming no message field, two routes with the same method
  // and path).
  static absl::StatusOr<RouteTable> ForServices(
      const std::vector<const google::protobuf::ServiceDescriptor*>& services);

  RouteMatch Match(absl::string_view http_method, absl::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }
  // The RPCs of the services without a route (a test wants none).
  const std::vector<std::string>& unrouted() const { return unrouted_; }

 private:
  std::vector<Route> routes_;
  std::vector<std::string> unrouted_;
};

// The request message for `match`: the JSON body where the route takes one
// (protobuf JSON mapping, unknown fields refused), then the query parameters
// (field path = value), then the path variables. INVALID_ARGUMENT naming the
// parameter or field and the value for anything that does not fit: an
// unknown field, a value of the wrong type, a path variable that disagrees
// with the body, a body where the route takes none.
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> BuildRequest(
    const RouteMatch& match, const std::vector<std::pair<std::string, std::string>>& query,
    absl::string_view body);

// Sets the field at `path` ("as_of", "filter.region_id") of `message` from
// its text in a URL. Scalars by their type; enums by name or number; a
// repeated field gets one more element; google.protobuf well-known types by
// their JSON text (a Timestamp "2020-03-31T00:00:00Z"); another message by
// its first field (FiscalYear: "2019" sets its year).
absl::Status SetFieldFromText(google::protobuf::Message* message, absl::string_view path,
                              absl::string_view text);

// The value of a scalar field at `path` as text ("" when unset), for event ids.
std::string FieldText(const google::protobuf::Message& message, absl::string_view path);

}  // namespace suishin::gateway

#endif  // SUISHIN_SERVICES_GATEWAY_ROUTES_H_
