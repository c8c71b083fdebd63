#include "tests/support/redis_server.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

extern char** environ;

namespace suishin::testing {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(10);
constexpr absl::Duration kStopTimeout = absl::Seconds(10);
constexpr int kStartAttempts = 5;

// The redis-server to run: $SUISHIN_REDIS_SERVER or "redis-server", looked up in $PATH unless
// it contains a slash. Resolved here so the child only has to execve.
absl::StatusOr<std::string> ResolveBinary() {
  const char* env = getenv("SUISHIN_REDIS_SERVER");
  const std::string name = env != nullptr && env[0] != '\0' ? env : "redis-server";
  auto is_executable_file = [](const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos) {
    if (is_executable_file(name)) return name;
    return absl::NotFoundError(
        absl::StrCat("SUISHIN_REDIS_SERVER=\"", name, "\" is not an executable file"));
  }
  const char* path_env = getenv("PATH");
  const std::string path =
      path_env != nullptr && path_env[0] != '\0' ? path_env : "/usr/local/bin:/usr/bin:/bin";
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", name);
    if (is_executable_file(candidate)) return candidate;
  }
  return absl::NotFoundError(absl::StrCat("\"", name, "\" not found in PATH (", path,
                                          "); install redis-server or set SUISHIN_REDIS_SERVER"));
}

off_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}

// What the server logged since `offset`, last lines only, for error messages.
std::string LogSince(const std::string& path, off_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "(no log)";
  in.seekg(offset);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  constexpr size_t kMaxChars = 2000;
  if (text.size() > kMaxChars) text = "..." + text.substr(text.size() - kMaxChars);
  return text.empty() ? "(empty log)" : text;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("killed by signal ", WTERMSIG(status));
  return absl::StrCat("wait status ", status);
}

// True when the server on `port` answers PING and is process `pid` (not a stranger that took
// the port). Only one write can follow a close by the peer here, so no SIGPIPE is possible.
bool AnswersAsPid(int port, pid_t pid) {
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, absl::ToTimeval(absl::Seconds(1)));
  if (c == nullptr) return false;
  bool ok = false;
  if (c->err == 0 && redisSetTimeout(c, absl::ToTimeval(absl::Seconds(1))) == REDIS_OK) {
    auto* pong = static_cast<redisReply*>(redisCommand(c, "PING"));
    const bool ponged = pong != nullptr && pong->type == REDIS_REPLY_STATUS &&
                        absl::string_view(pong->str, pong->len) == "PONG";
    if (pong != nullptr) freeReplyObject(pong);
    if (ponged) {
      auto* info = static_cast<redisReply*>(redisCommand(c, "INFO server"));
      if (info != nullptr && info->type == REDIS_REPLY_STRING) {
        for (absl::string_view line :
             absl::StrSplit(absl::string_view(info->str, info->len), absl::ByAnyChar("\r\n"))) {
          int reported = 0;
          if (absl::ConsumePrefix(&line, "process_id:") && absl::SimpleAtoi(line, &reported)) {
            ok = reported == pid;
          }
        }
      }
      if (info != nullptr) freeReplyObject(info);
    }
  }
  redisFree(c);
  return ok;
}

// Waits for `pid` to exit, up to `timeout`. True (and `*status` set) when it has been reaped.
bool WaitForExit(pid_t pid, absl::Duration timeout, int* status) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(1);
  while (true) {
    const pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r == -1 && errno != EINTR) {  // ECHILD: already reaped elsewhere.
      *status = 0;
      return true;
    }
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
}

// Moves `fd` to a number >= 10 (so the child's dup2 onto 0..3 cannot clobber it), close-on-exec.
int MoveHigh(int fd) {
  if (fd < 0) return fd;
  const int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  close(fd);
  return high;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start() {
  absl::StatusOr<std::string> binary = ResolveBinary();
  if (!binary.ok()) return binary.status();
  absl::StatusOr<TempDir> dir = TempDir::Create("suishin-redis");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<RedisServer> server(new RedisServer(*std::move(dir), *std::move(binary)));

  absl::Status last;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    const int port = PickUnusedPort();
    if (port < 0) return absl::InternalError("RedisServer: could not pick a port");
    bool port_in_use = false;
    last = server->Launch(port, &port_in_use);
    if (last.ok()) {
      server->port_ = port;
      return server;
    }
    if (!port_in_use) return last;
  }
  return last;
}

RedisServer::~RedisServer() { Stop().IgnoreError(); }

std::string RedisServer::url() const { return absl::StrCat("redis://127.0.0.1:", port_, "/0"); }

