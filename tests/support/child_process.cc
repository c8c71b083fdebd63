#include "tests/support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace suishin::testing {
namespace {

absl::Status ErrnoError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Milliseconds left until `deadline`, for poll(); at least 0, at most an int.
int MillisUntil(absl::Time deadline) {
  const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
  return static_cast<int>(std::clamp<int64_t>(ms, 0, 1 << 30));
}

// Polls `fds` until one is ready or `deadline`; EINTR restarts.
int PollUntil(std::vector<pollfd>& fds, absl::Time deadline) {
  while (true) {
    const int ready = poll(fds.data(), fds.size(), MillisUntil(deadline));
    if (ready >= 0 || errno != EINTR) return ready;
  }
}

std::vector<std::string> MergeEnvironment(const std::vector<std::string>& overrides) {
  std::vector<std::string> env;
  const auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const bool replaced = std::any_of(overrides.begin(), overrides.end(),
                                      [&](const auto& o) { return name_of(o) == name_of(entry); });
    if (!replaced) env.push_back(entry);
  }
  env.insert(env.end(), overrides.begin(), overrides.end());
  return env;
}

// Moves `fd` to a number >= 10 (so the child's dup2 onto 0..2 cannot clobber
// it), close-on-exec.
int MoveHigh(int fd) {
  if (fd < 0) return fd;
  const int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  close(fd);
  return high;
}

// True once process `pid` has exited (it stays unreaped).
bool HasExited(pid_t pid) {
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return errno != EINTR;
  return info.si_pid != 0;
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

absl::StatusOr<ChildProcess> ChildProcess::Start(const std::vector<std::string>& argv,
                                                 const std::vector<std::string>& env_overrides,
                                                 const std::string& stdout_path,
                                                 const std::string& stderr_path) {
  if (argv.empty()) return absl::InvalidArgumentError("argv is empty");
  // Everything the child needs is made here: after fork() in a threaded
  // process it may only make async-signal-safe calls.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::vector<std::string> env = MergeEnvironment(env_overrides);
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  const int in = MoveHigh(open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int out =
      MoveHigh(open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  const int err =
      MoveHigh(open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  const auto close_all = [&] {
    for (int fd : {in, out, err}) {
      if (fd >= 0) close(fd);
    }
  };
  if (in < 0 || out < 0 || err < 0) {
    absl::Status status = ErrnoError("opening the child's standard streams");
    close_all();
    return status;
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    absl::Status status = ErrnoError("fork");
    close_all();
    return status;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);  // The parent died before prctl.
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(126);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close_all();
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  return ChildProcess(pid, pidfd);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), pidfd_(std::exchange(other.pidfd_, -1)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    Close();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::exchange(other.pidfd_, -1);
  }
  return *this;
}

ChildProcess::~ChildProcess() { Close(); }

void ChildProcess::Close() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  if (pidfd_ >= 0) close(pidfd_);
  pidfd_ = -1;
}

absl::StatusOr<int> ChildProcess::Wait(absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("the child has already been reaped");
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(1);
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return status;
    }
    if (r < 0 && errno != EINTR) return ErrnoError("waitpid");
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("process ", pid_, " still running after ", absl::FormatDuration(timeout)));
    }
    if (pidfd_ >= 0) {
      std::vector<pollfd> fds = {{pidfd_, POLLIN, 0}};
      PollUntil(fds, deadline);
    } else {
      // No pidfd (a kernel before 5.3): back off instead.
      absl::SleepFor(std::min(pause, deadline - absl::Now()));
      pause = std::min(pause * 2, absl::Milliseconds(20));
    }
  }
}

absl::StatusOr<int> ChildProcess::Terminate(absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("the child has already been reaped");
  kill(pid_, SIGTERM);
  absl::StatusOr<int> status = Wait(timeout);
  if (status.ok() || !absl::IsDeadlineExceeded(status.status())) return status;
  const pid_t pid = pid_;
  Close();  // SIGKILL and reap.
  return absl::DeadlineExceededError(absl::StrCat("process ", pid, " ignored SIGTERM for ",
                                                  absl::FormatDuration(timeout), "; killed"));
}

absl::StatusOr<std::string> ChildProcess::WaitForFile(const std::string& path,
                                                      absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  // Watch before looking, so a file that appears in between is not missed.
  const int watch = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (watch < 0) return ErrnoError("inotify_init1");
  if (inotify_add_watch(watch, DirectoryOf(path).c_str(), IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
    absl::Status status = ErrnoError(absl::StrCat("inotify_add_watch ", DirectoryOf(path)));
    close(watch);
    return status;
  }
  absl::StatusOr<std::string> result;
  while (true) {
    struct stat st;
    if (stat(path.c_str(), &st) == 0) {
      result = ReadWholeFile(path);
      break;
    }
    if (pid_ <= 0 || HasExited(pid_)) {
      result = absl::FailedPreconditionError(
          absl::StrCat("process ", pid_, " exited before writing ", path));
      break;
    }
    if (absl::Now() >= deadline) {
      result = absl::DeadlineExceededError(
          absl::StrCat(path, " did not appear within ", absl::FormatDuration(timeout)));
      break;
    }
    std::vector<pollfd> fds = {{watch, POLLIN, 0}};
    if (pidfd_ >= 0) fds.push_back({pidfd_, POLLIN, 0});
    // Without a pidfd, look again every 100 ms to notice the child dying.
    const absl::Time next =
        pidfd_ >= 0 ? deadline : std::min(deadline, absl::Now() + absl::Milliseconds(100));
    PollUntil(fds, next);
    char buffer[4096];
    while (read(watch, buffer, sizeof buffer) > 0) {
    }
  }
  close(watch);
  return result;
}

absl::StatusOr<RunResult> RunToCompletion(const std::vector<std::string>& argv,
                                          const std::vector<std::string>& env_overrides,
                                          const std::string& scratch_dir, absl::Duration timeout) {
  static std::atomic<int> run_number{0};
  const int n = run_number++;
  const std::string out_path = absl::StrCat(scratch_dir, "/run", n, ".out");
  const std::string err_path = absl::StrCat(scratch_dir, "/run", n, ".err");
  absl::StatusOr<ChildProcess> child = ChildProcess::Start(argv, env_overrides, out_path, err_path);
  if (!child.ok()) return child.status();
  absl::StatusOr<int> status = child->Wait(timeout);
  if (!status.ok()) return status.status();  // ~ChildProcess kills it.
  RunResult result;
  result.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  absl::StatusOr<std::string> out = ReadWholeFile(out_path);
  absl::StatusOr<std::string> err = ReadWholeFile(err_path);
  if (!out.ok()) return out.status();
  if (!err.ok()) return err.status();
  result.out = *std::move(out);
  result.err = *std::move(err);
  return result;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace suishin::testing
