#include "services/gateway/gateway_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <google/protobuf/util/json_util.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <sys/socket.h>

#include <deque>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log.h"
#include "services/gateway/exchange_routes.h"
#include "services/gateway/http_status.h"
#include "services/gateway/json_writer.h"
#include "services/gateway/openapi.h"
#include "suishin/kpi/v1/kpi.pb.h"
#include "suishin/notification/v1/notification.pb.h"
#include "suishin/plan/v1/plan.pb.h"

namespace suishin::gateway {
namespace {

using google::protobuf::Message;

// Rows per message of a client stream the gateway splits a body over; well
// under kpi-service's --import_max_rows_per_message.
constexpr int kRowsPerStreamMessage = 1000;
// How long an event stream's first answer is waited for, so that a refusal
// (no token, a bad filter) is answered with its HTTP status, not as an event
// after 200.
constexpr absl::Duration kStreamStartWindow = absl::Milliseconds(250);
// Events read from a service and not yet written to a slow client; the
// service's stream waits (flow control) while this many are queued.
constexpr size_t kMaxQueuedEvents = 1000;

const char kJson[] = "application/json; charset=utf-8";

void SetError(httplib::Response& res, grpc::StatusCode code, absl::string_view message) {
  res.status = HttpStatusOf(code);
  res.set_content(ErrorJson(code, message), kJson);
}

// One server stream being relayed as Server-Sent Events: a thread reads the
// service's stream into `events`, the HTTP server's thread writes them out.
struct EventStream {
  grpc::ClientContext context;
  absl::Mutex mu;
  std::deque<std::string> events ABSL_GUARDED_BY(mu);
  bool done ABSL_GUARDED_BY(mu) = false;
  bool closed ABSL_GUARDED_BY(mu) = false;  // the HTTP side is gone
  grpc::Status status ABSL_GUARDED_BY(mu);
  std::thread reader;
};

// The request messages of a client stream: `request`'s `split_field` rows
// in slices, the other fields on the first message.
std::vector<std::unique_ptr<Message>> SplitStream(const Message& request,
                                                  const std::string& split_field) {
  const google::protobuf::FieldDescriptor* rows =
      request.GetDescriptor()->FindFieldByName(split_field);
  const google::protobuf::Reflection* reflection = request.GetReflection();
  const int count = reflection->FieldSize(request, rows);
  std::vector<std::unique_ptr<Message>> messages;
  for (int start = 0; start == 0 || start < count; start += kRowsPerStreamMessage) {
    std::unique_ptr<Message> message(request.New());
    if (start == 0) {
      message->CopyFrom(request);
      message->GetReflection()->ClearField(message.get(), rows);
    }
    const google::protobuf::Reflection* out = message->GetReflection();
    for (int i = start; i < std::min(count, start + kRowsPerStreamMessage); ++i) {
      out->AddMessage(message.get(), rows)
          ->CopyFrom(reflection->GetRepeatedMessage(request, rows, i));
    }
    messages.push_back(std::move(message));
  }
  return messages;
}

absl::StatusOr<std::unique_ptr<httplib::Server>> MakeServer(const TlsSettings& tls) {
  if (!tls.serves_tls()) return std::make_unique<httplib::Server>();
  BIO* cert_bio = BIO_new_mem_buf(tls.cert.data(), static_cast<int>(tls.cert.size()));
  BIO* key_bio = BIO_new_mem_buf(tls.key.data(), static_cast<int>(tls.key.size()));
  X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  BIO_free(cert_bio);
  BIO_free(key_bio);
  if (cert == nullptr || key == nullptr) {
    X509_free(cert);
    EVP_PKEY_free(key);
    return absl::InvalidArgumentError("--tls_cert or --tls_key holds no PEM certificate or key");
  }
  auto server = std::make_unique<httplib::SSLServer>(cert, key);
  X509_free(cert);  // the server's SSL context keeps its own references
  EVP_PKEY_free(key);
  if (!server->is_valid()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key do not make a TLS server");
  }
  return server;
}

// cpp-httplib 0.11 listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG,
// fixed when Debian built the library): a burst of new connections (a load
// test's start, many clients at once) overflows it, and the clients whose
// connection was dropped wait a second before trying again. Listening again
// on the same socket raises the backlog; the socket is found by its port
// among this process's descriptors (httplib does not expose it).
void RaiseListenBacklog(int port) {
  DIR* fds = opendir("/proc/self/fd");
  if (fds == nullptr) return;
  while (const dirent* entry = readdir(fds)) {
    int fd;
    if (!absl::SimpleAtoi(entry->d_name, &fd) || fd == dirfd(fds)) continue;
    int listening = 0;
    socklen_t length = sizeof(listening);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || !listening) {
      continue;
    }
    sockaddr_storage address{};
    socklen_t address_length = sizeof(address);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_length) != 0) continue;
    const int bound = address.ss_family == AF_INET6
                          ? ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port)
                          : ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
    if (bound == port) ::listen(fd, SOMAXCONN);
  }
  closedir(fds);
}

}  // namespace

