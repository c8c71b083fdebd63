// The KpiStore in a SQLite file.
#ifndef SUISHIN_SERVICES_KPI_SQLITE_KPI_STORE_H_
#define SUISHIN_SERVICES_KPI_SQLITE_KPI_STORE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/sqlite.h"
#include "services/kpi/kpi_store.h"

namespace suishin::kpi {

class SqliteKpiStore : public KpiStore {
 public:
  // Opens or creates the file at `path` and brings its schema up to date.
  static absl::StatusOr<std::unique_ptr<SqliteKpiStore>> Open(const std::string& path);

  SqliteKpiStore(const SqliteKpiStore&) = delete;
  SqliteKpiStore& operator=(const SqliteKpiStore&) = delete;

  absl::Status Run(const std::function<absl::Status(KpiTransaction&)>& body) override;
  // On a second connection: WAL lets it read while the first one writes.
  absl::Status Read(const std::function<absl::Status(KpiTransaction&)>& body) override;

 private:
  SqliteKpiStore(std::unique_ptr<Database> db, std::unique_ptr<Database> reader)
      : db_(std::move(db)), reader_(std::move(reader)) {}

  absl::Mutex mu_;
  std::unique_ptr<Database> db_ ABSL_GUARDED_BY(mu_);
  absl::Mutex read_mu_;
  std::unique_ptr<Database> reader_ ABSL_GUARDED_BY(read_mu_);
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_SQLITE_KPI_STORE_H_
