// report (declared in commands.h): a project's management table
// (プロジェクト推進管理表) for a fiscal year as a self-contained HTML page or as
// Markdown. The data comes from report_model.h, the layouts from
// report_html.h and report_markdown.h.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fiscal_year.h"
#include "common/status_macros.h"
#include "report/report_html.h"
#include "report/report_markdown.h"
#include "report/report_model.h"
#include "tools/suishinctl/command_util.h"
#include "tools/suishinctl/commands.h"

namespace suishin::ctl {

// From the report library.
using report::GatherReport;
using report::RenderHtmlReport;
using report::RenderMarkdownReport;
using report::ReportModel;
namespace {

constexpr char kSynopsis[] = "report --project ID --year YEAR --format html|md [-o FILE]";

enum class Format { kHtml, kMarkdown };

// --format html|md (also htm, markdown, any case); without it, the -o
// file's extension decides.
absl::StatusOr<Format> FormatFlag(const Arguments& args) {
  std::string text = absl::AsciiStrToLower(FlagValue(args, "format"));
  if (text.empty()) {
    const std::string file = absl::AsciiStrToLower(FlagValue(args, "o"));
    if (absl::EndsWith(file, ".html") || absl::EndsWith(file, ".htm")) return Format::kHtml;
    if (absl::EndsWith(file, ".md") || absl::EndsWith(file, ".markdown")) {
      return Format::kMarkdown;
    }
    return UsageError(
        absl::StrCat("--format is required (html or md); usage: suishinctl ", kSynopsis));
  }
  if (text == "html" || text == "htm") return Format::kHtml;
  if (text == "md" || text == "markdown") return Format::kMarkdown;
  return UsageError(absl::StrCat("--format: \"", FlagValue(args, "format"),
                                 "\" is not a format; use html or md"));
}

}  // namespace

absl::Status RunReport(const Environment& env, const Arguments& args) {
  ASSIGN_OR_RETURN(const std::string project_id, RequiredFlag(args, "project", kSynopsis));
  ASSIGN_OR_RETURN(const std::optional<int> year, YearFlag(args, "year"));
  if (!year) return UsageError(absl::StrCat("--year is required; usage: suishinctl ", kSynopsis));
  ASSIGN_OR_RETURN(const Format format, FormatFlag(args));
  const auto file = args.flags.find("o");
  if (file != args.flags.end() && file->second.empty()) {
    return UsageError(absl::StrCat("-o: the file name is empty; usage: suishinctl ", kSynopsis));
  }

  ASSIGN_OR_RETURN(const ReportModel model, GatherReport(env, project_id, *year));
  const std::string text =
      format == Format::kHtml ? RenderHtmlReport(model) : RenderMarkdownReport(model);
  if (!model.alerts.available) {
    *env.err << "suishinctl: report: warning: 通知サービスに接続できません (" << model.alerts.error
             << "); the report says so in place of the alerts\n";
  }
  if (file == args.flags.end()) {
    *env.out << text;
    env.out->flush();
    return absl::OkStatus();
  }
  // Written only once everything was read, so a failed call leaves the file as it was.
  RETURN_IF_ERROR(WriteOutputFile(file->second, text));
  *env.out << file->second << ": " << (format == Format::kHtml ? "HTML" : "Markdown")
           << " report of " << project_id << " for " << FormatFiscalYear(*year) << ", "
           << text.size() << " bytes\n";
  return absl::OkStatus();
}

}  // namespace suishin::ctl
