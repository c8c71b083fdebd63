// The JSON writer against the library it replaces: for the suite's messages,
// for every kind of field (on message types built here at run time), for
// random messages of every type the three services use, and for every
// Unicode code point, the text must be byte for byte what
// google::protobuf::util::MessageToJsonString prints with default options,
// and must read back (JsonStringToMessage) as the message written.
//
// Byte equality holds everywhere except for maps of more than one entry: the
// library writes them in its hash map's order, which changes from run to run;
// those are compared read back, and their key order checked on its own.
#include "services/gateway/json_writer.h"

#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/empty.pb.h>
#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/wrappers.pb.h>
#include <gtest/gtest.h>

#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "suishin/kpi/v1/kpi.pb.h"
#include "suishin/notification/v1/notification.pb.h"
#include "suishin/plan/v1/plan.pb.h"

namespace suishin::gateway {
namespace {

namespace pb = google::protobuf;
namespace kpiv1 = suishin::kpi::v1;
namespace notificationv1 = suishin::notification::v1;
namespace planv1 = suishin::plan::v1;

using FieldProto = pb::FieldDescriptorProto;

// ---------------------------------------------------------------------------
// Comparing with the library.

// The library's JSON of `message` with default options; a test failure and
// "" when it fails.
std::string LibraryJson(const pb::Message& message) {
  std::string json;
  const pb::util::Status status = pb::util::MessageToJsonString(message, &json);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return status.ok() ? json : "";
}

// Our JSON of `message`; a test failure and "" when it fails.
std::string OurJson(const pb::Message& message) {
  absl::StatusOr<std::string> json = ToJson(message);
  EXPECT_TRUE(json.ok()) << json.status();
  return json.ok() ? *json : "";
}

// Expects `ours` to equal `library`, showing where they first differ (the
// texts can be long).
void ExpectSameText(const std::string& ours, const std::string& library) {
  if (ours == library) return;
  size_t at = 0;
  while (at < ours.size() && at < library.size() && ours[at] == library[at]) ++at;
  const size_t from = at < 60 ? 0 : at - 60;
  ADD_FAILURE() << "differs at byte " << at << " of " << ours.size() << " (ours) and "
                << library.size() << " (library)\n  ours:    ..." << ours.substr(from, 140)
                << "\n  library: ..." << library.substr(from, 140);
}

// Clears the double and float fields without presence that hold -0.0, in
// `message` and the messages in it. Both writers print them ("-0"), but the
// library's reader takes -0 for the default there and leaves the field unset.
void ClearNegativeZeros(pb::Message* message) {
  if (auto* any = dynamic_cast<pb::Any*>(message); any != nullptr && !any->value().empty()) {
    // The packed message too, when it is of a generated type.
    const pb::Descriptor* type = pb::DescriptorPool::generated_pool()->FindMessageTypeByName(
        std::string(absl::StripPrefix(any->type_url(), "type.googleapis.com/")));
    if (type == nullptr) return;
    std::unique_ptr<pb::Message> packed(
        pb::MessageFactory::generated_factory()->GetPrototype(type)->New());
    if (!any->UnpackTo(packed.get())) return;
    ClearNegativeZeros(packed.get());
    any->PackFrom(*packed);
    return;
  }
  const pb::Reflection* reflection = message->GetReflection();
  std::vector<const pb::FieldDescriptor*> fields;
  reflection->ListFields(*message, &fields);
  for (const pb::FieldDescriptor* field : fields) {
    if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(*message, field); ++i) {
          ClearNegativeZeros(reflection->MutableRepeatedMessage(message, field, i));
        }
      } else {
        ClearNegativeZeros(reflection->MutableMessage(message, field));
      }
    } else if (!field->is_repeated() && !field->has_presence() &&
               ((field->cpp_type() == pb::FieldDescriptor::CPPTYPE_DOUBLE &&
                 reflection->GetDouble(*message, field) == 0) ||
                (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_FLOAT &&
                 reflection->GetFloat(*message, field) == 0))) {
      reflection->ClearField(message, field);
    }
  }
}

// Expects `json` to read back as a message equal to `message` (NaN equal to
// NaN; -0.0 without presence as unset, see ClearNegativeZeros).
void ExpectReadsBack(const pb::Message& message, const std::string& json) {
  std::unique_ptr<pb::Message> read(message.New());
  const pb::util::Status status = pb::util::JsonStringToMessage(json, read.get());
  ASSERT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  std::unique_ptr<pb::Message> expected(message.New());
  expected->CopyFrom(message);
  ClearNegativeZeros(expected.get());
  pb::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  pb::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  std::string differences;
  differencer.ReportDifferencesToString(&differences);
  EXPECT_TRUE(differencer.Compare(*expected, *read)) << differences << "\n" << json;
}

// Expects our JSON of `message` to be the library's, byte for byte.
void ExpectSameAsLibrary(const pb::Message& message) {
  ExpectSameText(OurJson(message), LibraryJson(message));
}

// Expects our JSON of `message` to be the library's and to read back.
void ExpectSameAndReadsBack(const pb::Message& message) {
  const std::string ours = OurJson(message);
  ExpectSameText(ours, LibraryJson(message));
  ExpectReadsBack(message, ours);
}

// ---------------------------------------------------------------------------
// Message types for every kind of field, built at run time (the suite's
// protos have no float, no unsigned or fixed integers, no bytes, no
// wrappers...). The pool sits on the generated pool, so the well-known types
// are the generated ones.

// Adds field `name` = `number` to `message`.
FieldProto* AddField(pb::DescriptorProto* message, const std::string& name, int number,
                     FieldProto::Type type, const std::string& type_name = "",
                     FieldProto::Label label = FieldProto::LABEL_OPTIONAL) {
  FieldProto* field = message->add_field();
  field->set_name(name);
  field->set_number(number);
  field->set_type(type);
  field->set_label(label);
  if (!type_name.empty()) field->set_type_name(type_name);
  return field;
}

// Adds map field `name` = `number` (map<key, value>) to `message`.
void AddMap(pb::DescriptorProto* message, const std::string& name, int number, FieldProto::Type key,
            FieldProto::Type value, const std::string& value_type = "") {
  // "map_i32_str" has entry type "MapI32StrEntry", as protoc names it.
  std::string entry_name;
  bool upper = true;
  for (char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    entry_name += upper ? absl::ascii_toupper(c) : c;
    upper = false;
  }
  entry_name += "Entry";
  pb::DescriptorProto* entry = message->add_nested_type();
  entry->set_name(entry_name);
  entry->mutable_options()->set_map_entry(true);
  AddField(entry, "key", 1, key);
  AddField(entry, "value", 2, value, value_type);
  AddField(message, name, number, FieldProto::TYPE_MESSAGE,
           absl::StrCat(".jsontest.", message->name(), ".", entry_name),
           FieldProto::LABEL_REPEATED);
}

// The scalar kinds, named for fields: i32, i64, ...
struct ScalarKind {
  const char* name;
  FieldProto::Type type;
};
constexpr ScalarKind kScalarKinds[] = {
    {"i32", FieldProto::TYPE_INT32},      {"i64", FieldProto::TYPE_INT64},
    {"u32", FieldProto::TYPE_UINT32},     {"u64", FieldProto::TYPE_UINT64},
    {"s32", FieldProto::TYPE_SINT32},     {"s64", FieldProto::TYPE_SINT64},
    {"fx32", FieldProto::TYPE_FIXED32},   {"fx64", FieldProto::TYPE_FIXED64},
    {"sfx32", FieldProto::TYPE_SFIXED32}, {"sfx64", FieldProto::TYPE_SFIXED64},
    {"fl", FieldProto::TYPE_FLOAT},       {"db", FieldProto::TYPE_DOUBLE},
    {"bo", FieldProto::TYPE_BOOL},        {"str", FieldProto::TYPE_STRING},
    {"by", FieldProto::TYPE_BYTES},
};

// jsontest.AllTypes and its companions, in a pool of their own.
class TestTypes {
 public:
  static const TestTypes& Get() {
    static const TestTypes* types = new TestTypes();
    return *types;
  }

  // A new, empty message of type `name` ("jsontest.AllTypes").
  std::unique_ptr<pb::Message> New(const std::string& name) const {
    const pb::Descriptor* type = pool_.FindMessageTypeByName(name);
    EXPECT_NE(type, nullptr) << name;
    return std::unique_ptr<pb::Message>(factory_.GetPrototype(type)->New());
  }

