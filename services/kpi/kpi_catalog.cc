#include "services/kpi/kpi_catalog.h"

#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/page_token.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "common/validation.h"

namespace suishin::kpi {
namespace {

constexpr size_t kMaxNameChars = 200;
constexpr size_t kMaxUnitChars = 20;

std::string Indexed(absl::string_view field, int index) {
  return absl::StrCat(field, "[", index, "]");
}

template <typename Enum>
absl::Status RequireEnum(absl::string_view field, Enum value, bool (*is_valid)(int),
                         absl::string_view allowed) {
  if (!is_valid(value) || value == 0) {
    return FieldError(field, absl::StrCat(value), absl::StrCat("must be ", allowed));
  }
  return absl::OkStatus();
}

}  // namespace

KpiCatalog::KpiCatalog(KpiStore* store, std::function<absl::Time()> now)
    : store_(store), now_(std::move(now)) {}

absl::StatusOr<v1::Kpi> KpiCatalog::PrepareKpi(const v1::CreateKpiRequest& request) const {
  v1::Kpi kpi = request.kpi();
  RETURN_IF_ERROR(ValidateId("kpi.id", kpi.id()));
  RETURN_IF_ERROR(ValidateId("kpi.project_id", kpi.project_id()));
  RETURN_IF_ERROR(ValidateText("kpi.name", kpi.name(), kMaxNameChars));
  RETURN_IF_ERROR(ValidateText("kpi.unit", kpi.unit(), kMaxUnitChars));
  RETURN_IF_ERROR(RequireEnum("kpi.value_kind", kpi.value_kind(), v1::ValueKind_IsValid,
                              "COUNT, PERCENT or AMOUNT"));
  if (kpi.direction() == v1::DIRECTION_UNSPECIFIED) kpi.set_direction(v1::DIRECTION_INCREASE);
  RETURN_IF_ERROR(
      RequireEnum("kpi.direction", kpi.direction(), v1::Direction_IsValid, "INCREASE or DECREASE"));
  if (kpi.aggregation() == v1::AGGREGATION_RULE_UNSPECIFIED) {
    kpi.set_aggregation(kpi.value_kind() == v1::VALUE_KIND_PERCENT ? v1::AGGREGATION_RULE_REPORTED
                                                                   : v1::AGGREGATION_RULE_SUM);
  }
  RETURN_IF_ERROR(RequireEnum("kpi.aggregation", kpi.aggregation(), v1::AggregationRule_IsValid,
                              "SUM, RATIO or REPORTED"));
  if (kpi.value_kind() == v1::VALUE_KIND_PERCENT && kpi.aggregation() == v1::AGGREGATION_RULE_SUM) {
    return FieldError("kpi.aggregation", "AGGREGATION_RULE_SUM",
                      "cannot add up percentages; use RATIO or REPORTED");
  }
  if (kpi.progress_method() == v1::PROGRESS_METHOD_UNSPECIFIED) {
    kpi.set_progress_method(kpi.direction() == v1::DIRECTION_DECREASE
                                ? v1::PROGRESS_METHOD_GAP_CLOSURE
                                : v1::PROGRESS_METHOD_ACHIEVEMENT);
  }
  RETURN_IF_ERROR(RequireEnum("kpi.progress_method", kpi.progress_method(),
                              v1::ProgressMethod_IsValid, "ACHIEVEMENT or GAP_CLOSURE"));
  if (!kpi.area_id().empty()) RETURN_IF_ERROR(ValidateId("kpi.area_id", kpi.area_id()));
  if (kpi.region_ids().empty()) {
    return FieldError("kpi.region_ids", "", "must list the regions tracked, the area first");
  }
  std::set<std::string> seen;
  for (int i = 0; i < kpi.region_ids_size(); ++i) {
    RETURN_IF_ERROR(ValidateId(Indexed("kpi.region_ids", i), kpi.region_ids(i)));
    if (!seen.insert(kpi.region_ids(i)).second) {
      return FieldError(Indexed("kpi.region_ids", i), kpi.region_ids(i), "is listed twice");
    }
  }
  return kpi;
}

absl::Status KpiCatalog::CreateKpi(v1::Kpi kpi, const ProjectScope& scope,
                                   v1::CreateKpiResponse* response) {
  const std::string& area_id = scope.project.area_id();
  if (kpi.area_id().empty()) kpi.set_area_id(area_id);
  if (kpi.area_id() != area_id) {
    return FieldError(
        "kpi.area_id", kpi.area_id(),
        absl::StrCat("must be the area of project \"", scope.project.id(), "\" (", area_id, ")"));
  }
  std::set<std::string> in_area;
  for (const plan::v1::Region& region : scope.regions) in_area.insert(region.id());
  for (int i = 0; i < kpi.region_ids_size(); ++i) {
    if (!in_area.count(kpi.region_ids(i))) {
      return FieldError(Indexed("kpi.region_ids", i), kpi.region_ids(i),
                        absl::StrCat("is not a region of area \"", area_id, "\" (has ",
                                     absl::StrJoin(in_area, ", "), ")"));
    }
  }
  if (kpi.region_ids(0) != area_id) {
    return FieldError("kpi.region_ids[0]", kpi.region_ids(0),
                      absl::StrCat("must be the area \"", area_id, "\" itself"));
  }
  kpi.set_version(1);
  *kpi.mutable_create_time() = ToProtoTimestamp(now_());
  RETURN_IF_ERROR(store_->Run([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<v1::Kpi> existing, tx.FindKpi(kpi.id()));
    if (existing) {
      return absl::AlreadyExistsError(
          absl::StrCat("kpi.id: KPI \"", kpi.id(), "\" already exists"));
    }
    return tx.PutKpi(kpi);
  }));
  *response->mutable_kpi() = std::move(kpi);
  return absl::OkStatus();
}

absl::Status KpiCatalog::GetKpi(const v1::GetKpiRequest& request, v1::GetKpiResponse* response) {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  return store_->Run([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<v1::Kpi> kpi, tx.FindKpi(request.id()));
    if (!kpi) return absl::NotFoundError(absl::StrCat("id: KPI \"", request.id(), "\" not found"));
    *response->mutable_kpi() = *std::move(kpi);
    return absl::OkStatus();
  });
}

absl::Status KpiCatalog::ListKpis(const v1::ListKpisRequest& request,
                                  v1::ListKpisResponse* response) {
  if (!request.project_id().empty())
    RETURN_IF_ERROR(ValidateId("project_id", request.project_id()));
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(int64_t after, DecodePageToken("page_token", request.page_token()));
  return store_->Run([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(auto page, tx.ListKpis(request.project_id(), after, page_size + 1));
    for (int i = 0; i < static_cast<int>(page.size()) && i < page_size; ++i) {
      *response->add_kpis() = page[i].kpi;
    }
    if (static_cast<int>(page.size()) > page_size) {
      response->set_next_page_token(EncodePageToken(page[page_size - 1].key));
    }
    return absl::OkStatus();
  });
}

}  // namespace suishin::kpi
