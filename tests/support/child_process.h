// Real binaries as child processes of a test: start one, wait for it to exit
// or for a file it writes, capture what it printed, stop it.
//
// Waits are on the event itself (a pidfd that becomes readable when the
// child exits, inotify for a file appearing), each with a bound, never a
// fixed sleep. The child gets SIGKILL if the thread that started it exits
// (PR_SET_PDEATHSIG), so a crashed test leaves no server behind; start
// children from the test body or fixture, not a short-lived thread.
//
// Example:
//   absl::StatusOr<RunResult> run = RunToCompletion(
//       {binary, "health"}, {"COLUMNS=200"}, dir.path(), absl::Seconds(30));
//   ASSERT_TRUE(run.ok()) << run.status();
//   EXPECT_EQ(run->exit_code, 1) << run->err;
//
// Not thread-safe; a ChildProcess is move-only.
#ifndef SUISHIN_TESTS_SUPPORT_CHILD_PROCESS_H_
#define SUISHIN_TESTS_SUPPORT_CHILD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace suishin::testing {

class ChildProcess {
 public:
  // Starts argv[0] (a path) with `argv`, this process's environment with
  // `env_overrides` ("NAME=value") replacing or adding variables, standard
  // input from /dev/null and standard output and error appended to the two
  // files. INTERNAL (with errno's text) when it cannot be started; an execve
  // failure shows as exit status 127.
  static absl::StatusOr<ChildProcess> Start(const std::vector<std::string>& argv,
                                            const std::vector<std::string>& env_overrides,
                                            const std::string& stdout_path,
                                            const std::string& stderr_path);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Kills (SIGKILL) and reaps the child if it is still running.
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // Waits up to `timeout` for the child to exit and returns its wait status
  // (for WIFEXITED and friends). DEADLINE_EXCEEDED, leaving it running, when
  // it does not exit in time.
  absl::StatusOr<int> Wait(absl::Duration timeout);

  // Sends SIGTERM and waits up to `timeout`; then SIGKILL, reported as
  // DEADLINE_EXCEEDED. Returns the wait status.
  absl::StatusOr<int> Terminate(absl::Duration timeout);

  // Waits up to `timeout` for `path` to exist and returns its contents. Meant
  // for files written whole and renamed into place (a port file). FAILED_PRECONDITION
  // if the child exits first, DEADLINE_EXCEEDED if time runs out.
  absl::StatusOr<std::string> WaitForFile(const std::string& path, absl::Duration timeout);

 private:
  ChildProcess(pid_t pid, int pidfd) : pid_(pid), pidfd_(pidfd) {}
  void Close();

  pid_t pid_ = -1;
  int pidfd_ = -1;  // Readable once the child has exited; -1 if pidfd_open is unavailable.
};

// What a finished command did.
struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal.
  std::string out;
  std::string err;
};

// Runs argv to completion (see ChildProcess::Start), capturing its output in
// files under `scratch_dir`. DEADLINE_EXCEEDED (after killing it) when it
// runs longer than `timeout`.
absl::StatusOr<RunResult> RunToCompletion(const std::vector<std::string>& argv,
                                          const std::vector<std::string>& env_overrides,
                                          const std::string& scratch_dir, absl::Duration timeout);

// The whole file; NOT_FOUND when it cannot be opened.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

}  // namespace suishin::testing

#endif  // SUISHIN_TESTS_SUPPORT_CHILD_PROCESS_H_
