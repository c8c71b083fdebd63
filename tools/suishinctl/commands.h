// suishinctl's commands: one function per command, the table that names them
// for dispatch and usage, and how a failure becomes an exit status and an
// error line.
//
// A command reads its arguments, calls the services through the stubs in its
// Environment (every call with a deadline of Environment::timeout), and
// prints to Environment::out: tables by default, the responses in the
// protobuf JSON mapping with Environment::json. It returns OK, a usage error
// (bad arguments, made by UsageError; exit status 2), or the status of the
// call that failed (exit status 1).
//
// Example:
//   Environment env;
//   env.plan = plan_stub.get();
//   Arguments args;
//   args.flags["project"] = "dohoku-anzen-anshin";
//   absl::Status status = RunCommand(env, "initiatives", args);
//   if (!status.ok()) std::cerr << ErrorLine("initiatives", status) << "\n";
//   return ExitCode(status);
#ifndef SUISHIN_TOOLS_SUISHINCTL_COMMANDS_H_
#define SUISHIN_TOOLS_SUISHINCTL_COMMANDS_H_

#include <iostream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "clients/services.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "suishin/common/v1/audit.grpc.pb.h"
#include "suishin/kpi/v1/kpi.grpc.pb.h"
#include "suishin/notification/v1/notification.grpc.pb.h"
#include "suishin/plan/v1/plan.grpc.pb.h"

