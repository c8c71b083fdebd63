#include "tools/loadgen/loader.h"

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/channel.h"
#include "common/grpc_status.h"

namespace suishin::loadgen {
namespace {

std::string Counts(const plan::v1::ImportPlanResponse::Counts& counts) {
  return absl::StrFormat("%d created, %d updated, %d unchanged", counts.created(), counts.updated(),
                         counts.unchanged());
}

}  // namespace

absl::Status RpcError(absl::string_view method, const grpc::Status& status) {
  std::string message = absl::StrCat(
      method, ": ", absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())));
  if (!status.error_message().empty()) absl::StrAppend(&message, ": ", status.error_message());
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    absl::StrAppend(&message, " (the server does not implement ", method, " yet)");
  } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    absl::StrAppend(&message, " (is the service running at that address?)");
  }
  return absl::Status(FromGrpcStatus(status).code(), message);
}

absl::Status LoadPlan(plan::v1::PlanService::StubInterface& plan,
                      const plan::v1::PlanDataset& dataset, absl::Duration timeout,
                      std::ostream& out) {
  plan::v1::ImportPlanRequest request;
  *request.mutable_dataset() = dataset;
  plan::v1::ImportPlanResponse response;
  auto context = NewClientContext(timeout);
  grpc::Status status = plan.ImportPlan(context.get(), request, &response);
  if (!status.ok()) return RpcError("ImportPlan", status);
  out << "plan: regions " << Counts(response.regions()) << "; projects "
      << Counts(response.projects()) << std::endl;
  return absl::OkStatus();
}

absl::Status CreateKpis(kpi::v1::KpiService::StubInterface& kpi,
                        const std::vector<kpi::v1::Kpi>& kpis, int threads, absl::Duration timeout,
                        std::ostream& out) {
  std::atomic<size_t> next{0};
  std::mutex mu;  // guards everything below and `out`
  int64_t created = 0;
  int64_t existed = 0;
  absl::Status first_error;
  const int64_t step = kpis.size() >= 1000 ? 500 : 50;
  auto work = [&] {
    for (size_t i = next++; i < kpis.size(); i = next++) {
      kpi::v1::CreateKpiRequest request;
      *request.mutable_kpi() = kpis[i];
      kpi::v1::CreateKpiResponse response;
      auto context = NewClientContext(timeout);
      grpc::Status status = kpi.CreateKpi(context.get(), request, &response);
      std::lock_guard<std::mutex> lock(mu);
      if (status.ok()) {
        ++created;
      } else if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
        ++existed;
      } else {
        if (first_error.ok()) {
          first_error = RpcError("CreateKpi", status);
          first_error = absl::Status(first_error.code(),
                                     absl::StrCat(first_error.message(), "; KPI ", kpis[i].id()));
        }
        next = kpis.size();  // stop every thread
        return;
      }
      const int64_t done = created + existed;
      if (done % step == 0 || done == static_cast<int64_t>(kpis.size())) {
        out << "kpis: " << done << "/" << kpis.size() << " (" << existed << " already there)"
            << std::endl;
      }
    }
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back(work);
  for (std::thread& worker : workers) worker.join();
  return first_error;
}

absl::StatusOr<ImportResult> StreamImport(kpi::v1::KpiService::StubInterface& kpi,
                                          const NextBatch& next, absl::Duration timeout,
                                          const std::function<void(int64_t)>& progress) {
  ImportResult result;
  kpi::v1::ImportActualsResponse response;
  auto context = NewClientContext(timeout);
  const absl::Time start = absl::Now();
  std::unique_ptr<grpc::ClientWriterInterface<kpi::v1::ImportActualsRequest>> writer =
      kpi.ImportActuals(context.get(), &response);
  kpi::v1::ImportActualsRequest request;
  while (true) {
    request.Clear();
    if (!next(request)) break;
    // A failed write means the server has already answered; Finish says how.
    if (!writer->Write(request)) break;
    result.rows_sent += request.rows_size();
    ++result.messages;
    if (progress) progress(result.rows_sent);
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  result.elapsed = absl::Now() - start;
  if (!status.ok()) {
    absl::Status error = RpcError("ImportActuals", status);
    kpi::v1::ImportActualsResponse details;
    if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
      std::string rows = absl::StrCat("; ", details.errors_size(), " bad rows");
      for (int i = 0; i < details.errors_size() && i < 10; ++i) {
        const kpi::v1::RowError& row = details.errors(i);
        absl::StrAppend(&rows, "\n  line ", row.line(), " ", row.field(), ": ", row.message());
      }
      error = absl::Status(error.code(), absl::StrCat(error.message(), rows));
    }
    return error;
  }
  result.rows_applied = response.rows_applied();
  return result;
}

}  // namespace suishin::loadgen
