#include "services/gateway/routes.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace suishin::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The field of `descriptor` called `name`, by its proto name or its JSON name.
const FieldDescriptor* FindField(const Descriptor* descriptor, absl::string_view name) {
  if (const FieldDescriptor* field = descriptor->FindFieldByName(std::string(name))) {
    return field;
  }
  for (int i = 0; i < descriptor->field_count(); ++i) {
    if (descriptor->field(i)->json_name() == name) return descriptor->field(i);
  }
  return nullptr;
}

// The last field of `path` in `descriptor`, every earlier one a singular
// message; null when the path names none.
const FieldDescriptor* FindPath(const Descriptor* descriptor, absl::string_view path) {
  const FieldDescriptor* field = nullptr;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (field != nullptr) {
      if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || field->is_repeated()) {
        return nullptr;
      }
      descriptor = field->message_type();
    }
    field = FindField(descriptor, part);
    if (field == nullptr) return nullptr;
  }
  return field;
}

bool IsPathScalar(const FieldDescriptor* field) {
  if (field == nullptr || field->is_repeated()) return false;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<Route> ParseRoute(const google::protobuf::MethodDescriptor* method) {
  const common::v1::HttpRoute& rule = method->options().GetExtension(common::v1::http);
  Route route;
  route.method = method;
  route.rule = rule;
  route.grpc_path = absl::StrCat("/", method->service()->full_name(), "/", method->name());
  switch (rule.pattern_case()) {
    case common::v1::HttpRoute::kGet:
      route.http_method = "GET";
      route.path_template = rule.get();
      break;
    case common::v1::HttpRoute::kPost:
      route.http_method = "POST";
      route.path_template = rule.post();
      break;
    case common::v1::HttpRoute::kPatch:
      route.http_method = "PATCH";
      route.path_template = rule.patch();
      break;
    case common::v1::HttpRoute::kDelete:
      route.http_method = "DELETE";
      route.path_template = rule.delete_();
      break;
    case common::v1::HttpRoute::PATTERN_NOT_SET:
      return absl::InternalError(absl::StrCat(method->full_name(), ": route without a path"));
  }
  const auto invalid = [&](absl::string_view why) {
    return absl::InternalError(
        absl::StrCat(method->full_name(), ": route ", route.path_template, ": ", why));
  };
  absl::string_view rest = route.path_template;
  if (!absl::ConsumePrefix(&rest, "/")) return invalid("does not start with /");
  std::vector<std::string> parts = absl::StrSplit(rest, '/');
  if (std::string& last = parts.back(); !last.empty()) {
    // "{fingerprint}:acknowledge", "plan:import": the verb follows the
    // variable or the literal.
    const size_t close = last.rfind('}');
    const size_t colon = last.find(':', close == std::string::npos ? 0 : close + 1);
    if (colon != std::string::npos) {
      route.verb = last.substr(colon + 1);
      last.resize(colon);
    }
  }
  const Descriptor* input = method->input_type();
  for (const std::string& part : parts) {
    if (part.empty()) return invalid("has an empty segment");
    Segment segment;
    if (part.front() == '{') {
      if (part.back() != '}') return invalid(absl::StrCat("segment ", part, " is not {field}"));
      segment.field = part.substr(1, part.size() - 2);
      if (!IsPathScalar(FindPath(input, segment.field))) {
        return invalid(absl::StrCat("{", segment.field, "} is no string or integer field of ",
                                    input->full_name()));
      }
    } else {
      segment.literal = part;
    }
    route.segments.push_back(std::move(segment));
  }
  if (!rule.body().empty() && rule.body() != "*") {
    const FieldDescriptor* body = FindField(input, rule.body());
    if (body == nullptr || body->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
        body->is_repeated()) {
      return invalid(absl::StrCat("body \"", rule.body(), "\" is no message field"));
    }
  }
  if (method->server_streaming() &&
      (rule.event_id_field().empty() || rule.resume_field().empty() ||
       FindPath(method->output_type(), rule.event_id_field()) == nullptr ||
       FindPath(input, rule.resume_field()) == nullptr)) {
    return invalid("a server stream names its event_id_field and resume_field");
  }
  if (method->client_streaming()) {
    const FieldDescriptor* split = FindField(input, rule.stream_split_field());
    if (split == nullptr || !split->is_repeated()) {
      return invalid("a client stream names its repeated stream_split_field");
    }
  }
  return route;
}

// The segments of a request path (percent-decoded by the HTTP server).
absl::StatusOr<std::vector<std::string>> SplitPath(absl::string_view path) {
  if (!absl::ConsumePrefix(&path, "/")) return absl::InvalidArgumentError("path without /");
  return std::vector<std::string>(absl::StrSplit(path, '/'));
}

}  // namespace

