#include "tools/suishinctl/commands.h"

#include <google/protobuf/struct.pb.h>

#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/blocking_counter.h"
#include "common/channel.h"
#include "common/fiscal_year.h"
#include "common/grpc_status.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "suishin/dataset/v1/dataset.pb.h"
#include "tools/suishinctl/terminal_table.h"
#include "tools/suishinctl/views.h"

namespace suishin::ctl {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using plan::v1::PlanService;

// Marks a usage error (see UsageError); the value is irrelevant.
constexpr absl::string_view kUsagePayload = "type.suishin.dev/suishinctl.UsageError";

// Results per list call; plan-service allows up to 1000.
constexpr int kPageSize = 500;

// Makes one call with a fresh deadline and returns its status as absl::Status.
template <typename Call>
absl::Status Invoke(const Environment& env, Call call) {
  std::unique_ptr<grpc::ClientContext> context = NewClientContext(env.timeout);
  return FromGrpcStatus(call(context.get()));
}

// Calls a PlanService List method page after page until the last one and
// returns every item. Each page is a call with its own deadline.
template <typename Item, typename Request, typename Response>
absl::StatusOr<std::vector<Item>> ListAll(
    const Environment& env, Request request,
    grpc::Status (PlanService::StubInterface::*method)(grpc::ClientContext*, const Request&,
                                                       Response*),
    google::protobuf::RepeatedPtrField<Item>* (Response::*items)()) {
  std::vector<Item> all;
  request.set_page_size(kPageSize);
  do {
    Response response;
    RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
      return (env.plan->*method)(context, request, &response);
    }));
    for (Item& item : *(response.*items)()) all.push_back(std::move(item));
    if (!response.next_page_token().empty() && response.next_page_token() == request.page_token()) {
      return absl::InternalError("plan-service returned the same page token twice");
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return all;
}

absl::StatusOr<std::vector<plan::v1::Region>> ListAllRegions(const Environment& env,
                                                             const std::string& root_id) {
  plan::v1::ListRegionsRequest request;
  request.set_root_id(root_id);
  return ListAll(env, request, &PlanService::StubInterface::ListRegions,
                 &plan::v1::ListRegionsResponse::mutable_regions);
}

absl::StatusOr<std::vector<plan::v1::Initiative>> ListAllInitiatives(
    const Environment& env, const plan::v1::ListInitiativesRequest& request) {
  return ListAll(env, request, &PlanService::StubInterface::ListInitiatives,
                 &plan::v1::ListInitiativesResponse::mutable_initiatives);
}

std::string FlagValue(const Arguments& args, absl::string_view name) {
  const auto it = args.flags.find(std::string(name));
  return it == args.flags.end() ? "" : it->second;
}

std::string Synopsis(const CommandSpec& spec) { return absl::StrCat("suishinctl ", spec.synopsis); }

void PrintJson(const Environment& env, const google::protobuf::Message& message) {
  const std::string json = ToJson(message);
  *env.out << json;
  if (json.empty() || json.back() != '\n') *env.out << "\n";
}

}  // namespace

const std::vector<CommandSpec>& AllCommands() {
  static const auto* const kCommands = new std::vector<CommandSpec>{
      {"import",
       "import FILE",
       "load a dataset file (suishin.dataset.v1.Dataset in protobuf JSON) into plan-service",
       {},
       1,
       1,
       &RunImport},
      {"regions",
       "regions [--root ID]",
       "the region tree (or the subtree under --root)",
       {"root"},
       0,
       0,
       &RunRegions},
      {"projects",
       "projects [--area ID]",
       "projects, optionally of one cooperation area",
       {"area"},
       0,
       0,
       &RunProjects},
      {"project",
       "project ID",
       "one project: 【概要・目的】, 【施策展開】 and its initiatives per stage",
       {},
       1,
       1,
       &RunProject},
      {"initiatives",
       "initiatives --project ID [--year Y] [--stage STAGE] [--region ID] [--body BODY] "
       "[--pillar ID]",
       "a project's initiatives (取組); Y as 2020, R2, 令和２年度…; STAGE achievement (実績), "
       "current (今年度), next (次年度) or challenge (課題)",
       {"project", "year", "stage", "region", "body", "pillar"},
       0,
       0,
       &RunInitiatives},
      {"health",
       "health",
       "grpc.health.v1 check of plan-, kpi- and notification-service; exit 1 unless all serve",
       {},
       0,
       0,
       &RunHealth},
      {"help", "help", "this text", {}, 0, 0, &RunHelp},
  };
  return *kCommands;
}

