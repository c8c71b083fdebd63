// The KpiStore in a PostgreSQL database, which several kpi-service replicas
// share.
//
// Figures sit in typed columns (numbers as double precision, years as
// integer, times as timestamptz), so SQL or a BI tool can read them; each
// record's message is kept beside them in bytea, as the SQLite store keeps
// it. The change log is kept in runs (change_runs.h), as in SQLite.
//
// The change log with several writers: every write group takes one
// transaction-scoped advisory lock (the log's sequencer) right after BEGIN
// and only then reads the log's last sequence. The lock is held to COMMIT,
// so the next writer, on any replica, reads the last sequence after this
// group is visible: sequences are gapless and become visible in sequence
// order, and a follower reading "after N" never skips one. Writes of the
// whole service are serialised by it; reads are not (MVCC snapshots).
//
// Each write group also NOTIFYs channel suishin_kpi_changes, delivered at
// its commit, so the other replicas' Listen() wakes at once.
//
// Thread-safe: one writer connection under a mutex, a pool for reads.
#ifndef SUISHIN_SERVICES_KPI_POSTGRES_KPI_STORE_H_
#define SUISHIN_SERVICES_KPI_POSTGRES_KPI_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/postgres.h"
#include "services/kpi/kpi_store.h"

namespace suishin::kpi {

class PostgresKpiStore : public KpiStore {
 public:
  // Connects to `url`, brings its schema up to date and opens `readers`
  // connections for Read.
  static absl::StatusOr<std::unique_ptr<PostgresKpiStore>> Open(const std::string& url,
                                                                int readers = 4);

  PostgresKpiStore(const PostgresKpiStore&) = delete;
  PostgresKpiStore& operator=(const PostgresKpiStore&) = delete;
  ~PostgresKpiStore() override;

  absl::Status RunGroup(const std::vector<const Body*>& bodies,
                        std::vector<absl::Status>* outcomes) override;
  absl::Status Read(const Body& body) override;
  absl::StatusOr<int64_t> LogHead() override;
  bool Shared() const override { return true; }
  // LISTEN on the channel every write group NOTIFYs at its commit.
  std::unique_ptr<StoreListener> Listen() override;

  // The next sequence of a write group (internal to the .cc).
  struct ChangeLog;

 private:
  PostgresKpiStore(std::string url, std::unique_ptr<PgConnection> db,
                   std::unique_ptr<PgPool> readers);

  const std::string url_;
  absl::Mutex mu_;
  std::unique_ptr<PgConnection> db_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<ChangeLog> log_ ABSL_GUARDED_BY(mu_);
  const std::unique_ptr<PgPool> readers_;
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_POSTGRES_KPI_STORE_H_
