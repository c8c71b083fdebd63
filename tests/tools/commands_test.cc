// suishinctl's dispatch, argument checks, error lines and views, without a
// server: everything here fails or finishes before a call would be made.
#include "tools/suishinctl/commands.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "tools/suishinctl/views.h"

namespace suishin::ctl {
namespace {

TEST(ParseStageTest, AcceptsEnglishAndJapaneseNames) {
  EXPECT_EQ(*ParseStage("achievement"), plan::v1::INITIATIVE_STAGE_ACHIEVEMENT);
  EXPECT_EQ(*ParseStage("Current"), plan::v1::INITIATIVE_STAGE_CURRENT);
  EXPECT_EQ(*ParseStage("次年度"), plan::v1::INITIATIVE_STAGE_NEXT);
  EXPECT_EQ(*ParseStage("課題"), plan::v1::INITIATIVE_STAGE_CHALLENGE);
}

TEST(ParseStageTest, RejectsOthersAsUsageErrors) {
  const auto stage = ParseStage("soon");
  ASSERT_FALSE(stage.ok());
  EXPECT_TRUE(IsUsageError(stage.status()));
  EXPECT_EQ(ExitCode(stage.status()), 2);
  EXPECT_TRUE(absl::StrContains(stage.status().message(), "\"soon\"")) << stage.status();
}

TEST(ErrorLineTest, NamesCommandCodeAndMessage) {
  const absl::Status status = absl::NotFoundError("project_id: project \"x\" not found");
  EXPECT_EQ(ErrorLine("initiatives", status),
            "suishinctl: initiatives: NOT_FOUND: project_id: project \"x\" not found");
  EXPECT_EQ(ExitCode(status), 1);
  EXPECT_EQ(ErrorLine("initiatives", UsageError("--year: bad")),
            "suishinctl: initiatives: --year: bad");
  EXPECT_EQ(ExitCode(absl::OkStatus()), 0);
}

TEST(RunCommandTest, UnknownCommandIsAUsageError) {
  const absl::Status status = RunCommand(Environment{}, "frobnicate", Arguments{});
  EXPECT_EQ(ExitCode(status), 2) << status;
}

TEST(RunCommandTest, FlagOfAnotherCommandIsAUsageError) {
  Arguments args;
  args.flags["year"] = "R2";
  const absl::Status status = RunCommand(Environment{}, "regions", args);
  EXPECT_EQ(ExitCode(status), 2) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "--year")) << status;
}

TEST(RunCommandTest, WrongNumberOfWordsIsAUsageError) {
  EXPECT_EQ(ExitCode(RunCommand(Environment{}, "project", Arguments{})), 2);
  Arguments two;
  two.positional = {"a", "b"};
  EXPECT_EQ(ExitCode(RunCommand(Environment{}, "project", two)), 2);
}

TEST(RunCommandTest, BadYearIsAUsageErrorWithParseFiscalYearsMessage) {
  Arguments args;
  args.flags["project"] = "dohoku-anzen-anshin";
  args.flags["year"] = "H35";
  const absl::Status status = RunCommand(Environment{}, "initiatives", args);
  EXPECT_EQ(ExitCode(status), 2) << status;
  EXPECT_TRUE(absl::StartsWith(status.message(), "--year: ")) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "H35")) << status;
}

TEST(RunCommandTest, InitiativesNeedsAProject) {
  const absl::Status status = RunCommand(Environment{}, "initiatives", Arguments{});
  EXPECT_EQ(ExitCode(status), 2) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "--project")) << status;
}

// The KPI commands check their flags before any call: an Environment without
// stubs is enough.
struct FlagCase {
  std::string command;
  std::map<std::string, std::string> flags;
  std::string message_part;
};