 private:
  TestTypes() : pool_(pb::DescriptorPool::generated_pool()), factory_(&pool_) {
    factory_.SetDelegateToGeneratedFactory(true);
    pb::FileDescriptorProto file;
    file.set_name("jsontest/all_types.proto");
    file.set_package("jsontest");
    file.set_syntax("proto3");
    for (const char* dependency :
         {"google/protobuf/any.proto", "google/protobuf/duration.proto",
          "google/protobuf/empty.proto", "google/protobuf/field_mask.proto",
          "google/protobuf/struct.proto", "google/protobuf/timestamp.proto",
          "google/protobuf/wrappers.proto"}) {
      file.add_dependency(dependency);
    }
    pb::EnumDescriptorProto* color = file.add_enum_type();
    color->set_name("Color");
    int number = 0;
    for (const char* name : {"COLOR_UNSPECIFIED", "COLOR_RED", "COLOR_GREEN"}) {
      pb::EnumValueDescriptorProto* value = color->add_value();
      value->set_name(name);
      value->set_number(number++);
    }

    pb::DescriptorProto* all = file.add_message_type();
    all->set_name("AllTypes");
    int offset = 1;
    for (const ScalarKind& kind : kScalarKinds) {
      AddField(all, kind.name, offset, kind.type);
      AddField(all, absl::StrCat("r_", kind.name), offset + 20, kind.type, "",
               FieldProto::LABEL_REPEATED);
      ++offset;
    }
    AddField(all, "color", 16, FieldProto::TYPE_ENUM, ".jsontest.Color");
    AddField(all, "child", 17, FieldProto::TYPE_MESSAGE, ".jsontest.AllTypes");
    AddField(all, "r_color", 36, FieldProto::TYPE_ENUM, ".jsontest.Color",
             FieldProto::LABEL_REPEATED);
    AddField(all, "r_child", 37, FieldProto::TYPE_MESSAGE, ".jsontest.AllTypes",
             FieldProto::LABEL_REPEATED);
    // oneof choice { ... }, then proto3 optional fields, each in its
    // synthetic oneof (which come after the real ones).
    all->add_oneof_decl()->set_name("choice");
    AddField(all, "choice_i32", 50, FieldProto::TYPE_INT32)->set_oneof_index(0);
    AddField(all, "choice_str", 51, FieldProto::TYPE_STRING)->set_oneof_index(0);
    AddField(all, "choice_child", 52, FieldProto::TYPE_MESSAGE, ".jsontest.AllTypes")
        ->set_oneof_index(0);
    AddField(all, "choice_null", 53, FieldProto::TYPE_ENUM, ".google.protobuf.NullValue")
        ->set_oneof_index(0);
    int oneof = 1;
    for (const auto& [name, type, type_name] :
         std::vector<std::tuple<std::string, FieldProto::Type, std::string>>{
             {"opt_i32", FieldProto::TYPE_INT32, ""},
             {"opt_db", FieldProto::TYPE_DOUBLE, ""},
             {"opt_fl", FieldProto::TYPE_FLOAT, ""},
             {"opt_str", FieldProto::TYPE_STRING, ""},
             {"opt_bo", FieldProto::TYPE_BOOL, ""},
             {"opt_color", FieldProto::TYPE_ENUM, ".jsontest.Color"}}) {
      all->add_oneof_decl()->set_name("_" + name);
      FieldProto* field = AddField(all, name, 40 + oneof, type, type_name);
      field->set_proto3_optional(true);
      field->set_oneof_index(oneof++);
    }
    AddMap(all, "map_i32_str", 60, FieldProto::TYPE_INT32, FieldProto::TYPE_STRING);
    AddMap(all, "map_i64_i32", 61, FieldProto::TYPE_INT64, FieldProto::TYPE_INT32);
    AddMap(all, "map_u32_bo", 62, FieldProto::TYPE_UINT32, FieldProto::TYPE_BOOL);
    AddMap(all, "map_u64_db", 63, FieldProto::TYPE_UINT64, FieldProto::TYPE_DOUBLE);
    AddMap(all, "map_s32_fl", 64, FieldProto::TYPE_SINT32, FieldProto::TYPE_FLOAT);
    AddMap(all, "map_s64_by", 65, FieldProto::TYPE_SINT64, FieldProto::TYPE_BYTES);
    AddMap(all, "map_fx32_color", 66, FieldProto::TYPE_FIXED32, FieldProto::TYPE_ENUM,
           ".jsontest.Color");
    AddMap(all, "map_fx64_child", 67, FieldProto::TYPE_FIXED64, FieldProto::TYPE_MESSAGE,
           ".jsontest.AllTypes");
    AddMap(all, "map_sfx32_i64", 68, FieldProto::TYPE_SFIXED32, FieldProto::TYPE_INT64);
    AddMap(all, "map_sfx64_u64", 69, FieldProto::TYPE_SFIXED64, FieldProto::TYPE_UINT64);
    AddMap(all, "map_bo_str", 70, FieldProto::TYPE_BOOL, FieldProto::TYPE_STRING);
    AddMap(all, "map_str_str", 71, FieldProto::TYPE_STRING, FieldProto::TYPE_STRING);
    AddMap(all, "map_str_child", 72, FieldProto::TYPE_STRING, FieldProto::TYPE_MESSAGE,
           ".jsontest.AllTypes");
    AddMap(all, "map_str_value", 73, FieldProto::TYPE_STRING, FieldProto::TYPE_MESSAGE,
           ".google.protobuf.Value");
    AddMap(all, "map_str_ts", 74, FieldProto::TYPE_STRING, FieldProto::TYPE_MESSAGE,
           ".google.protobuf.Timestamp");
    AddMap(all, "map_str_i64w", 75, FieldProto::TYPE_STRING, FieldProto::TYPE_MESSAGE,
           ".google.protobuf.Int64Value");
    int wkt_number = 80;
    for (const auto& [name, type] :
         std::vector<std::pair<std::string, std::string>>{{"ts", "Timestamp"},
                                                          {"dur", "Duration"},
                                                          {"mask", "FieldMask"},
                                                          {"st", "Struct"},
                                                          {"val", "Value"},
                                                          {"lv", "ListValue"},
                                                          {"any", "Any"},
                                                          {"empty", "Empty"},
                                                          {"dw", "DoubleValue"},
                                                          {"fw", "FloatValue"},
                                                          {"i64w", "Int64Value"},
                                                          {"u64w", "UInt64Value"},
                                                          {"i32w", "Int32Value"},
                                                          {"u32w", "UInt32Value"},
                                                          {"bw", "BoolValue"},
                                                          {"sw", "StringValue"},
                                                          {"byw", "BytesValue"}}) {
      AddField(all, name, wkt_number, FieldProto::TYPE_MESSAGE, ".google.protobuf." + type);
      AddField(all, "r_" + name, wkt_number + 20, FieldProto::TYPE_MESSAGE,
               ".google.protobuf." + type, FieldProto::LABEL_REPEATED);
      ++wkt_number;
    }
    AddField(all, "null", 120, FieldProto::TYPE_ENUM, ".google.protobuf.NullValue");
    AddField(all, "weird_name", 121, FieldProto::TYPE_INT32)->set_json_name("my<\"name\u2028");

    // Fields declared out of number order.
    pb::DescriptorProto* unordered = file.add_message_type();
    unordered->set_name("Unordered");
    AddField(unordered, "third", 3, FieldProto::TYPE_STRING);
    AddField(unordered, "first", 1, FieldProto::TYPE_STRING);
    AddField(unordered, "tenth", 10, FieldProto::TYPE_INT64);
    AddField(unordered, "second", 2, FieldProto::TYPE_MESSAGE, ".jsontest.Unordered");

    pb::DescriptorProto* recursive = file.add_message_type();
    recursive->set_name("Recursive");
    AddField(recursive, "child", 1, FieldProto::TYPE_MESSAGE, ".jsontest.Recursive");
    AddField(recursive, "n", 2, FieldProto::TYPE_INT32);
    EXPECT_NE(pool_.BuildFile(file), nullptr);
  }

  pb::DescriptorPool pool_;
  mutable pb::DynamicMessageFactory factory_;
};

std::unique_ptr<pb::Message> NewAllTypes() { return TestTypes::Get().New("jsontest.AllTypes"); }

// Merges `text`, in text format ("i32: 5 child { str: 'x' }"), into `message`.
void SetText(pb::Message* message, const std::string& text) {
  ASSERT_TRUE(pb::TextFormat::MergeFromString(text, message)) << text;
}

// ---------------------------------------------------------------------------
// The suite's messages as the services answer them (the seed's figures).

// "R元 (2019)", "H30 (2018)": how the services label a fiscal year.
std::string YearLabel(int year) {
  return year == 2019  ? "R元 (2019)"
         : year > 2019 ? absl::StrCat("R", year - 2018, " (", year, ")")
                       : absl::StrCat("H", year - 1988, " (", year, ")");
}

void SetYear(common::v1::FiscalYear* fiscal_year, int year) {
  fiscal_year->set_year(year);
  fiscal_year->set_label(YearLabel(year));
}

// A progress point as kpi-service computes it (PROGRESS_METHOD_ACHIEVEMENT)
// for `value` in `year`, on the line from `baseline` to `target`.
kpiv1::ProgressPoint Point(int year, std::optional<double> value, int baseline_year,
                           double baseline, int target_year, double target) {
  kpiv1::ProgressPoint point;
  SetYear(point.mutable_fiscal_year(), year);
  const double expected =
      baseline + (target - baseline) * (year - baseline_year) / (target_year - baseline_year);
  point.set_expected_value(expected);
  point.set_expected_rate(expected / target * 100);
  point.set_expected_rate_display(absl::StrFormat("%.1f%%", point.expected_rate()));
  if (!value.has_value()) {
    point.set_status(kpiv1::PROGRESS_STATUS_UNKNOWN);
    point.set_undefined_reason(absl::StrCat("no actual for ", YearLabel(year)));
    return point;
  }
  point.set_value(*value);
  point.set_rate(*value / target * 100);
  point.set_rate_display(absl::StrFormat("%.1f%%", point.rate()));
  point.set_pace_gap(point.rate() - point.expected_rate());
  point.set_pace_gap_display(absl::StrFormat("%+.1f", point.pace_gap()));
  point.set_status(point.rate() >= 100       ? kpiv1::PROGRESS_STATUS_ACHIEVED
                   : point.pace_gap() >= -10 ? kpiv1::PROGRESS_STATUS_ON_TRACK
                                             : kpiv1::PROGRESS_STATUS_LAGGING);
  return point;
}