namespace suishin::ctl {

// A service that `health` checks.
struct HealthTarget {
  std::string service;  // "plan-service"
  std::string address;  // "127.0.0.1:50061"
  grpc::health::v1::Health::StubInterface* stub = nullptr;
};

// A service whose audit trail `audit` reads.
struct AuditTarget {
  std::string name;  // "kpi-service"
  common::v1::AuditService::StubInterface* stub = nullptr;
};

// What commands call and print to: the services (clients::Services: the
// stubs, not owned, and every call's deadline and metadata), and the
// terminal.
struct Environment : clients::Services {
  std::vector<HealthTarget> health;
  std::vector<AuditTarget> audit;
  // Print responses as protobuf JSON instead of tables.
  bool json = false;
  // Terminal width in display columns, for wrapping.
  int width = 100;
  // Show progress of long operations (import) on `err`: set when standard
  // error is a terminal.
  bool progress = false;
  // Times are printed in this zone.
  absl::TimeZone time_zone = absl::LocalTimeZone();
  std::ostream* out = &std::cout;
  std::ostream* err = &std::cerr;
};

// A command's own arguments: the words after its name, and the values of the
// command flags given on the command line (name without "--" → value).
struct Arguments {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;
};

// A command as dispatch and usage know it.
struct CommandSpec {
  absl::string_view name;
  absl::string_view synopsis;            // "project ID"
  absl::string_view summary;             // one line for the usage text
  std::vector<absl::string_view> flags;  // the command flags it accepts
  int min_positional = 0;
  int max_positional = 0;
  absl::Status (*run)(const Environment& env, const Arguments& args) = nullptr;
};

// Every command, in the order the usage text lists them.
const std::vector<CommandSpec>& AllCommands();
// The command called `name`, or nullptr.
const CommandSpec* FindCommand(absl::string_view name);
// True when some command takes flag `name` (as "project" for initiatives);
// the global flags (addresses, timeout, --json) are not command flags.
bool IsCommandFlag(absl::string_view name);

// The usage text: synopsis and summary of every command, the global flags.
std::string UsageText();

// Runs command `name`: checks `args` against its spec (unknown command,
// wrong number of words, a flag it does not take are usage errors), then runs it.
absl::Status RunCommand(const Environment& env, absl::string_view name, const Arguments& args);

// A usage error: INVALID_ARGUMENT marked so that ExitCode gives 2 and
// ErrorLine omits the code name.
absl::Status UsageError(absl::string_view message);
bool IsUsageError(const absl::Status& status);

// 0 for OK, 2 for a usage error, 1 otherwise.
int ExitCode(const absl::Status& status);

// The one line printed on standard error for a failed command (without "\n"):
//   suishinctl: initiatives: NOT_FOUND: project_id: project "x" not found
//   suishinctl: initiatives: --stage: "soon" is not a stage; use ...   (usage error)
// `command` may be empty (the command itself was wrong).
std::string ErrorLine(absl::string_view command, const absl::Status& status);

// Parses --stage: achievement|current|next|challenge (any case), or the
// Japanese labels 実績, 今年度, 次年度, 課題. A usage error otherwise.
absl::StatusOr<plan::v1::InitiativeStage> ParseStage(absl::string_view text);

// Parses --severity (or the flag `flag`, "--severity"): info|warning|critical
// in any case, or 情報, 警告, 重大. A usage error naming the flag otherwise.
absl::StatusOr<notification::v1::Severity> ParseSeverity(absl::string_view flag,
                                                         absl::string_view text);

// Parses --rule: lagging, below-threshold (or below_threshold), declining,
// stagnant, missing, achieved in any case, or the Japanese labels 遅れ,
// しきい値未満, 悪化, 停滞, 未報告, 達成. A usage error naming the flag otherwise.
absl::StatusOr<notification::v1::RuleKind> ParseRuleKind(absl::string_view flag,
                                                         absl::string_view text);

// Parses a positive duration for --for: what absl::ParseDuration takes
// ("2h", "90m", "1h30m") or whole days ("7d"). A usage error naming the flag
// otherwise.
absl::StatusOr<absl::Duration> ParsePositiveDuration(absl::string_view flag,
                                                     absl::string_view text);

// Parses --deadline MM-DD ("06-30", "6-30") into month and day. Only the
// shape is checked here (a month 1–12 and a day 1–31); the service checks the
// day against the month.
absl::StatusOr<std::pair<int, int>> ParseMonthDay(absl::string_view flag, absl::string_view text);

// The commands, normally called through RunCommand, which has checked the
// number of words and which flags are present; each checks the flag values
// (a year, a number, a stage) itself: a missing required flag or a malformed
// value is a usage error naming the flag.
//
// import FILE: the plan part with ImportPlan, then the KPI part: for each
// KPI, CreateKpi and one ImportActuals stream of its RowsOf rows. A KPI that
// already exists (ALREADY_EXISTS, and GetKpi finds it with the file's
// definition) is reported as already present and its rows are not sent
// again, so importing the same file twice changes nothing (identical actuals
// would be no-ops, but target rows would add revisions). An existing KPI
// whose definition differs from the file's is an ALREADY_EXISTS error
// naming the field. When ImportActuals refuses rows, every bad row is
// printed on env.err before the error is returned.
absl::Status RunImport(const Environment& env, const Arguments& args);
absl::Status RunAudit(const Environment& env, const Arguments& args);
absl::Status RunRegions(const Environment& env, const Arguments& args);
absl::Status RunProjects(const Environment& env, const Arguments& args);
absl::Status RunProject(const Environment& env, const Arguments& args);
absl::Status RunInitiatives(const Environment& env, const Arguments& args);
// kpis [--project ID]: ListKpis, every page.
absl::Status RunKpis(const Environment& env, const Arguments& args);
// record --kpi ID --region ID --year Y --value V [--numerator N --denominator D]
// [--by NAME] [--reason TEXT]: RecordActual.
absl::Status RunRecord(const Environment& env, const Arguments& args);

// ---- Exchange with other systems (csv_commands.cc, json_commands.cc, report_commands.cc) ----

// import-csv FILE [--encoding auto|utf-8|cp932]
absl::Status RunImportCsv(const Environment& env, const Arguments& args);
// export-csv --kpi ID | --table PROJECT --year YEAR [--encoding utf-8|cp932] [-o FILE]
absl::Status RunExportCsv(const Environment& env, const Arguments& args);
// export-json [-o FILE]
absl::Status RunExportJson(const Environment& env, const Arguments& args);
// import-json FILE
absl::Status RunImportJson(const Environment& env, const Arguments& args);
// report --project ID --year YEAR --format html|md [-o FILE]
absl::Status RunReport(const Environment& env, const Arguments& args);
// baseline --kpi ID --region ID --year Y --value V [--numerator N --denominator D]
// [--by NAME]: SetBaseline.
absl::Status RunBaseline(const Environment& env, const Arguments& args);
// target --kpi ID --region ID --year Y --value V [--reason TEXT] [--by NAME]: ReviseTarget.
absl::Status RunTarget(const Environment& env, const Arguments& args);
// progress --kpi ID --region ID [--as-of Y]: GetProgress.
absl::Status RunProgress(const Environment& env, const Arguments& args);
// table --project ID --year Y: GetKpiTable as 【ＫＰＩの状況】.
absl::Status RunTable(const Environment& env, const Arguments& args);
// history --kpi ID [--region ID] [--year Y]: GetHistory.
absl::Status RunHistory(const Environment& env, const Arguments& args);
// watch [--from N] [--kpi ID]: WatchChanges, one line (or with env.json one
// JSON object) per change as it arrives, until interrupted or the stream
// ends; the error then says from which sequence to resume.
absl::Status RunWatch(const Environment& env, const Arguments& args);

// The alert commands (notification-service). The filter flags --region,
// --kpi, --severity and --rule take one value or several separated by commas
// (--severity warning,critical); lists combine with AND, values within a list
// with OR.
//
// alerts [--region ID] [--kpi ID] [--severity S] [--rule R] [--all]:
// ListAlerts, every page, firing ones first (--all: resolved ones too), as
// FormatAlerts with the KPI and region names from kpi-service's GetKpi (ids
// when kpi-service cannot be reached).
absl::Status RunAlerts(const Environment& env, const Arguments& args);
// alert FINGERPRINT: GetAlert with its values and history.
absl::Status RunAlert(const Environment& env, const Arguments& args);
// ack FINGERPRINT --by NAME [--comment TEXT]: AcknowledgeAlert.
absl::Status RunAck(const Environment& env, const Arguments& args);
// watch-alerts [--after N] [filter flags]: Subscribe from after event N
// (default 0: every kept event), one line (with env.json one JSON object)
// per event as it arrives, flushed at once, until interrupted (Ctrl-C ends
// the process) or the stream breaks; the error then says which --after
// resumes it without missing or repeating an event.
absl::Status RunWatchAlerts(const Environment& env, const Arguments& args);
// silence [--rule R] [--kpi ID] [--region ID] [--severity S] (at least one)
// (--until TIME | --for DURATION) --by NAME --comment TEXT: CreateSilence.
// TIME is RFC 3339 ("2026-12-01T09:00:00+09:00"); with --for the silence
// starts at the service's now and ends DURATION after this machine's now.
// Prints the silence and how many firing alerts it holds back.
absl::Status RunSilence(const Environment& env, const Arguments& args);
// silences [--all]: ListSilences (--all: ended ones too).
absl::Status RunSilences(const Environment& env, const Arguments& args);
// expire-silence ID: ExpireSilence.
absl::Status RunExpireSilence(const Environment& env, const Arguments& args);
// rules [--kpi ID]: ListRules, the global settings or a KPI's effective ones.
absl::Status RunRules(const Environment& env, const Arguments& args);
// set-rule --rule R [--kpi ID] [--enabled true|false] [--severity S]
// [--warning-gap N] [--critical-gap N] [--clear-gap N] [--threshold N]
// [--min-steps N] [--deadline MM-DD]: reads the rule's effective settings
// (ListRules), changes the fields given and stores the whole rule with
// SetRule, globally or as the KPI's override (which then keeps every
// setting it had, including those inherited from the global rule).
absl::Status RunSetRule(const Environment& env, const Arguments& args);
// webhooks: ListWebhooks.
absl::Status RunWebhooks(const Environment& env, const Arguments& args);
// add-webhook URL [--secret whsec_...] [filter flags]: CreateWebhook; prints
// the id and, when the service generated the secret, the secret once.
absl::Status RunAddWebhook(const Environment& env, const Arguments& args);
// delete-webhook ID: DeleteWebhook.
absl::Status RunDeleteWebhook(const Environment& env, const Arguments& args);
// rotate-webhook-secret ID [--secret S] [--overlap D]: RotateWebhookSecret;
// prints the new secret when the service made it, and until when the old
// one signs too.
absl::Status RunRotateWebhookSecret(const Environment& env, const Arguments& args);
// dead-letters [--webhook ID]: ListDeadLetters.
absl::Status RunDeadLetters(const Environment& env, const Arguments& args);
// replay ID: ReplayDeadLetter.
absl::Status RunReplay(const Environment& env, const Arguments& args);

// token issue --key FILE --role R,… [--region …] [--subject S] [--by NAME]
// [--issuer I] [--lifetime D]: prints a token signed with the key.
absl::Status RunToken(const Environment& env, const Arguments& args);

absl::Status RunHealth(const Environment& env, const Arguments& args);
absl::Status RunHelp(const Environment& env, const Arguments& args);

}  // namespace suishin::ctl

#endif  // SUISHIN_TOOLS_SUISHINCTL_COMMANDS_H_
