#include "common/audit.h"

#include <atomic>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/page_token.h"
#include "common/postgres.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"

ABSL_FLAG(std::string, audit_db, "",
          "path of the audit trail's SQLite file (default: the service's database path with "
          "\".audit\" added)");

namespace suishin {
namespace {

using common::v1::AuditRecord;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

const std::vector<Migration>& Schema() {
  static const auto* migrations = new std::vector<Migration>{{1, R"sql(
-- One row per audited call, in the order kept; the record itself in data
-- (a suishin.common.v1.AuditRecord without its id).
CREATE TABLE audit_records (
  id INTEGER PRIMARY KEY,
  principal TEXT NOT NULL,
  method TEXT NOT NULL,
  outcome TEXT NOT NULL,
  data BLOB NOT NULL
);
)sql"}};
  return *migrations;
}

constexpr size_t kMaxTarget = 300;

bool NamesSomething(const FieldDescriptor& field) {
  return field.name() == "id" || absl::EndsWith(field.name(), "_id") ||
         field.name() == "fingerprint";
}

void AppendTarget(const Message& message, const std::string& prefix, int depth, std::string* out) {
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  const google::protobuf::Reflection* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count() && out->size() < kMaxTarget; ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    const std::string name = absl::StrCat(prefix, field->name());
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING && NamesSomething(*field) &&
        !field->is_repeated()) {
      const std::string value = reflection->GetString(message, field);
      if (!value.empty()) absl::StrAppend(out, out->empty() ? "" : " ", name, "=", value);
      continue;
    }
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || depth >= 3) continue;
    if (field->message_type()->full_name() == "suishin.common.v1.FiscalYear") {
      if (field->is_repeated() || !reflection->HasField(message, field)) continue;
      const Message& year = reflection->GetMessage(message, field);
      const FieldDescriptor* value = year.GetDescriptor()->FindFieldByName("year");
      if (value != nullptr && value->cpp_type() == FieldDescriptor::CPPTYPE_INT32) {
        absl::StrAppend(out, out->empty() ? "" : " ", name, "=",
                        year.GetReflection()->GetInt32(year, value));
      }
      continue;
    }
    if (!field->is_repeated()) {
      if (reflection->HasField(message, field)) {
        AppendTarget(reflection->GetMessage(message, field), name + ".", depth + 1, out);
      }
      continue;
    }
    const int count = reflection->FieldSize(message, field);
    if (count == 0) continue;
    absl::StrAppend(out, out->empty() ? "" : " ", name, "=", count);
    AppendTarget(reflection->GetRepeatedMessage(message, field, 0), name + "[0].", depth + 1, out);
  }
}

class AuditInterceptor : public grpc::experimental::Interceptor {
 public:
  AuditInterceptor(grpc::experimental::ServerRpcInfo* info, AuditTrail* trail)
      : info_(info), trail_(trail) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        target_.empty()) {
      if (void* message = methods->GetRecvMessage(); message != nullptr) {
        target_ = AuditTarget(*static_cast<const Message*>(message));
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      AuditRecord record;
      grpc::ServerContextBase* context = info_->server_context();
      record.set_principal(CallerOf(*context).subject);
      record.set_peer(context->peer());
      record.set_method(info_->method());
      record.set_target(target_);
      record.set_outcome(
          absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())));
      record.set_message(status.error_message());
      // The answer goes out once its record is durable.
      trail_->Append(std::move(record), [methods] { methods->Proceed(); });
      return;
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* info_;
  AuditTrail* trail_;
  std::string target_;
};

std::atomic<AuditTrail*> process_trail{nullptr};

}  // namespace

absl::StatusOr<std::unique_ptr<AuditTrail>> AuditTrail::Open(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<Database> writer, Database::Open(path));
  RETURN_IF_ERROR(writer->Migrate(Schema()));
  ASSIGN_OR_RETURN(std::unique_ptr<Database> reader,
                   path == ":memory:" ? absl::StatusOr<std::unique_ptr<Database>>(nullptr)
                                      : Database::Open(path));
  return std::unique_ptr<AuditTrail>(new AuditTrail(std::move(writer), std::move(reader)));
}

AuditTrail::AuditTrail(std::unique_ptr<Database> writer, std::unique_ptr<Database> reader)
    : writer_db_(std::move(writer)),
      reader_db_(std::move(reader)),
      writer_(
          [db = writer_db_.get()](const std::vector<const BatchWriter<Database>::Body*>& bodies,
                                  std::vector<absl::Status>* outcomes) {
            return RunBodiesInGroup(*db, *db, bodies, outcomes);
          },
          [] {
            BatchWriter<Database>::Options options;
            options.name = "audit-writer";
            return options;
          }()) {}

AuditTrail::~AuditTrail() {
  AuditTrail* self = this;
  process_trail.compare_exchange_strong(self, nullptr);
}

absl::StatusOr<std::unique_ptr<AuditTrail>> OpenProcessAuditTrail(const std::string& store_path) {
  const std::string path = AuditPathFor(store_path);
  absl::StatusOr<std::unique_ptr<AuditTrail>> trail = AuditTrail::Open(path);
  if (!trail.ok()) {
    return absl::Status(
        trail.status().code(),
        absl::StrCat("audit trail ", path, " (--audit_db): ", trail.status().message()));
  }
  SetProcessAuditTrail(trail->get());
  return trail;
}

