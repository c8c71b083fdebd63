// Who may call what is declared once, beside each RPC (its
// suishin.common.v1.access option), and nowhere else: every RPC of the
// three services declares it, and AuthorizeMethod reads exactly that.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "google/protobuf/descriptor.h"
#include "suishin/common/v1/access.pb.h"
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
  for (const google::protobuf::ServiceDescriptor* service :
       {Services(), plan::v1::ImportPlanRequest::descriptor()->file()->service(0),
        kpi::v1::RecordActualRequest::descriptor()->file()->service(0),
        notification::v1::SetRuleRequest::descriptor()->file()->service(0)}) {
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      ASSERT_TRUE(method->options().HasExtension(common::v1::access)) << method->full_name();
      const common::v1::Access& access = method->options().GetExtension(common::v1::access);
      EXPECT_NE(access.any_role(), access.roles_size() > 0)
          << method->full_name() << ": either any role, or some roles";
      ++methods;
    }
  }
  EXPECT_EQ(methods, 12 + 12 + 16);
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