absl::Status RedisServer::Launch(int port, bool* port_in_use) {
  *port_in_use = false;
  const std::string log_path = dir_.File("redis.log");
  const off_t log_offset = FileSize(log_path);

  // Everything the child needs is prepared here: after fork() in a threaded process it may
  // only make async-signal-safe calls.
  const std::vector<std::string> args = {binary_,  "--port",       absl::StrCat(port),
                                         "--bind", "127.0.0.1",    "--save",
                                         "",       "--appendonly", "no",
                                         "--dir",  dir_.path(),    "--daemonize",
                                         "no"};
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  long max_fd = sysconf(_SC_OPEN_MAX);
  if (max_fd < 0 || max_fd > 65536) max_fd = 65536;

  const int devnull = MoveHigh(open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int log_fd =
      MoveHigh(open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  int pipe_fds[2] = {-1, -1};
  if (pipe2(pipe_fds, O_CLOEXEC) == 0) {
    pipe_fds[0] = MoveHigh(pipe_fds[0]);
    pipe_fds[1] = MoveHigh(pipe_fds[1]);
  }
  auto close_all = [&] {
    for (int fd : {devnull, log_fd, pipe_fds[0], pipe_fds[1]}) {
      if (fd >= 0) close(fd);
    }
  };
  if (devnull < 0 || log_fd < 0 || pipe_fds[0] < 0 || pipe_fds[1] < 0) {
    const int saved_errno = errno;
    close_all();
    return absl::InternalError(
        absl::StrCat("RedisServer: preparing file descriptors: ", std::strerror(saved_errno)));
  }

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int saved_errno = errno;
    close_all();
    return absl::InternalError(absl::StrCat("RedisServer: fork: ", std::strerror(saved_errno)));
  }
  if (pid == 0) {
    // Child. Dies with the thread that started it; exits if that already happened.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(devnull, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    dup2(pipe_fds[1], 3);
    fcntl(3, F_SETFD, FD_CLOEXEC);
    if (close_range(4, ~0U, 0) != 0) {
      for (int fd = 4; fd < max_fd; ++fd) close(fd);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
    execve(argv[0], argv.data(), environ);
    const int exec_errno = errno;
    ssize_t ignored = write(3, &exec_errno, sizeof(exec_errno));
    (void)ignored;
    _exit(127);
  }

  // Parent. The pipe reads EOF once execve succeeded, or the child's errno if it failed.
  close(devnull);
  close(log_fd);
  close(pipe_fds[1]);
  int exec_errno = 0;
  ssize_t n;
  do {
    n = read(pipe_fds[0], &exec_errno, sizeof(exec_errno));
  } while (n == -1 && errno == EINTR);
  close(pipe_fds[0]);
  if (n == static_cast<ssize_t>(sizeof(exec_errno))) {
    int status = 0;
    WaitForExit(pid, kStopTimeout, &status);
    return absl::FailedPreconditionError(
        absl::StrCat("RedisServer: execve ", binary_, ": ", std::strerror(exec_errno)));
  }

  const absl::Time deadline = absl::Now() + kStartTimeout;
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      const std::string log = LogSince(log_path, log_offset);
      *port_in_use = absl::StrContains(log, "Address already in use");
      return absl::UnavailableError(absl::StrCat("RedisServer: ", binary_, " on port ", port, " ",
                                                 DescribeWaitStatus(status),
                                                 " before answering PING; its log:\n", log));
    }
    if (AnswersAsPid(port, pid)) {
      pid_ = pid;
      return absl::OkStatus();
    }
    if (absl::Now() >= deadline) {
      kill(pid, SIGKILL);
      WaitForExit(pid, kStopTimeout, &status);
      return absl::DeadlineExceededError(absl::StrCat(
          "RedisServer: ", binary_, " on port ", port, " did not answer PING within ",
          absl::FormatDuration(kStartTimeout), "; its log:\n", LogSince(log_path, log_offset)));
    }
    absl::SleepFor(absl::Milliseconds(5));  // Poll interval, bounded by `deadline` above.
  }
}

absl::Status RedisServer::Stop() {
  if (pid_ <= 0) return absl::OkStatus();
  const pid_t pid = pid_;
  pid_ = -1;
  kill(pid, SIGTERM);
  int status = 0;
  if (WaitForExit(pid, kStopTimeout, &status)) return absl::OkStatus();
  kill(pid, SIGKILL);
  WaitForExit(pid, absl::InfiniteDuration(), &status);
  return absl::DeadlineExceededError(absl::StrCat("RedisServer: pid ", pid, " ignored SIGTERM for ",
                                                  absl::FormatDuration(kStopTimeout),
                                                  "; killed it"));
}

absl::Status RedisServer::Restart() {
  if (absl::Status stopped = Stop(); !stopped.ok()) return stopped;
  bool port_in_use = false;
  absl::Status started = Launch(port_, &port_in_use);
  if (port_in_use) {
    return absl::UnavailableError(absl::StrCat(
        "RedisServer: port ", port_, " was taken while the server was down: ", started.message()));
  }
  return started;
}

}  // namespace suishin::testing
