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

// How a definition in the file differs from the stored one ("unit: the file
// has \"カ所\", kpi-service has \"人\""), or "" when they agree. Enum fields
// the file leaves unset take the service's defaults and are not compared.
std::string DefinitionDifference(const kpi::v1::Kpi& file, const kpi::v1::Kpi& stored) {
  const auto differs = [](absl::string_view field, const std::string& a, const std::string& b) {
    return absl::StrCat(field, ": the file has \"", a, "\", kpi-service has \"", b, "\"");
  };
  if (file.project_id() != stored.project_id()) {
    return differs("project_id", file.project_id(), stored.project_id());
  }
  if (file.name() != stored.name()) return differs("name", file.name(), stored.name());
  if (file.unit() != stored.unit()) return differs("unit", file.unit(), stored.unit());
  if (file.value_kind() != stored.value_kind()) {
    return differs("value_kind", kpi::v1::ValueKind_Name(file.value_kind()),
                   kpi::v1::ValueKind_Name(stored.value_kind()));
  }
  if (file.direction() != kpi::v1::DIRECTION_UNSPECIFIED &&
      file.direction() != stored.direction()) {
    return differs("direction", kpi::v1::Direction_Name(file.direction()),
                   kpi::v1::Direction_Name(stored.direction()));
  }
  if (file.aggregation() != kpi::v1::AGGREGATION_RULE_UNSPECIFIED &&
      file.aggregation() != stored.aggregation()) {
    return differs("aggregation", kpi::v1::AggregationRule_Name(file.aggregation()),
                   kpi::v1::AggregationRule_Name(stored.aggregation()));
  }
  if (file.progress_method() != kpi::v1::PROGRESS_METHOD_UNSPECIFIED &&
      file.progress_method() != stored.progress_method()) {
    return differs("progress_method", kpi::v1::ProgressMethod_Name(file.progress_method()),
                   kpi::v1::ProgressMethod_Name(stored.progress_method()));
  }
  if (file.area_id() != stored.area_id()) {
    return differs("area_id", file.area_id(), stored.area_id());
  }
  const std::vector<std::string> a(file.region_ids().begin(), file.region_ids().end());
  const std::vector<std::string> b(stored.region_ids().begin(), stored.region_ids().end());
  if (a != b) return differs("region_ids", absl::StrJoin(a, ","), absl::StrJoin(b, ","));
  return "";
}

// What to do with a KPI of the file.
struct KpiPresence {
  bool created = false;
  bool send_rows = false;
};

// Creates the KPI, or finds it already there with the file's definition.
// Its rows are sent when it was created, or when it exists without any
// baseline or target: an earlier import created it but its ImportActuals
// was refused, and that stream is all or nothing.
absl::StatusOr<KpiPresence> EnsureKpi(const Environment& env, const kpi::v1::KpiRecord& record) {
  kpi::v1::CreateKpiRequest create;
  *create.mutable_kpi() = record.kpi();
  kpi::v1::CreateKpiResponse created;
  const absl::Status status = Invoke(env, [&](grpc::ClientContext* context) {
    return env.kpi->CreateKpi(context, create, &created);
  });
  if (status.ok()) return KpiPresence{true, true};
  if (!absl::IsAlreadyExists(status)) return status;

  kpi::v1::GetKpiRequest get;
  get.set_id(record.kpi().id());
  kpi::v1::GetKpiResponse stored;
  const absl::Status found = Invoke(
      env, [&](grpc::ClientContext* context) { return env.kpi->GetKpi(context, get, &stored); });
  if (!found.ok()) return status;  // Not readable after all: report the refusal.
  if (const std::string difference = DefinitionDifference(record.kpi(), stored.kpi());
      !difference.empty()) {
    return absl::AlreadyExistsError(absl::StrCat(
        "kpi \"", record.kpi().id(), "\" already exists with another definition: ", difference));
  }
  return KpiPresence{false, stored.baselines().empty() && stored.targets().empty()};
}

// "import: KPI rows 500/1200" on a terminal's standard error, rewritten in
// place, and erased when done.
class ProgressLine {
 public:
  ProgressLine(const Environment& env, int64_t total) : env_(env), total_(total) {}
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  ~ProgressLine() { Clear(); }

  void Update(int64_t done, absl::string_view kpi_id) {
    if (!env_.progress || total_ == 0 || done == shown_done_) return;
    shown_done_ = done;
    *env_.err << "\r\033[Kimport: KPI rows " << done << "/" << total_ << " (" << kpi_id << ")";
    env_.err->flush();
    shown_ = true;
  }

  void Clear() {
    if (!shown_) return;
    *env_.err << "\r\033[K";
    env_.err->flush();
    shown_ = false;
  }

 private:
  const Environment& env_;
  const int64_t total_;
  int64_t shown_done_ = -1;
  bool shown_ = false;
};

// Sends `rows` in one ImportActuals stream. On a refusal with row errors,
// prints them on env.err.
absl::StatusOr<int64_t> SendRows(const Environment& env, const std::string& kpi_id,
                                 const std::vector<kpi::v1::ImportRow>& rows, int64_t done_before,
                                 ProgressLine& progress) {
  kpi::v1::ImportActualsResponse refused;
  absl::StatusOr<kpi::v1::ImportActualsResponse> response = clients::ImportActuals(
      env, rows, &refused, [&](int64_t sent) { progress.Update(done_before + sent, kpi_id); });
  if (response.ok()) return response->rows_applied();

  progress.Clear();
  if (!refused.errors().empty()) {
    *env.err << FormatRowErrors(refused);
    env.err->flush();
  }
  const absl::Status& error = response.status();
  return absl::Status(error.code(), absl::StrCat("kpi \"", kpi_id, "\": ", error.message()));
}

}  // namespace

absl::Status ImportKpis(const Environment& env, const kpi::v1::KpiDataset& dataset,
                        std::vector<KpiImportResult>* results) {
  if (dataset.kpis().empty()) return absl::OkStatus();
  // Rows are numbered through the file's KPI part, in the order RowsOf gives
  // them, so that "line N" in an error names one row of the file.
  std::vector<std::vector<kpi::v1::ImportRow>> rows;
  int64_t total = 0;
  for (const kpi::v1::KpiRecord& record : dataset.kpis()) {
    rows.push_back(RowsOf(record, total + 1));
    total += static_cast<int64_t>(rows.back().size());
  }
  ProgressLine progress(env, total);
  int64_t done = 0;
  for (int i = 0; i < dataset.kpis_size(); ++i) {
    const kpi::v1::KpiRecord& record = dataset.kpis(i);
    KpiImportResult& result = results->emplace_back();
    result.kpi_id = record.kpi().id();
    result.name = record.kpi().name();
    result.rows = static_cast<int64_t>(rows[i].size());
    absl::StatusOr<KpiPresence> presence = EnsureKpi(env, record);
    if (!presence.ok()) {
      results->pop_back();
      return presence.status();
    }
    result.created = presence->created;
    result.rows_sent = presence->send_rows && !rows[i].empty();
    if (result.rows_sent) {
      ASSIGN_OR_RETURN(result.rows_applied, SendRows(env, result.kpi_id, rows[i], done, progress));
    }
    done += result.rows;
    progress.Update(done, result.kpi_id);
  }
  return absl::OkStatus();
}

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
