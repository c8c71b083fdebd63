// The KPI commands of suishinctl (declared in commands.h) and the KPI part of
// import.
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/import_actuals.h"
#include "common/channel.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "exchange/dataset_rows.h"
#include "tools/suishinctl/command_util.h"
#include "tools/suishinctl/commands.h"
#include "tools/suishinctl/kpi_views.h"

namespace suishin::ctl {

// From the exchange library.
using exchange::RowsOf;
namespace {

using kpi::v1::KpiService;

// Results per ListKpis call: kpi-service's maximum.
constexpr int kKpiPageSize = 1000;
// Rows per ImportActualsRequest message of the stream.
constexpr size_t kRowsPerMessage = 500;
// An ImportActuals stream gets env.timeout plus this much per row.
constexpr absl::Duration kStreamTimePerRow = absl::Milliseconds(1);

std::string SynopsisOf(absl::string_view command) {
  const CommandSpec* spec = FindCommand(command);
  return spec == nullptr ? std::string(command) : std::string(spec->synopsis);
}

// The KPI, for its unit and region names in output; when it cannot be read
// (the change was stored, so this is not worth failing for) a Kpi with only
// its id.
kpi::v1::Kpi LookupKpi(const Environment& env, const std::string& id) {
  kpi::v1::GetKpiRequest request;
  request.set_id(id);
  kpi::v1::GetKpiResponse response;
  const absl::Status status = Invoke(env, [&](grpc::ClientContext* context) {
    return env.kpi->GetKpi(context, request, &response);
  });
  if (!status.ok()) response.mutable_kpi()->set_id(id);
  return response.kpi();
}

// The flags that name one value of a KPI: --kpi, --region, --year, --value,
// and the optional --numerator and --denominator (both or neither).
struct ValueFlags {
  std::string kpi_id;
  std::string region_id;
  int year = 0;
  double value = 0;
  std::optional<double> numerator;
  std::optional<double> denominator;
};

absl::StatusOr<ValueFlags> ReadValueFlags(const Arguments& args, absl::string_view command) {
  const std::string synopsis = SynopsisOf(command);
  ValueFlags flags;
  ASSIGN_OR_RETURN(flags.kpi_id, RequiredFlag(args, "kpi", synopsis));
  ASSIGN_OR_RETURN(flags.region_id, RequiredFlag(args, "region", synopsis));
  ASSIGN_OR_RETURN(std::optional<int> year, YearFlag(args, "year"));
  if (!year) return UsageError(absl::StrCat("--year is required; usage: suishinctl ", synopsis));
  flags.year = *year;
  ASSIGN_OR_RETURN(std::optional<double> value, NumberFlag(args, "value"));
  if (!value) return UsageError(absl::StrCat("--value is required; usage: suishinctl ", synopsis));
  flags.value = *value;
  ASSIGN_OR_RETURN(flags.numerator, NumberFlag(args, "numerator"));
  ASSIGN_OR_RETURN(flags.denominator, NumberFlag(args, "denominator"));
  if (flags.numerator.has_value() != flags.denominator.has_value()) {
    return UsageError("--numerator and --denominator go together: give both or neither");
  }
  return flags;
}

}  // namespace

absl::Status RunKpis(const Environment& env, const Arguments& args) {
  kpi::v1::ListKpisRequest request;
  request.set_project_id(FlagValue(args, "project"));
  ASSIGN_OR_RETURN(
      std::vector<kpi::v1::Kpi> kpis,
      ListAll(env, env.kpi, request, kKpiPageSize, &KpiService::StubInterface::ListKpis,
              &kpi::v1::ListKpisResponse::mutable_kpis));
  if (env.json) {
    kpi::v1::ListKpisResponse all;
    for (auto& kpi : kpis) *all.add_kpis() = std::move(kpi);
    PrintJson(env, all);
    return absl::OkStatus();
  }
  *env.out << FormatKpis(kpis);
  return absl::OkStatus();
}

absl::Status RunRecord(const Environment& env, const Arguments& args) {
  ASSIGN_OR_RETURN(const ValueFlags flags, ReadValueFlags(args, "record"));
  kpi::v1::RecordActualRequest request;
  kpi::v1::Actual* actual = request.mutable_actual();
  actual->set_kpi_id(flags.kpi_id);
  actual->set_region_id(flags.region_id);
  actual->mutable_fiscal_year()->set_year(flags.year);
  actual->set_value(flags.value);
  if (flags.numerator) actual->set_numerator(*flags.numerator);
  if (flags.denominator) actual->set_denominator(*flags.denominator);
  actual->set_reported_by(FlagValue(args, "by"));
  request.set_reason(FlagValue(args, "reason"));
  kpi::v1::RecordActualResponse response;
  RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
    return env.kpi->RecordActual(context, request, &response);
  }));
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  *env.out << FormatRecordedActual(response, LookupKpi(env, flags.kpi_id), env.time_zone);
  return absl::OkStatus();
}

