// The deployment files of deploy/ (the Dockerfile, compose.yaml, the
// Kubernetes base and overlay, Prometheus and Grafana), checked by reading
// them: containers cannot run where the tests run. What is checked is what
// would otherwise fail only on a cluster: every file parses; every image is
// the one the Dockerfile builds (or PostgreSQL 15 and Redis 7, and in
// compose's monitoring profile Prometheus and Grafana); every port is the one
// the process's listen flag sets, every address leads to the service it
// names; every workload has probes (gRPC ones on the gRPC port) and resource
// requests and limits; the NetworkPolicies allow exactly the arrows of the
// architecture; autoscalers, disruption budgets and kustomizations name what
// exists; every flag and SUISHIN_<FLAG> is one the binary accepts (its --help
// lists it); the dashboard queries only the services' metrics.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace suishin {
namespace {

namespace fs = std::filesystem;
using testing::ReadWholeFile;
using testing::RunToCompletion;
using testing::TempDir;

// ---- The suite as the files must describe it ----

// A process of the suite: its binary (under the build tree), the flag it
// listens with and on which port, and its metrics port (--metrics_listen).
struct Component {
  const char* name;
  const char* binary_path;  // under PROJECT_BINARY_DIR
  const char* listen_flag;
  int port;
  int metrics_port;
  const char* db_flag;  // "" for the gateway (no store)
  int health_port;      // --health_listen, what the kubelet's grpc probes call (0: none)
};

constexpr Component kComponents[] = {
    {"plan-service", "services/plan/plan-service", "plan_listen", 50061, 9461, "plan_db", 9471},
    {"kpi-service", "services/kpi/kpi-service", "kpi_listen", 50062, 9462, "kpi_db", 9472},
    {"notification-service", "services/notification/notification-service", "notification_listen",
     50063, 9463, "notification_db", 9473},
    {"gateway", "services/gateway/gateway", "gateway_listen", 8080, 9464, "", 0},
};
constexpr char kSuishinctl[] = "suishinctl";
constexpr char kSuishinctlPath[] = "tools/suishinctl/suishinctl";
constexpr int kPostgresPort = 5432;
constexpr int kRedisPort = 6379;

const Component* FindComponent(absl::string_view name) {
  for (const Component& component : kComponents) {
    if (name == component.name) return &component;
  }
  return nullptr;
}

bool IsGrpcService(absl::string_view name) {
  return FindComponent(name) != nullptr && name != "gateway";
}

// What each process must be told, beyond its listen and metrics flags.
const std::map<std::string, std::vector<std::string>>& RequiredFlags() {
  static const auto* flags = new std::map<std::string, std::vector<std::string>>{
      {"plan-service", {"plan_db", "tls_cert", "tls_key", "tls_ca", "auth_keys", "audit_db"}},
      {"kpi-service",
       {"kpi_db", "plan_address", "redis_url", "tls_server_name", "tls_cert", "tls_key", "tls_ca",
        "auth_keys", "audit_db"}},
      {"notification-service",
       {"notification_db", "kpi_address", "redis_url", "webhook_secret_key_file", "tls_server_name",
        "tls_cert", "tls_key", "tls_ca", "auth_keys", "audit_db"}},
      {"gateway",
       {"plan_address", "kpi_address", "notification_address", "tls_cert", "tls_key", "tls_ca"}},
  };
  return *flags;
}

// The flags that name another process, and which.
const std::map<std::string, std::string>& AddressFlags() {
  static const auto* flags = new std::map<std::string, std::string>{
      {"plan_address", "plan-service"},
      {"kpi_address", "kpi-service"},
      {"notification_address", "notification-service"},
      {"redis_url", "redis"},
      {"plan_db", "postgres"},
      {"kpi_db", "postgres"},
      {"notification_db", "postgres"},
  };
  return *flags;
}

int PortOf(absl::string_view target) {
  if (target == "redis") return kRedisPort;
  if (target == "postgres") return kPostgresPort;
  const Component* component = FindComponent(target);
  return component == nullptr ? -1 : component->port;
}

// The metrics the services export (issue 12); histograms with their series.
const std::set<std::string>& MetricBaseNames() {
  static const auto* names = new std::set<std::string>{
      "suishin_grpc_server_handled_total",
      "suishin_grpc_server_handling_seconds",
      "suishin_cache_requests_total",
      "suishin_change_log_head",
      "suishin_follower_evaluated_through",
      "suishin_follower_lag_changes",
      "suishin_outbox_depth",
      "suishin_dead_letters",
      "suishin_webhook_delivery_seconds",
      "suishin_leader",
      "suishin_store_connections",
  };
  return *names;
}
bool IsHistogram(absl::string_view name) {
  return name == "suishin_grpc_server_handling_seconds" ||
         name == "suishin_webhook_delivery_seconds";
}
// The base name of a series name ("..._seconds_bucket" → "..._seconds"); "" when unknown.
std::string MetricOf(absl::string_view series) {
  if (MetricBaseNames().count(std::string(series)) > 0 && !IsHistogram(series)) {
    return std::string(series);
  }
  for (absl::string_view suffix : {"_bucket", "_sum", "_count"}) {
    absl::string_view base = series;
    if (absl::ConsumeSuffix(&base, suffix) && IsHistogram(base)) return std::string(base);
  }
  return "";
}
// Label names the metrics carry, and those Prometheus adds.
const std::set<std::string>& KnownLabels() {
  static const auto* labels = new std::set<std::string>{
      "method", "code", "result", "outcome", "state", "le", "job", "instance", "pod", "namespace"};
  return *labels;
}

// ---- Files ----

fs::path SourceDir() { return fs::path(SUISHIN_SOURCE_DIR); }
fs::path DeployDir() { return SourceDir() / "deploy"; }
std::string Relative(const fs::path& path) {
  return fs::relative(path, SourceDir()).generic_string();
}

std::string ReadOrFail(const fs::path& path) {
  auto text = ReadWholeFile(path.string());
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

// ---- YAML helpers (yaml-cpp's Node assignment rebinds shared trees; these never assign) ----

bool Has(const YAML::Node& node) { return node.IsDefined() && !node.IsNull(); }

YAML::Node At(const YAML::Node& node, const std::vector<std::string>& keys, size_t i = 0) {
  if (i == keys.size()) return node;
  if (!Has(node) || !node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node child = node[keys[i]];
  if (!child.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
  return At(child, keys, i + 1);
}

std::string Str(const YAML::Node& node) {
  return Has(node) && node.IsScalar() ? node.Scalar() : "";
}

int Int(const YAML::Node& node) {
  int value = -1;
  return absl::SimpleAtoi(Str(node), &value) ? value : -1;
}

std::vector<YAML::Node> Items(const YAML::Node& node) {
  std::vector<YAML::Node> items;
  if (!Has(node) || !node.IsSequence()) return items;
  for (YAML::const_iterator it = node.begin(); it != node.end(); ++it) items.push_back(*it);
  return items;
}

std::vector<std::pair<std::string, YAML::Node>> Entries(const YAML::Node& node) {
  std::vector<std::pair<std::string, YAML::Node>> entries;
  if (!Has(node) || !node.IsMap()) return entries;
  for (YAML::const_iterator it = node.begin(); it != node.end(); ++it) {
    entries.emplace_back(it->first.as<std::string>(), it->second);
  }
  return entries;
}

std::map<std::string, std::string> StringMap(const YAML::Node& node) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : Entries(node)) out[key] = Str(value);
  return out;
}

std::vector<std::string> Strings(const YAML::Node& node) {
  std::vector<std::string> out;
  if (Has(node) && node.IsScalar()) out.push_back(node.Scalar());
  for (const YAML::Node& item : Items(node)) out.push_back(Str(item));
  return out;
}

// Every document of a YAML file; empty (with a failure) when it does not parse.
std::vector<YAML::Node> LoadAll(const fs::path& path) {
  try {
    std::vector<YAML::Node> documents;
    for (const YAML::Node& document : YAML::LoadAllFromFile(path.string())) {
      if (Has(document)) documents.push_back(document);
    }
    return documents;
  } catch (const YAML::Exception& error) {
    ADD_FAILURE() << Relative(path) << ": " << error.what();
    return {};
  }
}

YAML::Node Load(const fs::path& path) {
  std::vector<YAML::Node> documents = LoadAll(path);
  EXPECT_EQ(documents.size(), 1u) << Relative(path);
  return documents.empty() ? YAML::Node(YAML::NodeType::Undefined) : documents.front();
}

YAML::Node LoadString(const std::string& text, const std::string& where) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& error) {
    ADD_FAILURE() << where << ": " << error.what();
    return YAML::Node(YAML::NodeType::Undefined);
  }
}

// ---- The binaries' flags ----

class Binaries {
 public:
  static Binaries& Get() {
    static Binaries* const binaries = new Binaries();
    return *binaries;
  }

  // Whether `binary` (a component's name or suishinctl) accepts --`flag`:
  // its --help lists it (suishinctl's lists only its own, so it is asked
  // whether it knows the flag).
  bool Accepts(const std::string& binary, const std::string& flag) {
    if (binary == kSuishinctl) return SuishinctlAccepts(flag);
    return absl::StrContains(Help(binary), absl::StrCat("--", flag, " ("));
  }