// The seed's KPI `id` as kpi-service gives it.
kpiv1::Kpi SeedKpi(const std::string& id, bool all_region_names = true) {
  kpiv1::Kpi kpi;
  kpi.set_id(id);
  kpi.set_project_id("dohoku-anzen-anshin");
  const bool count = id == "kodomoen";
  kpi.set_name(count ? "認定こども園設置数" : "自主防災組織率");
  kpi.set_unit(count ? "カ所" : "%");
  kpi.set_value_kind(count ? kpiv1::VALUE_KIND_COUNT : kpiv1::VALUE_KIND_PERCENT);
  kpi.set_direction(kpiv1::DIRECTION_INCREASE);
  kpi.set_aggregation(count ? kpiv1::AGGREGATION_RULE_SUM : kpiv1::AGGREGATION_RULE_REPORTED);
  kpi.set_progress_method(kpiv1::PROGRESS_METHOD_ACHIEVEMENT);
  kpi.set_area_id("dohoku");
  for (const char* region : {"dohoku", "kamikawa", "rumoi", "soya"}) kpi.add_region_ids(region);
  kpi.set_version(4);
  kpi.mutable_create_time()->set_seconds(1764918113);
  kpi.mutable_create_time()->set_nanos(715457726);
  (*kpi.mutable_region_names())["kamikawa"] = "上川";
  if (all_region_names) {
    (*kpi.mutable_region_names())["dohoku"] = "道北";
    (*kpi.mutable_region_names())["rumoi"] = "留萌";
    (*kpi.mutable_region_names())["soya"] = "宗谷";
  }
  return kpi;
}

// GET /v1/kpis/kodomoen/aggregates/dohoku?fiscal_year.year=2018.
kpiv1::GetAggregateResponse SeedAggregate() {
  kpiv1::GetAggregateResponse response;
  kpiv1::Aggregate* aggregate = response.mutable_aggregate();
  aggregate->set_kpi_id("kodomoen");
  aggregate->set_area_id("dohoku");
  SetYear(aggregate->mutable_fiscal_year(), 2018);
  aggregate->set_rule(kpiv1::AGGREGATION_RULE_SUM);
  aggregate->set_value(48);
  aggregate->set_computed_value(48);
  aggregate->set_complete(true);
  for (const auto& [region, value] :
       std::vector<std::pair<std::string, double>>{{"kamikawa", 41}, {"rumoi", 4}, {"soya", 3}}) {
    kpiv1::AggregateComponent* component = aggregate->add_components();
    component->set_region_id(region);
    component->set_value(value);
    component->set_weight(1);
  }
  aggregate->set_baseline(10);
  aggregate->set_target(43);
  *aggregate->mutable_progress() = Point(2018, 48, 2014, 10, 2019, 43);
  return response;
}

// GET /v1/projects/dohoku-anzen-anshin/kpi-table?as_of.year=2019: the seed's
// two KPIs, four regions each, 基準 to 目標 year.
kpiv1::GetKpiTableResponse SeedKpiTable(bool all_region_names = true) {
  struct Region {
    std::string id, name;
    double baseline, target;
    std::vector<std::optional<double>> actuals;  // from the year after the baseline
  };
  struct Table {
    std::string kpi_id;
    int baseline_year, target_year;
    std::vector<Region> regions;
  };
  const std::vector<Table> tables = {
      {"kodomoen",
       2014,
       2019,
       {{"dohoku", "道北", 10, 43, {11, 22, 40, 48, std::nullopt}},
        {"kamikawa", "上川", 6, 33, {6, 16, 33, 41, std::nullopt}},
        {"rumoi", "留萌", 2, 4, {2, 3, 4, 4, std::nullopt}},
        {"soya", "宗谷", 2, 6, {3, 3, 3, 3, std::nullopt}}}},
      {"jishu-bousai",
       2015,
       2020,
       {{"dohoku", "道北", 43.4, 81, {47.2, 47.9, 49.3, std::nullopt}},
        {"kamikawa", "上川", 46.7, 81, {51.2, 51.1, 52.5, std::nullopt}},
        {"rumoi", "留萌", 37.9, 81, {39.2, 39.7, 37.1, std::nullopt}},
        {"soya", "宗谷", 22.8, 81, {22.8, 29.3, 33.4, std::nullopt}}}},
  };
  kpiv1::GetKpiTableResponse response;
  response.set_project_id("dohoku-anzen-anshin");
  SetYear(response.mutable_as_of(), 2019);
  for (const Table& t : tables) {
    kpiv1::KpiTable* table = response.add_tables();
    *table->mutable_kpi() = SeedKpi(t.kpi_id, all_region_names);
    for (int year = t.baseline_year; year <= t.target_year; ++year) {
      SetYear(table->add_years(), year);
    }
    for (const Region& r : t.regions) {
      kpiv1::KpiTableRow* row = table->add_rows();
      row->set_region_id(r.id);
      row->set_region_name(r.name);
      row->mutable_baseline()->set_region_id(r.id);
      SetYear(row->mutable_baseline()->mutable_fiscal_year(), t.baseline_year);
      row->mutable_baseline()->set_value(r.baseline);
      row->mutable_target()->set_region_id(r.id);
      SetYear(row->mutable_target()->mutable_fiscal_year(), t.target_year);
      row->mutable_target()->set_value(r.target);
      if (r.id == "kamikawa" && t.kpi_id == "kodomoen") {
        kpiv1::TargetRevision* revision = row->mutable_target()->add_revisions();
        SetYear(revision->mutable_fiscal_year(), 2019);
        revision->set_value(28);
        revision->mutable_revise_time()->set_seconds(1577836800);
        revision->set_author("上川総合振興局");
        revision->set_reason("見直し前28カ所");
      }
      for (size_t i = 0; i < r.actuals.size(); ++i) {
        *row->add_points() = Point(t.baseline_year + 1 + static_cast<int>(i), r.actuals[i],
                                   t.baseline_year, r.baseline, t.target_year, r.target);
      }
      if (r.id == "dohoku" && t.kpi_id == "kodomoen") {
        row->set_computed_from_children(true);
        kpiv1::Aggregate* aggregate = row->mutable_aggregate();
        *aggregate = SeedAggregate().aggregate();
        SetYear(aggregate->mutable_fiscal_year(), 2019);
        aggregate->clear_value();
        aggregate->clear_computed_value();
        aggregate->set_complete(false);
        for (const char* missing : {"kamikawa", "rumoi", "soya"}) {
          aggregate->add_missing_region_ids(missing);
        }
        aggregate->mutable_progress()->set_status(kpiv1::PROGRESS_STATUS_UNKNOWN);
      }
    }
  }
  return response;
}

// ---------------------------------------------------------------------------
// The suite's messages.

TEST(JsonWriterTest, AggregateIsTheLibrarysText) {
  const kpiv1::GetAggregateResponse response = SeedAggregate();
  ExpectSameAndReadsBack(response);
  // Rates print as the library prints them: "%.17g" when "%.15g" does not
  // read back (48 / 43 × 100), so the text is not the shortest form.
  EXPECT_NE(OurJson(response).find("\"rate\":111.62790697674419,"), std::string::npos)
      << OurJson(response);
}

TEST(JsonWriterTest, KpiTableIsTheLibrarysText) {
  // Kpi.region_names with one entry is written the same; with four the
  // library's order changes from run to run, so that one is compared read
  // back.
  ExpectSameAndReadsBack(SeedKpiTable(/*all_region_names=*/false));
  const kpiv1::GetKpiTableResponse table = SeedKpiTable();
  ExpectReadsBack(table, OurJson(table));
  ExpectReadsBack(table, LibraryJson(table));
  EXPECT_EQ(OurJson(table).size(), LibraryJson(table).size());
}

TEST(JsonWriterTest, MapEntriesAreInKeyOrder) {
  EXPECT_NE(OurJson(SeedKpi("kodomoen"))
                .find(R"("regionNames":{"dohoku":"道北","kamikawa":"上川","rumoi":"留萌",)"
                      R"("soya":"宗谷"})"),
            std::string::npos)
      << OurJson(SeedKpi("kodomoen"));
  std::unique_ptr<pb::Message> message = NewAllTypes();
  SetText(message.get(),
          "map_i32_str { key: 10 value: 'a' } map_i32_str { key: -3 value: 'b' } "
          "map_i32_str { key: 2 value: 'c' } "
          "map_u64_db { key: 18446744073709551615 value: 1 } map_u64_db { key: 7 value: 2 } "
          "map_bo_str { key: true value: 't' } map_bo_str { key: false value: 'f' } "
          "map_str_str { key: 'b' value: '' } map_str_str { key: '' value: 'x' } "
          "map_str_str { key: 'a' value: 'y' }");
  EXPECT_EQ(OurJson(*message), R"({"mapI32Str":{"-3":"b","2":"c","10":"a"},)"
                               R"("mapU64Db":{"7":2,"18446744073709551615":1},)"
                               R"("mapBoStr":{"false":"f","true":"t"},)"
                               R"("mapStrStr":{"":"x","a":"y","b":""}})");
  ExpectReadsBack(*message, OurJson(*message));
}

TEST(JsonWriterTest, ProgressAndOptionalZeros) {
  kpiv1::GetProgressResponse response;
  *response.mutable_kpi() = SeedKpi("jishu-bousai", /*all_region_names=*/false);
  response.set_region_id("soya");
  response.mutable_baseline()->set_value(22.8);
  response.mutable_target()->set_value(81);
  *response.add_points() = Point(2016, 22.8, 2015, 22.8, 2020, 81);
  // Optional doubles set to 0 are printed; a proto3 double at 0 is not, at
  // -0.0 it is ("-0").
  kpiv1::ProgressPoint* zero = response.add_points();
  zero->set_value(0);
  zero->set_rate(0);
  zero->set_pace_gap(-0.0);
  response.mutable_baseline()->set_numerator(0);
  response.mutable_target()->set_value(-0.0);
  response.set_generation(std::numeric_limits<int64_t>::max());
  response.set_computed_from_children(false);
  ExpectSameAndReadsBack(response);
  const std::string json = OurJson(response);
  EXPECT_NE(json.find(R"({"value":0,"rate":0,"paceGap":-0})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("numerator":0)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("target":{"value":-0})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("generation":"9223372036854775807")"), std::string::npos) << json;
  EXPECT_EQ(json.find("computedFromChildren"), std::string::npos) << json;
}

