// The PlanStore in a PostgreSQL database (common/postgres.h), which several
// plan-service replicas may share.
//
// Every table keeps the serialized message in `data`, the one source of
// truth the store reads back; beside it, the message's fields in typed
// columns (text ids and names, integer fiscal years, enum names, timestamptz
// times) so a reporting tool can query the plan with plain SQL. Those
// columns are rewritten with `data` on every write and never read by the
// service, except the few that lists filter on.
//
// One connection writes (RunGroup: a group is one transaction with a
// savepoint per body). A group first takes a transaction-scoped advisory
// lock of its schema, so the writers of several replicas take turns: the
// catalog's check-then-write bodies see every earlier write, and keys
// become visible in the order they were drawn, which page tokens rely on. A
// pool of connections of its own serves Read on REPEATABLE READ snapshots,
// which never wait for the writer. Thread-safe.
#ifndef SUISHIN_SERVICES_PLAN_POSTGRES_PLAN_STORE_H_
#define SUISHIN_SERVICES_PLAN_POSTGRES_PLAN_STORE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/postgres.h"
#include "services/plan/plan_store.h"

namespace suishin::plan {

class PostgresPlanStore : public PlanStore {
 public:
  // Connects to `url` (postgresql://...; the schema is the first of the
  // connection's search_path), brings the schema up to date and opens
  // `readers` (at least 1) connections for Read. UNAVAILABLE when the
  // server cannot be reached.
  static absl::StatusOr<std::unique_ptr<PostgresPlanStore>> Open(const std::string& url,
                                                                 int readers = 4);

  PostgresPlanStore(const PostgresPlanStore&) = delete;
  PostgresPlanStore& operator=(const PostgresPlanStore&) = delete;

  absl::Status RunGroup(const std::vector<const Body*>& bodies,
                        std::vector<absl::Status>* outcomes) override;
  absl::Status Read(const Body& body) override;

 private:
  PostgresPlanStore(std::unique_ptr<PgConnection> db, std::unique_ptr<PgPool> readers)
      : db_(std::move(db)), readers_(std::move(readers)) {}

  // Held by the writer for a group; only Run from another thread (start-up,
  // tests) ever waits on it.
  absl::Mutex mu_;
  std::unique_ptr<PgConnection> db_ ABSL_GUARDED_BY(mu_);
  const std::unique_ptr<PgPool> readers_;
};

}  // namespace suishin::plan

#endif  // SUISHIN_SERVICES_PLAN_POSTGRES_PLAN_STORE_H_
