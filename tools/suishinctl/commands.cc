#include "tools/suishinctl/commands.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/blocking_counter.h"
#include "common/auth.h"
#include "common/channel.h"
#include "common/fiscal_year.h"
#include "common/grpc_status.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "exchange/dataset_import.h"
#include "exchange/dataset_io.h"
#include "suishin/dataset/v1/dataset.pb.h"
#include "tools/suishinctl/command_util.h"
#include "tools/suishinctl/kpi_views.h"
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

absl::StatusOr<std::vector<plan::v1::Region>> ListAllRegions(const Environment& env,
                                                             const std::string& root_id) {
  plan::v1::ListRegionsRequest request;
  request.set_root_id(root_id);
  return ListAll(env, env.plan, request, kPageSize, &PlanService::StubInterface::ListRegions,
                 &plan::v1::ListRegionsResponse::mutable_regions);
}

absl::StatusOr<std::vector<plan::v1::Initiative>> ListAllInitiatives(
    const Environment& env, const plan::v1::ListInitiativesRequest& request) {
  return ListAll(env, env.plan, request, kPageSize, &PlanService::StubInterface::ListInitiatives,
                 &plan::v1::ListInitiativesResponse::mutable_initiatives);
}

std::string Synopsis(const CommandSpec& spec) { return absl::StrCat("suishinctl ", spec.synopsis); }

}  // namespace