TEST(JsonWriterTest, HistoryTimestampsWithNanos) {
  kpiv1::GetHistoryResponse response;
  // Whole seconds, then milli-, micro- and nanosecond fractions: the library
  // prints 0, 3, 6 or 9 digits.
  const std::vector<std::pair<int64_t, int32_t>> times = {
      {1764918113, 715457726},   {1764918113, 0},  {1764918113, 715000000}, {1764918113, 715457000},
      {1764918113, 1},           {0, 0},           {-1, 999999999},         {-62135596800, 0},
      {253402300799, 999999999}, {951782400, 500}, {-2208988800, 10000000}};
  int64_t sequence = std::numeric_limits<int64_t>::min();
  for (const auto& [seconds, nanos] : times) {
    kpiv1::Change* change = response.add_changes();
    change->set_sequence(sequence++);
    change->mutable_change_time()->set_seconds(seconds);
    change->mutable_change_time()->set_nanos(nanos);
    change->set_kind(kpiv1::CHANGE_KIND_ACTUAL_CORRECTED);
    change->set_kpi_id("kodomoen");
    change->set_region_id("kamikawa");
    SetYear(change->mutable_fiscal_year(), 2019);
    change->set_old_value(0.1 + 0.2);
    change->set_new_value(41);
    change->set_author("上川総合振興局");
    change->set_reason("誤記訂正 \"41\" → 41");
    kpiv1::RegionPoint* figure = change->add_figures();
    figure->set_region_id("kamikawa");
    *figure->mutable_point() = Point(2019, 41, 2014, 6, 2019, 33);
  }
  response.set_next_page_token("eyJzZXEiOjEyfQ==");
  ExpectSameAndReadsBack(response);
  const std::string json = OurJson(response);
  EXPECT_NE(json.find(R"("changeTime":"2025-12-05T07:01:53.715457726Z")"), std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("changeTime":"0001-01-01T00:00:00Z")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("changeTime":"1969-12-31T23:59:59.999999999Z")"), std::string::npos)
      << json;
}

TEST(JsonWriterTest, AlertsWithRepeatedEnumsAndUnknownEnumNumbers) {
  notificationv1::ListAlertsResponse response;
  for (int i = 0; i < 3; ++i) {
    notificationv1::Alert* alert = response.add_alerts();
    alert->set_fingerprint(absl::StrCat("LAGGING:jishu-bousai:soya:", i));
    alert->set_rule(notificationv1::RULE_KIND_LAGGING);
    alert->set_kpi_id("jishu-bousai");
    alert->set_region_id("soya");
    alert->set_severity(i == 0 ? notificationv1::SEVERITY_CRITICAL
                               : static_cast<notificationv1::Severity>(42));  // unknown
    alert->set_state(notificationv1::ALERT_STATE_FIRING);
    alert->mutable_start_time()->set_seconds(1764918113);
    notificationv1::AlertValues* values = alert->mutable_values();
    SetYear(values->mutable_fiscal_year(), 2018);
    values->set_value(33.4);
    values->set_rate(33.4 / 81 * 100);
    values->set_expected_rate(62.8);
    values->set_pace_gap(33.4 / 81 * 100 - 62.8);
    SetYear(values->add_missing_years(), 2019);
    alert->set_summary("自主防災組織率 宗谷: 進捗率 41.2% (計画 -21.6pt)");
    alert->mutable_acknowledgement()->set_author("宗谷総合振興局");
    alert->set_silenced(i == 2);
    alert->add_silence_ids("s-1");
    notificationv1::AlertHistoryEntry* entry = alert->add_history();
    entry->set_state(notificationv1::ALERT_STATE_FIRING);
    entry->set_severity(notificationv1::SEVERITY_WARNING);
    entry->mutable_time()->set_nanos(1000);
  }
  ExpectSameAndReadsBack(response);
  EXPECT_NE(OurJson(response).find(R"("severity":42,)"), std::string::npos);

  notificationv1::AlertFilter filter;
  filter.add_severities(notificationv1::SEVERITY_CRITICAL);
  filter.add_severities(static_cast<notificationv1::Severity>(9));
  filter.add_severities(notificationv1::SEVERITY_UNSPECIFIED);
  filter.add_rules(notificationv1::RULE_KIND_MISSING);
  EXPECT_EQ(OurJson(filter), R"({"severities":["SEVERITY_CRITICAL",9,"SEVERITY_UNSPECIFIED"],)"
                             R"("rules":["RULE_KIND_MISSING"]})");
  ExpectSameAndReadsBack(filter);
}

TEST(JsonWriterTest, DurationsAsTheLibraryPrintsThem) {
  const std::vector<std::pair<int64_t, int32_t>> durations = {{3600, 0},
                                                              {1, 500000000},
                                                              {-1, -500000000},
                                                              {0, -1000},
                                                              {0, 1},
                                                              {0, 0},
                                                              {-315576000000, -999999999},
                                                              {315576000000, 999999999},
                                                              {86400, 120000}};
  for (const auto& [seconds, nanos] : durations) {
    notificationv1::RotateWebhookSecretRequest request;
    request.set_id("wh-1");
    request.set_secret("whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0");
    request.mutable_overlap()->set_seconds(seconds);
    request.mutable_overlap()->set_nanos(nanos);
    SCOPED_TRACE(request.ShortDebugString());
    ExpectSameAndReadsBack(request);
  }
  notificationv1::RotateWebhookSecretRequest request;
  request.mutable_overlap()->set_seconds(1);
  request.mutable_overlap()->set_nanos(500000000);
  EXPECT_EQ(OurJson(request), R"({"overlap":"1.500s"})");
}

TEST(JsonWriterTest, FieldMaskPathsInLowerCamel) {
  planv1::UpdateProjectRequest request;
  request.mutable_project()->set_id("dohoku-anzen-anshin");
  request.mutable_project()->set_version(3);
  request.mutable_project()->set_title("安全・安心な地域づくりプロジェクト");
  for (const char* path : {"title", "overview", "area_id", "pillars", "project.update_time"}) {
    request.mutable_update_mask()->add_paths(path);
  }
  ExpectSameAndReadsBack(request);
  EXPECT_NE(
      OurJson(request).find(R"("updateMask":"title,overview,areaId,pillars,project.updateTime")"),
      std::string::npos);
  // An empty mask that is set is printed as "".
  request.mutable_update_mask()->clear_paths();
  ExpectSameAndReadsBack(request);
}

TEST(JsonWriterTest, FieldMaskPathsOfAnyShapeAsTheLibraryConvertsThem) {
  // Paths that are not snake_case: the library's converter has rules for
  // capitals, digits, quotes and parentheses; they are followed to the
  // letter.
  std::vector<std::string> paths = {
      "a_b",        "_a",    "a_",        "a__b",   "A_B",          "aB_c",         "ABc_d",
      "fooBAR_baz", "x1_y2", "a.b_c.d_e", "m(k_k)", "\"a_b\"",      "a\"b_c",       "q\\\"_x\"y_z",
      "1_a",        "",      "ÄB_c",      "a_1b",   "HTTPServer_x", "a.\"b.c\".d_e"};
  std::mt19937 random(7);
  const std::string alphabet = "abAB_.()\"\\1";
  for (int i = 0; i < 3000; ++i) {
    std::string path;
    const int size = static_cast<int>(random() % 9);
    for (int j = 0; j < size; ++j) path += alphabet[random() % alphabet.size()];
    paths.push_back(path);
  }
  for (const std::string& path : paths) {
    pb::FieldMask mask;
    mask.add_paths(path);
    mask.add_paths("last_one");
    SCOPED_TRACE(path);
    ExpectSameAsLibrary(mask);
  }
}

TEST(JsonWriterTest, TextIsEscapedAsTheLibraryEscapesIt) {
  planv1::ListProjectsResponse response;
  planv1::Project* project = response.add_projects();
  project->set_id("dohoku-anzen-anshin");
  project->set_area_id("dohoku");
  project->set_title("安全・安心な地域づくりプロジェクト 【概要・目的】");
  project->set_overview(
      "quotes \" and 'single', backslash \\ and \\\\, slash /, </script><script>alert(1)"
      "</script> & <!-- -->, controls \b\f\n\r\t\x01\x1f\x7f, C1 \u0085\u009f, nbsp "
      "\u00a0 shy \u00ad, line \u2028 paragraph \u2029, bom \ufeff, zwsp \u200b, rlo \u202e, "
      "emoji 😀 🇯🇵, tag \U000E0041, music \U0001D173, 𠮷野家, half ｶﾅ, full ＡＢＣ１２３");
  project->add_pillars()->set_title(std::string("nul \0 inside", 12));
  project->set_status(planv1::PROJECT_STATUS_ACTIVE);
  project->set_version(1);
  project->mutable_create_time()->set_seconds(1764918113);
  project->mutable_update_time()->set_seconds(1764918113);
  project->mutable_update_time()->set_nanos(715000000);
  response.set_next_page_token("");
  ExpectSameAndReadsBack(response);
  const std::string json = OurJson(response);
  EXPECT_NE(json.find(R"(\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e)"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"(controls \b\f\n\r\t\u0001\u001f\u007f, C1 \u0085\u009f)"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"(line \u2028 paragraph \u2029, bom \ufeff)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"(tag \udb40\udc41, music \ud834\udd73)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("nul \u0000 inside")"), std::string::npos) << json;
}

TEST(JsonWriterTest, EveryCodePointIsWrittenAsTheLibraryWritesIt) {
  // All of Unicode but the surrogates, 64Ki code points at a time.
  for (uint32_t start = 0; start <= 0x10ffff; start += 0x10000) {
    std::string text;
    for (uint32_t cp = start; cp < start + 0x10000 && cp <= 0x10ffff; ++cp) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      if (cp < 0x80) {
        text += static_cast<char>(cp);
      } else if (cp < 0x800) {
        text += static_cast<char>(0xc0 | (cp >> 6));
        text += static_cast<char>(0x80 | (cp & 0x3f));
      } else if (cp < 0x10000) {
        text += static_cast<char>(0xe0 | (cp >> 12));
        text += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        text += static_cast<char>(0x80 | (cp & 0x3f));
      } else {
        text += static_cast<char>(0xf0 | (cp >> 18));
        text += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        text += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        text += static_cast<char>(0x80 | (cp & 0x3f));
      }
    }
    kpiv1::Kpi kpi;
    kpi.set_name(text);
    SCOPED_TRACE(absl::StrFormat("code points from U+%04X", start));
    ExpectSameAndReadsBack(kpi);
  }
}

TEST(JsonWriterTest, BytesThatAreNotUtf8AreDroppedAsTheLibraryDropsThem) {
  // A string set in C++ can hold them (the wire refuses them in a proto3
  // string). The library drops what it cannot decode, and logs an error for
  // each such string when it serializes the message: silenced here.
  const pb::LogSilencer silence_utf8_errors;
  std::unique_ptr<pb::Message> message = NewAllTypes();
  const pb::FieldDescriptor* texts = message->GetDescriptor()->FindFieldByName("r_str");
  const std::string bytes = std::string(
      "\x00\x22\x3c\x41\x7f\x80\x9f\xa0\xa9\xbf\xc0\xc1\xc2\xc3"
      "\xdf\xe0\xe2\xed\xef\xf0\xf4\xf5\xf7\xf8\xff\x9d\xb4\x8f",
      28);
  std::mt19937 random(11);
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const int size = static_cast<int>(random() % 7);
    for (int j = 0; j < size; ++j) text += bytes[random() % bytes.size()];
    message->GetReflection()->AddString(message.get(), texts, text);
  }
  ExpectSameAsLibrary(*message);
}

// ---------------------------------------------------------------------------
// Numbers.

// Doubles the library prints in each of its forms, and the awkward ones.
std::vector<double> InterestingDoubles() {
  std::vector<double> values = {0.0,
                                -0.0,
                                1,
                                -1,
                                0.1,
                                0.1 + 0.2,
                                0.1 + 0.7,
                                1.0 / 3,
                                2.0 / 3 * 100,
                                48.0 / 43 * 100,
                                33.4 / 81 * 100,
                                25.6,
                                100,
                                1e15,
                                1e16,
                                123456789012345.0,
                                1234567890123456.0,
                                123456789012345678.0,
                                9007199254740993.0,
                                1e21,
                                1e22,
                                1e100,
                                1e300,
                                1e-4,
                                1e-5,
                                0.00012345,
                                1.5e-7,
                                5e-324,
                                1e-310,
                                2.2250738585072009e-308,
                                std::numeric_limits<double>::min(),
                                std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::lowest(),
                                std::numeric_limits<double>::epsilon(),
                                std::numeric_limits<double>::denorm_min(),
                                std::nextafter(1.0, 2.0),
                                std::nextafter(1.0, 0.0),
                                999999999999999.9,
                                99999999999999.99,
                                0.000099999999999999991};
  // Powers of ten and two across the range, and their neighbours.
  for (int e = -320; e <= 308; e += 7) {
    const double power = std::pow(10.0, e);
    values.push_back(power);
    values.push_back(std::nextafter(power, 0.0));
    values.push_back(-std::nextafter(power, INFINITY));
  }
  for (int e = -1074; e <= 1023; e += 13) values.push_back(std::ldexp(1.0, e));
  return values;
}

TEST(JsonWriterTest, DoublesAsTheLibraryPrintsThem) {
  std::unique_ptr<pb::Message> message = NewAllTypes();
  const pb::FieldDescriptor* field = message->GetDescriptor()->FindFieldByName("r_db");
  const pb::Reflection* reflection = message->GetReflection();
  for (double value : InterestingDoubles()) reflection->AddDouble(message.get(), field, value);
  // Random bit patterns (every exponent), decimals as people type them, and
  // ratios as the services compute them.
  std::mt19937_64 random(42);
  for (int i = 0; i < 60000; ++i) {
    uint64_t bits = random();
    double value;
    std::memcpy(&value, &bits, sizeof(value));
    if (std::isfinite(value)) reflection->AddDouble(message.get(), field, value);
    reflection->AddDouble(message.get(), field,
                          static_cast<double>(random() % 10000000) / std::pow(10.0, random() % 9));
    reflection->AddDouble(message.get(), field,
                          static_cast<double>(random() % 100000 + 1) /
                              static_cast<double>(random() % 100000 + 1) * 100);
  }
  ExpectSameAndReadsBack(*message);

  for (const auto& [value, text] :
       std::vector<std::pair<double, std::string>>{{0.1 + 0.2, "0.30000000000000004"},
                                                   {1e21, "1e+21"},
                                                   {5e-324, "4.94065645841247e-324"},
                                                   {-0.0, "-0"},
                                                   {1e15, "1e+15"},
                                                   {123456789012345.0, "123456789012345"},
                                                   {0.1 + 0.7, "0.79999999999999993"},
                                                   {1e-5, "1e-05"},
                                                   {NAN, "\"NaN\""},
                                                   {INFINITY, "\"Infinity\""},
                                                   {-INFINITY, "\"-Infinity\""}}) {
    kpiv1::Baseline baseline;
    baseline.set_numerator(value);
    EXPECT_EQ(OurJson(baseline), absl::StrCat("{\"numerator\":", text, "}"));
    ExpectSameAndReadsBack(baseline);
  }
}

TEST(JsonWriterTest, FloatsAsTheLibraryPrintsThem) {
  // The library prints a float with "%.6g" when that reads back, else with
  // "%.9g" (always for a subnormal float: reading it back sets ERANGE).
  std::unique_ptr<pb::Message> message = NewAllTypes();
  const pb::FieldDescriptor* field = message->GetDescriptor()->FindFieldByName("r_fl");
  const pb::Reflection* reflection = message->GetReflection();
  for (float value : {0.0f, -0.0f, 0.1f, 1.1f, 16777217.0f, 3.14159274f, 1e-45f, 1.1e-38f,
                      std::numeric_limits<float>::min(), std::nextafter(FLT_MIN, 1.0f),
                      std::numeric_limits<float>::max(), std::numeric_limits<float>::lowest(), 1e6f,
                      1e-4f, 1e-5f, 123456.0f, 1234567.0f}) {
    reflection->AddFloat(message.get(), field, value);
  }
  std::mt19937 random(43);
  for (int i = 0; i < 60000; ++i) {
    uint32_t bits = random();
    float value;
    std::memcpy(&value, &bits, sizeof(value));
    if (std::isfinite(value)) reflection->AddFloat(message.get(), field, value);
    reflection->AddFloat(message.get(), field,
                         static_cast<float>(random() % 1000000) / std::pow(10.0f, random() % 7));
  }
  ExpectSameAsLibrary(*message);

  std::unique_ptr<pb::Message> one = NewAllTypes();
  SetText(one.get(), "fl: 0.1 r_fl: [nan, inf, -inf, 3.4028235e38, 1e-45] opt_fl: 0");
  EXPECT_EQ(OurJson(*one),
            R"({"fl":0.1,"rFl":["NaN","Infinity","-Infinity",3.40282347e+38,1.40129846e-45],)"
            R"("optFl":0})");
  ExpectSameAsLibrary(*one);
}

TEST(JsonWriterTest, IntegersAtTheirExtremes) {
  std::unique_ptr<pb::Message> message = NewAllTypes();
  SetText(message.get(),
          "i32: -2147483648 i64: -9223372036854775808 u32: 4294967295 "
          "u64: 18446744073709551615 s32: 2147483647 s64: 9223372036854775807 "
          "fx32: 4294967295 fx64: 18446744073709551615 sfx32: -2147483648 "
          "sfx64: -9223372036854775808 "
          "r_i32: [0, -1, 1] r_i64: [0, -1, 1] r_u64: [0, 1] r_s64: [-5] r_fx64: [0] "
          "r_sfx32: [-7] r_u32: [0]");
  EXPECT_EQ(OurJson(*message),
            R"({"i32":-2147483648,"i64":"-9223372036854775808","u32":4294967295,)"
            R"("u64":"18446744073709551615","s32":2147483647,"s64":"9223372036854775807",)"
            R"("fx32":4294967295,"fx64":"18446744073709551615","sfx32":-2147483648,)"
            R"("sfx64":"-9223372036854775808","rI32":[0,-1,1],"rI64":["0","-1","1"],)"
            R"("rU32":[0],"rU64":["0","1"],"rS64":["-5"],"rFx64":["0"],"rSfx32":[-7]})");
  ExpectSameAndReadsBack(*message);
}

// ---------------------------------------------------------------------------
// Presence, order, names.

TEST(JsonWriterTest, DefaultsAreLeftOutUnlessTheFieldHasPresence) {
  std::unique_ptr<pb::Message> message = NewAllTypes();
  SetText(message.get(),
          "i32: 0 db: 0 str: '' bo: false color: COLOR_UNSPECIFIED null: NULL_VALUE "
          "opt_i32: 0 opt_db: 0 opt_str: '' opt_bo: false opt_color: COLOR_UNSPECIFIED "
          "child {} i32w {} sw {} empty {}");
  EXPECT_EQ(OurJson(*message), R"({"child":{},"optI32":0,"optDb":0,"optStr":"","optBo":false,)"
                               R"("optColor":"COLOR_UNSPECIFIED","empty":{},"i32w":0,"sw":""})");
  ExpectSameAsLibrary(*message);
}

TEST(JsonWriterTest, OneofMembersArePrintedWhenSetEvenAtTheirDefault) {
  for (const char* text : {"choice_i32: 0", "choice_str: ''", "choice_child {}",
                           "choice_null: NULL_VALUE", "choice_str: 'x'"}) {
    std::unique_ptr<pb::Message> message = NewAllTypes();
    SetText(message.get(), text);
    SCOPED_TRACE(text);
    ExpectSameAsLibrary(*message);
  }
  std::unique_ptr<pb::Message> message = NewAllTypes();
  SetText(message.get(), "choice_null: NULL_VALUE");
  EXPECT_EQ(OurJson(*message), R"({"choiceNull":null})");
}

TEST(JsonWriterTest, FieldsInNumberOrderUnderTheirJsonNames) {
  std::unique_ptr<pb::Message> message = TestTypes::Get().New("jsontest.Unordered");
  SetText(message.get(), "third: 'c' tenth: 10 first: 'a' second { first: 'b' }");
  EXPECT_EQ(OurJson(*message), R"({"first":"a","second":{"first":"b"},"third":"c","tenth":"10"})");
  ExpectSameAndReadsBack(*message);

  std::unique_ptr<pb::Message> weird = NewAllTypes();
  SetText(weird.get(), "weird_name: 1 i32: 2");
  EXPECT_EQ(OurJson(*weird), R"({"i32":2,"my\u003c\"name\u2028":1})");
  ExpectSameAsLibrary(*weird);
}

