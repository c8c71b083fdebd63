// suishinctl: the command-line client. Flags, channels, dispatch; the
// commands themselves are in commands.cc.
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/channel.h"
#include "common/config.h"
#include "tools/suishinctl/commands.h"
#include "tools/suishinctl/terminal_table.h"

// Global flags.
ABSL_FLAG(std::string, plan_address, "127.0.0.1:50061", "plan-service host:port");
ABSL_FLAG(std::string, kpi_address, "127.0.0.1:50062", "kpi-service host:port");
ABSL_FLAG(std::string, notification_address, "127.0.0.1:50063", "notification-service host:port");
ABSL_FLAG(int, timeout_ms, 5000, "deadline of each call, in milliseconds");
ABSL_FLAG(bool, json, false, "print responses in the protobuf JSON mapping instead of tables");

// Command flags: only read when given on the command line (not from the
// environment), and only accepted by the commands that list them. A '-' in a
// flag's name is read as '_' (--as-of is --as_of).
ABSL_FLAG(std::string, root, "", "regions: only the subtree under this region id");
ABSL_FLAG(std::string, area, "", "projects: only projects of this cooperation area id");
ABSL_FLAG(std::string, project, "", "initiatives, table: the project id; kpis: only its KPIs");
ABSL_FLAG(std::string, year, "",
          "initiatives, record, baseline, target, history: fiscal year (2020, R2, 令和２年度…); "
          "table: the year the table is as of");
ABSL_FLAG(std::string, stage, "", "initiatives: achievement, current, next or challenge");
ABSL_FLAG(std::string, region, "",
          "initiatives: only those tagged with this region id; record, baseline, target, "
          "progress, history: the region id; alerts, watch-alerts, add-webhook: only alerts of "
          "these regions (comma-separated); silence: the region matcher");
ABSL_FLAG(std::string, body, "", "initiatives: only those of this responsible body (振興局)");
ABSL_FLAG(std::string, pillar, "", "initiatives: only those under this pillar id");
ABSL_FLAG(std::string, kpi, "",
          "record, baseline, target, progress, history, watch: the KPI id; alerts, watch-alerts, "
          "add-webhook: only alerts of these KPIs; silence: the KPI matcher; rules, set-rule: "
          "the KPI whose settings to show or override");
ABSL_FLAG(std::string, value, "", "record, baseline, target: the value");
ABSL_FLAG(std::string, numerator, "", "record, baseline: the numerator behind a rate");
ABSL_FLAG(std::string, denominator, "", "record, baseline: the denominator behind a rate");
ABSL_FLAG(std::string, by, "",
          "record, baseline, target: who reports it (上川総合振興局); ack, silence: who does it");
ABSL_FLAG(std::string, reason, "", "record, target: why (a correction, a 見直し)");
ABSL_FLAG(std::string, as_of, "", "progress: up to and including this fiscal year");
ABSL_FLAG(std::string, from, "", "watch: the first change sequence to print (default 1)");
ABSL_FLAG(std::string, severity, "",
          "alerts, watch-alerts, add-webhook: info, warning or critical (comma-separated); "
          "silence: the severity matcher; set-rule: the severity the rule fires with");
ABSL_FLAG(std::string, rule, "",
          "alerts, watch-alerts, add-webhook: lagging, below-threshold, declining, stagnant, "
          "missing or achieved (comma-separated); silence: the rule matcher; set-rule: the rule");
ABSL_FLAG(bool, all, false, "alerts: also resolved alerts; silences: also ended silences");
ABSL_FLAG(std::string, after, "", "watch-alerts: print the events after this event id");
ABSL_FLAG(std::string, until, "", "silence: when it ends (RFC 3339)");
ABSL_FLAG(std::string, for, "", "silence: how long it lasts from now (2h, 90m, 7d)");
ABSL_FLAG(std::string, comment, "", "ack, silence: why");
ABSL_FLAG(std::string, enabled, "", "set-rule: true or false");
ABSL_FLAG(std::string, warning_gap, "", "set-rule: LAGGING fires below this pace gap (points)");
ABSL_FLAG(std::string, critical_gap, "", "set-rule: LAGGING is CRITICAL below this gap");
ABSL_FLAG(std::string, clear_gap, "", "set-rule: LAGGING clears only above this gap");
ABSL_FLAG(std::string, threshold, "", "set-rule: BELOW_THRESHOLD fires below this rate (%)");
ABSL_FLAG(std::string, min_steps, "", "set-rule: STAGNANT's unchanged year-over-year steps");
ABSL_FLAG(std::string, deadline, "", "set-rule: MISSING's reporting deadline, MM-DD");
ABSL_FLAG(std::string, secret, "",
          "add-webhook, rotate-webhook-secret: the signing secret (whsec_ + base64); empty: the "
          "service makes one");