TEST(RunCommandTest, KpiCommandsRefuseBadFlagsAsUsageErrors) {
  const std::map<std::string, std::string> value = {
      {"kpi", "kodomoen"}, {"region", "soya"}, {"year", "R元"}, {"value", "4"}};
  auto with = [&](std::map<std::string, std::string> flags, const std::string& name,
                  const std::string& text) {
    flags[name] = text;
    return flags;
  };
  const FlagCase cases[] = {
      {"record", {}, "--kpi is required"},
      {"record", {{"kpi", "kodomoen"}}, "--region is required"},
      {"record", {{"kpi", "kodomoen"}, {"region", "soya"}}, "--year is required"},
      {"record", with(value, "value", ""), "--value is required"},
      {"record", with(value, "year", "H35"), "--year: "},
      {"record", with(value, "value", "abc"), "--value: \"abc\" is not a number"},
      {"record", with(value, "numerator", "1"), "--numerator and --denominator"},
      {"baseline", with(value, "year", "S60"), "--year: "},
      {"target", with(value, "value", "1,000"), "--value: "},
      {"progress", {{"kpi", "kodomoen"}}, "--region is required"},
      {"progress", {{"kpi", "kodomoen"}, {"region", "soya"}, {"as_of", "R元x"}}, "--as-of: "},
      {"table", {{"project", "dohoku-anzen-anshin"}}, "--year is required"},
      {"table", {{"year", "R元"}}, "--project is required"},
      {"history", {}, "--kpi is required"},
      {"history", {{"kpi", "kodomoen"}, {"year", "平成99年度"}}, "--year: "},
      {"watch", {{"from", "-1"}}, "--from: -1 is negative"},
      {"watch", {{"from", "x"}}, "--from: \"x\" is not a whole number"},
      {"kpis", {{"year", "R2"}}, "--year is not a flag of kpis"},
      {"progress",
       {{"kpi", "kodomoen"}, {"region", "soya"}, {"year", "R2"}},
       "--year is not a flag of progress"},
  };
  for (const FlagCase& c : cases) {
    Arguments args;
    args.flags = c.flags;
    const absl::Status status = RunCommand(Environment{}, c.command, args);
    EXPECT_EQ(ExitCode(status), 2) << c.command << ": " << status;
    EXPECT_TRUE(absl::StrContains(status.message(), c.message_part))
        << c.command << ": " << status << "\nexpected: " << c.message_part;
  }
}

TEST(ParseSeverityTest, AcceptsEnglishInAnyCaseAndJapanese) {
  EXPECT_EQ(*ParseSeverity("--severity", "info"), notification::v1::SEVERITY_INFO);
  EXPECT_EQ(*ParseSeverity("--severity", "WARNING"), notification::v1::SEVERITY_WARNING);
  EXPECT_EQ(*ParseSeverity("--severity", "重大"), notification::v1::SEVERITY_CRITICAL);
  const auto bad = ParseSeverity("--severity", "urgent");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(ExitCode(bad.status()), 2);
  EXPECT_TRUE(absl::StartsWith(bad.status().message(), "--severity: \"urgent\"")) << bad.status();
}

TEST(ParseRuleKindTest, AcceptsNamesWithDashesOrUnderscoresAndJapanese) {
  EXPECT_EQ(*ParseRuleKind("--rule", "lagging"), notification::v1::RULE_KIND_LAGGING);
  EXPECT_EQ(*ParseRuleKind("--rule", "below-threshold"),
            notification::v1::RULE_KIND_BELOW_THRESHOLD);
  EXPECT_EQ(*ParseRuleKind("--rule", "BELOW_THRESHOLD"),
            notification::v1::RULE_KIND_BELOW_THRESHOLD);
  EXPECT_EQ(*ParseRuleKind("--rule", "未報告"), notification::v1::RULE_KIND_MISSING);
  const auto bad = ParseRuleKind("--rule", "slow");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(ExitCode(bad.status()), 2);
  EXPECT_TRUE(absl::StartsWith(bad.status().message(), "--rule: \"slow\"")) << bad.status();
}