  const std::string& Help(const std::string& binary) {
    auto found = help_.find(binary);
    if (found != help_.end()) return found->second;
    const Component* component = FindComponent(binary);
    std::string text;
    if (component == nullptr) {
      ADD_FAILURE() << "no binary named " << binary;
    } else {
      auto run = RunToCompletion({Path(component->binary_path), "--help"}, {}, dir_->path(),
                                 absl::Seconds(20));
      EXPECT_TRUE(run.ok()) << binary << ": " << run.status();
      if (run.ok()) text = run->out + run->err;
      EXPECT_TRUE(absl::StrContains(text, absl::StrCat("--", component->listen_flag, " (")))
          << binary << " --help lists no --" << component->listen_flag << ":\n"
          << text;
    }
    return help_[binary] = text;
  }

 private:
  Binaries() {
    auto dir = TempDir::Create("deploy-files");
    EXPECT_TRUE(dir.ok()) << dir.status();
    if (dir.ok()) dir_ = std::make_unique<TempDir>(*std::move(dir));
  }

  static std::string Path(const char* relative) {
    return (fs::path(SUISHIN_BINARY_DIR) / relative).string();
  }

  bool SuishinctlAccepts(const std::string& flag) {
    auto found = suishinctl_.find(flag);
    if (found != suishinctl_.end()) return found->second;
    // An unknown flag is a usage error naming it, before anything else.
    auto run = RunToCompletion({Path(kSuishinctlPath), absl::StrCat("--", flag, "="), "help"}, {},
                               dir_->path(), absl::Seconds(20));
    EXPECT_TRUE(run.ok()) << "suishinctl: " << run.status();
    const bool accepted =
        run.ok() && !absl::StrContains(run->err, absl::StrCat("unknown flag --", flag));
    return suishinctl_[flag] = accepted;
  }

  std::unique_ptr<TempDir> dir_;
  std::map<std::string, std::string> help_;
  std::map<std::string, bool> suishinctl_;
};

// ---- The Dockerfile ----

struct Instruction {
  std::string op;  // upper case: FROM, RUN, COPY, USER, ...
  std::string rest;
};

// The Dockerfile's stages, each a list of instructions (continuations joined).
std::vector<std::vector<Instruction>> DockerfileStages() {
  const std::string text = ReadOrFail(DeployDir() / "docker/Dockerfile");
  std::vector<std::vector<Instruction>> stages;
  std::string pending;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    const bool continues = absl::ConsumeSuffix(&line, "\\");
    absl::StrAppend(&pending, pending.empty() ? "" : " ", line);
    if (continues) continue;
    std::vector<std::string> words = absl::StrSplit(pending, absl::MaxSplits(' ', 1));
    Instruction instruction{absl::AsciiStrToUpper(words[0]), words.size() > 1 ? words[1] : ""};
    if (instruction.op == "FROM") stages.emplace_back();
    if (!stages.empty()) stages.back().push_back(std::move(instruction));
    pending.clear();
  }
  return stages;
}

// The name of the image the Dockerfile builds (its org.opencontainers.image.title label).
std::string ImageName() {
  static const std::string* const name = [] {
    const std::regex title(R"re(org\.opencontainers\.image\.title="([^"]+)")re");
    for (const auto& stage : DockerfileStages()) {
      for (const Instruction& instruction : stage) {
        std::smatch match;
        if (instruction.op == "LABEL" && std::regex_search(instruction.rest, match, title)) {
          return new std::string(match[1].str());
        }
      }
    }
    return new std::string();
  }();
  return *name;
}

// The repository of an image reference, without registry path, tag or digest:
// "registry.example.org/suishin/suishin:1.0" → "suishin".
std::string Repository(absl::string_view image) {
  image = image.substr(0, image.find('@'));
  const size_t slash = image.rfind('/');
  absl::string_view last = slash == absl::string_view::npos ? image : image.substr(slash + 1);
  return std::string(last.substr(0, last.find(':')));
}

bool IsSuiteImage(absl::string_view image) {
  return !ImageName().empty() && Repository(image) == ImageName();
}

// The packages an `apt-get install` of these RUN instructions installs.
std::vector<std::string> AptPackages(const std::vector<Instruction>& stage) {
  std::vector<std::string> packages;
  for (const Instruction& instruction : stage) {
    if (instruction.op != "RUN") continue;
    for (absl::string_view command : absl::StrSplit(instruction.rest, "&&")) {
      std::vector<std::string> words =
          absl::StrSplit(command, absl::ByAnyChar(" \t"), absl::SkipEmpty());
      auto install = std::find(words.begin(), words.end(), "install");
      if (install == words.end() || std::find(words.begin(), install, "apt-get") == install) {
        continue;
      }
      for (auto it = install + 1; it != words.end(); ++it) {
        if (!absl::StartsWith(*it, "-")) packages.push_back(*it);
      }
    }
  }
  return packages;
}

// The PACKAGES=( ... ) list of ./suishin.
std::set<std::string> SuishinPackages() {
  const std::string text = ReadOrFail(SourceDir() / "suishin");
  const size_t start = text.find("PACKAGES=(");
  if (start == std::string::npos) return {};
  const size_t end = text.find(')', start);
  std::set<std::string> packages;
  for (absl::string_view line : absl::StrSplit(text.substr(start + 10, end - start - 10), '\n')) {
    line = line.substr(0, line.find('#'));
    for (absl::string_view word : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
      packages.insert(std::string(word));
    }
  }
  return packages;
}

// ---- Processes: what each container of the suite's image runs ----

struct Process {
  std::string where;              // file and service or workload, for messages
  std::string binary;             // a component's name or suishinctl
  std::string service;            // the compose service or workload it belongs to
  std::vector<std::string> args;  // after the binary
  // Environment: literal values, or "secret:NAME/KEY" for a Kubernetes secretKeyRef.
  std::map<std::string, std::string> env;
  bool health_check = false;  // a compose health check (suishinctl health)
  bool kubernetes = false;
  YAML::Node node;  // the compose service, or the Kubernetes container
  YAML::Node pod;   // Kubernetes: the pod spec
};

// --name's value, from the arguments (the last) or else SUISHIN_<NAME>.
std::optional<std::string> FlagValue(const Process& process, const std::string& name) {
  std::optional<std::string> value;
  const std::string prefix = absl::StrCat("--", name, "=");
  for (const std::string& arg : process.args) {
    if (absl::StartsWith(arg, prefix)) value = arg.substr(prefix.size());
  }
  if (value) return value;
  auto env = process.env.find(absl::StrCat("SUISHIN_", absl::AsciiStrToUpper(name)));
  if (env != process.env.end()) return env->second;
  return std::nullopt;
}

// "host:port" → port (-1 when there is none).
int PortOfAddress(absl::string_view address) {
  const size_t colon = address.rfind(':');
  int port = -1;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return -1;
  }
  return port;
}

struct Endpoint {
  std::string host;
  int port = -1;
};

// An address flag's host and port: host:port, dns:///host:port, or a
// postgresql:// or redis:// URL.
std::optional<Endpoint> ParseEndpoint(absl::string_view value) {
  static const std::regex url(R"re(^(postgresql|redis)://(?:[^@/]*@)?([^:/@]+):(\d+)(/.*)?$)re");
  std::smatch match;
  const std::string text(value);
  if (std::regex_match(text, match, url))
    return Endpoint{match[2].str(), std::stoi(match[3].str())};
  absl::ConsumePrefix(&value, "dns:///");
  const size_t colon = value.rfind(':');
  if (colon == absl::string_view::npos || absl::StrContains(value, "/")) return std::nullopt;
  const int port = PortOfAddress(value);
  if (port < 0) return std::nullopt;
  return Endpoint{std::string(value.substr(0, colon)), port};
}

// The database a postgresql:// URL names.
std::string DatabaseOf(const std::string& url) {
  static const std::regex database(R"re(^postgresql://[^/]*/([^?/]+))re");
  std::smatch match;
  return std::regex_search(url, match, database) ? match[1].str() : "";
}

// compose: a list ("K=V") or a map.
std::map<std::string, std::string> ComposeEnvironment(const YAML::Node& node) {
  std::map<std::string, std::string> env = StringMap(node);
  for (const std::string& item : Strings(node)) {
    const size_t equals = item.find('=');
    env[item.substr(0, equals)] = equals == std::string::npos ? "" : item.substr(equals + 1);
  }
  return env;
}

// ---- compose.yaml ----

const YAML::Node& Compose() {
  static const YAML::Node* const compose = new YAML::Node(Load(DeployDir() / "compose.yaml"));
  return *compose;
}

std::vector<std::pair<std::string, YAML::Node>> ComposeServices() {
  return Entries(Compose()["services"]);
}

std::vector<Process> ComposeProcesses() {
  std::vector<Process> processes;
  for (const auto& [name, service] : ComposeServices()) {
    if (!IsSuiteImage(Str(service["image"]))) continue;
    std::vector<std::string> words = Strings(service["entrypoint"]);
    for (const std::string& word : Strings(service["command"])) words.push_back(word);
    Process process;
    process.where = absl::StrCat("deploy/compose.yaml: service ", name);
    process.service = name;
    process.node = service;
    process.env = ComposeEnvironment(service["environment"]);
    if (words.empty()) {
      ADD_FAILURE() << process.where << " names no binary (the image has no entry point)";
      continue;
    }
    process.binary = words[0];
    process.args.assign(words.begin() + 1, words.end());
    processes.push_back(process);
    const std::vector<std::string> test = Strings(At(service, {"healthcheck", "test"}));
    if (test.size() >= 2 && test[0] == "CMD" && test[1] == kSuishinctl) {
      Process check;
      check.where = absl::StrCat(process.where, " (healthcheck)");
      check.service = name;
      check.binary = kSuishinctl;
      check.args.assign(test.begin() + 2, test.end());
      check.health_check = true;
      check.node = service;
      processes.push_back(check);
    }
  }
  return processes;
}

// ---- Kubernetes ----

struct Resource {
  std::string file;  // relative to the repository
  YAML::Node node;
  std::string kind() const { return Str(node["kind"]); }
  std::string name() const { return Str(At(node, {"metadata", "name"})); }
};

fs::path BaseDir() { return DeployDir() / "k8s/base"; }
fs::path ProductionDir() { return DeployDir() / "k8s/overlays/production"; }

// The documents of every YAML file in `folder` but kustomization.yaml.
std::vector<Resource> ResourcesIn(const fs::path& folder) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name != "kustomization.yaml" &&
        (absl::EndsWith(name, ".yaml") || absl::EndsWith(name, ".yml"))) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<Resource> resources;
  for (const fs::path& file : files) {
    for (const YAML::Node& document : LoadAll(file)) {
      resources.push_back({Relative(file), document});
    }
  }
  return resources;
}