ABSL_FLAG(std::string, overlap, "",
          "rotate-webhook-secret: how long the old secret signs beside the new (24h unless set; "
          "0 for none)");
ABSL_FLAG(std::string, webhook, "", "dead-letters: only those of this webhook id");
ABSL_FLAG(std::string, role, "",
          "token issue: the roles (viewer, officer, planner, operator; comma-separated)");
ABSL_FLAG(std::string, subject, "",
          "token issue: who the token names (sub); audit: only this principal");
ABSL_FLAG(std::string, service, "", "audit: only this service's trail (plan, kpi, notification)");
ABSL_FLAG(std::string, method, "", "audit: only this method (\"RecordActual\")");
ABSL_FLAG(bool, refused, false, "audit: only refused calls");
ABSL_FLAG(bool, municipalities, false,
          "table: also the 市町村 rows, each under its 振興局 (the 振興局 add up from them "
          "either way)");
ABSL_FLAG(std::string, limit, "", "audit: how many records (50 unless set; at most 1000)");
ABSL_FLAG(std::string, key, "", "token issue: the PEM private key to sign with");
ABSL_FLAG(std::string, issuer, "", "token issue: the issuer (iss; suishin-local by default)");
ABSL_FLAG(std::string, lifetime, "", "token issue: how long the token is valid (12h by default)");
ABSL_FLAG(std::string, encoding, "",
          "import-csv: auto (default), utf-8 or cp932; export-csv: utf-8 (default) or cp932");
ABSL_FLAG(std::string, table, "", "export-csv: the project whose KPI table to write (with --year)");
ABSL_FLAG(std::string, format, "", "report: html or md");
ABSL_FLAG(std::string, o, "", "export-csv, export-json, report: write to this file, not stdout");

namespace {

constexpr int kDefaultWidth = 100;

// The command line with '-' in flag names read as '_' ("--as-of=R元" →
// "--as_of=R元"). Only words that then name a flag change, so a value such as
// "--reason" "a-b" is left alone. Stops at "--".
std::vector<std::string> NormalizeFlagNames(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size(); ++i) {
    std::string& arg = args[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    const size_t start = arg[1] == '-' ? 2 : 1;
    const size_t end = std::min(arg.find('='), arg.size());
    if (end <= start) continue;
    std::string name = arg.substr(start, end - start);
    if (name.find('-') == std::string::npos) continue;
    std::replace(name.begin(), name.end(), '-', '_');
    if (absl::FindCommandLineFlag(name) != nullptr) arg.replace(start, end - start, name);
  }
  return args;
}

// Exits with status 2 after one line on standard error.
[[noreturn]] void UsageExit(absl::string_view command, absl::string_view message) {
  std::cerr << suishin::ctl::ErrorLine(command, suishin::ctl::UsageError(message)) << "\n";
  std::exit(2);
}

// The names of the flags on the command line, checked before absl parses it,
// so that an unknown flag is a usage error (exit 2; absl's own check exits 1)
// and so that command flags are known to be given rather than defaulted.
// Exits for --help.
std::set<std::string> FlagsOnCommandLine(int argc, char** argv) {
  std::set<std::string> names;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    const bool has_value = absl::StrContains(arg, '=');
    std::string name(arg.substr(0, arg.find('=')));
    if (name == "help" || name == "h") {
      std::cout << suishin::ctl::UsageText();
      std::exit(0);
    }
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && absl::StartsWith(name, "no") && !has_value) {  // --nojson
      const absl::CommandLineFlag* negated = absl::FindCommandLineFlag(name.substr(2));
      if (negated != nullptr && negated->IsOfType<bool>()) {
        flag = negated;
        name = name.substr(2);
      }
    }
    if (flag == nullptr) {
      UsageExit("", absl::StrCat("unknown flag --", name, "; run 'suishinctl help'"));
    }
    // "--name value": the value is the next word.
    if (!has_value && !flag->IsOfType<bool>()) ++i;
    names.insert(name);
  }
  return names;
}

