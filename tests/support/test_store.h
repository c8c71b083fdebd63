// Where a test keeps a service's store: a SQLite file in the test's own
// folder, or a PostgreSQL schema of its own.
//
// The suite runs twice in `./suishin test`: once as it is (SQLite), once
// with SUISHIN_TEST_STORE=postgresql, when TestStore() gives every store a
// schema in the test cluster instead, so every test that keeps data shows
// the same behaviour on both engines. Tests name their stores by file path
// as before; StoreFor maps a path to its schema, the same one each time, so
// a test that reopens "its file" after a restart reopens its schema. Store tests that must always
// cover both ask for PostgreSQL directly with NewPostgresStore().
//
// The cluster is the one whose socket folder SUISHIN_TEST_POSTGRES names
// (ctest's "postgres" fixture starts it with tests/support/test-postgres for
// the whole run); when that is unset (a test binary run by hand), the first
// call starts a private one, stopped when the process exits.
//
// Example:
//   absl::StatusOr<std::string> store = StoreFor(dir->File("kpi.db"));
//   ASSERT_TRUE(store.ok()) << store.status();
//   auto kpi_store = OpenKpiStore(*store);  // a path or a postgresql:// URL
#ifndef SUISHIN_TESTS_SUPPORT_TEST_STORE_H_
#define SUISHIN_TESTS_SUPPORT_TEST_STORE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace suishin::testing {

// True in the PostgreSQL pass (SUISHIN_TEST_STORE=postgresql).
bool PostgresPass();

// `path`, or in the PostgreSQL pass the URL of the schema that stands for
// it (made on the first call for `path`).
absl::StatusOr<std::string> StoreFor(const std::string& path);

// The URL of a new, empty schema in the test cluster (database "suishin",
// user postgres, search_path set to the schema).
absl::StatusOr<std::string> NewPostgresStore();

// The URL of the test cluster's database itself (every schema), for a test
// that looks at what a store wrote with SQL.
absl::StatusOr<std::string> TestPostgresDatabase();

}  // namespace suishin::testing

#endif  // SUISHIN_TESTS_SUPPORT_TEST_STORE_H_