const std::vector<Resource>& Base() {
  static const auto* base = new std::vector<Resource>(ResourcesIn(BaseDir()));
  return *base;
}

std::vector<Resource> OfKind(const std::string& kind) {
  std::vector<Resource> out;
  for (const Resource& resource : Base()) {
    if (resource.kind() == kind) out.push_back(resource);
  }
  return out;
}

std::optional<Resource> Find(const std::string& kind, const std::string& name) {
  for (const Resource& resource : Base()) {
    if (resource.kind() == kind && resource.name() == name) return resource;
  }
  return std::nullopt;
}

bool IsWorkload(const std::string& kind) { return kind == "Deployment" || kind == "StatefulSet"; }

std::vector<Resource> Workloads() {
  std::vector<Resource> out;
  for (const Resource& resource : Base()) {
    if (IsWorkload(resource.kind())) out.push_back(resource);
  }
  return out;
}

const YAML::Node PodSpec(const Resource& workload) {
  return At(workload.node, {"spec", "template", "spec"});
}

std::map<std::string, std::string> PodLabels(const Resource& workload) {
  return StringMap(At(workload.node, {"spec", "template", "metadata", "labels"}));
}

bool Selects(const std::map<std::string, std::string>& selector,
             const std::map<std::string, std::string>& labels) {
  if (selector.empty()) return false;
  for (const auto& [key, value] : selector) {
    auto found = labels.find(key);
    if (found == labels.end() || found->second != value) return false;
  }
  return true;
}

// The workloads whose pods `selector` selects.
std::vector<Resource> Selected(const std::map<std::string, std::string>& selector) {
  std::vector<Resource> out;
  for (const Resource& workload : Workloads()) {
    if (Selects(selector, PodLabels(workload))) out.push_back(workload);
  }
  return out;
}

// A container port by name or number → its number (-1 when the workload has none).
int ContainerPort(const Resource& workload, const std::string& port) {
  for (const YAML::Node& container : Items(PodSpec(workload)["containers"])) {
    for (const YAML::Node& declared : Items(container["ports"])) {
      if (Str(declared["name"]) == port || Str(declared["containerPort"]) == port) {
        return Int(declared["containerPort"]);
      }
    }
  }
  return -1;
}

std::vector<Process> KubernetesProcesses() {
  std::vector<Process> processes;
  for (const Resource& workload : Workloads()) {
    const YAML::Node pod = PodSpec(workload);
    for (const YAML::Node& container : Items(pod["containers"])) {
      if (!IsSuiteImage(Str(container["image"]))) continue;
      Process process;
      process.where = absl::StrCat(workload.file, ": ", workload.kind(), " ", workload.name(),
                                   ", container ", Str(container["name"]));
      process.service = workload.name();
      process.kubernetes = true;
      process.node = container;
      process.pod = pod;
      std::vector<std::string> words = Strings(container["command"]);
      for (const std::string& word : Strings(container["args"])) words.push_back(word);
      if (words.empty()) {
        ADD_FAILURE() << process.where << " names no binary (the image has no entry point)";
        continue;
      }
      process.binary = fs::path(words[0]).filename().string();
      process.args.assign(words.begin() + 1, words.end());
      for (const YAML::Node& variable : Items(container["env"])) {
        const YAML::Node secret = At(variable, {"valueFrom", "secretKeyRef"});
        process.env[Str(variable["name"])] =
            Has(secret) ? absl::StrCat("secret:", Str(secret["name"]), "/", Str(secret["key"]))
                        : Str(variable["value"]);
      }
      EXPECT_FALSE(Has(container["envFrom"]))
          << process.where << ": envFrom hides which flags are set; name each variable";
      processes.push_back(process);
    }
  }
  return processes;
}

std::vector<Process> AllProcesses() {
  std::vector<Process> processes = ComposeProcesses();
  for (Process& process : KubernetesProcesses()) processes.push_back(std::move(process));
  return processes;
}

// The Kubernetes Service `host` and its port `port` → the workload and the
// container port they lead to.
std::optional<std::pair<std::string, int>> ResolveService(const std::string& host, int port) {
  std::optional<Resource> service = Find("Service", host);
  if (!service) return std::nullopt;
  const std::vector<Resource> selected =
      Selected(StringMap(At(service->node, {"spec", "selector"})));
  if (selected.size() != 1) return std::nullopt;
  for (const YAML::Node& declared : Items(At(service->node, {"spec", "ports"}))) {
    if (Int(declared["port"]) != port) continue;
    const std::string target =
        Has(declared["targetPort"]) ? Str(declared["targetPort"]) : Str(declared["port"]);
    return std::make_pair(selected[0].name(), ContainerPort(selected[0], target));
  }
  return std::nullopt;
}

// ---- Tests ----

TEST(DeployFilesTest, EveryYamlFileAndTheDashboardParse) {
  int files = 0;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(DeployDir())) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file()) continue;
    if (absl::EndsWith(name, ".yaml") || absl::EndsWith(name, ".yml")) {
      EXPECT_FALSE(LoadAll(entry.path()).empty()) << Relative(entry.path()) << " is empty";
      ++files;
    }
  }
  EXPECT_GE(files, 15);
  // YAML is a superset of JSON: the dashboard parses as a map.
  const YAML::Node dashboard = Load(DeployDir() / "grafana/suishin-dashboard.json");
  ASSERT_TRUE(Has(dashboard) && dashboard.IsMap());
  EXPECT_FALSE(Items(dashboard["panels"]).empty());
  // The Prometheus configuration inside the ConfigMap parses too.
  std::optional<Resource> config = Find("ConfigMap", "prometheus-suishin");
  ASSERT_TRUE(config.has_value());
  EXPECT_TRUE(Has(LoadString(Str(At(config->node, {"data", "prometheus.yml"})),
                             "prometheus-suishin: prometheus.yml")));
}

