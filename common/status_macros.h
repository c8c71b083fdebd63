// RETURN_IF_ERROR and ASSIGN_OR_RETURN: the two status macros the installed
// Abseil (20220623) does not ship.
//
// Example:
//   absl::StatusOr<Project> LoadProject(Store& store, absl::string_view id) {
//     RETURN_IF_ERROR(ValidateId("id", id));
//     ASSIGN_OR_RETURN(Project project, store.GetProject(id));
//     return project;
//   }
#ifndef SUISHIN_COMMON_STATUS_MACROS_H_
#define SUISHIN_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SUISHIN_STATUS_CONCAT_INNER_(a, b) a##b
#define SUISHIN_STATUS_CONCAT_(a, b) SUISHIN_STATUS_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the current function when it is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    const ::absl::Status suishin_status_ = (expr);     \
    if (!suishin_status_.ok()) return suishin_status_; \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs`, which may be a declaration.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  SUISHIN_ASSIGN_OR_RETURN_IMPL_(SUISHIN_STATUS_CONCAT_(suishin_statusor_, __LINE__), lhs, rexpr)

#define SUISHIN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();   \
  lhs = std::move(statusor).value()

#endif  // SUISHIN_COMMON_STATUS_MACROS_H_