const CommandSpec* FindCommand(absl::string_view name) {
  for (const CommandSpec& spec : AllCommands()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

bool IsCommandFlag(absl::string_view name) {
  for (const CommandSpec& spec : AllCommands()) {
    for (absl::string_view flag : spec.flags) {
      if (flag == name) return true;
    }
  }
  return false;
}

std::string UsageText() {
  std::string out =
      "suishinctl: the command-line client of the Suishin plan, KPI and notification "
      "services.\n\n"
      "usage: suishinctl COMMAND [args] [--flags]\n\ncommands:\n";
  for (const CommandSpec& spec : AllCommands()) {
    absl::StrAppend(&out, "  ", spec.synopsis, "\n      ", spec.summary, "\n");
  }
  absl::StrAppend(
      &out,
      "\nglobal flags (each also from the environment as SUISHIN_<FLAG>):\n"
      "  --plan_address=HOST:PORT          plan-service (default 127.0.0.1:50061)\n"
      "  --kpi_address=HOST:PORT           kpi-service (default 127.0.0.1:50062)\n"
      "  --notification_address=HOST:PORT  notification-service (default 127.0.0.1:50063)\n"
      "  --timeout_ms=N                    deadline of each call (default 5000)\n"
      "  --json                            print responses in the protobuf JSON mapping\n"
      "\nLong text is wrapped to $COLUMNS display columns (default 100).\n"
      "Exit status: 0 success, 1 a call failed, 2 bad usage.\n");
  return out;
}

absl::Status RunCommand(const Environment& env, absl::string_view name, const Arguments& args) {
  const CommandSpec* spec = FindCommand(name);
  if (spec == nullptr) {
    return UsageError(
        absl::StrCat("unknown command \"", name, "\"; run 'suishinctl help' for the commands"));
  }
  for (const auto& [flag, value] : args.flags) {
    bool accepted = false;
    for (absl::string_view allowed : spec->flags) accepted = accepted || allowed == flag;
    if (!accepted) {
      return UsageError(
          absl::StrCat("--", flag, " is not a flag of ", spec->name, "; usage: ", Synopsis(*spec)));
    }
  }
  const int n = static_cast<int>(args.positional.size());
  if (n < spec->min_positional) {
    return UsageError(absl::StrCat("missing argument; usage: ", Synopsis(*spec)));
  }
  if (n > spec->max_positional) {
    return UsageError(absl::StrCat("unexpected argument \"", args.positional[spec->max_positional],
                                   "\"; usage: ", Synopsis(*spec)));
  }
  return spec->run(env, args);
}

absl::Status UsageError(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsagePayload, absl::Cord("1"));
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

int ExitCode(const absl::Status& status) {
  if (status.ok()) return 0;
  return IsUsageError(status) ? 2 : 1;
}

std::string ErrorLine(absl::string_view command, const absl::Status& status) {
  std::string line = "suishinctl: ";
  if (!command.empty()) absl::StrAppend(&line, command, ": ");
  if (!IsUsageError(status)) absl::StrAppend(&line, absl::StatusCodeToString(status.code()), ": ");
  absl::StrAppend(&line, status.message());
  return line;
}

absl::StatusOr<plan::v1::InitiativeStage> ParseStage(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "achievement" || text == "実績") return plan::v1::INITIATIVE_STAGE_ACHIEVEMENT;
  if (lower == "current" || text == "今年度") return plan::v1::INITIATIVE_STAGE_CURRENT;
  if (lower == "next" || text == "次年度") return plan::v1::INITIATIVE_STAGE_NEXT;
  if (lower == "challenge" || text == "課題") return plan::v1::INITIATIVE_STAGE_CHALLENGE;
  return UsageError(absl::StrCat("--stage: \"", text,
                                 "\" is not a stage; use achievement (実績), current (今年度), "
                                 "next (次年度) or challenge (課題)"));
}

absl::Status RunImport(const Environment& env, const Arguments& args) {
  const std::string& path = args.positional.at(0);
  dataset::v1::Dataset dataset;
  RETURN_IF_ERROR(ReadJsonFile(path, &dataset));

  plan::v1::ImportPlanRequest request;
  *request.mutable_dataset() = dataset.plan();
  plan::v1::ImportPlanResponse response;
  RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
    return env.plan->ImportPlan(context, request, &response);
  }));

  // TODO: send the KPI part to kpi-service once it has an import for it.
  const std::string kpi_note =
      absl::StrCat("kpi: the file's KPI part has ", dataset.kpi().kpis_size(),
                   dataset.kpi().kpis_size() == 1 ? " KPI" : " KPIs",
                   " and is not imported yet (kpi-service import comes later)\n");
  if (env.json) {
    PrintJson(env, response);
    *env.err << kpi_note;  // Keeps standard output one JSON document.
    return absl::OkStatus();
  }
  *env.out << "plan: " << path;
  if (!dataset.source().empty()) *env.out << " (" << dataset.source() << ")";
  *env.out << "\n" << FormatImportCounts(response) << kpi_note;
  return absl::OkStatus();
}

