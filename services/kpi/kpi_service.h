// The gRPC face of kpi-service.
//
// Write RPCs hand their request to KpiWriter (the one write path) and return
// at once; the writer finishes them after the commit. Read RPCs call
// KpiCatalog, which reads on a reader connection. CreateKpi first asks
// plan-service about the project without blocking (an async client call).
// ImportActuals checks each message's rows as it arrives (ImportBatch) and
// keeps them; when the client half-closes, the whole import is one write.
// No transaction is open while a client is being waited for, an import that
// goes quiet for longer than its idle limit is ended with nothing stored, and
// the number of imports and of WatchChanges streams is bounded.
// WatchChanges replays the change log from a sequence, then follows new
// changes as SequenceFeed announces them (a stream of one KPI wakes only for
// that KPI).
#ifndef SUISHIN_SERVICES_KPI_KPI_SERVICE_H_
#define SUISHIN_SERVICES_KPI_KPI_SERVICE_H_

#include <memory>

#include "absl/time/time.h"
#include "common/limits.h"
#include "common/sequence_feed.h"
#include "services/kpi/import_batch.h"
#include "services/kpi/kpi_catalog.h"
#include "services/kpi/kpi_writer.h"
#include "services/kpi/plan_directory.h"
#include "suishin/kpi/v1/kpi.grpc.pb.h"

namespace suishin::kpi {

// GetProgress, GetAggregate and GetKpiTable are raw methods: their answers go out as the
// bytes the read model keeps (read_model.h), with no message in between.
using KpiServiceBase = v1::KpiService::WithRawCallbackMethod_GetProgress<
    v1::KpiService::WithRawCallbackMethod_GetAggregate<
        v1::KpiService::WithRawCallbackMethod_GetKpiTable<v1::KpiService::CallbackService>>>;

class KpiServiceImpl final : public KpiServiceBase {
 public:
  struct Options {
    ImportBatch::Options import;
    // An import stream with no message for this long is ended, nothing
    // stored (--import_idle_timeout_s).
    absl::Duration import_idle_timeout = absl::Seconds(30);
    // Imports open at once, per client and in all (--import_max_concurrent).
    int max_concurrent_imports = 4;
  };

  // `catalog`, `writer`, `plans` and `feed` must outlive the service.
  KpiServiceImpl(KpiCatalog* catalog, KpiWriter* writer, PlanDirectory* plans, SequenceFeed* feed,
                 Options options);
  ~KpiServiceImpl() override;

  grpc::ServerUnaryReactor* CreateKpi(grpc::CallbackServerContext* context,
                                      const v1::CreateKpiRequest* request,
                                      v1::CreateKpiResponse* response) override;
  grpc::ServerUnaryReactor* GetKpi(grpc::CallbackServerContext* context,
                                   const v1::GetKpiRequest* request,
                                   v1::GetKpiResponse* response) override;
  grpc::ServerUnaryReactor* ListKpis(grpc::CallbackServerContext* context,
                                     const v1::ListKpisRequest* request,
                                     v1::ListKpisResponse* response) override;
  grpc::ServerUnaryReactor* SetBaseline(grpc::CallbackServerContext* context,
                                        const v1::SetBaselineRequest* request,
                                        v1::SetBaselineResponse* response) override;
  grpc::ServerUnaryReactor* ReviseTarget(grpc::CallbackServerContext* context,
                                         const v1::ReviseTargetRequest* request,
                                         v1::ReviseTargetResponse* response) override;
  grpc::ServerUnaryReactor* RecordActual(grpc::CallbackServerContext* context,
                                         const v1::RecordActualRequest* request,
                                         v1::RecordActualResponse* response) override;
  grpc::ServerReadReactor<v1::ImportActualsRequest>* ImportActuals(
      grpc::CallbackServerContext* context, v1::ImportActualsResponse* response) override;
  grpc::ServerUnaryReactor* GetProgress(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetAggregate(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetKpiTable(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetHistory(grpc::CallbackServerContext* context,
                                       const v1::GetHistoryRequest* request,
                                       v1::GetHistoryResponse* response) override;
  grpc::ServerWriteReactor<v1::WatchChangesResponse>* WatchChanges(
      grpc::CallbackServerContext* context, const v1::WatchChangesRequest* request) override;

 private:
  KpiCatalog* catalog_;
  KpiWriter* writer_;
  PlanDirectory* plans_;
  SequenceFeed* feed_;
  const Options options_;
  StreamSlots imports_;
  StreamSlots watches_;
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_KPI_SERVICE_H_