const std::vector<CommandSpec>& AllCommands() {
  static const auto* const kCommands = new std::vector<CommandSpec>{
      {"import",
       "import FILE",
       "load a dataset file (suishin.dataset.v1.Dataset in protobuf JSON): the plan into "
       "plan-service, the KPIs with their baselines, targets and actuals into kpi-service",
       {},
       1,
       1,
       &RunImport},
      {"import-csv",
       "import-csv FILE [--encoding auto|utf-8|cp932]",
       "load KPI actuals, baselines and targets from a CSV file (UTF-8, UTF-8 with BOM or "
       "Shift_JIS/CP932) in one ImportActuals stream: all rows or none",
       {"encoding"},
       1,
       1,
       &RunImportCsv},
      {"export-csv",
       "export-csv --kpi ID | --table PROJECT --year YEAR [--encoding utf-8|cp932] [-o FILE]",
       "write a KPI's data, or a project's KPI table as of a year, as open-data CSV",
       {"kpi", "table", "year", "encoding", "o"},
       0,
       0,
       &RunExportCsv},
      {"export-json",
       "export-json [-o FILE]",
       "write every region, project, initiative and KPI with its values as one dataset file "
       "(protobuf JSON)",
       {"o"},
       0,
       0,
       &RunExportJson},
      {"import-json",
       "import-json FILE",
       "load a dataset file written by export-json (the same as import)",
       {},
       1,
       1,
       &RunImportJson},
      {"report",
       "report --project ID --year YEAR --format html|md [-o FILE]",
       "the management table (プロジェクト推進管理表) of a project for a fiscal year, as a "
       "self-contained HTML page for A4 landscape or as Markdown",
       {"project", "year", "format", "o"},
       0,
       0,
       &RunReport},
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
      {"kpis",
       "kpis [--project ID]",
       "KPIs, optionally of one project: id, name, unit, kind, aggregation, progress method, "
       "regions",
       {"project"},
       0,
       0,
       &RunKpis},
      {"record",
       "record --kpi ID --region ID --year Y --value V [--numerator N --denominator D] "
       "[--by NAME] [--reason TEXT]",
       "record a fiscal year's actual (実績); recording a year again is a correction, the old "
       "value kept in the history",
       {"kpi", "region", "year", "value", "numerator", "denominator", "by", "reason"},
       0,
       0,
       &RunRecord},
      {"baseline",
       "baseline --kpi ID --region ID --year Y --value V [--numerator N --denominator D] "
       "[--by NAME]",
       "set the baseline (基準) of a KPI in a region",
       {"kpi", "region", "year", "value", "numerator", "denominator", "by"},
       0,
       0,
       &RunBaseline},
      {"target",
       "target --kpi ID --region ID --year Y --value V [--reason TEXT] [--by NAME]",
       "set or revise the target (目標) of a KPI in a region; earlier targets are kept "
       "(見直し前…)",
       {"kpi", "region", "year", "value", "reason", "by"},
       0,
       0,
       &RunTarget},
      {"progress",
       "progress --kpi ID --region ID [--as-of Y]",
       "a KPI's progress in a region: baseline, target, then per year 実績, 進捗率, 想定 "
       "(expected), 差 (pace gap) and 状態",
       {"kpi", "region", "as_of"},
       0,
       0,
       &RunProgress},
      {"table",
       "table --project ID --year Y [--municipalities]",
       "a project's 【ＫＰＩの状況】 as of year Y: regions down, years across, actuals and 進捗率; "
       "levels below the 振興局 indented",
       {"project", "year", "municipalities"},
       0,
       0,
       &RunTable},
      {"history",
       "history --kpi ID [--region ID] [--year Y]",
       "every change to a KPI's values: old → new, when, who and why",
       {"kpi", "region", "year"},
       0,
       0,
       &RunHistory},
      {"watch",
       "watch [--from N] [--kpi ID]",
       "print the change log from sequence N (default 1: all of it), then each change as "
       "kpi-service accepts it, one line each, until Ctrl-C; with --json one JSON object per line",
       {"from", "kpi"},
       0,
       0,
       &RunWatch},
      {"alerts",
       "alerts [--region ID] [--kpi ID] [--severity info|warning|critical] "
       "[--rule lagging|below-threshold|declining|stagnant|missing|achieved] [--all]",
       "alerts of notification-service, firing ones first (--all: resolved ones too): 重大度, "
       "rule, KPI, region, state, since, fiscal year, summary, ack/silenced, fingerprint; "
       "filters take comma-separated values",
       {"region", "kpi", "severity", "rule", "all"},
       0,
       0,
       &RunAlerts},
      {"alert",
       "alert FINGERPRINT",
       "one alert: its values (rate, expected, gap, missing years), acknowledgement, silences "
       "and history",
       {},
       1,
       1,
       &RunAlert},
      {"ack",
       "ack FINGERPRINT --by NAME [--comment TEXT]",
       "acknowledge an alert (someone has seen it)",
       {"by", "comment"},
       1,
       1,
       &RunAck},
      {"watch-alerts",
       "watch-alerts [--after N] [--region ID] [--kpi ID] [--severity S] [--rule R]",
       "print alert events after event N (default 0: all kept ones), then each as it happens: "
       "発生, 解消, 確認, 重大度変更; until Ctrl-C; with --json one JSON object per line",
       {"after", "region", "kpi", "severity", "rule"},
       0,
       0,
       &RunWatchAlerts},
      {"silence",
       "silence [--rule R] [--kpi ID] [--region ID] [--severity S] (--until TIME | --for "
       "DURATION) --by NAME --comment TEXT",
       "mute delivery of the alerts matching every given matcher (at least one) until TIME "
       "(RFC 3339) or for DURATION (2h, 90m, 7d)",
       {"rule", "kpi", "region", "severity", "until", "for", "by", "comment"},
       0,
       0,
       &RunSilence},
      {"silences",
       "silences [--all]",
       "active and pending silences (--all: ended ones too)",
       {"all"},
       0,
       0,
       &RunSilences},
      {"expire-silence", "expire-silence ID", "end a silence now", {}, 1, 1, &RunExpireSilence},
      {"rules",
       "rules [--kpi ID]",
       "the alert rules' settings: global, or a KPI's effective ones",
       {"kpi"},
       0,
       0,
       &RunRules},
      {"set-rule",
       "set-rule --rule R [--kpi ID] [--enabled true|false] [--severity S] [--warning-gap N] "
       "[--critical-gap N] [--clear-gap N] [--threshold N] [--min-steps N] [--deadline MM-DD]",
       "change a rule's settings, globally or for one KPI; settings not given keep their "
       "current values",
       {"rule", "kpi", "enabled", "severity", "warning_gap", "critical_gap", "clear_gap",
        "threshold", "min_steps", "deadline"},
       0,
       0,
       &RunSetRule},
      {"webhooks", "webhooks", "registered webhook endpoints", {}, 0, 0, &RunWebhooks},
      {"add-webhook",
       "add-webhook URL [--secret whsec_...] [--region ID] [--kpi ID] [--severity S] [--rule R]",
       "register an endpoint for signed alert events (Standard Webhooks); without --secret the "
       "service makes one and it is printed once",
       {"secret", "region", "kpi", "severity", "rule"},
       1,
       1,
       &RunAddWebhook},
      {"delete-webhook", "delete-webhook ID", "remove a webhook", {}, 1, 1, &RunDeleteWebhook},
      {"rotate-webhook-secret",
       "rotate-webhook-secret ID [--secret whsec_...] [--overlap 24h]",
       "give a webhook a new signing secret; the old one signs beside it for the overlap",
       {"secret", "overlap"},
       1,
       1,
       &RunRotateWebhookSecret},
      {"dead-letters",
       "dead-letters [--webhook ID]",
       "events whose delivery failed for good",
       {"webhook"},
       0,
       0,
       &RunDeadLetters},
      {"audit",
       "audit [--service plan|kpi|notification] [--subject P] [--method M] [--refused] [--limit N]",
       "who called what, accepted or refused: the services' audit trails, newest first "
       "(operators)",
       {"service", "subject", "method", "refused", "limit"},
       0,
       0,
       &RunAudit},
      {"replay",
       "replay ID",
       "send a dead letter again, with the same event id",
       {},
       1,
       1,
       &RunReplay},
      {"health",
       "health",
       "grpc.health.v1 check of plan-, kpi- and notification-service; exit 1 unless all serve",
       {},
       0,
       0,
       &RunHealth},
      {"token",
       "token issue --key FILE --role R[,R…] [--region ID,…] [--subject S] [--by NAME] "
       "[--issuer I] [--lifetime 12h]",
       "sign an identity token with a local key (./suishin up's .state/pki/token-signing.key), "
       "to try roles",
       {"key", "role", "region", "subject", "by", "issuer", "lifetime"},
       1,
       1,
       &RunToken},
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
      "\nFiscal years (Y) in any usual form: 2019, FY2019, R元, R1, 令和元年度, H31, Ｒ２.\n"
      "TIME in RFC 3339 (2026-12-01T09:00:00+09:00); DURATION as 2h, 90m, 1h30m or 7d.\n"
      "Long text is wrapped to $COLUMNS display columns (default 100).\n"
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
      return UsageError(absl::StrCat(FlagName(flag), " is not a flag of ", spec->name,
                                     "; usage: ", Synopsis(*spec)));
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
  return ImportDataset(env, path, dataset);
}

absl::Status ImportDataset(const Environment& env, absl::string_view path,
                           const dataset::v1::Dataset& dataset) {
  plan::v1::ImportPlanRequest request;
  *request.mutable_dataset() = dataset.plan();
  plan::v1::ImportPlanResponse response;
  RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
    return env.plan->ImportPlan(context, request, &response);
  }));
  if (!env.json) {
    *env.out << "plan: " << path;
    if (!dataset.source().empty()) *env.out << " (" << dataset.source() << ")";
    *env.out << "\n" << FormatImportCounts(response) << "\n";
    env.out->flush();
  }

  // "import: KPI rows 500/1200 (kodomoen)" on a terminal's standard error,
  // rewritten in place and erased when done.
  bool shown = false;
  const auto progress = [&](int64_t done, int64_t total, absl::string_view kpi_id) {
    if (!env.progress || total == 0) return;
    *env.err << "\r\033[Kimport: KPI rows " << done << "/" << total << " (" << kpi_id << ")";
    env.err->flush();
    shown = true;
  };
  std::vector<KpiImportResult> results;
  kpi::v1::ImportActualsResponse refused;
  const absl::Status status =
      exchange::ImportKpis(env, dataset.kpi(), &results, &refused, progress);
  if (shown) {
    *env.err << "\r\033[K";
    env.err->flush();
  }
  if (!refused.errors().empty()) {
    *env.err << FormatRowErrors(refused);
    env.err->flush();
  }
  if (!env.json) {
    // Also after a failure: what was done before it.
    if (!results.empty() || status.ok()) *env.out << FormatKpiImport(results);
    return status;
  }
  if (!status.ok()) return status;  // JSON output only for a complete import.
  PrintJson(env, exchange::ImportSummaryJson(response, results));
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
  ASSIGN_OR_RETURN(
      std::vector<plan::v1::Project> projects,
      ListAll(env, env.plan, request, kPageSize, &PlanService::StubInterface::ListProjects,
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

absl::Status RunToken(const Environment& env, const Arguments& args) {
  if (args.positional.at(0) != "issue") {
    return absl::InvalidArgumentError(
        absl::StrCat("token: want \"token issue\" (got \"", args.positional.at(0), "\")"));
  }
  const std::string key_file = FlagValue(args, "key");
  if (key_file.empty()) return absl::InvalidArgumentError("--key: the signing key is required");
  std::ifstream in(key_file);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--key: cannot read \"", key_file, "\""));
  std::stringstream key;
  key << in.rdbuf();
  TokenClaims claims;
  claims.issuer = FlagValue(args, "issuer");
  if (claims.issuer.empty()) claims.issuer = "suishin-local";  // what ./suishin up's services take
  claims.roles = absl::StrSplit(FlagValue(args, "role"), ',', absl::SkipWhitespace());
  if (claims.roles.empty()) return absl::InvalidArgumentError("--role: at least one role");
  for (const std::string& role : claims.roles) {
    if (!IsTokenRole(role)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--role: \"", role, "\" is not viewer, officer, planner or operator"));
    }
  }
  claims.regions = absl::StrSplit(FlagValue(args, "region"), ',', absl::SkipWhitespace());
  claims.subject = FlagValue(args, "subject");
  if (claims.subject.empty()) {
    claims.subject = absl::StrCat(claims.roles.front(),
                                  claims.regions.empty() ? "" : "-" + claims.regions.front());
  }
  claims.name = FlagValue(args, "by");
  if (const std::string lifetime = FlagValue(args, "lifetime"); !lifetime.empty()) {
    if (!absl::ParseDuration(lifetime, &claims.lifetime) ||
        claims.lifetime <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--lifetime: \"", lifetime, "\" is not a duration such as 12h"));
    }
  }
  ASSIGN_OR_RETURN(std::string token, IssueToken(key.str(), claims));
  *env.out << token << "\n";
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