TEST(DeployFilesTest, TheDockerfileBuildsOnDebian12AndRunsTheBinariesAsAUser) {
  const std::vector<std::vector<Instruction>> stages = DockerfileStages();
  ASSERT_GE(stages.size(), 2u);
  const std::vector<Instruction>& build = stages.front();
  const std::vector<Instruction>& runtime = stages.back();
  std::vector<std::string> from = absl::StrSplit(build[0].rest, ' ', absl::SkipEmpty());
  ASSERT_EQ(from.size(), 3u) << build[0].rest;
  EXPECT_EQ(from[0], "debian:12");
  EXPECT_EQ(absl::AsciiStrToUpper(from[1]), "AS");
  const std::string builder = from[2];
  EXPECT_TRUE(absl::StartsWith(runtime[0].rest, "debian:12-slim")) << runtime[0].rest;

  // The builder: packages of ./suishin's list, a Release build with cmake.
  const std::set<std::string> listed = SuishinPackages();
  ASSERT_FALSE(listed.empty()) << "no PACKAGES=( ... ) in ./suishin";
  const std::vector<std::string> build_packages = AptPackages(build);
  for (const char* needed : {"g++", "cmake", "libgrpc++-dev", "libpq-dev", "libjwt-dev"}) {
    EXPECT_NE(std::find(build_packages.begin(), build_packages.end(), needed), build_packages.end())
        << needed;
  }
  for (const std::string& package : build_packages) {
    EXPECT_TRUE(listed.count(package) > 0) << "the Dockerfile's builder installs " << package
                                           << ", which ./suishin's PACKAGES does not list";
  }
  bool release = false;
  for (const Instruction& instruction : build) {
    release = release || (instruction.op == "RUN" && absl::StrContains(instruction.rest, "cmake") &&
                          absl::StrContains(instruction.rest, "-DCMAKE_BUILD_TYPE=Release"));
  }
  EXPECT_TRUE(release) << "no cmake -DCMAKE_BUILD_TYPE=Release in the builder";

  // The runtime: libraries only, the binaries from the builder, a user.
  for (const std::string& package : AptPackages(runtime)) {
    EXPECT_FALSE(absl::EndsWith(package, "-dev")) << "the runtime image installs " << package;
  }
  std::set<std::string> copied;
  std::string user;
  for (const Instruction& instruction : runtime) {
    if (instruction.op == "USER") user = instruction.rest;
    if (instruction.op != "COPY" ||
        !absl::StartsWith(instruction.rest, absl::StrCat("--from=", builder, " "))) {
      continue;
    }
    std::vector<std::string> words = absl::StrSplit(instruction.rest, ' ', absl::SkipEmpty());
    const std::string destination = words.back();
    for (size_t i = 1; i + 1 < words.size(); ++i) {
      const std::string binary = fs::path(words[i]).filename().string();
      if (absl::StartsWith(destination, "/usr/local/bin/")) copied.insert(binary);
    }
  }
  for (const Component& component : kComponents) {
    EXPECT_TRUE(copied.count(component.name) > 0) << component.name << " is not copied";
  }
  EXPECT_TRUE(copied.count(kSuishinctl) > 0) << "suishinctl is not copied";
  const std::string user_name = user.substr(0, user.find(':'));
  EXPECT_FALSE(user_name.empty()) << "the runtime stage has no USER: it would run as root";
  EXPECT_NE(user_name, "root");
  EXPECT_NE(user_name, "0");
  EXPECT_EQ(ImageName(), "suishin") << "the image's org.opencontainers.image.title label";

  // Its environment names flags a binary has.
  for (const Instruction& instruction : runtime) {
    if (instruction.op != "ENV" || !absl::StartsWith(instruction.rest, "SUISHIN_")) continue;
    const std::string flag =
        absl::AsciiStrToLower(instruction.rest.substr(8, instruction.rest.find_first_of("= ") - 8));
    bool accepted = false;
    for (const Component& component : kComponents) {
      accepted = accepted || Binaries::Get().Accepts(component.name, flag);
    }
    EXPECT_TRUE(accepted) << "Dockerfile: ENV " << instruction.rest << ": no binary accepts --"
                          << flag;
  }
}

TEST(DeployFilesTest, EveryImageIsTheSuitesOrAnAllowedThirdPartyOne) {
  ASSERT_FALSE(ImageName().empty());
  // compose: the suite's services are built by the Dockerfile.
  const std::map<std::string, std::string> third_party = {
      {"postgres", "postgres:15"},
      {"redis", "redis:7"},
      {"prometheus", "prom/prometheus:"},
      {"grafana", "grafana/grafana:"},
  };
  int suite = 0;
  for (const auto& [name, service] : ComposeServices()) {
    const std::string image = Str(service["image"]);
    if (IsSuiteImage(image)) {
      ++suite;
      const YAML::Node build = service["build"];
      if (Has(build)) {
        EXPECT_EQ(Str(build["dockerfile"]), "deploy/docker/Dockerfile") << name;
        EXPECT_EQ(fs::weakly_canonical(DeployDir() / Str(build["context"])),
                  fs::weakly_canonical(SourceDir()))
            << name;
      }
      continue;
    }
    auto allowed = third_party.find(name);
    ASSERT_NE(allowed, third_party.end())
        << "compose service " << name << " runs " << image << ", not " << ImageName();
    EXPECT_TRUE(absl::StartsWith(image, allowed->second)) << name << ": " << image;
    if (name == "prometheus" || name == "grafana") {
      EXPECT_EQ(Strings(service["profiles"]), std::vector<std::string>{"monitoring"}) << name;
    }
  }
  EXPECT_GE(suite, 5);
  // Kubernetes: the suite's image, PostgreSQL 15 and Redis 7.
  for (const Resource& workload : Workloads()) {
    for (const YAML::Node& container : Items(PodSpec(workload)["containers"])) {
      const std::string image = Str(container["image"]);
      const bool allowed =
          IsSuiteImage(image) ||
          (workload.name() == "postgres" && absl::StartsWith(image, "postgres:15")) ||
          (workload.name() == "redis" && absl::StartsWith(image, "redis:7"));
      EXPECT_TRUE(allowed) << workload.file << ": " << workload.name() << " runs " << image;
      if (FindComponent(workload.name()) != nullptr) {
        EXPECT_TRUE(IsSuiteImage(image)) << workload.name();
      }
    }
  }
  // The overlay only moves the suite's image to a registry and a tag.
  const YAML::Node overlay = Load(ProductionDir() / "kustomization.yaml");
  for (const YAML::Node& image : Items(overlay["images"])) {
    EXPECT_EQ(Str(image["name"]), ImageName());
    if (Has(image["newName"])) {
      EXPECT_EQ(Repository(Str(image["newName"])), ImageName());
    }
  }
}

TEST(DeployFilesTest, ComposeRunsTheSuiteOnOneHost) {
  std::map<std::string, YAML::Node> services;
  for (const auto& [name, service] : ComposeServices()) services.emplace(name, service);
  const std::map<std::string, int> replicas = {
      {"plan-service", 1}, {"kpi-service", 2}, {"notification-service", 2}, {"gateway", 1}};
  for (const auto& [name, count] : replicas) {
    ASSERT_TRUE(services.count(name) > 0) << name;
    const YAML::Node declared = At(services.at(name), {"deploy", "replicas"});
    EXPECT_EQ(Has(declared) ? Int(declared) : 1, count) << name;
  }
  ASSERT_TRUE(services.count("postgres") > 0);
  ASSERT_TRUE(services.count("redis") > 0);
  // The init script that makes the databases is mounted where the image runs it.
  bool init = false;
  for (const std::string& volume : Strings(At(services.at("postgres"), {"volumes"}))) {
    std::vector<std::string> parts = absl::StrSplit(volume, ':');
    if (parts.size() >= 2 && absl::StartsWith(parts[1], "/docker-entrypoint-initdb.d/")) {
      init = true;
      EXPECT_TRUE(fs::exists(DeployDir() / parts[0])) << volume;
    }
  }
  EXPECT_TRUE(init) << "postgres runs no init script";

  const YAML::Node secrets = Compose()["secrets"];
  for (const auto& [name, service] : services) {
    // Every service that runs by default is checked for health; what it
    // waits for exists.
    if (!Has(service["profiles"])) {
      EXPECT_TRUE(Has(At(service, {"healthcheck", "test"}))) << name << " has no healthcheck";
    }
    for (const auto& [dependency, condition] : Entries(service["depends_on"])) {
      EXPECT_TRUE(services.count(dependency) > 0) << name << " depends on " << dependency;
    }
    for (const std::string& secret : Strings(service["secrets"])) {
      EXPECT_TRUE(Has(At(secrets, {secret}))) << name << " uses the undeclared secret " << secret;
    }
  }
  for (const auto& [name, secret] : Entries(secrets)) {
    EXPECT_TRUE(absl::StartsWith(Str(secret["file"]), "./compose/pki/")) << name;
  }
  // Each service's store is its own PostgreSQL database.
  std::set<std::string> databases;
  for (const Process& process : ComposeProcesses()) {
    const Component* component = FindComponent(process.binary);
    if (process.health_check || component == nullptr || *component->db_flag == '\0') continue;
    const std::string url = FlagValue(process, component->db_flag).value_or("");
    EXPECT_TRUE(absl::StartsWith(url, "postgresql://")) << process.where << ": " << url;
    EXPECT_TRUE(databases.insert(DatabaseOf(url)).second) << process.where << ": " << url;
  }
  EXPECT_EQ(databases.size(), 3u);
}

