// The audit trail (DESIGN.md §7): a durable record of every call to a
// method that changes something (every method whose access option is not
// any_role, but for an operator's List and Get reads), accepted or refused:
// principal, peer, method, target, time, outcome.
//
// A service opens its AuditTrail (a SQLite file of its own beside its store,
// --audit_db) and makes it the process's (SetProcessAuditTrail) before its
// ServiceHost starts; the host then
//   - records each such call as it ends (AuditInterceptorFactory), and
//     sends the call's answer only once the record is durable, so a write
//     the caller saw accepted or refused is never missing from the trail;
//   - serves suishin.common.v1.AuditService (ListAuditRecords) to operators;
// and the token processor (common/auth.h) records the calls it refuses
// before they reach the service (no token, a bad one, a role lacking).
//
// Records are written by one thread in groups (common/batch_writer.h): many
// calls share a commit. Thread-safe.
#ifndef SUISHIN_COMMON_AUDIT_H_
#define SUISHIN_COMMON_AUDIT_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/batch_writer.h"
#include "common/sqlite.h"
#include "google/protobuf/message.h"
#include "suishin/common/v1/audit.grpc.pb.h"

namespace suishin {

class AuditTrail {
 public:
  // Opens (creating) the trail at `path`.
  static absl::StatusOr<std::unique_ptr<AuditTrail>> Open(const std::string& path);

  AuditTrail(const AuditTrail&) = delete;
  AuditTrail& operator=(const AuditTrail&) = delete;
  // Writes what is queued, then stops.
  ~AuditTrail();

  // Keeps `record` (its id and, when unset, its time are given here), then
  // calls `durable` (may be null) on the writer thread once it is committed,
  // or at once when it cannot be kept (logged: a full queue, a failing
  // disk); the caller goes on either way.
  void Append(common::v1::AuditRecord record, std::function<void()> durable);

  absl::Status List(const common::v1::ListAuditRecordsRequest& request,
                    common::v1::ListAuditRecordsResponse* response);

 private:
  AuditTrail(std::unique_ptr<Database> writer, std::unique_ptr<Database> reader);

  std::unique_ptr<Database> writer_db_;
  absl::Mutex read_mu_;
  std::unique_ptr<Database> reader_db_ ABSL_GUARDED_BY(read_mu_);
  // Last: destroyed first, writing what is queued.
  BatchWriter<Database> writer_;
};

// --audit_db when given, else the service's store path with ".audit" added
// (":memory:" stays in memory); beside a PostgreSQL store, <database
// name>.audit in the working directory (common/postgres.h LocalFileFor).
std::string AuditPathFor(const std::string& store_path);

// Opens the trail at AuditPathFor(`store_path`) and makes it the process's
// until it is destroyed: what a service's main does before it serves.
absl::StatusOr<std::unique_ptr<AuditTrail>> OpenProcessAuditTrail(const std::string& store_path);

// The trail of this process; null when none was set (in-process test
// servers, tools).
AuditTrail* ProcessAuditTrail();
void SetProcessAuditTrail(AuditTrail* trail);

// True when calls to the method at `path` are audited: one of the suite's
// whose access is not any_role, and not a List or Get.
bool IsAuditedMethod(absl::string_view path);

// What a request names, for AuditRecord.target: its id fields (those named
// "id" or "..._id", and fiscal years) down through its messages, the first
// element of a repeated one with the count ("rows=2 rows[0].kpi_id=..."),
// at most 300 bytes.
std::string AuditTarget(const google::protobuf::Message& request);

// Records each audited call of a server as it ends (see the file comment).
class AuditInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit AuditInterceptorFactory(AuditTrail* trail) : trail_(trail) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  AuditTrail* trail_;
};

// ListAuditRecords over `trail`.
class AuditServiceImpl : public common::v1::AuditService::CallbackService {
 public:
  explicit AuditServiceImpl(AuditTrail* trail) : trail_(trail) {}
  grpc::ServerUnaryReactor* ListAuditRecords(
      grpc::CallbackServerContext* context, const common::v1::ListAuditRecordsRequest* request,
      common::v1::ListAuditRecordsResponse* response) override;

 private:
  AuditTrail* trail_;
};

}  // namespace suishin

#endif  // SUISHIN_COMMON_AUDIT_H_
