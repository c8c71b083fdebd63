// What the fuzz targets share: FUZZ_CHECK, the oracle's assertion.
//
// A target calls the code under test with the fuzzer's bytes and checks its
// promises with FUZZ_CHECK. A broken promise prints where and why, then
// aborts, which libFuzzer reports as a crash and saves the input; so does
// anything AddressSanitizer or UndefinedBehaviorSanitizer catch on the way.
#ifndef SUISHIN_FUZZ_FUZZ_CHECK_H_
#define SUISHIN_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace suishin::fuzz {

[[noreturn]] inline void OracleFailed(const char* file, int line, const char* condition,
                                      const std::string& detail) {
  std::fprintf(stderr, "%s:%d: oracle failed: %s\n  %s\n", file, line, condition, detail.c_str());
  std::abort();
}

// True when SUISHIN_FUZZ_VERBOSE is set: targets whose inputs are decoded
// from the bytes (FuzzedDataProvider) then print them before each call, so
// that a sanitizer report on a saved crash shows what was called.
inline bool Verbose() {
  static const bool verbose = std::getenv("SUISHIN_FUZZ_VERBOSE") != nullptr;
  return verbose;
}

// A double with every digit it has: "0.10000000000000001", "-inf".
inline std::string Num(double x) { return absl::StrFormat("%.17g", x); }

// `bytes` as a C string literal's contents, for messages: "R\xff".
inline std::string Escaped(absl::string_view bytes) { return absl::CHexEscape(bytes); }

}  // namespace suishin::fuzz

// Aborts with `condition` and the absl::StrCat of the rest when `condition`
// is false.
#define FUZZ_CHECK(condition, ...)                                                              \
  do {                                                                                          \
    if (!(condition)) {                                                                         \
      ::suishin::fuzz::OracleFailed(__FILE__, __LINE__, #condition, absl::StrCat(__VA_ARGS__)); \
    }                                                                                           \
  } while (false)

#endif  // SUISHIN_FUZZ_FUZZ_CHECK_H_