TEST(DeployFilesTest, EveryPortIsTheOneTheListenFlagsSet) {
  for (const Process& process : AllProcesses()) {
    const Component* component = FindComponent(process.binary);
    if (component == nullptr || process.health_check) continue;
    SCOPED_TRACE(process.where);
    EXPECT_EQ(process.service, component->name) << "runs " << process.binary;
    const std::string listen = FlagValue(process, component->listen_flag).value_or("");
    EXPECT_EQ(listen, absl::StrCat("0.0.0.0:", component->port)) << "--" << component->listen_flag;
    EXPECT_EQ(FlagValue(process, "metrics_listen").value_or(""),
              absl::StrCat("0.0.0.0:", component->metrics_port));
    std::set<int> served = {component->port, component->metrics_port};
    if (process.kubernetes && component->health_port != 0) {
      // The plaintext health port the kubelet's grpc probes call.
      EXPECT_EQ(FlagValue(process, "health_listen").value_or(""),
                absl::StrCat("0.0.0.0:", component->health_port));
      served.insert(component->health_port);
    }
    if (process.kubernetes) {
      std::set<int> declared;
      std::map<std::string, int> named;
      for (const YAML::Node& port : Items(process.node["ports"])) {
        declared.insert(Int(port["containerPort"]));
        named[Str(port["name"])] = Int(port["containerPort"]);
      }
      EXPECT_EQ(declared, served);
      EXPECT_EQ(named["metrics"], component->metrics_port);
    } else {
      for (const std::string& mapping : Strings(process.node["ports"])) {
        EXPECT_TRUE(served.count(PortOfAddress(mapping)) > 0) << "publishes " << mapping;
      }
      for (const std::string& port : Strings(process.node["expose"])) {
        EXPECT_TRUE(served.count(std::stoi(port)) > 0) << "exposes " << port;
      }
    }
  }
  // Services lead to a workload's declared port, and headless ones exist for
  // gRPC balancing.
  for (const Resource& service : OfKind("Service")) {
    SCOPED_TRACE(absl::StrCat(service.file, ": Service ", service.name()));
    const std::vector<Resource> selected =
        Selected(StringMap(At(service.node, {"spec", "selector"})));
    ASSERT_EQ(selected.size(), 1u) << "selects no single workload";
    for (const YAML::Node& port : Items(At(service.node, {"spec", "ports"}))) {
      const std::string target =
          Has(port["targetPort"]) ? Str(port["targetPort"]) : Str(port["port"]);
      const int container_port = ContainerPort(selected[0], target);
      EXPECT_GT(container_port, 0)
          << "targetPort " << target << " is not a port of " << selected[0].name();
      EXPECT_EQ(Int(port["port"]), container_port);
    }
  }
  for (const Component& component : kComponents) {
    EXPECT_TRUE(Find("Deployment", component.name).has_value()) << component.name;
    EXPECT_TRUE(ResolveService(component.name, component.port).has_value()) << component.name;
    if (!IsGrpcService(component.name)) continue;
    const std::string headless = absl::StrCat(component.name, "-headless");
    std::optional<Resource> service = Find("Service", headless);
    ASSERT_TRUE(service.has_value()) << headless;
    EXPECT_EQ(Str(At(service->node, {"spec", "clusterIP"})), "None") << headless;
    auto resolved = ResolveService(headless, component.port);
    ASSERT_TRUE(resolved.has_value()) << headless;
    EXPECT_EQ(resolved->first, component.name);
    EXPECT_EQ(resolved->second, component.port);
  }
}

TEST(DeployFilesTest, EveryAddressLeadsToTheServiceItNames) {
  std::set<std::string> compose_services;
  for (const auto& [name, service] : ComposeServices()) compose_services.insert(name);
  for (const Process& process : AllProcesses()) {
    SCOPED_TRACE(process.where);
    const Component* self = FindComponent(process.service);
    for (const auto& [flag, target] : AddressFlags()) {
      const std::optional<std::string> value = FlagValue(process, flag);
      if (!value) continue;
      if (process.health_check) {
        // suishinctl health, asked about this container's own server.
        ASSERT_NE(self, nullptr);
        EXPECT_EQ(*value, absl::StrCat("127.0.0.1:", self->port)) << "--" << flag;
        continue;
      }
      if (target == "postgres") {
        EXPECT_TRUE(absl::StartsWith(*value, "postgresql://") ||
                    absl::StartsWith(*value, "secret:"))
            << "--" << flag << " is not a postgresql:// URL: " << *value;
      }
      if (absl::StartsWith(*value, "secret:")) continue;  // checked with the Secrets
      const std::optional<Endpoint> endpoint = ParseEndpoint(*value);
      ASSERT_TRUE(endpoint.has_value()) << "--" << flag << "=" << *value;
      if (process.kubernetes) {
        auto resolved = ResolveService(endpoint->host, endpoint->port);
        ASSERT_TRUE(resolved.has_value())
            << "--" << flag << "=" << *value << ": no Service port leads anywhere";
        EXPECT_EQ(resolved->first, target) << "--" << flag << "=" << *value;
        EXPECT_EQ(resolved->second, PortOf(target)) << "--" << flag << "=" << *value;
      } else {
        EXPECT_EQ(endpoint->host, target) << "--" << flag << "=" << *value;
        EXPECT_TRUE(compose_services.count(endpoint->host) > 0) << *value;
        EXPECT_EQ(endpoint->port, PortOf(target)) << "--" << flag << "=" << *value;
      }
    }
    // What each process must be told is told.
    auto required = RequiredFlags().find(process.binary);
    if (required == RequiredFlags().end() || process.health_check) continue;
    for (const std::string& flag : required->second) {
      EXPECT_TRUE(FlagValue(process, flag).has_value()) << "sets no --" << flag;
    }
  }
  // Kubernetes stores come from the Secret of database URLs, one database each.
  std::optional<Resource> urls = Find("Secret", "suishin-database-urls");
  ASSERT_TRUE(urls.has_value());
  std::set<std::string> databases;
  for (const auto& [key, url] : StringMap(At(urls->node, {"stringData"}))) {
    const std::optional<Endpoint> endpoint = ParseEndpoint(url);
    ASSERT_TRUE(endpoint.has_value()) << key << ": " << url;
    auto resolved = ResolveService(endpoint->host, endpoint->port);
    ASSERT_TRUE(resolved.has_value()) << key << ": " << url;
    EXPECT_EQ(resolved->first, "postgres") << key;
    EXPECT_EQ(resolved->second, kPostgresPort) << key;
    EXPECT_TRUE(databases.insert(DatabaseOf(url)).second) << key << ": " << url;
  }
  EXPECT_EQ(databases.size(), 3u);
}

TEST(DeployFilesTest, EveryWorkloadHasProbesAndResources) {
  ASSERT_FALSE(Workloads().empty());
  for (const Resource& workload : Workloads()) {
    for (const YAML::Node& container : Items(PodSpec(workload)["containers"])) {
      SCOPED_TRACE(absl::StrCat(workload.file, ": ", workload.name(), ", container ",
                                Str(container["name"])));
      EXPECT_TRUE(Has(container["readinessProbe"])) << "no readinessProbe";
      EXPECT_TRUE(Has(container["livenessProbe"])) << "no livenessProbe";
      for (const char* bound : {"requests", "limits"}) {
        for (const char* resource : {"cpu", "memory"}) {
          EXPECT_TRUE(Has(At(container, {"resources", bound, resource})))
              << "no resources." << bound << "." << resource;
        }
      }
    }
  }
  for (const Process& process : KubernetesProcesses()) {
    SCOPED_TRACE(process.where);
    const Component* component = FindComponent(process.binary);
    ASSERT_NE(component, nullptr);
    const int port = PortOfAddress(FlagValue(process, component->listen_flag).value_or(""));
    for (const char* probe : {"readinessProbe", "livenessProbe"}) {
      if (IsGrpcService(component->name)) {
        // The standard gRPC health check, on the plaintext port that serves
        // it alone (--health_listen): the kubelet's probe speaks no TLS.
        EXPECT_EQ(Int(At(process.node, {probe, "grpc", "port"})), component->health_port) << probe;
        EXPECT_EQ(FlagValue(process, "health_listen").value_or(""),
                  absl::StrCat("0.0.0.0:", component->health_port));
      } else {
        EXPECT_EQ(Int(At(process.node, {probe, "httpGet", "port"})), port) << probe;
        EXPECT_EQ(Str(At(process.node, {probe, "httpGet", "path"})), "/healthz") << probe;
        EXPECT_EQ(Str(At(process.node, {probe, "httpGet", "scheme"})),
                  FlagValue(process, "tls_cert") ? "HTTPS" : "HTTP")
            << probe;
      }
    }
    EXPECT_EQ(Str(At(process.pod, {"securityContext", "runAsNonRoot"})), "true");
    EXPECT_EQ(Str(At(process.node, {"securityContext", "allowPrivilegeEscalation"})), "false");
  }
}

// An edge of the service graph as the NetworkPolicies allow it.
std::string Edge(const std::string& from, const std::string& to, int port,
                 const std::string& protocol = "TCP") {
  return absl::StrCat(from, " -> ", to, ":", port == 0 ? std::string("*") : absl::StrCat(port), "/",
                      protocol);
}

// A NetworkPolicy peer: a workload of the namespace (by its name label), the
// cluster DNS, Prometheus in any namespace, or addresses beyond the cluster.
std::string PeerName(const YAML::Node& peer) {
  if (Has(peer["ipBlock"])) {
    const std::vector<std::string> except = Strings(At(peer, {"ipBlock", "except"}));
    const std::string cidr = Str(At(peer, {"ipBlock", "cidr"}));
    const bool public_only =
        (cidr == "0.0.0.0/0" &&
         std::find(except.begin(), except.end(), "10.0.0.0/8") != except.end() &&
         std::find(except.begin(), except.end(), "172.16.0.0/12") != except.end() &&
         std::find(except.begin(), except.end(), "192.168.0.0/16") != except.end() &&
         std::find(except.begin(), except.end(), "169.254.0.0/16") != except.end()) ||
        (cidr == "::/0" && std::find(except.begin(), except.end(), "fc00::/7") != except.end());
    return public_only ? "webhooks" : absl::StrCat("ipBlock ", cidr);
  }
  const std::map<std::string, std::string> pods =
      StringMap(At(peer, {"podSelector", "matchLabels"}));
  const YAML::Node namespaces = peer["namespaceSelector"];
  if (pods.count("k8s-app") > 0 && pods.at("k8s-app") == "kube-dns") {
    return StringMap(At(namespaces, {"matchLabels"}))["kubernetes.io/metadata.name"] ==
                   "kube-system"
               ? "dns"
               : "kube-dns (not in kube-system)";
  }
  auto name = pods.find("app.kubernetes.io/name");
  if (name == pods.end()) return "(a peer of no known name)";
  if (name->second == "prometheus") {
    return Has(namespaces) ? "prometheus" : "prometheus (of this namespace only)";
  }
  return Has(namespaces) ? absl::StrCat(name->second, " (of other namespaces)") : name->second;
}

