// Region scopes (DESIGN.md §7): where a call acts, checked against where its
// caller may act.
//
// An RPC that changes something in a region declares, beside its
// definition, the fields of its request that say where
// (suishin.common.v1.Access: region_fields, project_fields,
// initiative_fields). A caller's token carries its region scopes ("regions":
// ["kamikawa"]); a scope covers its region and everything below it. The
// service checks each named region against them with AuthorizeScope before
// the call changes anything, knowing the region tree through its
// ScopeResolver (plan-service from its store, kpi-service by asking
// plan-service).
//
// Example (a handler, before its write):
//   RETURN_IF_ERROR(AuthorizeScope(*context, *request, resolver));
#ifndef SUISHIN_COMMON_SCOPE_H_
#define SUISHIN_COMMON_SCOPE_H_

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace suishin {

// Where things lie, as the service that checks knows it.
class ScopeResolver {
 public:
  virtual ~ScopeResolver() = default;

  // `region_id` and every region above it, nearest first, ending at the
  // root ("kamikawa", "dohoku", "hokkaido"); empty when the region is not
  // known (the call's own checks then refuse it).
  virtual absl::StatusOr<std::vector<std::string>> RegionAndAbove(absl::string_view region_id) = 0;
  // The cooperation area of a project, and of an initiative's project;
  // empty when not known. Only plan-service declares such fields: the
  // default is INTERNAL.
  virtual absl::StatusOr<std::string> AreaOfProject(absl::string_view project_id);
  virtual absl::StatusOr<std::string> AreaOfInitiative(absl::string_view initiative_id);
};

// OK when the caller of `context` may act everywhere `request` names, as
// the method's access option declares; PERMISSION_DENIED naming the
// caller's role, the field, its region and the caller's scopes otherwise.
// OK without a check when the server authenticates nobody (plaintext on
// loopback) or the method declares no fields.
absl::Status AuthorizeScope(const grpc::ServerContextBase& context,
                            const google::protobuf::Message& request, ScopeResolver& resolver);

// The same for a caller with `roles` and `regions` calling the method at
// `path` (what AuthorizeScope reads from the call's AuthContext).
absl::Status AuthorizeScopeOf(absl::string_view path, const std::vector<std::string>& roles,
                              const std::vector<std::string>& regions,
                              const google::protobuf::Message& request, ScopeResolver& resolver);

}  // namespace suishin

#endif  // SUISHIN_COMMON_SCOPE_H_
