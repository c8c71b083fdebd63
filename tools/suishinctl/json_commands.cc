// export-json and import-json (declared in commands.h): a whole dataset,
// plan and KPIs, as one file in the protobuf JSON mapping.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "exchange/dataset_io.h"
#include "suishin/dataset/v1/dataset.pb.h"
#include "tools/suishinctl/command_util.h"
#include "tools/suishinctl/commands.h"

namespace suishin::ctl {

// From the exchange library.
using exchange::CheckDatasetReferences;
using exchange::DatasetJson;
using exchange::ExportDataset;
using exchange::ReadDatasetFile;
namespace {

// "1 region", "5 regions".
std::string Count(int n, absl::string_view noun) {
  return absl::StrCat(n, " ", noun, n == 1 ? "" : "s");
}

}  // namespace

absl::Status RunExportJson(const Environment& env, const Arguments& args) {
  const auto file = args.flags.find("o");
  if (file != args.flags.end() && file->second.empty()) {
    return UsageError("-o: the file name is empty; usage: suishinctl export-json [-o FILE]");
  }
  ASSIGN_OR_RETURN(dataset::v1::Dataset dataset, ExportDataset(env));
  dataset.set_source(absl::StrCat("suishinctl export-json ",
                                  absl::FormatTime(absl::RFC3339_sec, absl::Now(), env.time_zone)));
  const std::string text = DatasetJson(dataset);
  if (file == args.flags.end()) {
    *env.out << text;
    env.out->flush();
    return absl::OkStatus();
  }
  // Written only once everything was read, so a failed call leaves the file as it was.
  RETURN_IF_ERROR(WriteOutputFile(file->second, text));
  if (!env.json) {
    int actuals = 0;
    for (const kpi::v1::KpiRecord& record : dataset.kpi().kpis()) {
      actuals += record.actuals_size();
    }
    *env.out << file->second << ": " << Count(dataset.plan().regions_size(), "region") << ", "
             << Count(dataset.plan().projects_size(), "project") << ", "
             << Count(dataset.plan().initiatives_size(), "initiative") << ", "
             << Count(dataset.kpi().kpis_size(), "KPI") << " with " << Count(actuals, "actual")
             << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunImportJson(const Environment& env, const Arguments& args) {
  const std::string& path = args.positional.at(0);
  ASSIGN_OR_RETURN(const dataset::v1::Dataset dataset, ReadDatasetFile(path));
  RETURN_IF_ERROR(CheckDatasetReferences(env, path, dataset));
  return ImportDataset(env, path, dataset);
}

}  // namespace suishin::ctl