TEST(JsonWriterTest, EmptyMessages) {
  ExpectSameAsLibrary(notificationv1::GetStatusRequest());
  ExpectSameAsLibrary(notificationv1::DeleteWebhookResponse());
  ExpectSameAsLibrary(kpiv1::GetAggregateResponse());
  ExpectSameAsLibrary(*NewAllTypes());
  EXPECT_EQ(OurJson(kpiv1::GetAggregateResponse()), "{}");
  kpiv1::GetAggregateResponse empty_aggregate;
  empty_aggregate.mutable_aggregate();
  EXPECT_EQ(OurJson(empty_aggregate), R"({"aggregate":{}})");
  ExpectSameAndReadsBack(empty_aggregate);
}

TEST(JsonWriterTest, UnknownFieldsAreLeftOut) {
  common::v1::FiscalYear year;
  year.set_year(2019);
  year.GetReflection()->MutableUnknownFields(&year)->AddVarint(99, 5);
  year.GetReflection()->MutableUnknownFields(&year)->AddLengthDelimited(98, "x");
  EXPECT_EQ(OurJson(year), R"({"year":2019})");
  ExpectSameAsLibrary(year);
}

// ---------------------------------------------------------------------------
// Well-known types.

TEST(JsonWriterTest, WellKnownTypesAsFields) {
  const std::vector<std::string> texts = {
      "ts { seconds: 1764918113 nanos: 715457726 } dur { seconds: -3 nanos: -1000000 }",
      "mask { paths: 'a_b' paths: 'c.d_e' }",
      "dw { value: 0.1 } fw { value: 0.1 } i64w { value: -9223372036854775808 } "
      "u64w { value: 18446744073709551615 } i32w { value: -1 } u32w { value: 4294967295 } "
      "bw { value: true } sw { value: '</script>' } byw { value: '\\000\\377ab' }",
      "dw {} fw {} i64w {} u64w {} i32w {} u32w {} bw {} sw {} byw {}",
      "dw { value: nan } fw { value: -inf }",
      "r_i64w { value: 1 } r_i64w {} r_ts { seconds: 1 } r_ts { nanos: 5 } "
      "r_dur { seconds: 1 } r_empty {} r_empty {}",
      "st { fields { key: 'k' value { list_value { values { number_value: 1 } "
      "values { string_value: 'x' } values { bool_value: false } values { null_value: "
      "NULL_VALUE } values { struct_value { fields { key: 'in' value { number_value: 0.5 } } } "
      "} values { list_value {} } } } } }",
      "val { number_value: 1e21 } lv { values { number_value: -0.0 } }",
      "val { struct_value {} } lv {} st {}",
      "val { list_value { values { list_value { values { list_value {} } } } } }",
      "r_val { string_value: 'a' } r_val { null_value: NULL_VALUE } r_lv {} r_st {}",
      "map_str_value { key: 'a' value { bool_value: true } }",
      "map_str_ts { key: 't' value { seconds: 1 } } map_str_i64w { key: 'w' value { value: 5 } }",
      "any { [type.googleapis.com/suishin.common.v1.FiscalYear] { year: 2019 label: 'R元' } }",
      "any { [type.googleapis.com/google.protobuf.Timestamp] { seconds: 1 } }",
      "any { [type.googleapis.com/google.protobuf.Int64Value] { value: 7 } }",
      "any { [type.googleapis.com/google.protobuf.Empty] {} }",
      "any { [type.googleapis.com/google.protobuf.Struct] { fields { key: 'a' value { "
      "number_value: 1 } } } }",
      "any { [type.googleapis.com/google.protobuf.Any] { [type.googleapis.com/"
      "google.protobuf.Duration] { seconds: 2 } } }",
      "any { type_url: 'type.googleapis.com/suishin.kpi.v1.Kpi' }",
      "any {}",
      "r_any { [type.googleapis.com/suishin.kpi.v1.Baseline] { value: 0.1 } } r_any {}",
      "empty {}",
  };
  for (const std::string& text : texts) {
    std::unique_ptr<pb::Message> message = NewAllTypes();
    SetText(message.get(), text);
    SCOPED_TRACE(text);
    ExpectSameAndReadsBack(*message);
  }
  // An Any of a run-time type holding an Any of another: text format cannot
  // name them (it looks packed types up in google.protobuf.Any's pool).
  std::unique_ptr<pb::Message> inner = TestTypes::Get().New("jsontest.Unordered");
  SetText(inner.get(), "tenth: 1 first: 'x'");
  std::unique_ptr<pb::Message> packed = NewAllTypes();
  SetText(packed.get(), "i64: 5 ts { seconds: 3 }");
  pb::Any inner_any;
  inner_any.PackFrom(*inner);
  const pb::FieldDescriptor* any_field = packed->GetDescriptor()->FindFieldByName("any");
  packed->GetReflection()->MutableMessage(packed.get(), any_field)->CopyFrom(inner_any);
  std::unique_ptr<pb::Message> outer = NewAllTypes();
  pb::Any outer_any;
  outer_any.PackFrom(*packed);
  outer->GetReflection()->MutableMessage(outer.get(), any_field)->CopyFrom(outer_any);
  // (Not compared read back: MessageDifferencer cannot unpack run-time types,
  // and compares the packed bytes, where the reader writes nanos: 0.)
  ExpectSameAsLibrary(*outer);
  EXPECT_EQ(
      OurJson(*outer),
      R"({"any":{"@type":"type.googleapis.com/jsontest.AllTypes","i64":"5",)"
      R"("ts":"1970-01-01T00:00:03Z","any":{"@type":"type.googleapis.com/jsontest.Unordered",)"
      R"("first":"x","tenth":"1"}}})");

  std::unique_ptr<pb::Message> wrappers = NewAllTypes();
  SetText(wrappers.get(), texts[2]);
  EXPECT_EQ(
      OurJson(*wrappers),
      R"({"dw":0.1,"fw":0.1,"i64w":"-9223372036854775808","u64w":"18446744073709551615",)"
      R"("i32w":-1,"u32w":4294967295,"bw":true,"sw":"\u003c/script\u003e","byw":"AP9hYg=="})");
  std::unique_ptr<pb::Message> any = NewAllTypes();
  SetText(any.get(), texts[13]);
  EXPECT_EQ(OurJson(*any), R"({"any":{"@type":"type.googleapis.com/suishin.common.v1.FiscalYear",)"
                           R"("year":2019,"label":"R元"}})");
}

