#include "tests/support/test_store.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/postgres.h"
#include "common/status_macros.h"

namespace suishin::testing {
namespace {

absl::Mutex cluster_mu;

// The socket folder of the cluster the tests share.
absl::StatusOr<std::string> ClusterDir() {
  absl::MutexLock lock(&cluster_mu);
  const char* shared = std::getenv("SUISHIN_TEST_POSTGRES");
  if (shared != nullptr && *shared != '\0') return std::string(shared);
  // A cluster of this process's own, stopped by test-postgres once the
  // process has ended, however it ends.
  static std::string* own = nullptr;
  if (own == nullptr) {
    std::string dir = absl::StrCat("/tmp/suishin-pg-", getpid());
    const std::string start =
        absl::StrCat(SUISHIN_SOURCE_DIR, "/tests/support/test-postgres start ", dir, " ", getpid(),
                     " >/dev/null");
    if (std::system(start.c_str()) != 0) {
      return absl::UnavailableError(absl::StrCat("could not start PostgreSQL in ", dir));
    }
    own = new std::string(dir);
  }
  return *own;
}

}  // namespace

bool PostgresPass() {
  const char* store = std::getenv("SUISHIN_TEST_STORE");
  return store != nullptr && absl::string_view(store) == "postgresql";
}

absl::StatusOr<std::string> TestPostgresDatabase() {
  ASSIGN_OR_RETURN(std::string dir, ClusterDir());
  return absl::StrCat("postgresql:///suishin?host=", dir, "&user=postgres");
}

absl::StatusOr<std::string> NewPostgresStore() {
  static std::atomic<int> made{0};
  ASSIGN_OR_RETURN(std::string database, TestPostgresDatabase());
  // The process id alone could be an earlier process's: the time as well.
  const std::string schema =
      absl::StrCat("t", getpid(), "_", absl::ToUnixMicros(absl::Now()) % 1000000000, "_", ++made);
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> connection, PgConnection::Connect(database));
  RETURN_IF_ERROR(connection->ExecScript(absl::StrCat("CREATE SCHEMA ", schema)));
  return absl::StrCat(database, "&options=-csearch_path%3D", schema);
}

absl::StatusOr<std::string> StoreFor(const std::string& path) {
  if (!PostgresPass()) return path;
  static absl::Mutex mu;
  static auto* schemas = new absl::flat_hash_map<std::string, std::string>();
  absl::MutexLock lock(&mu);
  auto found = schemas->find(path);
  if (found != schemas->end()) return found->second;
  ASSIGN_OR_RETURN(std::string url, NewPostgresStore());
  schemas->emplace(path, url);
  return url;
}

}  // namespace suishin::testing