absl::StatusOr<RouteTable> RouteTable::ForServices(
    const std::vector<const google::protobuf::ServiceDescriptor*>& services) {
  RouteTable table;
  absl::flat_hash_set<std::string> seen;
  for (const google::protobuf::ServiceDescriptor* service : services) {
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      if (!method->options().HasExtension(common::v1::http)) {
        table.unrouted_.push_back(method->full_name());
        continue;
      }
      absl::StatusOr<Route> route = ParseRoute(method);
      if (!route.ok()) return route.status();
      if (!seen.insert(absl::StrCat(route->http_method, " ", route->path_template)).second) {
        return absl::InternalError(absl::StrCat(method->full_name(), ": ", route->http_method, " ",
                                                route->path_template, " is declared twice"));
      }
      table.routes_.push_back(*std::move(route));
    }
  }
  return table;
}

RouteMatch RouteTable::Match(absl::string_view http_method, absl::string_view path) const {
  RouteMatch result;
  absl::StatusOr<std::vector<std::string>> parts = SplitPath(path);
  if (!parts.ok() || parts->empty()) return result;
  for (const Route& route : routes_) {
    if (route.segments.size() != parts->size()) continue;
    std::vector<std::pair<std::string, std::string>> bindings;
    bool matched = true;
    for (size_t i = 0; i < parts->size() && matched; ++i) {
      absl::string_view part = (*parts)[i];
      if (i + 1 == parts->size() && !route.verb.empty()) {
        matched = absl::ConsumeSuffix(&part, absl::StrCat(":", route.verb));
      }
      const Segment& segment = route.segments[i];
      if (!matched || part.empty()) {
        matched = false;
      } else if (segment.field.empty()) {
        matched = part == segment.literal;
      } else {
        bindings.emplace_back(segment.field, std::string(part));
      }
    }
    if (!matched) continue;
    if (route.http_method != http_method) {
      result.method_not_allowed = true;
      continue;
    }
    result.route = &route;
    result.bindings = std::move(bindings);
    result.method_not_allowed = false;
    return result;
  }
  return result;
}

absl::Status SetFieldFromText(Message* message, absl::string_view path, absl::string_view text) {
  const auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": \"", text, "\" ", why));
  };
  std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const FieldDescriptor* field = FindField(message->GetDescriptor(), parts[i]);
    if (field == nullptr || field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
        field->is_repeated()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": ", message->GetDescriptor()->full_name(), " has no message field ", parts[i]));
    }
    message = message->GetReflection()->MutableMessage(message, field);
  }
  const FieldDescriptor* field = FindField(message->GetDescriptor(), parts.back());
  if (field == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": ", message->GetDescriptor()->full_name(), " has no field ", parts.back()));
  }
  const Reflection* reflection = message->GetReflection();
  const bool repeated = field->is_repeated();
  const std::string value(text);
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      repeated ? reflection->AddString(message, field, value)
               : reflection->SetString(message, field, value);
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t number;
      if (!absl::SimpleAtoi(text, &number)) return invalid("is not a 32-bit integer");
      repeated ? reflection->AddInt32(message, field, number)
               : reflection->SetInt32(message, field, number);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t number;
      if (!absl::SimpleAtoi(text, &number)) return invalid("is not an integer");
      repeated ? reflection->AddInt64(message, field, number)
               : reflection->SetInt64(message, field, number);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t number;
      if (!absl::SimpleAtoi(text, &number)) return invalid("is not an unsigned 32-bit integer");
      repeated ? reflection->AddUInt32(message, field, number)
               : reflection->SetUInt32(message, field, number);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t number;
      if (!absl::SimpleAtoi(text, &number)) return invalid("is not an unsigned integer");
      repeated ? reflection->AddUInt64(message, field, number)
               : reflection->SetUInt64(message, field, number);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double number;
      if (!absl::SimpleAtod(text, &number)) return invalid("is not a number");
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
        repeated ? reflection->AddFloat(message, field, static_cast<float>(number))
                 : reflection->SetFloat(message, field, static_cast<float>(number));
      } else {
        repeated ? reflection->AddDouble(message, field, number)
                 : reflection->SetDouble(message, field, number);
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool flag;
      if (!absl::SimpleAtob(text, &flag)) return invalid("is not true or false");
      repeated ? reflection->AddBool(message, field, flag)
               : reflection->SetBool(message, field, flag);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const google::protobuf::EnumValueDescriptor* enum_value =
          field->enum_type()->FindValueByName(absl::AsciiStrToUpper(text));
      int number;
      if (enum_value == nullptr && absl::SimpleAtoi(text, &number)) {
        enum_value = field->enum_type()->FindValueByNumber(number);
      }
      if (enum_value == nullptr) {
        return invalid(absl::StrCat("is no value of ", field->enum_type()->full_name()));
      }
      repeated ? reflection->AddEnum(message, field, enum_value)
               : reflection->SetEnum(message, field, enum_value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      Message* child = repeated ? reflection->AddMessage(message, field)
                                : reflection->MutableMessage(message, field);
      if (absl::StartsWith(field->message_type()->full_name(), "google.protobuf.")) {
        google::protobuf::Value json;
        json.set_string_value(value);
        std::string quoted;
        (void)google::protobuf::util::MessageToJsonString(json, &quoted);
        const auto parsed = google::protobuf::util::JsonStringToMessage(quoted, child);
        if (!parsed.ok()) return invalid(parsed.message().as_string());
        return absl::OkStatus();
      }
      if (field->message_type()->field_count() == 0) return invalid("sets no field");
      // FiscalYear by its year: "as_of=2019".
      const absl::Status set =
          SetFieldFromText(child, field->message_type()->field(0)->name(), text);
      if (!set.ok()) {
        absl::string_view why = set.message();
        why = why.substr(why.find(text) + text.size() + 2);  // what follows the quoted text
        return invalid(why);
      }
      return absl::OkStatus();
    }
  }
  return invalid("cannot be set from a URL");
}