TEST(JsonWriterTest, ValueWithoutAKindIsLeftOutWithItsKey) {
  // The library writes nothing for it: no key in an object, no element in a
  // list. (So it does not read back as it was; the text is still the
  // library's.)
  for (const char* text :
       {"val {}", "val {} i32: 1", "st { fields { key: 'a' value {} } }",
        "lv { values {} values { bool_value: true } values {} }", "lv { values {} }",
        "r_val {} r_val { number_value: 2 } r_val {}", "map_str_value { key: 'k' value {} }",
        "st { fields { key: 'a' value { list_value { values {} } } } }"}) {
    std::unique_ptr<pb::Message> message = NewAllTypes();
    SetText(message.get(), text);
    SCOPED_TRACE(text);
    ExpectSameAsLibrary(*message);
  }
  std::unique_ptr<pb::Message> message = NewAllTypes();
  SetText(message.get(), "val {} r_val {} r_val { number_value: 2 } r_val {} i32: 1");
  EXPECT_EQ(OurJson(*message), R"({"i32":1,"rVal":[2]})");
}

TEST(JsonWriterTest, WellKnownTypesAtTheTop) {
  pb::Timestamp timestamp;
  timestamp.set_seconds(1764918113);
  timestamp.set_nanos(715457726);
  EXPECT_EQ(OurJson(timestamp), R"("2025-12-05T07:01:53.715457726Z")");
  ExpectSameAndReadsBack(timestamp);
  pb::Duration duration;
  duration.set_seconds(3600);
  EXPECT_EQ(OurJson(duration), R"("3600s")");
  ExpectSameAndReadsBack(duration);
  pb::Int64Value int64;
  int64.set_value(-3);
  EXPECT_EQ(OurJson(int64), R"("-3")");
  ExpectSameAndReadsBack(int64);
  pb::Value value;
  value.set_string_value("x");
  ExpectSameAndReadsBack(value);
  ExpectSameAsLibrary(pb::Value());
  EXPECT_EQ(OurJson(pb::Value()), "");
  ExpectSameAndReadsBack(pb::ListValue());
  ExpectSameAndReadsBack(pb::Struct());
  ExpectSameAndReadsBack(pb::Empty());
  ExpectSameAndReadsBack(pb::FieldMask());
  pb::Any any;
  any.PackFrom(timestamp);
  EXPECT_EQ(OurJson(any), R"({"@type":"type.googleapis.com/google.protobuf.Timestamp",)"
                          R"("value":"2025-12-05T07:01:53.715457726Z"})");
  ExpectSameAndReadsBack(any);
}

