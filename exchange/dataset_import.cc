#include "exchange/dataset_import.h"

#include <google/protobuf/util/json_util.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/import_actuals.h"
#include "common/status_macros.h"
#include "exchange/dataset_rows.h"

namespace suishin::exchange {
namespace {

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
absl::StatusOr<KpiPresence> EnsureKpi(const clients::Services& services,
                                      const kpi::v1::KpiRecord& record) {
  kpi::v1::CreateKpiRequest create;
  *create.mutable_kpi() = record.kpi();
  kpi::v1::CreateKpiResponse created;
  const absl::Status status = clients::Invoke(services, [&](grpc::ClientContext* context) {
    return services.kpi->CreateKpi(context, create, &created);
  });
  if (status.ok()) return KpiPresence{true, true};
  if (!absl::IsAlreadyExists(status)) return status;

  kpi::v1::GetKpiRequest get;
  get.set_id(record.kpi().id());
  kpi::v1::GetKpiResponse stored;
  const absl::Status found = clients::Invoke(services, [&](grpc::ClientContext* context) {
    return services.kpi->GetKpi(context, get, &stored);
  });
  if (!found.ok()) return status;  // Not readable after all: report the refusal.
  if (const std::string difference = DefinitionDifference(record.kpi(), stored.kpi());
      !difference.empty()) {
    return absl::AlreadyExistsError(absl::StrCat(
        "kpi \"", record.kpi().id(), "\" already exists with another definition: ", difference));
  }
  return KpiPresence{false, stored.baselines().empty() && stored.targets().empty()};
}

}  // namespace

absl::Status ImportKpis(const clients::Services& services, const kpi::v1::KpiDataset& dataset,
                        std::vector<KpiImportResult>* results,
                        kpi::v1::ImportActualsResponse* refused, const KpiRowsProgress& progress) {
  if (dataset.kpis().empty()) return absl::OkStatus();
  // Rows are numbered through the file's KPI part, in the order RowsOf gives
  // them, so that "line N" in an error names one row of the file.
  std::vector<std::vector<kpi::v1::ImportRow>> rows;
  int64_t total = 0;
  for (const kpi::v1::KpiRecord& record : dataset.kpis()) {
    rows.push_back(RowsOf(record, total + 1));
    total += static_cast<int64_t>(rows.back().size());
  }
  int64_t done = 0;
  for (int i = 0; i < dataset.kpis_size(); ++i) {
    const kpi::v1::KpiRecord& record = dataset.kpis(i);
    KpiImportResult& result = results->emplace_back();
    result.kpi_id = record.kpi().id();
    result.name = record.kpi().name();
    result.rows = static_cast<int64_t>(rows[i].size());
    absl::StatusOr<KpiPresence> presence = EnsureKpi(services, record);
    if (!presence.ok()) {
      results->pop_back();
      return presence.status();
    }
    result.created = presence->created;
    result.rows_sent = presence->send_rows && !rows[i].empty();
    if (result.rows_sent) {
      kpi::v1::ImportActualsResponse refusal;
      absl::StatusOr<kpi::v1::ImportActualsResponse> response =
          clients::ImportActuals(services, rows[i], &refusal, [&](int64_t sent) {
            if (progress) progress(done + sent, total, result.kpi_id);
          });
      if (!response.ok()) {
        if (refused != nullptr) *refused = std::move(refusal);
        const absl::Status& error = response.status();
        return absl::Status(error.code(),
                            absl::StrCat("kpi \"", result.kpi_id, "\": ", error.message()));
      }
      result.rows_applied = response->rows_applied();
    }
    done += result.rows;
    if (progress) progress(done, total, result.kpi_id);
  }
  return absl::OkStatus();
}

absl::Status ImportDataset(const clients::Services& services, const dataset::v1::Dataset& dataset,
                           plan::v1::ImportPlanResponse* plan,
                           std::vector<KpiImportResult>* results,
                           kpi::v1::ImportActualsResponse* refused,
                           const KpiRowsProgress& progress) {
  plan::v1::ImportPlanRequest request;
  *request.mutable_dataset() = dataset.plan();
  RETURN_IF_ERROR(clients::Invoke(services, [&](grpc::ClientContext* context) {
    return services.plan->ImportPlan(context, request, plan);
  }));
  return ImportKpis(services, dataset.kpi(), results, refused, progress);
}

google::protobuf::Struct ImportSummaryJson(const plan::v1::ImportPlanResponse& plan,
                                           const std::vector<KpiImportResult>& results) {
  google::protobuf::Struct json;
  auto& fields = *json.mutable_fields();
  std::string plan_json;
  (void)google::protobuf::util::MessageToJsonString(plan, &plan_json);
  (void)google::protobuf::util::JsonStringToMessage(plan_json,
                                                    fields["plan"].mutable_struct_value());
  auto* kpis =
      (*fields["kpi"].mutable_struct_value()->mutable_fields())["kpis"].mutable_list_value();
  for (const KpiImportResult& result : results) {
    auto& entry = *kpis->add_values()->mutable_struct_value()->mutable_fields();
    entry["id"].set_string_value(result.kpi_id);
    entry["name"].set_string_value(result.name);
    entry["result"].set_string_value(result.created ? "created" : "present");
    entry["rows"].set_number_value(static_cast<double>(result.rows));
    entry["rowsApplied"].set_number_value(static_cast<double>(result.rows_applied));
  }
  return json;
}

}  // namespace suishin::exchange
