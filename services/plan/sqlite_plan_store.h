// The PlanStore in a SQLite file: one table per kind of entity holding the
// serialized message, plus the columns lists filter on.
#ifndef SUISHIN_SERVICES_PLAN_SQLITE_PLAN_STORE_H_
#define SUISHIN_SERVICES_PLAN_SQLITE_PLAN_STORE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/sqlite.h"
#include "services/plan/plan_store.h"

namespace suishin::plan {

class SqlitePlanStore : public PlanStore {
 public:
  // Opens or creates the file at `path` and brings its schema up to date.
  static absl::StatusOr<std::unique_ptr<SqlitePlanStore>> Open(const std::string& path);

  SqlitePlanStore(const SqlitePlanStore&) = delete;
  SqlitePlanStore& operator=(const SqlitePlanStore&) = delete;

  absl::Status Run(const std::function<absl::Status(PlanTransaction&)>& body) override;

 private:
  explicit SqlitePlanStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}

  absl::Mutex mu_;
  std::unique_ptr<Database> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace suishin::plan

#endif  // SUISHIN_SERVICES_PLAN_SQLITE_PLAN_STORE_H_