TEST(DeployFilesTest, NetworkPoliciesAllowExactlyTheArrowsOfTheArchitecture) {
  // The architecture (DESIGN.md §3, §9): who calls whom, on which port.
  const std::vector<std::pair<std::string, std::string>> calls = {
      {"gateway", "plan-service"},
      {"gateway", "kpi-service"},
      {"gateway", "notification-service"},
      {"kpi-service", "plan-service"},
      {"notification-service", "kpi-service"},
      {"kpi-service", "redis"},
      {"notification-service", "redis"},
      {"plan-service", "postgres"},
      {"kpi-service", "postgres"},
      {"notification-service", "postgres"},
  };
  std::set<std::string> want_ingress;
  std::set<std::string> want_egress;
  for (const auto& [from, to] : calls) {
    want_ingress.insert(Edge(from, to, PortOf(to)));
    want_egress.insert(Edge(from, to, PortOf(to)));
  }
  want_ingress.insert(Edge("any", "gateway", PortOf("gateway")));  // users
  for (const Component& component : kComponents) {
    want_ingress.insert(Edge("prometheus", component.name, component.metrics_port));
  }
  for (int port : {443, 80}) want_egress.insert(Edge("notification-service", "webhooks", port));
  std::vector<std::string> pods;  // every workload's pods' name label
  for (const Resource& workload : Workloads()) {
    pods.push_back(PodLabels(workload)["app.kubernetes.io/name"]);
    EXPECT_EQ(pods.back(), workload.name()) << workload.file;
  }
  for (const std::string& pod : pods) {
    want_egress.insert(Edge(pod, "dns", 53, "UDP"));
    want_egress.insert(Edge(pod, "dns", 53, "TCP"));
  }

  std::set<std::string> ingress;
  std::set<std::string> egress;
  bool default_deny = false;
  for (const Resource& policy : OfKind("NetworkPolicy")) {
    SCOPED_TRACE(absl::StrCat(policy.file, ": NetworkPolicy ", policy.name()));
    const YAML::Node spec = policy.node["spec"];
    const std::vector<std::string> types = Strings(spec["policyTypes"]);
    auto has_type = [&](const char* type) {
      return std::find(types.begin(), types.end(), type) != types.end();
    };
    const std::map<std::string, std::string> selector =
        StringMap(At(spec, {"podSelector", "matchLabels"}));
    std::vector<std::string> subjects;
    if (selector.empty()) {
      EXPECT_FALSE(Has(At(spec, {"podSelector", "matchExpressions"})));
      subjects = pods;
    } else {
      for (const Resource& workload : Selected(selector)) subjects.push_back(workload.name());
      EXPECT_FALSE(subjects.empty()) << "selects no workload";
    }
    if (selector.empty() && has_type("Ingress") && has_type("Egress") && !Has(spec["ingress"]) &&
        !Has(spec["egress"])) {
      default_deny = true;
    }
    EXPECT_TRUE(!Has(spec["ingress"]) || has_type("Ingress")) << "ingress rules not in force";
    EXPECT_TRUE(!Has(spec["egress"]) || has_type("Egress")) << "egress rules not in force";
    auto add = [](std::set<std::string>* edges, const YAML::Node& rule, const std::string& self,
                  const char* peers_key, bool self_is_source) {
      std::vector<std::string> peers;
      for (const YAML::Node& peer : Items(rule[peers_key])) peers.push_back(PeerName(peer));
      if (peers.empty()) peers.push_back("any");
      std::vector<std::pair<int, std::string>> ports;
      for (const YAML::Node& port : Items(rule["ports"])) {
        const std::string protocol = Has(port["protocol"]) ? Str(port["protocol"]) : "TCP";
        EXPECT_GT(Int(port["port"]), 0) << "a port by number: " << Str(port["port"]);
        ports.emplace_back(Int(port["port"]), protocol);
      }
      if (ports.empty()) ports.emplace_back(0, "*");
      for (const std::string& peer : peers) {
        for (const auto& [port, protocol] : ports) {
          edges->insert(self_is_source ? Edge(self, peer, port, protocol)
                                       : Edge(peer, self, port, protocol));
        }
      }
    };
    for (const std::string& subject : subjects) {
      for (const YAML::Node& rule : Items(spec["ingress"])) {
        add(&ingress, rule, subject, "from", false);
      }
      for (const YAML::Node& rule : Items(spec["egress"])) add(&egress, rule, subject, "to", true);
    }
  }
  EXPECT_TRUE(default_deny) << "no NetworkPolicy denies all ingress and egress by default";
  auto difference = [](const std::set<std::string>& a, const std::set<std::string>& b) {
    std::vector<std::string> out;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return absl::StrJoin(out, "\n  ");
  };
  EXPECT_EQ(ingress, want_ingress)
      << "ingress allowed but not an arrow:\n  " << difference(ingress, want_ingress)
      << "\nan arrow without its ingress:\n  " << difference(want_ingress, ingress);
  EXPECT_EQ(egress, want_egress) << "egress allowed but not an arrow:\n  "
                                 << difference(egress, want_egress)
                                 << "\nan arrow without its egress:\n  "
                                 << difference(want_egress, egress);
}

TEST(DeployFilesTest, AutoscalersAndDisruptionBudgetsNameTheDeployments) {
  std::set<std::string> scaled;
  for (const Resource& hpa : OfKind("HorizontalPodAutoscaler")) {
    SCOPED_TRACE(absl::StrCat(hpa.file, ": HorizontalPodAutoscaler ", hpa.name()));
    EXPECT_EQ(Str(hpa.node["apiVersion"]), "autoscaling/v2");
    const YAML::Node target = At(hpa.node, {"spec", "scaleTargetRef"});
    EXPECT_EQ(Str(target["kind"]), "Deployment");
    std::optional<Resource> deployment = Find("Deployment", Str(target["name"]));
    ASSERT_TRUE(deployment.has_value()) << "scales " << Str(target["name"]);
    scaled.insert(deployment->name());
    // The autoscaler owns the count; the Deployment leaves it out.
    EXPECT_FALSE(Has(At(deployment->node, {"spec", "replicas"})));
    const int min = Int(At(hpa.node, {"spec", "minReplicas"}));
    EXPECT_GE(min, 2);
    EXPECT_GT(Int(At(hpa.node, {"spec", "maxReplicas"})), min);
    EXPECT_FALSE(Items(At(hpa.node, {"spec", "metrics"})).empty());
  }
  EXPECT_EQ(scaled, (std::set<std::string>{"kpi-service", "gateway"}));

  std::map<std::string, int> budgets;  // Deployment → its PodDisruptionBudgets
  for (const Resource& pdb : OfKind("PodDisruptionBudget")) {
    SCOPED_TRACE(absl::StrCat(pdb.file, ": PodDisruptionBudget ", pdb.name()));
    const std::map<std::string, std::string> selector =
        StringMap(At(pdb.node, {"spec", "selector", "matchLabels"}));
    const std::vector<Resource> selected = Selected(selector);
    ASSERT_EQ(selected.size(), 1u) << "selects no single workload";
    EXPECT_EQ(StringMap(At(selected[0].node, {"spec", "selector", "matchLabels"})), selector)
        << "differs from the selector of " << selected[0].name();
    EXPECT_TRUE(Has(At(pdb.node, {"spec", "maxUnavailable"})) ||
                Has(At(pdb.node, {"spec", "minAvailable"})));
    ++budgets[selected[0].name()];
  }
  for (const Component& component : kComponents) {
    EXPECT_EQ(budgets[component.name], 1) << component.name;
    // A budget of one replica would block every drain.
    std::optional<Resource> deployment = Find("Deployment", component.name);
    ASSERT_TRUE(deployment.has_value());
    const YAML::Node declared = At(deployment->node, {"spec", "replicas"});
    if (Has(declared)) {
      EXPECT_GE(Int(declared), 2) << component.name;
    }
  }
  // Every Deployment's selector selects its own pods.
  for (const Resource& workload : Workloads()) {
    EXPECT_TRUE(Selects(StringMap(At(workload.node, {"spec", "selector", "matchLabels"})),
                        PodLabels(workload)))
        << workload.name();
  }
}

