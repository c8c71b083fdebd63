// Scratch space and free ports for tests.
//
// TempDir is a fresh directory that is removed, with everything in it, when
// the object is destroyed. PickUnusedPort finds a TCP port on 127.0.0.1 that
// nothing is listening on right now; another process may still take it before
// the caller binds it, so callers that start servers retry on "address in
// use" (as RedisServer does), and in-process servers should prefer port 0.
//
// Example:
//   absl::StatusOr<TempDir> dir = TempDir::Create();
//   ASSERT_TRUE(dir.ok()) << dir.status();
//   std::string db_path = dir->File("kpi.sqlite3");
//   int port = PickUnusedPort();
#ifndef SUISHIN_TESTS_SUPPORT_TEMP_DIR_H_
#define SUISHIN_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace suishin::testing {

// Owns a directory made by mkdtemp under $TMPDIR (or /tmp when unset or empty). Move-only;
// not thread-safe. Removal on destruction is best effort and never follows symlinks.
class TempDir {
 public:
  // Makes "<$TMPDIR or /tmp>/<prefix>-XXXXXX". INTERNAL (with errno's text) when mkdtemp fails.
  static absl::StatusOr<TempDir> Create(absl::string_view prefix = "suishin");

  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  // Absolute path of the directory, without a trailing slash.
  const std::string& path() const { return path_; }
  // path() + "/" + name. Does not create anything; `name` may contain subdirectories.
  std::string File(absl::string_view name) const;

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  void Remove();

  std::string path_;  // Empty once moved from.
};

// A TCP port on 127.0.0.1 that was free a moment ago: binds port 0, reads the port the kernel
// chose, closes the socket. On failure (no sockets left, say) records a test failure with
// ADD_FAILURE naming the cause and returns -1.
int PickUnusedPort();

}  // namespace suishin::testing

#endif  // SUISHIN_TESTS_SUPPORT_TEMP_DIR_H_