std::vector<const google::protobuf::ServiceDescriptor*> SuiteServices() {
  return {plan::v1::GetProjectRequest::descriptor()->file()->FindServiceByName("PlanService"),
          kpi::v1::GetKpiRequest::descriptor()->file()->FindServiceByName("KpiService"),
          notification::v1::GetAlertRequest::descriptor()->file()->FindServiceByName(
              "NotificationService")};
}

class Gateway::Impl {
 public:
  Impl(GatewayOptions options, RouteTable table, std::unique_ptr<httplib::Server> server)
      : options_(std::move(options)),
        table_(std::move(table)),
        backends_(options_.backends, options_.tls.ca),
        stubs_(backends_.channel("suishin.plan.v1.PlanService"),
               backends_.channel("suishin.kpi.v1.KpiService"),
               backends_.channel("suishin.notification.v1.NotificationService")),
        exchange_(&stubs_, options_.call_timeout),
        openapi_(OpenApiJson(table_, ExchangeRoutes::OpenApiPaths())),
        server_(std::move(server)) {}

  absl::Status Start() {
    const size_t colon = options_.listen.rfind(':');
    int port = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(options_.listen.substr(colon + 1), &port)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--gateway_listen: \"", options_.listen, "\" is not host:port"));
    }
    const std::string host = options_.listen.substr(0, colon);
    const int threads = options_.threads;
    server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server_->set_payload_max_length(options_.max_body_bytes);
    server_->set_keep_alive_max_count(100000);
    server_->set_keep_alive_timeout(30);
    server_->set_tcp_nodelay(true);
    Routes();
    if (port == 0) {
      port_ = server_->bind_to_any_port(host);
    } else if (server_->bind_to_port(host, port)) {
      port_ = port;
    }
    if (port_ <= 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen));
    }
    RaiseListenBacklog(port_);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    return absl::OkStatus();
  }

  void Shutdown() {
    {
      absl::MutexLock lock(&streams_mu_);
      if (stopped_) return;
      stopped_ = true;
      for (const auto& stream : streams_) stream->context.TryCancel();
    }
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }

 private:
  void Routes() {
    const auto handle = [this](const httplib::Request& req, httplib::Response& res) {
      Handle(req, res);
    };
    // The file routes first: the RPC routes take every other /v1 path.
    exchange_.Register(*server_);
    server_->Get("/v1/.*", handle);
    server_->Post("/v1/.*", handle);
    server_->Patch("/v1/.*", handle);
    server_->Delete("/v1/.*", handle);
    server_->Put("/v1/.*", handle);
    server_->Get("/openapi.json", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(openapi_, kJson);
    });
    server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"status\":\"SERVING\"}", kJson);
    });
    if (!options_.web_root.empty()) server_->set_mount_point("/", options_.web_root);
    const size_t max_body = options_.max_body_bytes;
    server_->set_error_handler(httplib::Server::HandlerWithResponse(
        [max_body](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          if (res.status == 413) {
            SetError(res, grpc::StatusCode::INVALID_ARGUMENT,
                     absl::StrCat("the request body is over ", max_body,
                                  " bytes (--gateway_max_body_bytes); nothing stored"));
            res.status = 413;
          } else if (res.status == 404) {
            SetError(res, grpc::StatusCode::NOT_FOUND, absl::StrCat("no page ", req.path));
          }
          return httplib::Server::HandlerResponse::Handled;
        }));
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    const RouteMatch match = table_.Match(req.method, req.path);
    if (match.route == nullptr) {
      if (match.method_not_allowed) {
        SetError(res, grpc::StatusCode::UNIMPLEMENTED,
                 absl::StrCat(req.method, " is not served on ", req.path));
        res.status = 405;
      } else {
        SetError(res, grpc::StatusCode::NOT_FOUND,
                 absl::StrCat("no route ", req.method, " ", req.path));
      }
      return;
    }
    const Route& route = *match.route;
    // The query string only: httplib also puts a form-encoded body into
    // req.params, and a body is JSON here.
    httplib::Params params;
    if (const size_t mark = req.target.find('?'); mark != std::string::npos) {
      httplib::detail::parse_query_text(req.target.substr(mark + 1), params);
    }
    std::vector<std::pair<std::string, std::string>> query(params.begin(), params.end());
    absl::StatusOr<std::unique_ptr<Message>> request = BuildRequest(match, query, req.body);
    if (!request.ok()) {
      SetError(res, grpc::StatusCode::INVALID_ARGUMENT, request.status().message());
      return;
    }
    const std::string authorization = req.get_header_value("Authorization");
    if (route.server_streaming()) {
      ServeEvents(route, req, std::move(*request), authorization, res);
      return;
    }
    std::unique_ptr<Message> response(google::protobuf::MessageFactory::generated_factory()
                                          ->GetPrototype(route.method->output_type())
                                          ->New());
    const grpc::Status status =
        route.client_streaming()
            ? backends_.CallClientStream(route,
                                         SplitStream(**request, route.rule.stream_split_field()),
                                         authorization, options_.call_timeout, response.get())
            : backends_.Call(route, **request, authorization, options_.call_timeout,
                             response.get());
    if (!status.ok()) {
      // Details a service sends with a refusal are its answer's message
      // (an import's refused rows, kpi-service).
      std::unique_ptr<Message> detail;
      if (!status.error_details().empty()) {
        detail.reset(response->New());
        if (!detail->ParseFromString(status.error_details())) detail.reset();
      }
      res.status = HttpStatusOf(status.error_code());
      res.set_content(ErrorJson(status.error_code(), status.error_message(), detail.get()), kJson);
      return;
    }
    absl::StatusOr<std::string> json = gateway::ToJson(*response);
    if (!json.ok()) {
      SetError(res, grpc::StatusCode::INTERNAL, json.status().message());
      return;
    }
    res.set_content(*std::move(json), kJson);
  }

  // Relays `route`'s server stream as Server-Sent Events. A Last-Event-ID
  // header resumes after that event.
  void ServeEvents(const Route& route, const httplib::Request& req,
                   std::unique_ptr<Message> request, const std::string& authorization,
                   httplib::Response& res) {
    if (const std::string last = req.get_header_value("Last-Event-ID"); !last.empty()) {
      int64_t id;
      if (!absl::SimpleAtoi(last, &id) || id < 0) {
        SetError(res, grpc::StatusCode::INVALID_ARGUMENT,
                 absl::StrCat("Last-Event-ID: \"", last, "\" is not an event id"));
        return;
      }
      const absl::Status set =
          SetFieldFromText(request.get(), route.rule.resume_field(),
                           absl::StrCat(route.rule.resume_inclusive() ? id + 1 : id));
      if (!set.ok()) {
        SetError(res, grpc::StatusCode::INTERNAL, set.message());
        return;
      }
    }
    auto stream = std::make_shared<EventStream>();
    {
      absl::MutexLock lock(&streams_mu_);
      if (stopped_) {
        SetError(res, grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down");
        return;
      }
      if (streams_.size() >= static_cast<size_t>(options_.max_streams)) {
        SetError(res, grpc::StatusCode::RESOURCE_EXHAUSTED,
                 absl::StrCat(streams_.size(), " event streams are open, the most the gateway ",
                              "keeps (--gateway_max_streams=", options_.max_streams,
                              "); try again later"));
        return;
      }
      streams_.insert(stream);
    }
    stream->reader =
        std::thread([this, &route, stream, request = std::move(request), authorization] {
          const grpc::Status status = backends_.Stream(
              route, *request, authorization, &stream->context, [&](const Message& event) {
                absl::StatusOr<std::string> json = gateway::ToJson(event);
                if (!json.ok()) {
                  json = ErrorJson(grpc::StatusCode::INTERNAL, json.status().message());
                }
                std::string text =
                    absl::StrCat("id: ", FieldText(event, route.rule.event_id_field()),
                                 "\ndata: ", *json, "\n\n");
                absl::MutexLock lock(&stream->mu);
                stream->mu.Await(absl::Condition(
                    +[](EventStream* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) {
                      return s->closed || s->events.size() < kMaxQueuedEvents;
                    },
                    stream.get()));
                if (stream->closed) return false;
                stream->events.push_back(std::move(text));
                return true;
              });
          absl::MutexLock lock(&stream->mu);
          stream->done = true;
          stream->status = status;
        });
    const auto started = +[](EventStream* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) {
      return s->done || !s->events.empty();
    };
    grpc::Status refusal;
    {
      absl::MutexLock lock(&stream->mu);
      stream->mu.AwaitWithTimeout(absl::Condition(started, stream.get()), kStreamStartWindow);
      if (stream->done && stream->events.empty()) refusal = stream->status;
    }
    if (!refusal.ok()) {
      SetError(res, refusal.error_code(), refusal.error_message());
      Release(stream);
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    const absl::Duration keepalive = options_.keepalive;
    res.set_chunked_content_provider(
        "text/event-stream",
        [stream, keepalive](size_t, httplib::DataSink& sink) {
          std::deque<std::string> batch;
          bool done;
          grpc::Status status;
          {
            absl::MutexLock lock(&stream->mu);
            stream->mu.AwaitWithTimeout(absl::Condition(
                                            +[](EventStream* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(
                                                 s->mu) { return s->done || !s->events.empty(); },
                                            stream.get()),
                                        keepalive);
            batch.swap(stream->events);
            done = stream->done;
            status = stream->status;
          }
          for (const std::string& event : batch) {
            if (!sink.write(event.data(), event.size())) return false;
          }
          if (!batch.empty()) return true;
          if (!done) {
            static constexpr char kComment[] = ": keepalive\n\n";
            return sink.write(kComment, sizeof(kComment) - 1);
          }
          if (!status.ok()) {
            const std::string error = absl::StrCat(
                "event: error\ndata: ", ErrorJson(status.error_code(), status.error_message()),
                "\n\n");
            sink.write(error.data(), error.size());
          }
          sink.done();
          return true;
        },
        [this, stream](bool) { Release(stream); });
  }

  // Ends `stream`'s call and thread and forgets it.
  void Release(const std::shared_ptr<EventStream>& stream) {
    {
      absl::MutexLock lock(&stream->mu);
      stream->closed = true;
    }
    stream->context.TryCancel();
    if (stream->reader.joinable()) stream->reader.join();
    absl::MutexLock lock(&streams_mu_);
    streams_.erase(stream);
  }

  const GatewayOptions options_;
  const RouteTable table_;
  const Backends backends_;
  const clients::ServiceStubs stubs_;
  const ExchangeRoutes exchange_;
  const std::string openapi_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  absl::Mutex streams_mu_;
  bool stopped_ ABSL_GUARDED_BY(streams_mu_) = false;
  absl::flat_hash_set<std::shared_ptr<EventStream>> streams_ ABSL_GUARDED_BY(streams_mu_);
};

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(GatewayOptions options) {
  absl::StatusOr<RouteTable> table = RouteTable::ForServices(SuiteServices());
  if (!table.ok()) return table.status();
  absl::StatusOr<std::unique_ptr<httplib::Server>> server = MakeServer(options.tls);
  if (!server.ok()) return server.status();
  auto impl = std::make_unique<Impl>(std::move(options), *std::move(table), *std::move(server));
  if (absl::Status started = impl->Start(); !started.ok()) return started;
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Gateway::~Gateway() { impl_->Shutdown(); }
int Gateway::port() const { return impl_->port(); }
void Gateway::Shutdown() { impl_->Shutdown(); }

}  // namespace suishin::gateway