// The files a kustomization names (resources that are files, patches) and the
// folders it builds on.
void ExpectListsEveryFileOfItsFolder(const fs::path& folder) {
  SCOPED_TRACE(Relative(folder));
  const YAML::Node kustomization = Load(folder / "kustomization.yaml");
  std::set<std::string> listed;
  for (const std::string& resource : Strings(kustomization["resources"])) {
    const fs::path path = folder / resource;
    if (fs::is_directory(path)) {
      EXPECT_TRUE(fs::exists(path / "kustomization.yaml")) << resource;
    } else {
      EXPECT_TRUE(fs::exists(path)) << resource << " does not exist";
      listed.insert(resource);
    }
  }
  for (const YAML::Node& patch : Items(kustomization["patches"])) {
    if (Has(patch["path"])) listed.insert(Str(patch["path"]));
  }
  for (const std::string& patch : Strings(kustomization["patchesStrategicMerge"])) {
    listed.insert(patch);
  }
  for (const YAML::Node& generator : Items(kustomization["configMapGenerator"])) {
    for (const std::string& file : Strings(generator["files"])) {
      listed.insert(file.substr(file.find('=') + 1));
    }
  }
  std::set<std::string> present;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name != "kustomization.yaml") present.insert(name);
  }
  EXPECT_EQ(listed, present);
}

TEST(DeployFilesTest, KustomizationsListEveryFileOfTheirFolder) {
  ExpectListsEveryFileOfItsFolder(BaseDir());
  ExpectListsEveryFileOfItsFolder(ProductionDir());
  // The overlay builds on the base, and its patches and replica counts name
  // what the base has.
  const YAML::Node overlay = Load(ProductionDir() / "kustomization.yaml");
  const std::vector<std::string> resources = Strings(overlay["resources"]);
  EXPECT_NE(std::find(resources.begin(), resources.end(), "../../base"), resources.end());
  for (const YAML::Node& patch : Items(overlay["patches"])) {
    for (const YAML::Node& document : LoadAll(ProductionDir() / Str(patch["path"]))) {
      const Resource patched{Str(patch["path"]), document};
      EXPECT_TRUE(Find(patched.kind(), patched.name()).has_value())
          << patched.file << " patches " << patched.kind() << " " << patched.name()
          << ", which the base has not";
      if (patched.kind() == "HorizontalPodAutoscaler") {
        EXPECT_LT(Int(At(document, {"spec", "minReplicas"})),
                  Int(At(document, {"spec", "maxReplicas"})));
      }
    }
  }
  for (const YAML::Node& count : Items(overlay["replicas"])) {
    const std::string name = Str(count["name"]);
    std::optional<Resource> deployment = Find("Deployment", name);
    ASSERT_TRUE(deployment.has_value()) << name;
    EXPECT_FALSE(name == "kpi-service" || name == "gateway")
        << name << "'s count belongs to its autoscaler";
    EXPECT_GE(Int(count["count"]), 2) << name;
  }
  EXPECT_FALSE(Str(overlay["namespace"]).empty());
}

TEST(DeployFilesTest, EveryFlagIsOneTheBinaryAccepts) {
  std::vector<std::string> unknown;
  int checked = 0;
  for (const Process& process : AllProcesses()) {
    ASSERT_TRUE(FindComponent(process.binary) != nullptr || process.binary == kSuishinctl)
        << process.where << " runs " << process.binary;
    std::vector<std::pair<std::string, std::string>> flags;  // flag, as written
    for (const std::string& arg : process.args) {
      if (!absl::StartsWith(arg, "--")) continue;
      flags.emplace_back(arg.substr(2, arg.find('=') - 2), arg);
    }
    if (!process.health_check) {
      for (const auto& [name, value] : process.env) {
        if (absl::StartsWith(name, "SUISHIN_")) {
          flags.emplace_back(absl::AsciiStrToLower(name.substr(8)), name);
        }
      }
    }
    for (const auto& [flag, written] : flags) {
      ++checked;
      if (!Binaries::Get().Accepts(process.binary, flag)) {
        unknown.push_back(absl::StrCat(process.where, ": ", process.binary, " does not accept --",
                                       flag, " (", written, ")"));
      }
    }
  }
  EXPECT_GE(checked, 60);
  EXPECT_TRUE(unknown.empty()) << unknown.size() << " unknown flags:\n  "
                               << absl::StrJoin(unknown, "\n  ");
}

TEST(DeployFilesTest, FilesTheFlagsNameAreMounted) {
  const std::set<std::string> file_flags = {"tls_cert", "tls_key", "tls_ca", "auth_keys",
                                            "webhook_secret_key_file"};
  // Kubernetes: secret keys exist; files are in read-only Secret volumes; the
  // audit trail is in a writable emptyDir of the pod.
  std::map<std::string, std::set<std::string>> secret_keys;
  for (const Resource& secret : OfKind("Secret")) {
    for (const auto& [key, value] : Entries(At(secret.node, {"stringData"}))) {
      secret_keys[secret.name()].insert(key);
    }
    for (const auto& [key, value] : Entries(At(secret.node, {"data"}))) {
      secret_keys[secret.name()].insert(key);
    }
  }
  for (const Process& process : KubernetesProcesses()) {
    SCOPED_TRACE(process.where);
    for (const auto& [name, value] : process.env) {
      if (!absl::StartsWith(value, "secret:")) continue;
      std::vector<std::string> ref = absl::StrSplit(value.substr(7), '/');
      EXPECT_TRUE(secret_keys[ref[0]].count(ref[1]) > 0) << name << ": no " << value;
    }
    std::map<std::string, YAML::Node> volumes;
    for (const YAML::Node& volume : Items(process.pod["volumes"])) {
      volumes.emplace(Str(volume["name"]), volume);
    }
    // mount path → volume
    std::vector<std::pair<std::string, YAML::Node>> mounts;
    for (const YAML::Node& mount : Items(process.node["volumeMounts"])) {
      auto volume = volumes.find(Str(mount["name"]));
      ASSERT_NE(volume, volumes.end()) << "mounts " << Str(mount["name"]);
      mounts.emplace_back(Str(mount["mountPath"]), volume->second);
      if (Has(At(volume->second, {"secret"}))) {
        EXPECT_EQ(Str(mount["readOnly"]), "true") << Str(mount["mountPath"]);
      }
    }
    auto mounted = [&](const std::string& path) -> std::optional<YAML::Node> {
      for (const auto& [where, volume] : mounts) {
        if (fs::path(path).parent_path() == fs::path(where)) return volume;
      }
      return std::nullopt;
    };
    for (const std::string& flag : file_flags) {
      const std::optional<std::string> path = FlagValue(process, flag);
      if (!path) continue;
      std::optional<YAML::Node> volume = mounted(*path);
      ASSERT_TRUE(volume.has_value()) << "--" << flag << "=" << *path << " is in no volume";
      const std::string secret = Str(At(*volume, {"secret", "secretName"}));
      EXPECT_TRUE(secret_keys[secret].count(fs::path(*path).filename().string()) > 0)
          << "--" << flag << "=" << *path << ": Secret \"" << secret << "\" has no such key";
    }
    if (std::optional<std::string> audit = FlagValue(process, "audit_db")) {
      std::optional<YAML::Node> volume = mounted(*audit);
      ASSERT_TRUE(volume.has_value()) << "--audit_db=" << *audit << " is in no volume";
      EXPECT_TRUE(Has((*volume)["emptyDir"]) || Has((*volume)["persistentVolumeClaim"]))
          << "--audit_db=" << *audit;
    }
  }
  // compose: files are its secrets (/run/secrets/<name>) or in a folder it
  // mounts (suishinctl's deploy/compose/pki); the audit trail in a volume.
  for (const Process& process : ComposeProcesses()) {
    if (process.health_check) continue;
    SCOPED_TRACE(process.where);
    const std::vector<std::string> secrets = Strings(process.node["secrets"]);
    std::vector<std::string> mounted;  // the service's volumes' paths in the container
    for (const std::string& volume : Strings(process.node["volumes"])) {
      const std::vector<std::string> parts = absl::StrSplit(volume, ':');
      mounted.push_back(parts.size() == 1 ? parts[0] : parts[1]);
    }
    auto in_volume = [&](const std::string& path) {
      return std::find(mounted.begin(), mounted.end(), fs::path(path).parent_path().string()) !=
             mounted.end();
    };
    for (const std::string& flag : file_flags) {
      const std::optional<std::string> path = FlagValue(process, flag);
      if (!path) continue;
      absl::string_view name = *path;
      const bool secret = absl::ConsumePrefix(&name, "/run/secrets/") &&
                          std::find(secrets.begin(), secrets.end(), name) != secrets.end();
      EXPECT_TRUE(secret || in_volume(*path))
          << "--" << flag << "=" << *path << ": neither a secret of the service nor in a volume";
    }
    if (std::optional<std::string> audit = FlagValue(process, "audit_db")) {
      EXPECT_TRUE(in_volume(*audit)) << "--audit_db=" << *audit << " is in no volume";
    }
  }
}