TEST(ParsePositiveDurationTest, AcceptsAbslDurationsAndWholeDays) {
  EXPECT_EQ(*ParsePositiveDuration("--for", "2h"), absl::Hours(2));
  EXPECT_EQ(*ParsePositiveDuration("--for", "1h30m"), absl::Minutes(90));
  EXPECT_EQ(*ParsePositiveDuration("--for", "7d"), absl::Hours(7 * 24));
  for (const char* bad : {"", "0s", "-1h", "2", "inf", "1x", "0d"}) {
    const auto parsed = ParsePositiveDuration("--for", bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(ExitCode(parsed.status()), 2) << bad;
  }
}

TEST(ParseMonthDayTest, ReadsMonthAndDay) {
  EXPECT_EQ(*ParseMonthDay("--deadline", "06-30"), std::make_pair(6, 30));
  EXPECT_EQ(*ParseMonthDay("--deadline", "9/1"), std::make_pair(9, 1));
  for (const char* bad : {"13-01", "06-32", "0630", "06-30-1", "June 30"}) {
    const auto parsed = ParseMonthDay("--deadline", bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_TRUE(absl::StartsWith(parsed.status().message(), "--deadline: ")) << parsed.status();
  }
}

// The alert commands check their flags before any call: an Environment
// without stubs is enough.
TEST(RunCommandTest, AlertCommandsRefuseBadFlagsAsUsageErrors) {
  const std::map<std::string, std::string> silence = {
      {"region", "soya"}, {"for", "1h"}, {"by", "山田"}, {"comment", "除雪作業中"}};
  auto with = [](std::map<std::string, std::string> flags, const std::string& name,
                 const std::string& text) {
    flags[name] = text;
    return flags;
  };
  auto without = [](std::map<std::string, std::string> flags, const std::string& name) {
    flags.erase(name);
    return flags;
  };
  const FlagCase cases[] = {
      {"alerts", {{"severity", "warning,urgent"}}, "--severity: \"urgent\" is not a severity"},
      {"alerts", {{"rule", "slow"}}, "--rule: \"slow\" is not a rule"},
      {"alerts", {{"after", "3"}}, "--after is not a flag of alerts"},
      {"watch-alerts", {{"after", "-1"}}, "--after: -1 is negative"},
      {"watch-alerts", {{"after", "x"}}, "--after: \"x\" is not a whole number"},
      {"watch-alerts", {{"severity", "bad"}}, "--severity: "},
      {"silence", without(silence, "region"), "give at least one of --rule, --kpi, --region"},
      {"silence", without(silence, "for"), "--until or --for is required"},
      {"silence", with(silence, "until", "2026-12-01T00:00:00+09:00"),
       "--until and --for: give one of them, not both"},
      {"silence", with(without(silence, "for"), "until", "tomorrow"),
       "--until: \"tomorrow\" is not an RFC 3339 time"},
      {"silence", with(silence, "for", "forever"), "--for: \"forever\" is not a positive"},
      {"silence", without(silence, "by"), "--by is required"},
      {"silence", without(silence, "comment"), "--comment is required"},
      {"silence", with(silence, "region", "soya,rumoi"), "--region: a silence matches one value"},
      {"silence", with(silence, "severity", "loud"), "--severity: \"loud\""},
      {"silence", with(silence, "rule", "slow"), "--rule: \"slow\""},
      {"silences", {{"region", "soya"}}, "--region is not a flag of silences"},
      {"set-rule", {{"enabled", "false"}}, "--rule is required"},
      {"set-rule", {{"rule", "slow"}, {"enabled", "false"}}, "--rule: \"slow\""},
      {"set-rule", {{"rule", "lagging"}}, "nothing to change"},
      {"set-rule", {{"rule", "lagging"}, {"enabled", "maybe"}}, "--enabled: \"maybe\""},
      {"set-rule", {{"rule", "lagging"}, {"warning_gap", "-x"}}, "--warning-gap: \"-x\""},
      {"set-rule", {{"rule", "stagnant"}, {"min_steps", "2.5"}}, "--min-steps: \"2.5\""},
      {"set-rule", {{"rule", "missing"}, {"deadline", "13-01"}}, "--deadline: \"13-01\""},
      {"set-rule", {{"rule", "lagging"}, {"severity", "loud"}}, "--severity: \"loud\""},
      {"add-webhook", {{"severity", "loud"}}, "missing argument"},
      {"dead-letters", {{"kpi", "kodomoen"}}, "--kpi is not a flag of dead-letters"},
  };
  for (const FlagCase& c : cases) {
    Arguments args;
    args.flags = c.flags;
    const absl::Status status = RunCommand(Environment{}, c.command, args);
    EXPECT_EQ(ExitCode(status), 2) << c.command << ": " << status;
    EXPECT_TRUE(absl::StrContains(status.message(), c.message_part))
        << c.command << ": " << status << "\nexpected: " << c.message_part;
  }

  // Commands with an argument: ack needs --by; add-webhook checks its filter.
  Arguments ack;
  ack.positional = {"47786be92014bae0"};
  const absl::Status no_author = RunCommand(Environment{}, "ack", ack);
  EXPECT_EQ(ExitCode(no_author), 2) << no_author;
  EXPECT_TRUE(absl::StrContains(no_author.message(), "--by is required")) << no_author;
  Arguments webhook;
  webhook.positional = {"https://example.jp/hook"};
  webhook.flags["rule"] = "slow";
  const absl::Status bad_rule = RunCommand(Environment{}, "add-webhook", webhook);
  EXPECT_EQ(ExitCode(bad_rule), 2) << bad_rule;
  EXPECT_TRUE(absl::StrContains(bad_rule.message(), "--rule: \"slow\"")) << bad_rule;
  for (const char* command : {"alert", "ack", "expire-silence", "delete-webhook", "replay"}) {
    EXPECT_EQ(ExitCode(RunCommand(Environment{}, command, Arguments{})), 2) << command;
  }
}

TEST(UsageTextTest, ListsEveryCommand) {
  std::ostringstream out;
  Environment env;
  env.out = &out;
  ASSERT_TRUE(RunCommand(env, "help", Arguments{}).ok());
  for (const CommandSpec& spec : AllCommands()) {
    EXPECT_TRUE(absl::StrContains(out.str(), spec.synopsis)) << spec.name;
  }
}

TEST(ViewsTest, InitiativesTableShowsYearStageBodiesAndRegionTags) {
  plan::v1::Initiative tagged;
  tagged.set_id("n04");
  tagged.mutable_fiscal_year()->set_year(2020);
  tagged.set_stage(plan::v1::INITIATIVE_STAGE_NEXT);
  tagged.set_text("医療従事者の移住定住を促進");
  tagged.add_region_ids("soya");
  plan::v1::Initiative area_wide;
  area_wide.set_id("a01");
  area_wide.mutable_fiscal_year()->set_year(2019);
  area_wide.set_stage(plan::v1::INITIATIVE_STAGE_ACHIEVEMENT);
  area_wide.set_text("防災訓練");
  area_wide.add_responsible_bodies("振興局");
  area_wide.add_responsible_bodies("関係機関等");

  const std::string text = FormatInitiatives({tagged, area_wide}, {{"soya", "宗谷"}}, 100);
  EXPECT_EQ(text,
            "id   年度        区分    実施主体            地域      取組\n"
            "---  ----------  ------  ------------------  --------  --------------------------\n"
            "n04  R2 (2020)   次年度                      【宗谷】  医療従事者の移住定住を促進\n"
            "a01  R元 (2019)  実績    振興局・関係機関等  連携地域  防災訓練\n"
            "2 initiatives\n");
}

TEST(ViewsTest, RegionTagFallsBackToTheId) {
  plan::v1::Initiative initiative;
  initiative.add_region_ids("kamikawa");
  initiative.add_region_ids("soya");
  EXPECT_EQ(RegionTagsLabel(initiative, {{"soya", "宗谷"}}), "【kamikawa】【宗谷】");
}

TEST(ViewsTest, RegionTreeIsIndentedByDepth) {
  std::vector<plan::v1::Region> regions(3);
  regions[0].set_id("hokkaido");
  regions[0].set_name("北海道");
  regions[0].set_kind(common::v1::REGION_KIND_PREFECTURE);
  regions[0].set_local_government_code("010006");
  regions[1].set_id("dohoku");
  regions[1].set_name("道北");
  regions[1].set_kind(common::v1::REGION_KIND_COOPERATION_AREA);
  regions[1].set_parent_id("hokkaido");
  regions[2].set_id("soya");
  regions[2].set_name("宗谷");
  regions[2].set_kind(common::v1::REGION_KIND_SUBPREFECTURE);
  regions[2].set_parent_id("dohoku");
  EXPECT_EQ(FormatRegions(regions),
            "id        名称    種別      コード\n"
            "--------  ------  --------  ------\n"
            "hokkaido  北海道  都道府県  010006\n"
            "  dohoku  道北    連携地域\n"
            "    soya  宗谷    振興局\n"
            "3 regions\n");
}

}  // namespace
}  // namespace suishin::ctl
