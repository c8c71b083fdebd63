// The PlanStore in a SQLite file: one table per kind of entity holding the
// serialized message, plus the columns lists filter on.
//
// One connection writes (RunGroup: a group is one transaction with a
// savepoint per body, committed with synchronous=FULL, so one fsync per
// group); a pool of read-only connections of its own serves Read, which in
// WAL mode neither waits for the writer nor holds it up. Thread-safe.
#ifndef SUISHIN_SERVICES_PLAN_SQLITE_PLAN_STORE_H_
#define SUISHIN_SERVICES_PLAN_SQLITE_PLAN_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/sqlite.h"
#include "services/plan/plan_store.h"

namespace suishin::plan {

class SqlitePlanStore : public PlanStore {
 public:
  // Opens or creates the file at `path`, brings its schema up to date and
  // opens `readers` (at least 1) connections for Read. Needs a real file:
  // ":memory:" would give every connection a database of its own.
  static absl::StatusOr<std::unique_ptr<SqlitePlanStore>> Open(const std::string& path,
                                                               int readers = 4);

  SqlitePlanStore(const SqlitePlanStore&) = delete;
  SqlitePlanStore& operator=(const SqlitePlanStore&) = delete;

  absl::Status RunGroup(const std::vector<const Body*>& bodies,
                        std::vector<absl::Status>* outcomes) override;
  absl::Status Read(const Body& body) override;

 private:
  SqlitePlanStore(std::unique_ptr<Database> db, std::unique_ptr<ReaderPool> readers,
                  std::unique_ptr<Checkpointer> checkpointer)
      : db_(std::move(db)), readers_(std::move(readers)), checkpointer_(std::move(checkpointer)) {}

  // Held by the writer for a group; only Run from another thread (start-up,
  // tests) ever waits on it.
  absl::Mutex mu_;
  std::unique_ptr<Database> db_ ABSL_GUARDED_BY(mu_);
  const std::unique_ptr<ReaderPool> readers_;
  // Checkpoints the log off the writer's thread; destroyed before db_.
  const std::unique_ptr<Checkpointer> checkpointer_;
};

}  // namespace suishin::plan

#endif  // SUISHIN_SERVICES_PLAN_SQLITE_PLAN_STORE_H_