// ---------------------------------------------------------------------------
// What the mapping cannot express.

TEST(JsonWriterTest, RefusesWhatTheLibraryRefuses) {
  // The library warns that it left its writer open when it refuses.
  const pb::LogSilencer silence_library_warnings;
  const std::vector<std::string> texts = {
      "ts { seconds: 253402300800 }",
      "ts { seconds: -62135596801 }",
      "ts { nanos: -1 }",
      "ts { nanos: 1000000000 }",
      "dur { seconds: 315576000001 }",
      "dur { seconds: -315576000001 }",
      "dur { nanos: 1000000000 }",
      "dur { nanos: -1000000000 }",
      "dur { seconds: -1 nanos: 5 }",
      "r_ts { seconds: 1 } r_ts { nanos: -1 }",
      "any { type_url: 'type.googleapis.com/no.Such' value: '\\010\\001' }",
      "any { value: '\\010\\001' }",
      "map_str_ts { key: 'k' value { seconds: 253402300800 } }",
      "child { child { ts { seconds: 253402300800 } } }",
  };
  for (const std::string& text : texts) {
    std::unique_ptr<pb::Message> message = NewAllTypes();
    SetText(message.get(), text);
    SCOPED_TRACE(text);
    std::string library;
    EXPECT_FALSE(pb::util::MessageToJsonString(*message, &library).ok());
    std::string out = "kept";
    const absl::Status status = AppendJson(*message, &out);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_EQ(out, "kept");
  }
  std::unique_ptr<pb::Message> message = NewAllTypes();
  SetText(message.get(), "child { ts { seconds: 253402300800 } }");
  EXPECT_EQ(ToJson(*message).status().message(),
            "field jsontest.AllTypes.ts: Timestamp seconds 253402300800 is outside 0001-01-01 "
            "to 9999-12-31");
}

TEST(JsonWriterTest, DurationWithPositiveSecondsAndNegativeNanosIsRefused) {
  // A deliberate difference: the library prints this invalid Duration as
  // garbage that reads back as another Duration (1 s and -5 ns as
  // "1.294967291s"); refusing it as it refuses -1 s and +5 ns is the
  // mapping's meaning.
  notificationv1::RotateWebhookSecretRequest request;
  request.mutable_overlap()->set_seconds(1);
  request.mutable_overlap()->set_nanos(-5);
  EXPECT_EQ(LibraryJson(request), R"({"overlap":"1.294967291s"})");
  const absl::StatusOr<std::string> json = ToJson(request);
  EXPECT_EQ(json.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(json.status().message(),
            "field suishin.notification.v1.RotateWebhookSecretRequest.overlap: Duration seconds 1 "
            "and nanos -5 have opposite signs");
}

TEST(JsonWriterTest, NestingAsDeepAsTheLibraryAllows) {
  const pb::LogSilencer silence_library_warnings;
  for (int depth = 60; depth <= 68; ++depth) {
    std::unique_ptr<pb::Message> top = TestTypes::Get().New("jsontest.Recursive");
    pb::Message* message = top.get();
    for (int i = 0; i < depth; ++i) {
      const pb::FieldDescriptor* child = message->GetDescriptor()->FindFieldByName("child");
      message = message->GetReflection()->MutableMessage(message, child);
    }
    SCOPED_TRACE(depth);
    std::string library;
    const bool library_ok = pb::util::MessageToJsonString(*top, &library).ok();
    const absl::StatusOr<std::string> ours = ToJson(*top);
    EXPECT_EQ(ours.ok(), library_ok) << ours.status();
    if (ours.ok() && library_ok) {
      EXPECT_EQ(*ours, library);
    }
  }
}

// ---------------------------------------------------------------------------
// Random messages of every type.

// Fills messages with random values: the awkward numbers and texts more often
// than chance would, every well-known type valid, maps of at most one entry
// (so the library's text is deterministic), and nothing that does not read
// back as it was (no Value without a kind, no NaN in a Value).
class RandomFiller {
 public:
  explicit RandomFiller(uint64_t seed) : random_(seed) {}

  void Fill(pb::Message* message, int depth) {
    const pb::Descriptor* type = message->GetDescriptor();
    switch (type->well_known_type()) {
      case pb::Descriptor::WELLKNOWNTYPE_TIMESTAMP:
        return FillTimestamp(message);
      case pb::Descriptor::WELLKNOWNTYPE_DURATION:
        return FillDuration(message);
      case pb::Descriptor::WELLKNOWNTYPE_FIELDMASK:
        return FillFieldMask(message);
      case pb::Descriptor::WELLKNOWNTYPE_ANY:
        return FillAny(message, depth);
      case pb::Descriptor::WELLKNOWNTYPE_VALUE:
        return FillValue(message, depth);
      default:
        break;
    }
    const pb::Reflection* reflection = message->GetReflection();
    for (int i = 0; i < type->field_count(); ++i) {
      const pb::FieldDescriptor* field = type->field(i);
      if (field->options().deprecated() || Percent() < 45) continue;
      if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE && depth >= 4) continue;
      if (field->enum_type() != nullptr &&
          field->enum_type()->full_name() == "google.protobuf.NullValue" &&
          field->containing_oneof() != nullptr && !field->containing_oneof()->is_synthetic()) {
        continue;  // null in a oneof does not read back
      }
      const int count = field->is_map() ? 1 : field->is_repeated() ? Percent() % 4 : 1;
      for (int j = 0; j < count; ++j) SetOne(message, reflection, field, depth);
    }
  }

 private:
  int Percent() { return static_cast<int>(random_() % 100); }

  double Double() {
    static const std::vector<double> kValues = InterestingDoubles();
    switch (random_() % 4) {
      case 0:
        return kValues[random_() % kValues.size()];
      case 1: {
        const uint64_t bits = random_();
        double value;
        std::memcpy(&value, &bits, sizeof(value));
        return std::isfinite(value) ? value : 0.5;
      }
      case 2:
        return static_cast<double>(random_() % 1000000) / 10;
      default:
        return static_cast<double>(random_() % 1000 + 1) / static_cast<double>(random_() % 97 + 1);
    }
  }

  std::string Text() {
    static const char* const kPieces[] = {"a",          "kodomoen", "上川",      "認定こども園",
                                          "\"",         "\\",       "</script>", "\x01",
                                          "\x7f",       "\n",       "\u2028",    "😀",
                                          "\U000E0001", "é",        "\u00ad",    "\ufeff",
                                          "\u0085",     "/",        "{\"a\":1}", " ",
                                          "\t",         "0",        "R元",       "%"};
    std::string text;
    for (int n = Percent() % 5; n > 0; --n) {
      text += kPieces[random_() % (sizeof(kPieces) / sizeof(kPieces[0]))];
    }
    return text;
  }

  void SetOne(pb::Message* message, const pb::Reflection* reflection,
              const pb::FieldDescriptor* field, int depth) {
    const bool repeated = field->is_repeated();
    switch (field->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_INT32: {
        static const int32_t kValues[] = {0,
                                          1,
                                          -1,
                                          2019,
                                          std::numeric_limits<int32_t>::min(),
                                          std::numeric_limits<int32_t>::max()};
        const int32_t value =
            Percent() < 50 ? kValues[random_() % 6] : static_cast<int32_t>(random_());
        repeated ? reflection->AddInt32(message, field, value)
                 : reflection->SetInt32(message, field, value);
        break;
      }
      case pb::FieldDescriptor::CPPTYPE_INT64: {
        static const int64_t kValues[] = {0,
                                          1,
                                          -1,
                                          std::numeric_limits<int64_t>::min(),
                                          std::numeric_limits<int64_t>::max(),
                                          9007199254740993};
        const int64_t value =
            Percent() < 50 ? kValues[random_() % 6] : static_cast<int64_t>(random_());
        repeated ? reflection->AddInt64(message, field, value)
                 : reflection->SetInt64(message, field, value);
        break;
      }
      case pb::FieldDescriptor::CPPTYPE_UINT32: {
        const uint32_t value = Percent() < 30 ? 4294967295u : static_cast<uint32_t>(random_());
        repeated ? reflection->AddUInt32(message, field, value)
                 : reflection->SetUInt32(message, field, value);
        break;
      }
      case pb::FieldDescriptor::CPPTYPE_UINT64: {
        const uint64_t value = Percent() < 30 ? 18446744073709551615u : random_();
        repeated ? reflection->AddUInt64(message, field, value)
                 : reflection->SetUInt64(message, field, value);
        break;
      }
      case pb::FieldDescriptor::CPPTYPE_DOUBLE: {
        double value = Double();
        if (Percent() < 3) value = Percent() < 50 ? NAN : -INFINITY;
        repeated ? reflection->AddDouble(message, field, value)
                 : reflection->SetDouble(message, field, value);
        break;
      }
      case pb::FieldDescriptor::CPPTYPE_FLOAT: {
        const float value = static_cast<float>(Double());
        repeated ? reflection->AddFloat(message, field, value)
                 : reflection->SetFloat(message, field, value);
        break;
      }
      case pb::FieldDescriptor::CPPTYPE_BOOL: {
        const bool value = Percent() < 50;
        repeated ? reflection->AddBool(message, field, value)
                 : reflection->SetBool(message, field, value);
        break;
      }
      case pb::FieldDescriptor::CPPTYPE_ENUM: {
        const pb::EnumDescriptor* type = field->enum_type();
        int number = type->value(static_cast<int>(random_() % type->value_count()))->number();
        if (Percent() < 10 && type->full_name() != "google.protobuf.NullValue") {
          number = static_cast<int>(random_() % 1000) - 500;  // proto3 enums are open
        }
        repeated ? reflection->AddEnumValue(message, field, number)
                 : reflection->SetEnumValue(message, field, number);
        break;
      }
      case pb::FieldDescriptor::CPPTYPE_STRING: {
        std::string value;
        if (field->type() == pb::FieldDescriptor::TYPE_BYTES) {
          for (int n = Percent() % 7; n > 0; --n) value += static_cast<char>(random_());
        } else {
          value = Text();
        }
        repeated ? reflection->AddString(message, field, value)
                 : reflection->SetString(message, field, value);
        break;
      }
      case pb::FieldDescriptor::CPPTYPE_MESSAGE: {
        pb::Message* child = repeated ? reflection->AddMessage(message, field)
                                      : reflection->MutableMessage(message, field);
        if (field->is_map()) {
          // The key and the value, both always set.
          const pb::Reflection* entry = child->GetReflection();
          SetOne(child, entry, child->GetDescriptor()->map_key(), depth + 1);
          SetOne(child, entry, child->GetDescriptor()->map_value(), depth + 1);
        } else {
          Fill(child, depth + 1);
        }
        break;
      }
    }
  }

  void FillTimestamp(pb::Message* message) {
    const pb::Reflection* reflection = message->GetReflection();
    const pb::Descriptor* type = message->GetDescriptor();
    const int64_t seconds = Percent() < 50
                                ? static_cast<int64_t>(random_() % 4000000000)
                                : -62135596800 + static_cast<int64_t>(random_() % 315537897600);
    reflection->SetInt64(message, type->field(0), seconds);
    reflection->SetInt32(message, type->field(1), Nanos());
  }

  // 0 to 999999999, whole seconds, milli- and microseconds as often as not.
  int32_t Nanos() {
    const int32_t nanos = static_cast<int32_t>(random_() % 1000000000);
    switch (random_() % 4) {
      case 0:
        return 0;
      case 1:
        return nanos / 1000000 * 1000000;
      case 2:
        return nanos / 1000 * 1000;
      default:
        return nanos;
    }
  }

  void FillDuration(pb::Message* message) {
    const pb::Reflection* reflection = message->GetReflection();
    const pb::Descriptor* type = message->GetDescriptor();
    int64_t seconds = Percent() < 50 ? static_cast<int64_t>(random_() % 100000)
                                     : static_cast<int64_t>(random_() % 315576000001);
    int32_t nanos = Nanos();
    if (Percent() < 30) seconds = 0;
    if (Percent() < 50) {
      seconds = -seconds;
      nanos = -nanos;
    }
    reflection->SetInt64(message, type->field(0), seconds);
    reflection->SetInt32(message, type->field(1), nanos);
  }

  void FillFieldMask(pb::Message* message) {
    // Paths that read back as they were ("a_b" would not: "aB" reads as "a_b"
    // but "a_b_c" as "aBC" reads back as "a_bc").
    static const char* const kPaths[] = {"title",   "area_id",     "update_time.seconds",
                                         "pillars", "ab_cd.ef_gh", "x1"};
    for (int n = Percent() % 4; n > 0; --n) {
      message->GetReflection()->AddString(message, message->GetDescriptor()->field(0),
                                          kPaths[random_() % 6]);
    }
  }

  void FillAny(pb::Message* message, int depth) {
    static const char* const kTypes[] = {
        "suishin.common.v1.FiscalYear", "suishin.kpi.v1.Baseline", "google.protobuf.Timestamp",
        "google.protobuf.Int64Value",   "google.protobuf.Empty",   "google.protobuf.Struct",
        "google.protobuf.Duration"};
    const pb::Descriptor* type =
        pb::DescriptorPool::generated_pool()->FindMessageTypeByName(kTypes[random_() % 7]);
    std::unique_ptr<pb::Message> packed(
        pb::MessageFactory::generated_factory()->GetPrototype(type)->New());
    Fill(packed.get(), depth + 1);
    const pb::Reflection* reflection = message->GetReflection();
    reflection->SetString(message, message->GetDescriptor()->field(0),
                          "type.googleapis.com/" + type->full_name());
    reflection->SetString(message, message->GetDescriptor()->field(1), packed->SerializeAsString());
  }

  void FillValue(pb::Message* message, int depth) {
    const pb::Descriptor* type = message->GetDescriptor();
    const pb::Reflection* reflection = message->GetReflection();
    switch (random_() % (depth >= 4 ? 4 : 6)) {
      case 0:
        reflection->SetEnumValue(message, type->FindFieldByName("null_value"), 0);
        break;
      case 1:
        reflection->SetDouble(message, type->FindFieldByName("number_value"), Double());
        break;
      case 2:
        reflection->SetString(message, type->FindFieldByName("string_value"), Text());
        break;
      case 3:
        reflection->SetBool(message, type->FindFieldByName("bool_value"), Percent() < 50);
        break;
      case 4: {
        pb::Message* fields =
            reflection->MutableMessage(message, type->FindFieldByName("struct_value"));
        if (Percent() < 70) {
          pb::Message* entry =
              fields->GetReflection()->AddMessage(fields, fields->GetDescriptor()->field(0));
          entry->GetReflection()->SetString(entry, entry->GetDescriptor()->map_key(), Text());
          FillValue(
              entry->GetReflection()->MutableMessage(entry, entry->GetDescriptor()->map_value()),
              depth + 1);
        }
        break;
      }
      default: {
        pb::Message* list =
            reflection->MutableMessage(message, type->FindFieldByName("list_value"));
        for (int n = Percent() % 4; n > 0; --n) {
          FillValue(list->GetReflection()->AddMessage(list, list->GetDescriptor()->field(0)),
                    depth + 1);
        }
        break;
      }
    }
  }

  std::mt19937_64 random_;
};