TEST(DeployFilesTest, PrometheusScrapesEveryMetricsPort) {
  // compose: one job per process, every replica found through Docker's DNS.
  const YAML::Node config = Load(DeployDir() / "prometheus/prometheus.yml");
  std::map<std::string, YAML::Node> jobs;
  for (const YAML::Node& job : Items(config["scrape_configs"]))
    jobs.emplace(Str(job["job_name"]), job);
  std::set<std::string> compose_services;
  for (const auto& [name, service] : ComposeServices()) compose_services.insert(name);
  for (const Component& component : kComponents) {
    ASSERT_TRUE(jobs.count(component.name) > 0) << "no job " << component.name;
    const YAML::Node& job = jobs.at(component.name);
    std::vector<std::string> hosts;
    std::set<int> ports;
    for (const YAML::Node& sd : Items(job["dns_sd_configs"])) {
      for (const std::string& name : Strings(sd["names"])) hosts.push_back(name);
      ports.insert(Int(sd["port"]));
    }
    for (const YAML::Node& sd : Items(job["static_configs"])) {
      for (const std::string& target : Strings(sd["targets"])) {
        hosts.push_back(target.substr(0, target.rfind(':')));
        ports.insert(PortOfAddress(target));
      }
    }
    EXPECT_EQ(hosts, std::vector<std::string>{component.name}) << component.name;
    EXPECT_EQ(ports, std::set<int>{component.metrics_port}) << component.name;
    EXPECT_TRUE(compose_services.count(component.name) > 0);
  }
  EXPECT_EQ(jobs.size(), std::size(kComponents));

  // Kubernetes: pods of the suite with a port named "metrics", which every
  // process of the suite declares on its --metrics_listen port.
  std::optional<Resource> map = Find("ConfigMap", "prometheus-suishin");
  ASSERT_TRUE(map.has_value());
  const YAML::Node k8s = LoadString(Str(At(map->node, {"data", "prometheus.yml"})), map->file);
  bool keeps_metrics_port = false;
  for (const YAML::Node& job : Items(k8s["scrape_configs"])) {
    for (const YAML::Node& relabel : Items(job["relabel_configs"])) {
      keeps_metrics_port =
          keeps_metrics_port ||
          (Str(relabel["action"]) == "keep" && Str(relabel["regex"]) == "metrics" &&
           Strings(relabel["source_labels"]) ==
               std::vector<std::string>{"__meta_kubernetes_pod_container_port_name"});
    }
  }
  EXPECT_TRUE(keeps_metrics_port);
  for (const Component& component : kComponents) {
    std::optional<Resource> deployment = Find("Deployment", component.name);
    ASSERT_TRUE(deployment.has_value());
    EXPECT_EQ(ContainerPort(*deployment, "metrics"), component.metrics_port) << component.name;
    EXPECT_EQ(PodLabels(*deployment)["app.kubernetes.io/part-of"], "suishin") << component.name;
  }
}

// The metric names a PromQL expression reads: identifiers that are not
// functions, keywords, label names (in {...} or by/without/on (...)),
// durations or strings.
std::set<std::string> MetricsIn(absl::string_view expr) {
  std::string kept;
  for (size_t i = 0; i < expr.size(); ++i) {
    const char c = expr[i];
    if (c == '"' || c == '\'' || c == '`') {
      i = expr.find(c, i + 1);
      if (i == absl::string_view::npos) break;
    } else if (c == '{' || c == '[') {
      i = expr.find(c == '{' ? '}' : ']', i + 1);
      if (i == absl::string_view::npos) break;
      kept.push_back(' ');
    } else {
      kept.push_back(c);
    }
  }
  // Keywords, and the aggregation operators (which may come before their parentheses).
  static const std::set<std::string> kKeywords = {
      "by",     "without", "on",     "ignoring", "group_left", "group_right",  "bool", "and",
      "or",     "unless",  "offset", "sum",      "min",        "max",          "avg",  "count",
      "stddev", "stdvar",  "topk",   "bottomk",  "quantile",   "count_values", "group"};
  static const std::set<std::string> kGroupings = {"by",       "without",    "on",
                                                   "ignoring", "group_left", "group_right"};
  std::set<std::string> metrics;
  auto ident = [](char c) { return absl::ascii_isalnum(c) || c == '_' || c == ':'; };
  for (size_t i = 0; i < kept.size();) {
    const char c = kept[i];
    if (absl::ascii_isdigit(c) || c == '.') {  // a number or a duration
      while (i < kept.size() && (ident(kept[i]) || kept[i] == '.')) ++i;
      continue;
    }
    if (!ident(c)) {
      ++i;
      continue;
    }
    const bool variable = i > 0 && kept[i - 1] == '$';
    size_t end = i;
    while (end < kept.size() && ident(kept[end])) ++end;
    const std::string word = kept.substr(i, end - i);
    size_t next = end;
    while (next < kept.size() && kept[next] == ' ') ++next;
    const bool call = next < kept.size() && kept[next] == '(';
    i = end;
    if (kGroupings.count(word) > 0 && call) {
      i = kept.find(')', next);
      if (i == std::string::npos) break;
      continue;
    }
    if (variable || call || kKeywords.count(word) > 0) continue;
    metrics.insert(word);
  }
  return metrics;
}

// The label names of the {...} matchers of a PromQL expression.
std::set<std::string> MatcherLabelsIn(const std::string& expr) {
  static const std::regex matcher(R"re(([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*")re");
  std::set<std::string> labels;
  for (size_t open = expr.find('{'); open != std::string::npos; open = expr.find('{', open + 1)) {
    const std::string inside = expr.substr(open + 1, expr.find('}', open) - open - 1);
    for (std::sregex_iterator it(inside.begin(), inside.end(), matcher), end; it != end; ++it) {
      labels.insert((*it)[1].str());
    }
  }
  return labels;
}

// Every "expr" of a dashboard, with where it is.
void CollectExpressions(const YAML::Node& node, const std::string& where,
                        std::vector<std::pair<std::string, std::string>>* out) {
  if (!Has(node)) return;
  if (node.IsMap()) {
    for (const auto& [key, value] : Entries(node)) {
      if (key == "expr" && value.IsScalar()) out->emplace_back(where, value.Scalar());
      CollectExpressions(value, absl::StrCat(where, ".", key), out);
    }
  } else if (node.IsSequence()) {
    int i = 0;
    for (const YAML::Node& item : Items(node)) {
      CollectExpressions(item, absl::StrCat(where, "[", i++, "]"), out);
    }
  }
}

TEST(DeployFilesTest, MetricsInTheDashboardFindsTheMetricsOfAnExpression) {
  EXPECT_EQ(MetricsIn("histogram_quantile(0.99, sum by (job, le) "
                      "(rate(suishin_grpc_server_handling_seconds_bucket{job=~\"$job\"}"
                      "[$__rate_interval])))"),
            std::set<std::string>{"suishin_grpc_server_handling_seconds_bucket"});
  EXPECT_EQ(MetricsIn("sum(rate(a_total{x=\"y\"}[5m] offset 1h)) / on (job) b"),
            (std::set<std::string>{"a_total", "b"}));
  EXPECT_EQ(MatcherLabelsIn("x{job=~\"a\", code!=\"OK\"}"), (std::set<std::string>{"job", "code"}));
}

TEST(DeployFilesTest, TheDashboardQueriesOnlyTheServicesMetrics) {
  const YAML::Node dashboard = Load(DeployDir() / "grafana/suishin-dashboard.json");
  ASSERT_TRUE(Has(dashboard));
  std::vector<std::pair<std::string, std::string>> expressions;
  CollectExpressions(dashboard["panels"], "panels", &expressions);
  // Template variables: label_values(<metric>, <label>).
  for (const YAML::Node& variable : Items(At(dashboard, {"templating", "list"}))) {
    std::string query = Str(variable["definition"]);
    if (query.empty()) query = Str(At(variable, {"query", "query"}));
    if (query.empty()) query = Str(variable["query"]);
    absl::string_view inner = query;
    if (absl::ConsumePrefix(&inner, "label_values(")) {
      expressions.emplace_back(absl::StrCat("templating ", Str(variable["name"])),
                               std::string(inner.substr(0, inner.find(','))));
    }
  }
  ASSERT_GE(expressions.size(), 10u);
  std::set<std::string> used;
  for (const auto& [where, expr] : expressions) {
    const std::set<std::string> metrics = MetricsIn(expr);
    EXPECT_FALSE(metrics.empty()) << where << ": " << expr << " reads no metric";
    for (const std::string& series : metrics) {
      const std::string metric = MetricOf(series);
      EXPECT_FALSE(metric.empty()) << where << ": " << series << " is no metric of the suite";
      used.insert(metric);
    }
    for (const std::string& label : MatcherLabelsIn(expr)) {
      EXPECT_TRUE(KnownLabels().count(label) > 0) << where << ": label " << label;
    }
  }
  // The dashboard shows every metric, and every panel shows something.
  for (const std::string& metric : MetricBaseNames()) {
    EXPECT_TRUE(used.count(metric) > 0) << metric << " is on no panel";
  }
  for (const YAML::Node& panel : Items(dashboard["panels"])) {
    if (Str(panel["type"]) == "row") continue;
    EXPECT_FALSE(Items(panel["targets"]).empty()) << Str(panel["title"]);
    EXPECT_EQ(Str(At(panel, {"datasource", "uid"})), "prometheus") << Str(panel["title"]);
  }
  // The data source Grafana is given has that uid.
  const YAML::Node sources = Load(DeployDir() / "grafana/provisioning/datasources/prometheus.yaml");
  ASSERT_EQ(Items(sources["datasources"]).size(), 1u);
  EXPECT_EQ(Str(Items(sources["datasources"])[0]["uid"]), "prometheus");
}

}  // namespace
}  // namespace suishin