// The width of the terminal standard output is printed on (see
// ChooseTerminalWidth).
int TerminalWidth() {
  std::optional<int> terminal_columns;
  winsize size{};
  if (isatty(STDOUT_FILENO) == 1 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0) {
    terminal_columns = size.ws_col;
  }
  const char* columns = std::getenv("COLUMNS");
  return suishin::ctl::ChooseTerminalWidth(
      terminal_columns,
      columns == nullptr ? std::nullopt : std::optional<absl::string_view>(columns), kDefaultWidth);
}

}  // namespace

int main(int raw_argc, char** raw_argv) {
  std::vector<std::string> normalized = NormalizeFlagNames(raw_argc, raw_argv);
  std::vector<char*> arg_pointers;
  for (std::string& arg : normalized) arg_pointers.push_back(arg.data());
  arg_pointers.push_back(nullptr);
  const int argc = raw_argc;
  char** argv = arg_pointers.data();

  const std::set<std::string> given = FlagsOnCommandLine(argc, argv);
  const std::vector<char*> words =
      suishin::InitFlags(argc, argv, "suishinctl COMMAND [args] [--flags]; see 'suishinctl help'");
  if (words.size() < 2) {
    std::cerr << suishin::ctl::UsageText();
    return 2;
  }
  const std::string command = words[1];
  if (suishin::ctl::FindCommand(command) == nullptr) {
    UsageExit("", absl::StrCat("unknown command \"", command, "\"; run 'suishinctl help'"));
  }

  suishin::ctl::Arguments args;
  args.positional.assign(words.begin() + 2, words.end());
  for (const std::string& name : given) {
    if (suishin::ctl::IsCommandFlag(name)) {
      args.flags[name] = absl::FindCommandLineFlag(name)->CurrentValue();
    }
  }

  const std::string plan_address = absl::GetFlag(FLAGS_plan_address);
  const std::string kpi_address = absl::GetFlag(FLAGS_kpi_address);
  const std::string notification_address = absl::GetFlag(FLAGS_notification_address);
  for (const auto& [flag, address] :
       {std::pair<const char*, std::string>{"--plan_address", plan_address},
        {"--kpi_address", kpi_address},
        {"--notification_address", notification_address}}) {
    if (absl::Status status = suishin::ValidateAddress(flag, address); !status.ok()) {
      UsageExit(command, status.message());
    }
  }
  const int timeout_ms = absl::GetFlag(FLAGS_timeout_ms);
  if (timeout_ms <= 0) {
    UsageExit(command, absl::StrCat("--timeout_ms: ", timeout_ms, " is not a positive number"));
  }

  // Channels connect lazily, so making all three costs nothing for a command
  // that talks to one service.
  auto plan_channel = suishin::MakeChannel(plan_address);
  auto kpi_channel = suishin::MakeChannel(kpi_address);
  auto notification_channel = suishin::MakeChannel(notification_address);
  const suishin::clients::ServiceStubs stubs(plan_channel, kpi_channel, notification_channel);
  auto plan_health = grpc::health::v1::Health::NewStub(plan_channel);
  auto kpi_health = grpc::health::v1::Health::NewStub(kpi_channel);
  auto notification_health = grpc::health::v1::Health::NewStub(notification_channel);
  auto plan_audit = suishin::common::v1::AuditService::NewStub(plan_channel);
  auto kpi_audit = suishin::common::v1::AuditService::NewStub(kpi_channel);
  auto notification_audit = suishin::common::v1::AuditService::NewStub(notification_channel);

  suishin::ctl::Environment env;
  static_cast<suishin::clients::Services&>(env) = stubs.For(absl::Milliseconds(timeout_ms));
  env.health = {{"plan-service", plan_address, plan_health.get()},
                {"kpi-service", kpi_address, kpi_health.get()},
                {"notification-service", notification_address, notification_health.get()}};
  env.audit = {{"plan-service", plan_audit.get()},
               {"kpi-service", kpi_audit.get()},
               {"notification-service", notification_audit.get()}};
  env.json = absl::GetFlag(FLAGS_json);
  env.width = TerminalWidth();
  env.progress = isatty(STDERR_FILENO) == 1;

  const absl::Status status = suishin::ctl::RunCommand(env, command, args);
  std::cout.flush();
  if (!status.ok()) std::cerr << suishin::ctl::ErrorLine(command, status) << "\n";
  return suishin::ctl::ExitCode(status);
}
