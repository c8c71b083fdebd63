// The KpiStore in a SQLite file.
#ifndef SUISHIN_SERVICES_KPI_SQLITE_KPI_STORE_H_
#define SUISHIN_SERVICES_KPI_SQLITE_KPI_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/sqlite.h"
#include "services/kpi/kpi_store.h"

namespace suishin::kpi {

// Thread-safe. The writer's connection serves RunGroup; reads go to a small
// pool of reader connections (WAL), so they never wait for a write; the log
// is checkpointed on a thread of its own.
class SqliteKpiStore : public KpiStore {
 public:
  // Opens or creates the file at `path` and brings its schema up to date.
  static absl::StatusOr<std::unique_ptr<SqliteKpiStore>> Open(const std::string& path);

  SqliteKpiStore(const SqliteKpiStore&) = delete;
  SqliteKpiStore& operator=(const SqliteKpiStore&) = delete;
  ~SqliteKpiStore() override;

  absl::Status RunGroup(const std::vector<const Body*>& bodies,
                        std::vector<absl::Status>* outcomes) override;
  absl::Status Read(const Body& body) override;

  // The writer's next sequence (internal to the .cc).
  struct ChangeLog;

 private:
  // Reader connections: enough for gRPC's threads to read side by side.
  static constexpr int kReaders = 4;

  SqliteKpiStore(std::unique_ptr<Database> db, std::unique_ptr<ReaderPool> readers);

  absl::Mutex mu_;
  std::unique_ptr<Database> db_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<ChangeLog> log_ ABSL_GUARDED_BY(mu_);
  // Checkpoints the log off the writer's thread.
  std::unique_ptr<Checkpointer> checkpointer_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<ReaderPool> readers_;
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_SQLITE_KPI_STORE_H_