absl::Status RunRegions(const Environment& env, const Arguments& args) {
  ASSIGN_OR_RETURN(std::vector<plan::v1::Region> regions,
                   ListAllRegions(env, FlagValue(args, "root")));
  if (env.json) {
    plan::v1::ListRegionsResponse all;
    for (auto& region : regions) *all.add_regions() = std::move(region);
    PrintJson(env, all);
    return absl::OkStatus();
  }
  *env.out << FormatRegions(regions);
  return absl::OkStatus();
}

absl::Status RunProjects(const Environment& env, const Arguments& args) {
  plan::v1::ListProjectsRequest request;
  request.set_area_id(FlagValue(args, "area"));
  ASSIGN_OR_RETURN(std::vector<plan::v1::Project> projects,
                   ListAll(env, request, &PlanService::StubInterface::ListProjects,
                           &plan::v1::ListProjectsResponse::mutable_projects));
  if (env.json) {
    plan::v1::ListProjectsResponse all;
    for (auto& project : projects) *all.add_projects() = std::move(project);
    PrintJson(env, all);
    return absl::OkStatus();
  }
  *env.out << FormatProjects(projects);
  return absl::OkStatus();
}

absl::Status RunProject(const Environment& env, const Arguments& args) {
  plan::v1::GetProjectRequest request;
  request.set_id(args.positional.at(0));
  plan::v1::GetProjectResponse response;
  RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
    return env.plan->GetProject(context, request, &response);
  }));
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  const plan::v1::Project& project = response.project();

  plan::v1::GetRegionRequest area_request;
  area_request.set_id(project.area_id());
  plan::v1::GetRegionResponse area;
  const absl::Status area_status = Invoke(env, [&](grpc::ClientContext* context) {
    return env.plan->GetRegion(context, area_request, &area);
  });
  // A project always has its area; should it be gone, show the id alone.
  if (!area_status.ok() && !absl::IsNotFound(area_status)) return area_status;

  plan::v1::ListInitiativesRequest initiatives_request;
  initiatives_request.set_project_id(project.id());
  ASSIGN_OR_RETURN(std::vector<plan::v1::Initiative> initiatives,
                   ListAllInitiatives(env, initiatives_request));
  *env.out << FormatProject(project, area.region().name(), initiatives, env.width);
  return absl::OkStatus();
}

