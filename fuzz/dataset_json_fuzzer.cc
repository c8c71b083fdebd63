// The dataset JSON import of suishinctl (exchange/dataset_io.h): a
// file's bytes through ParseDatasetJson, the part of ReadDatasetFile that
// needs no file and no server, then what is done without a server to what it
// parsed: DatasetJson (export-json's writer) and StripOutputOnly.
//
// Oracle: a refusal is INVALID_ARGUMENT on one line, starting with the file
// name and "not a valid suishin.dataset.v1.Dataset"; a dataset it accepts is
// written by DatasetJson as JSON that parses back to the same dataset (NaN
// equal to NaN), and StripOutputOnly gives the same dataset when applied twice.
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/message_differencer.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "exchange/dataset_io.h"
#include "fuzz/fuzz_check.h"

namespace {

using suishin::dataset::v1::Dataset;
using suishin::fuzz::Escaped;

constexpr absl::string_view kPath = "fuzz.json";

bool Same(const Dataset& a, const Dataset& b) {
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  return differencer.Compare(a, b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<Dataset> dataset = suishin::exchange::ParseDatasetJson(kPath, text);
  if (!dataset.ok()) {
    const absl::string_view message = dataset.status().message();
    FUZZ_CHECK(absl::IsInvalidArgument(dataset.status()), dataset.status().ToString());
    FUZZ_CHECK(absl::StartsWith(message,
                                absl::StrCat(kPath, ": not a valid suishin.dataset.v1.Dataset: ")),
               Escaped(message));
    FUZZ_CHECK(!absl::StrContains(message, "\n"), "not one line: ", Escaped(message));
    return 0;
  }
  const std::string written = suishin::exchange::DatasetJson(*dataset);
  const absl::StatusOr<Dataset> again = suishin::exchange::ParseDatasetJson(kPath, written);
  FUZZ_CHECK(again.ok(), "DatasetJson wrote what does not parse: ", again.status().ToString(),
             "\n  wrote: ", Escaped(written));
  FUZZ_CHECK(Same(*dataset, *again),
             "written and read again, the dataset differs: ", Escaped(written));

  Dataset stripped = *dataset;
  suishin::exchange::StripOutputOnly(&stripped);
  Dataset twice = stripped;
  suishin::exchange::StripOutputOnly(&twice);
  FUZZ_CHECK(Same(stripped, twice), "StripOutputOnly is not idempotent");
  return 0;
}