absl::Status RunBaseline(const Environment& env, const Arguments& args) {
  ASSIGN_OR_RETURN(const ValueFlags flags, ReadValueFlags(args, "baseline"));
  kpi::v1::SetBaselineRequest request;
  request.set_kpi_id(flags.kpi_id);
  kpi::v1::Baseline* baseline = request.mutable_baseline();
  baseline->set_region_id(flags.region_id);
  baseline->mutable_fiscal_year()->set_year(flags.year);
  baseline->set_value(flags.value);
  if (flags.numerator) baseline->set_numerator(*flags.numerator);
  if (flags.denominator) baseline->set_denominator(*flags.denominator);
  request.set_author(FlagValue(args, "by"));
  kpi::v1::SetBaselineResponse response;
  RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
    return env.kpi->SetBaseline(context, request, &response);
  }));
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  *env.out << FormatBaselineSet(response, LookupKpi(env, flags.kpi_id));
  return absl::OkStatus();
}

absl::Status RunTarget(const Environment& env, const Arguments& args) {
  ASSIGN_OR_RETURN(const ValueFlags flags, ReadValueFlags(args, "target"));
  kpi::v1::ReviseTargetRequest request;
  request.set_kpi_id(flags.kpi_id);
  request.set_region_id(flags.region_id);
  request.mutable_fiscal_year()->set_year(flags.year);
  request.set_value(flags.value);
  request.set_author(FlagValue(args, "by"));
  request.set_reason(FlagValue(args, "reason"));
  kpi::v1::ReviseTargetResponse response;
  RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
    return env.kpi->ReviseTarget(context, request, &response);
  }));
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  *env.out << FormatTargetRevised(response, LookupKpi(env, flags.kpi_id), env.time_zone);
  return absl::OkStatus();
}

absl::Status RunProgress(const Environment& env, const Arguments& args) {
  const std::string synopsis = SynopsisOf("progress");
  kpi::v1::GetProgressRequest request;
  ASSIGN_OR_RETURN(*request.mutable_kpi_id(), RequiredFlag(args, "kpi", synopsis));
  ASSIGN_OR_RETURN(*request.mutable_region_id(), RequiredFlag(args, "region", synopsis));
  ASSIGN_OR_RETURN(std::optional<int> as_of, YearFlag(args, "as_of"));
  if (as_of) request.mutable_as_of()->set_year(*as_of);
  kpi::v1::GetProgressResponse response;
  RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
    return env.kpi->GetProgress(context, request, &response);
  }));
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  *env.out << FormatProgress(response, env.time_zone);
  return absl::OkStatus();
}