TEST(JsonWriterTest, RandomMessagesOfEveryTypeAreTheLibrarysText) {
  std::vector<const pb::Descriptor*> types;
  for (const pb::FileDescriptor* file :
       {kpiv1::Kpi::descriptor()->file(), planv1::Project::descriptor()->file(),
        notificationv1::Alert::descriptor()->file()}) {
    for (int i = 0; i < file->message_type_count(); ++i) types.push_back(file->message_type(i));
  }
  const pb::Descriptor* all_types = NewAllTypes()->GetDescriptor();
  uint64_t seed = 1;
  int compared = 0;
  for (const pb::Descriptor* type : types) {
    for (int round = 0; round < 20; ++round) {
      std::unique_ptr<pb::Message> message(
          pb::MessageFactory::generated_factory()->GetPrototype(type)->New());
      RandomFiller(seed++).Fill(message.get(), 0);
      SCOPED_TRACE(absl::StrCat(type->full_name(), " seed ", seed - 1));
      ExpectSameAndReadsBack(*message);
      ++compared;
    }
  }
  for (int round = 0; round < 400; ++round) {
    std::unique_ptr<pb::Message> message = TestTypes::Get().New(all_types->full_name());
    RandomFiller(seed++).Fill(message.get(), 0);
    SCOPED_TRACE(absl::StrCat("jsontest.AllTypes seed ", seed - 1));
    ExpectSameAndReadsBack(*message);
    ++compared;
  }
  EXPECT_GT(compared, 1000);
}

// ---------------------------------------------------------------------------
// Speed: printed, not asserted (the machine's load decides the figures).

// Mean time to write `message` as JSON with `write`, over `iterations`.
template <typename Write>
double MicrosecondsPerMessage(int iterations, Write write) {
  size_t bytes = 0;
  for (int i = 0; i < iterations / 10 + 1; ++i) bytes += write().size();  // warm up
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) bytes += write().size();
  const std::chrono::duration<double, std::micro> elapsed =
      std::chrono::steady_clock::now() - start;
  EXPECT_GT(bytes, 0u);
  return elapsed.count() / iterations;
}

TEST(JsonWriterTest, PrintsTimePerMessageOfBothWriters) {
  // SUISHIN_JSON_BENCH_ITERATIONS=100000 for steadier figures.
  const char* env = std::getenv("SUISHIN_JSON_BENCH_ITERATIONS");
  const int iterations = env != nullptr ? std::atoi(env) : 5000;
  const kpiv1::GetAggregateResponse aggregate = SeedAggregate();
  const kpiv1::GetKpiTableResponse table = SeedKpiTable();
  for (const auto& [name, message] : std::vector<std::pair<std::string, const pb::Message*>>{
           {"GetAggregateResponse", &aggregate}, {"GetKpiTableResponse", &table}}) {
    const double library = MicrosecondsPerMessage(iterations, [&, m = message] {
      std::string json;
      (void)pb::util::MessageToJsonString(*m, &json);
      return json;
    });
    const double ours =
        MicrosecondsPerMessage(iterations, [&, m = message] { return *ToJson(*m); });
    std::printf(
        "%-22s %6zu bytes  MessageToJsonString %8.2f us  ToJson %7.2f us  x%.1f  "
        "(%d iterations)\n",
        name.c_str(), OurJson(*message).size(), library, ours, library / ours, iterations);
  }
}

}  // namespace
}  // namespace suishin::gateway
