// Who may call what is declared once, beside each RPC (its
// suishin.common.v1.access option), and nowhere else: every RPC of the
// three services declares it, and AuthorizeMethod reads exactly that.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth.h"
#include "google/protobuf/descriptor.h"
#include "suishin/common/v1/access.pb.h"
#include "suishin/common/v1/audit.pb.h"
#include "suishin/kpi/v1/kpi.grpc.pb.h"
#include "suishin/notification/v1/notification.grpc.pb.h"
#include "suishin/plan/v1/plan.grpc.pb.h"

namespace suishin {
namespace {

// Linking the services' messages registers their files, services and all,
// with the generated pool, as it is in each service's binary.
const google::protobuf::ServiceDescriptor* Services() {
  (void)plan::v1::ImportPlanRequest::descriptor();
  (void)kpi::v1::RecordActualRequest::descriptor();
  (void)notification::v1::SetRuleRequest::descriptor();
  return nullptr;
}

TEST(AccessTest, EveryRpcOfTheSuiteDeclaresWhoMayCallIt) {
  int methods = 0;
  int writes = 0;
  int scoped = 0;
  for (const google::protobuf::ServiceDescriptor* service :
       {Services(), plan::v1::ImportPlanRequest::descriptor()->file()->service(0),
        kpi::v1::RecordActualRequest::descriptor()->file()->service(0),
        notification::v1::SetRuleRequest::descriptor()->file()->service(0),
        common::v1::ListAuditRecordsRequest::descriptor()->file()->service(0)}) {
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      ASSERT_TRUE(method->options().HasExtension(common::v1::access)) << method->full_name();
      const common::v1::Access& access = method->options().GetExtension(common::v1::access);
      EXPECT_NE(access.any_role(), access.roles_size() > 0)
          << method->full_name() << ": either any role, or some roles";
      // Every field a scope declaration names is a string field of the
      // request, reached through message fields: a misspelt path would
      // check nothing.
      std::vector<std::string> paths(access.region_fields().begin(), access.region_fields().end());
      paths.insert(paths.end(), access.project_fields().begin(), access.project_fields().end());
      paths.insert(paths.end(), access.initiative_fields().begin(),
                   access.initiative_fields().end());
      for (const std::string& path : paths) {
        const google::protobuf::Descriptor* type = method->input_type();
        const std::vector<std::string> parts = absl::StrSplit(path, '.');
        for (size_t p = 0; p < parts.size(); ++p) {
          ASSERT_NE(type, nullptr) << method->full_name() << ": " << path;
          const google::protobuf::FieldDescriptor* field = type->FindFieldByName(parts[p]);
          ASSERT_NE(field, nullptr)
              << method->full_name() << ": " << path << " has no " << parts[p];
          if (p + 1 == parts.size()) {
            EXPECT_EQ(field->type(), google::protobuf::FieldDescriptor::TYPE_STRING)
                << method->full_name() << ": " << path;
          } else {
            type = field->message_type();
          }
        }
      }
      if (!access.any_role() && !absl::StartsWith(method->name(), "List") &&
          !absl::StartsWith(method->name(), "Get")) {
        ++writes;
        if (!paths.empty()) ++scoped;
      }
      ++methods;
    }
  }
  EXPECT_EQ(methods, 12 + 12 + 16 + 1);
  // The writes of plan- and kpi-service say where they act (12 of them);
  // notification-service's are an operator's, or an acknowledgement.
  EXPECT_EQ(scoped, 12) << "of " << writes << " writes";
}

TEST(AccessTest, TokenRolesAreTheDeclaredOnesButService) {
  for (const char* role : {"viewer", "officer", "planner", "operator"}) {
    EXPECT_TRUE(IsTokenRole(role)) << role;
  }
  for (const char* role : {"service", "unspecified", "Officer", "admin", ""}) {
    EXPECT_FALSE(IsTokenRole(role)) << role;
  }
}

TEST(AccessTest, ACallerNeedsOneOfTheRolesTheRpcDeclares) {
  Services();
  const std::string record = "/suishin.kpi.v1.KpiService/RecordActual";
  const std::string rule = "/suishin.notification.v1.NotificationService/SetRule";
  const std::string list = "/suishin.kpi.v1.KpiService/ListKpis";
  const std::string plan = "/suishin.plan.v1.PlanService/ImportPlan";

  const absl::Status viewer = AuthorizeMethod(record, {"viewer"});
  EXPECT_EQ(viewer.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(viewer.message(), "RecordActual needs the role officer (the caller has viewer)");
  EXPECT_TRUE(AuthorizeMethod(record, {"officer"}).ok());
  EXPECT_TRUE(AuthorizeMethod(record, {"viewer", "officer"}).ok());

  const absl::Status officer = AuthorizeMethod(rule, {"officer"});
  EXPECT_EQ(officer.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(officer.message(), "SetRule needs the role operator")) << officer;
  EXPECT_TRUE(AuthorizeMethod(rule, {"operator"}).ok());
  EXPECT_FALSE(AuthorizeMethod(plan, {"operator"}).ok());
  EXPECT_TRUE(AuthorizeMethod(plan, {"planner"}).ok());

  // Reads: any role, the services among themselves too; but a service
  // writes nothing.
  EXPECT_TRUE(AuthorizeMethod(list, {"viewer"}).ok());
  EXPECT_TRUE(AuthorizeMethod(list, {"service"}).ok());
  EXPECT_FALSE(AuthorizeMethod(record, {"service"}).ok());
  EXPECT_FALSE(AuthorizeMethod(record, {}).ok());
  // A method of the suite this process does not know: refused.
  EXPECT_EQ(AuthorizeMethod("/suishin.kpi.v1.KpiService/DropEverything", {"operator"}).code(),
            absl::StatusCode::kPermissionDenied);
  // Reflection is not the suite's: any authenticated caller.
  EXPECT_TRUE(
      AuthorizeMethod("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", {}).ok());
}

}  // namespace
}  // namespace suishin