void AuditTrail::Append(AuditRecord record, std::function<void()> durable) {
  if (!record.has_time()) *record.mutable_time() = ToProtoTimestamp(absl::Now());
  auto kept = std::make_shared<AuditRecord>(std::move(record));
  writer_.Submit(
      [kept](Database& db) -> absl::Status {
        ASSIGN_OR_RETURN(Statement * insert,
                         db.Cached("INSERT INTO audit_records (principal, method, outcome, data) "
                                   "VALUES (?1, ?2, ?3, ?4)"));
        insert->BindText(1, kept->principal())
            .BindText(2, kept->method())
            .BindText(3, kept->outcome())
            .BindBlob(4, kept->SerializeAsString());
        return insert->Run();
      },
      [kept, durable = std::move(durable)](absl::Status status) {
        if (!status.ok()) {
          LogError("audit_record_lost", {{"method", kept->method()},
                                         {"principal", kept->principal()},
                                         {"outcome", kept->outcome()},
                                         {"error", std::string(status.message())}});
        }
        if (durable) durable();
      });
}

absl::Status AuditTrail::List(const common::v1::ListAuditRecordsRequest& request,
                              common::v1::ListAuditRecordsResponse* response) {
  ASSIGN_OR_RETURN(const int page_size, EffectivePageSize("page_size", request.page_size()));
  int64_t before = std::numeric_limits<int64_t>::max();
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(before, DecodePageToken("page_token", request.page_token()));
  }
  if (request.principal().size() > 256) {
    return absl::InvalidArgumentError("principal: longer than 256 bytes");
  }
  if (request.method().size() > 256) {
    return absl::InvalidArgumentError("method: longer than 256 bytes");
  }
  const std::string method_suffix = absl::StrCat("/", request.method());
  absl::MutexLock lock(&read_mu_);
  Database* db = reader_db_ != nullptr ? reader_db_.get() : writer_db_.get();
  return db->InReadTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement query,
                     db->Prepare("SELECT id, data FROM audit_records WHERE id < ?1 "
                                 "AND (?2 = '' OR principal = ?2) "
                                 "AND (?3 = '' OR method = ?3 OR substr(method, -length(?4)) = ?4) "
                                 "AND (?5 = 0 OR outcome != 'OK') ORDER BY id DESC LIMIT ?6"));
    query.BindInt(1, before)
        .BindText(2, request.principal())
        .BindText(3, request.method())
        .BindText(4, method_suffix)
        .BindInt(5, request.refused_only() ? 1 : 0)
        .BindInt(6, page_size + 1);
    int64_t last = 0;
    while (true) {
      ASSIGN_OR_RETURN(bool row, query.Step());
      if (!row) break;
      if (response->records_size() == page_size) {
        response->set_next_page_token(EncodePageToken(last));
        break;
      }
      AuditRecord* record = response->add_records();
      if (!record->ParseFromString(query.ColumnBlob(1))) {
        return absl::DataLossError(
            absl::StrCat("audit_records row ", query.ColumnInt(0), " does not parse"));
      }
      last = query.ColumnInt(0);
      record->set_id(last);
    }
    return absl::OkStatus();
  });
}

std::string AuditPathFor(const std::string& store_path) {
  const std::string flag = absl::GetFlag(FLAGS_audit_db);
  if (!flag.empty()) return flag;
  if (store_path == ":memory:") return store_path;
  // Beside a PostgreSQL store: <database name>.audit in the working directory.
  return LocalFileFor(store_path, ".audit");
}

AuditTrail* ProcessAuditTrail() { return process_trail.load(); }
void SetProcessAuditTrail(AuditTrail* trail) { process_trail.store(trail); }

bool IsAuditedMethod(absl::string_view path) {
  const google::protobuf::MethodDescriptor* method = SuiteMethod(path);
  if (method == nullptr || method->options().GetExtension(common::v1::access).any_role()) {
    return false;
  }
  // The writes: an operator's reads (ListWebhooks, GetStatus, this trail)
  // change nothing.
  return !absl::StartsWith(method->name(), "List") && !absl::StartsWith(method->name(), "Get");
}

std::string AuditTarget(const google::protobuf::Message& request) {
  std::string out;
  AppendTarget(request, "", 0, &out);
  if (out.size() > kMaxTarget) {
    size_t cut = kMaxTarget;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    out.resize(cut);
    out += "…";
  }
  return out;
}

grpc::experimental::Interceptor* AuditInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  if (info->method() == nullptr || !IsAuditedMethod(info->method())) return nullptr;
  return new AuditInterceptor(info, trail_);
}

grpc::ServerUnaryReactor* AuditServiceImpl::ListAuditRecords(
    grpc::CallbackServerContext* context, const common::v1::ListAuditRecordsRequest* request,
    common::v1::ListAuditRecordsResponse* response) {
  return FinishUnary(context, trail_->List(*request, response));
}

}  // namespace suishin