absl::Status RunInitiatives(const Environment& env, const Arguments& args) {
  plan::v1::ListInitiativesRequest request;
  request.set_project_id(FlagValue(args, "project"));
  if (request.project_id().empty()) {
    return UsageError("--project is required; usage: suishinctl initiatives --project ID ...");
  }
  if (const std::string year = FlagValue(args, "year"); !year.empty()) {
    absl::StatusOr<int> parsed = ParseFiscalYear(year);
    if (!parsed.ok()) return UsageError(absl::StrCat("--year: ", parsed.status().message()));
    request.mutable_fiscal_year()->set_year(*parsed);
  }
  if (const std::string stage = FlagValue(args, "stage"); !stage.empty()) {
    ASSIGN_OR_RETURN(plan::v1::InitiativeStage parsed, ParseStage(stage));
    request.set_stage(parsed);
  }
  request.set_region_id(FlagValue(args, "region"));
  request.set_responsible_body(FlagValue(args, "body"));
  request.set_pillar_id(FlagValue(args, "pillar"));

  ASSIGN_OR_RETURN(std::vector<plan::v1::Initiative> initiatives, ListAllInitiatives(env, request));
  if (env.json) {
    plan::v1::ListInitiativesResponse all;
    for (auto& initiative : initiatives) *all.add_initiatives() = std::move(initiative);
    PrintJson(env, all);
    return absl::OkStatus();
  }
  RegionNames names;
  bool tagged = false;
  for (const auto& initiative : initiatives) tagged = tagged || !initiative.region_ids().empty();
  if (tagged) {
    ASSIGN_OR_RETURN(std::vector<plan::v1::Region> regions, ListAllRegions(env, ""));
    for (const auto& region : regions) names[region.id()] = region.name();
  }
  *env.out << FormatInitiatives(initiatives, names, env.width);
  return absl::OkStatus();
}

absl::Status RunHealth(const Environment& env, const Arguments& args) {
  // The checks run at the same time, so a dead service costs one timeout, not three.
  struct Probe {
    std::unique_ptr<grpc::ClientContext> context;
    HealthCheckResponse response;
    grpc::Status status;
  };
  const HealthCheckRequest request;  // service "": the server as a whole.
  std::vector<Probe> probes(env.health.size());
  absl::BlockingCounter pending(static_cast<int>(env.health.size()));
  for (size_t i = 0; i < env.health.size(); ++i) {
    Probe& probe = probes[i];
    probe.context = NewClientContext(env.timeout);
    env.health[i].stub->async()->Check(probe.context.get(), &request, &probe.response,
                                       [&probe, &pending](grpc::Status status) {
                                         probe.status = std::move(status);
                                         pending.DecrementCount();
                                       });
  }
  pending.Wait();

  TerminalTable table({"service", "address", "status", "detail"});
  google::protobuf::Struct json;
  std::vector<std::string> failing;
  for (size_t i = 0; i < env.health.size(); ++i) {
    const HealthTarget& target = env.health[i];
    const Probe& probe = probes[i];
    std::string state;
    std::string detail;
    if (probe.status.ok()) {
      state = HealthCheckResponse::ServingStatus_Name(probe.response.status());
    } else {
      const absl::Status status = FromGrpcStatus(probe.status);
      state = absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)
                  ? "unreachable"
                  : absl::StatusCodeToString(status.code());
      detail = absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message());
    }
    if (state != "SERVING") failing.push_back(absl::StrCat(target.service, " (", state, ")"));
    table.AddRow({target.service, target.address, state, detail});
    auto& fields =
        *(*json.mutable_fields())[target.service].mutable_struct_value()->mutable_fields();
    fields["address"].set_string_value(target.address);
    fields["status"].set_string_value(state);
    if (!detail.empty()) fields["detail"].set_string_value(detail);
  }
  if (env.json) {
    PrintJson(env, json);
  } else {
    *env.out << table.Render(env.width);
  }
  if (!failing.empty()) {
    return absl::UnavailableError(
        absl::StrCat(failing.size(), " of ", env.health.size(),
                     " services not serving: ", absl::StrJoin(failing, ", ")));
  }
  return absl::OkStatus();
}

absl::Status RunHelp(const Environment& env, const Arguments& args) {
  *env.out << UsageText();
  return absl::OkStatus();
}

}  // namespace suishin::ctl
