#include "common/scope.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/auth.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"

namespace suishin {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Every value of the string field at `path` (split at the dots) from part
// `at` on, each distinct value once with the field that first named it
// ("rows[3].region_id"), into `found`.
void Collect(const Message& message, const std::vector<absl::string_view>& path, size_t at,
             const std::string& prefix, absl::flat_hash_map<std::string, std::string>* found) {
  const FieldDescriptor* field = message.GetDescriptor()->FindFieldByName(std::string(path[at]));
  if (field == nullptr) return;  // a misspelt declaration: AccessTest catches it
  const google::protobuf::Reflection* reflection = message.GetReflection();
  const bool last = at + 1 == path.size();
  const std::string name = absl::StrCat(prefix, path[at]);
  if (last && field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
    if (!field->is_repeated()) {
      std::string value = reflection->GetString(message, field);
      if (!found->contains(value)) found->emplace(std::move(value), name);
      return;
    }
    for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
      std::string value = reflection->GetRepeatedString(message, field, i);
      if (!found->contains(value))
        found->emplace(std::move(value), absl::StrCat(name, "[", i, "]"));
    }
    return;
  }
  if (last || field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return;
  if (!field->is_repeated()) {
    if (reflection->HasField(message, field)) {
      Collect(reflection->GetMessage(message, field), path, at + 1, name + ".", found);
    }
    return;
  }
  for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
    Collect(reflection->GetRepeatedMessage(message, field, i), path, at + 1,
            absl::StrCat(name, "[", i, "]."), found);
  }
}

enum class Names { kRegion, kProject, kInitiative };

}  // namespace

absl::StatusOr<std::string> ScopeResolver::AreaOfProject(absl::string_view /*project_id*/) {
  return absl::InternalError("this service knows no projects");
}

absl::StatusOr<std::string> ScopeResolver::AreaOfInitiative(absl::string_view /*initiative_id*/) {
  return absl::InternalError("this service knows no initiatives");
}

absl::Status AuthorizeScopeOf(absl::string_view path, const std::vector<std::string>& roles,
                              const std::vector<std::string>& regions,
                              const google::protobuf::Message& request, ScopeResolver& resolver) {
  const google::protobuf::MethodDescriptor* method = SuiteMethod(path);
  if (method == nullptr) return absl::OkStatus();  // not one of the suite's
  const common::v1::Access& access = method->options().GetExtension(common::v1::access);
  // The role the call is made in: the caller's roles the method accepts.
  std::vector<std::string> acting;
  for (const int role : access.roles()) {
    const std::string name = RoleName(static_cast<common::v1::Role>(role));
    if (std::find(roles.begin(), roles.end(), name) != roles.end()) acting.push_back(name);
  }
  absl::flat_hash_map<std::string, bool> covered;  // region → a scope covers it
  auto check = [&](Names names, const std::string& paths_field) -> absl::Status {
    absl::flat_hash_map<std::string, std::string> found;
    Collect(request, absl::StrSplit(paths_field, '.'), 0, "", &found);
    for (const auto& [value, field] : found) {
      if (value.empty()) continue;  // the method's own checks decide
      std::string region = value;
      if (names == Names::kProject) {
        ASSIGN_OR_RETURN(region, resolver.AreaOfProject(value));
      } else if (names == Names::kInitiative) {
        ASSIGN_OR_RETURN(region, resolver.AreaOfInitiative(value));
      }
      if (region.empty()) continue;  // not known: refused by the method
      auto known = covered.find(region);
      if (known == covered.end()) {
        ASSIGN_OR_RETURN(std::vector<std::string> above, resolver.RegionAndAbove(region));
        bool in = above.empty();  // not known: refused by the method
        for (const std::string& scope : regions) {
          in = in || std::find(above.begin(), above.end(), scope) != above.end();
        }
        known = covered.emplace(region, in).first;
      }
      if (known->second) continue;
      return absl::PermissionDeniedError(absl::StrCat(
          method->name(), ": ", field, " \"", value, "\"",
          region == value ? "" : absl::StrCat(" (in ", region, ")"), " is outside the ",
          acting.empty() ? absl::StrJoin(roles, "/") : absl::StrJoin(acting, "/"),
          "'s region scope (", regions.empty() ? "none" : absl::StrJoin(regions, ", "),
          "); nothing stored"));
    }
    return absl::OkStatus();
  };
  for (const std::string& field : access.region_fields()) {
    RETURN_IF_ERROR(check(Names::kRegion, field));
  }
  for (const std::string& field : access.project_fields()) {
    RETURN_IF_ERROR(check(Names::kProject, field));
  }
  for (const std::string& field : access.initiative_fields()) {
    RETURN_IF_ERROR(check(Names::kInitiative, field));
  }
  return absl::OkStatus();
}

absl::Status AuthorizeScope(const grpc::ServerContextBase& context,
                            const google::protobuf::Message& request, ScopeResolver& resolver) {
  const Principal caller = CallerOf(context);
  if (caller.subject.empty()) return absl::OkStatus();  // authentication off
  // The method is the one of the request's file that takes this request
  // (each request message of the suite belongs to one method).
  const google::protobuf::Descriptor* type = request.GetDescriptor();
  const google::protobuf::FileDescriptor* file = type->file();
  for (int i = 0; i < file->service_count(); ++i) {
    const google::protobuf::ServiceDescriptor* service = file->service(i);
    for (int j = 0; j < service->method_count(); ++j) {
      if (service->method(j)->input_type() != type) continue;
      return AuthorizeScopeOf(
          absl::StrCat("/", service->full_name(), "/", service->method(j)->name()), caller.roles,
          caller.regions, request, resolver);
    }
  }
  // Fail closed: a request no method of its file takes.
  return absl::PermissionDeniedError(
      absl::StrCat("no method takes ", type->full_name(), "; nothing stored"));
}

}  // namespace suishin