absl::Status RunTable(const Environment& env, const Arguments& args) {
  const std::string synopsis = SynopsisOf("table");
  kpi::v1::GetKpiTableRequest request;
  ASSIGN_OR_RETURN(*request.mutable_project_id(), RequiredFlag(args, "project", synopsis));
  ASSIGN_OR_RETURN(std::optional<int> year, YearFlag(args, "year"));
  if (!year) return UsageError(absl::StrCat("--year is required; usage: suishinctl ", synopsis));
  request.mutable_as_of()->set_year(*year);
  request.set_with_municipalities(FlagValue(args, "municipalities") == "true");
  kpi::v1::GetKpiTableResponse response;
  RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
    return env.kpi->GetKpiTable(context, request, &response);
  }));
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  // The heading names the project by its title, which plan-service keeps;
  // should it not answer, by its id.
  plan::v1::GetProjectRequest project_request;
  project_request.set_id(request.project_id());
  plan::v1::GetProjectResponse project;
  const absl::Status found =
      env.plan == nullptr ? absl::UnavailableError("no plan-service")
                          : Invoke(env, [&](grpc::ClientContext* context) {
                              return env.plan->GetProject(context, project_request, &project);
                            });
  *env.out << FormatKpiTable(response, found.ok() ? project.project().title() : "");
  return absl::OkStatus();
}

absl::Status RunHistory(const Environment& env, const Arguments& args) {
  kpi::v1::GetHistoryRequest request;
  ASSIGN_OR_RETURN(*request.mutable_kpi_id(), RequiredFlag(args, "kpi", SynopsisOf("history")));
  request.set_region_id(FlagValue(args, "region"));
  ASSIGN_OR_RETURN(std::optional<int> year, YearFlag(args, "year"));
  if (year) request.mutable_fiscal_year()->set_year(*year);
  ASSIGN_OR_RETURN(std::vector<kpi::v1::Change> changes,
                   ListAll(env, env.kpi, request, kHistoryPageSize,
                           &kpi::v1::KpiService::StubInterface::GetHistory,
                           &kpi::v1::GetHistoryResponse::mutable_changes));
  if (env.json) {
    kpi::v1::GetHistoryResponse response;
    for (kpi::v1::Change& change : changes) *response.add_changes() = std::move(change);
    PrintJson(env, response);
    return absl::OkStatus();
  }
  *env.out << FormatHistory(changes, LookupKpi(env, request.kpi_id()), env.time_zone);
  return absl::OkStatus();
}

absl::Status RunWatch(const Environment& env, const Arguments& args) {
  kpi::v1::WatchChangesRequest request;
  ASSIGN_OR_RETURN(std::optional<int64_t> from, IntegerFlag(args, "from"));
  if (from) {
    if (*from < 0) return UsageError(absl::StrCat("--from: ", *from, " is negative"));
    request.set_from_sequence(*from);
  }
  request.set_kpi_id(FlagValue(args, "kpi"));

  // No deadline: a watch lasts until it is interrupted.
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderInterface<kpi::v1::WatchChangesResponse>> reader =
      env.kpi->WatchChanges(&context, request);
  google::protobuf::util::JsonPrintOptions one_line;
  one_line.add_whitespace = false;
  kpi::v1::WatchChangesResponse response;
  int64_t last = 0;
  while (reader->Read(&response)) {
    const kpi::v1::Change& change = response.change();
    last = change.sequence();
    if (env.json) {
      std::string json;
      (void)google::protobuf::util::MessageToJsonString(change, &json, one_line);
      *env.out << json << "\n";
    } else {
      *env.out << FormatChangeLine(change, env.time_zone);
    }
    env.out->flush();  // Each change as it arrives, also into a pipe.
  }
  const absl::Status status = FromGrpcStatus(reader->Finish());
  if (status.ok()) return status;
  const int64_t resume = last > 0 ? last + 1 : std::max<int64_t>(request.from_sequence(), 1);
  return absl::Status(status.code(),
                      absl::StrCat(status.message(), " (resume with --from ", resume, ")"));
}

}  // namespace suishin::ctl