std::string FieldText(const Message& message, absl::string_view path) {
  const Message* current = &message;
  std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field = FindField(current->GetDescriptor(), parts[i]);
    if (field == nullptr || field->is_repeated()) return "";
    const Reflection* reflection = current->GetReflection();
    if (i + 1 < parts.size()) {
      if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return "";
      current = &reflection->GetMessage(*current, field);
      continue;
    }
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        return reflection->GetString(*current, field);
      case FieldDescriptor::CPPTYPE_INT32:
        return absl::StrCat(reflection->GetInt32(*current, field));
      case FieldDescriptor::CPPTYPE_INT64:
        return absl::StrCat(reflection->GetInt64(*current, field));
      case FieldDescriptor::CPPTYPE_UINT32:
        return absl::StrCat(reflection->GetUInt32(*current, field));
      case FieldDescriptor::CPPTYPE_UINT64:
        return absl::StrCat(reflection->GetUInt64(*current, field));
      default:
        return "";
    }
  }
  return "";
}

absl::StatusOr<std::unique_ptr<Message>> BuildRequest(
    const RouteMatch& match, const std::vector<std::pair<std::string, std::string>>& query,
    absl::string_view body) {
  const Route& route = *match.route;
  std::unique_ptr<Message> request(google::protobuf::MessageFactory::generated_factory()
                                       ->GetPrototype(route.method->input_type())
                                       ->New());
  const absl::string_view trimmed = absl::StripAsciiWhitespace(body);
  if (!trimmed.empty()) {
    if (route.rule.body().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(route.http_method, " ", route.path_template,
                                                     " takes no body; send its fields in the "
                                                     "query string"));
    }
    Message* target = request.get();
    if (route.rule.body() != "*") {
      target = request->GetReflection()->MutableMessage(
          request.get(), FindField(request->GetDescriptor(), route.rule.body()));
    }
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto parsed =
        google::protobuf::util::JsonStringToMessage(std::string(trimmed), target, options);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("body: ", parsed.message().as_string()));
    }
  }
  for (const auto& [name, value] : query) {
    if (absl::Status set = SetFieldFromText(request.get(), name, value); !set.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("query parameter ", set.message()));
    }
  }
  for (const auto& [field, value] : match.bindings) {
    const std::string given = FieldText(*request, field);
    if (!given.empty() && given != "0" && given != value) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": the path says \"", value, "\", the request \"", given, "\""));
    }
    if (absl::Status set = SetFieldFromText(request.get(), field, value); !set.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("path ", set.message()));
    }
  }
  return request;
}

}  // namespace suishin::gateway
