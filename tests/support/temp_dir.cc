#include "tests/support/temp_dir.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace suishin::testing {

absl::StatusOr<TempDir> TempDir::Create(absl::string_view prefix) {
  const char* env = getenv("TMPDIR");
  std::string base = env != nullptr && env[0] != '\0' ? env : "/tmp";
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  std::string pattern = absl::StrCat(base, "/", prefix, "-XXXXXX");
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    const int saved_errno = errno;
    return absl::InternalError(
        absl::StrCat("mkdtemp(\"", pattern, "\"): ", std::strerror(saved_errno)));
  }
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(buffer.data(), ec);
  return TempDir(ec ? std::string(buffer.data()) : absolute.string());
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, std::string())) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    Remove();
    path_ = std::exchange(other.path_, std::string());
  }
  return *this;
}

TempDir::~TempDir() { Remove(); }

std::string TempDir::File(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

void TempDir::Remove() {
  if (path_.empty()) return;
  std::error_code ec;  // Best effort: a test's cleanup must not throw or abort.
  std::filesystem::remove_all(path_, ec);
  path_.clear();
}

int PickUnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    const int saved_errno = errno;
    ADD_FAILURE() << "PickUnusedPort: socket: " << std::strerror(saved_errno);
    return -1;
  }
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<struct sockaddr*>(&addr), &len) != 0) {
    const int saved_errno = errno;
    ADD_FAILURE() << "PickUnusedPort: bind 127.0.0.1:0: " << std::strerror(saved_errno);
  } else {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace suishin::testing
