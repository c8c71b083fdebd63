#include "services/gateway/openapi.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "suishin/common/v1/access.pb.h"

namespace suishin::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Struct;
using google::protobuf::Value;

// Small builders over google.protobuf.Struct, the document's JSON.
Value Text(const std::string& text) {
  Value value;
  value.set_string_value(text);
  return value;
}

Value Flag(bool flag) {
  Value value;
  value.set_bool_value(flag);
  return value;
}

Value Object(std::initializer_list<std::pair<const std::string, Value>> fields) {
  Value value;
  auto& map = *value.mutable_struct_value()->mutable_fields();
  for (const auto& [name, field] : fields) map[name] = field;
  return value;
}

Value& Field(Value& object, const std::string& name) {
  return (*object.mutable_struct_value()->mutable_fields())[name];
}

Value Ref(const Descriptor* message) {
  return Object({{"$ref", Text(absl::StrCat("#/components/schemas/", message->full_name()))}});
}

bool IsWellKnown(const Descriptor* message) {
  return absl::StartsWith(message->full_name(), "google.protobuf.");
}

// The JSON schema of a well-known type, as the JSON mapping writes it.
Value WellKnownSchema(const Descriptor* message) {
  const std::string& name = message->full_name();
  if (name == "google.protobuf.Timestamp") {
    return Object({{"type", Text("string")}, {"format", Text("date-time")}});
  }
  if (name == "google.protobuf.Duration") {
    return Object({{"type", Text("string")}, {"example", Text("3600s")}});
  }
  if (name == "google.protobuf.FieldMask") {
    return Object({{"type", Text("string")}, {"example", Text("title,overview")}});
  }
  if (absl::EndsWith(name, "Value") && message->field_count() == 1 &&
      name != "google.protobuf.Value") {
    // A wrapper: the wrapped value itself.
    const FieldDescriptor* wrapped = message->field(0);
    switch (wrapped->cpp_type()) {
      case FieldDescriptor::CPPTYPE_BOOL:
        return Object({{"type", Text("boolean")}});
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT:
        return Object({{"type", Text("number")}});
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_UINT32:
        return Object({{"type", Text("integer")}});
      default:
        return Object({{"type", Text("string")}});
    }
  }
  return Object({});  // Struct, Value, Any, Empty: any JSON
}

class SchemaWriter {
 public:
  // The schema of a field's value (one element of a repeated field), adding
  // the schemas of the messages it names to the components.
  Value ValueSchema(const FieldDescriptor* field) {
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_UINT32:
        return Object({{"type", Text("integer")}, {"format", Text("int32")}});
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT64:
        return Object({{"type", Text("string")}, {"format", Text("int64")}});
      case FieldDescriptor::CPPTYPE_DOUBLE:
        return Object({{"type", Text("number")}, {"format", Text("double")}});
      case FieldDescriptor::CPPTYPE_FLOAT:
        return Object({{"type", Text("number")}, {"format", Text("float")}});
      case FieldDescriptor::CPPTYPE_BOOL:
        return Object({{"type", Text("boolean")}});
      case FieldDescriptor::CPPTYPE_STRING:
        return field->type() == FieldDescriptor::TYPE_BYTES
                   ? Object({{"type", Text("string")}, {"format", Text("byte")}})
                   : Object({{"type", Text("string")}});
      case FieldDescriptor::CPPTYPE_ENUM: {
        Value schema = Object({{"type", Text("string")}});
        auto* values = Field(schema, "enum").mutable_list_value();
        for (int i = 0; i < field->enum_type()->value_count(); ++i) {
          *values->add_values() = Text(field->enum_type()->value(i)->name());
        }
        return schema;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        if (IsWellKnown(field->message_type())) return WellKnownSchema(field->message_type());
        Add(field->message_type());
        return Ref(field->message_type());
    }
    return Object({});
  }

  Value FieldSchema(const FieldDescriptor* field) {
    if (field->is_map()) {
      return Object({{"type", Text("object")},
                     {"additionalProperties", ValueSchema(field->message_type()->map_value())}});
    }
    if (field->is_repeated()) {
      return Object({{"type", Text("array")}, {"items", ValueSchema(field)}});
    }
    return ValueSchema(field);
  }

  // Adds `message`'s schema to the components (once).
  void Add(const Descriptor* message) {
    if (!added_.insert(message->full_name()).second) return;
    Value schema = Object({{"type", Text("object")}});
    Value& properties = Field(schema, "properties");
    properties.mutable_struct_value();
    for (int i = 0; i < message->field_count(); ++i) {
      const FieldDescriptor* field = message->field(i);
      Field(properties, field->json_name()) = FieldSchema(field);
    }
    (*schemas_.mutable_fields())[message->full_name()] = schema;
  }

  Struct& schemas() { return schemas_; }

 private:
  absl::flat_hash_set<std::string> added_;
  Struct schemas_;
};

// The query parameters of a request message: its scalar fields by dotted
// path, leaving out those in the path and the body.
void AddQueryParameters(const Descriptor* message, const std::string& prefix,
                        const std::set<std::string>& excluded, int depth, SchemaWriter& schemas,
                        google::protobuf::ListValue* parameters) {
  for (int i = 0; i < message->field_count(); ++i) {
    const FieldDescriptor* field = message->field(i);
    const std::string name = absl::StrCat(prefix, field->name());
    if (excluded.count(name) > 0 || field->is_map()) continue;
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
        !IsWellKnown(field->message_type())) {
      if (depth < 2 && !field->is_repeated()) {
        AddQueryParameters(field->message_type(), absl::StrCat(name, "."), excluded, depth + 1,
                           schemas, parameters);
        if (field->message_type()->field_count() > 0) {
          // The message by its first field, "as_of=2019" (routes.h).
          *parameters->add_values() = Object(
              {{"name", Text(name)},
               {"in", Text("query")},
               {"description",
                Text(absl::StrCat("sets ", name, ".", field->message_type()->field(0)->name()))},
               {"schema", schemas.ValueSchema(field->message_type()->field(0))}});
        }
      }
      continue;
    }
    *parameters->add_values() = Object(
        {{"name", Text(name)}, {"in", Text("query")}, {"schema", schemas.FieldSchema(field)}});
  }
}

Value ErrorResponse() {
  return Object(
      {{"description", Text("A gRPC error: the HTTP status of its code, the same message")},
       {"content",
        Object({{"application/json",
                 Object({{"schema", Object({{"$ref", Text("#/components/schemas/Error")}})}})}})}});
}

}  // namespace

std::string OpenApiJson(const RouteTable& table, const std::string& extra_paths) {
  SchemaWriter schemas;
  Value paths = Object({});
  for (const Route& route : table.routes()) {
    const google::protobuf::MethodDescriptor* method = route.method;
    std::string path;
    for (const Segment& segment : route.segments) {
      absl::StrAppend(
          &path, "/",
          segment.field.empty() ? segment.literal : absl::StrCat("{", segment.field, "}"));
    }
    if (!route.verb.empty()) absl::StrAppend(&path, ":", route.verb);

    Value operation = Object(
        {{"operationId", Text(absl::StrCat(method->service()->name(), ".", method->name()))}});
    *Field(operation, "tags").mutable_list_value()->add_values() = Text(method->service()->name());
    Field(operation, "summary") = Text(absl::StrCat(method->full_name(), " as JSON"));
    // Who may call it (suishin.common.v1.access), so that a page offers
    // only what the signed-in role may do: ["*"] for any role.
    const common::v1::Access& access = method->options().GetExtension(common::v1::access);
    auto* roles = Field(operation, "x-suishin-roles").mutable_list_value();
    if (access.any_role()) *roles->add_values() = Text("*");
    for (int role : access.roles()) {
      const std::string name = common::v1::Role_Name(static_cast<common::v1::Role>(role));
      *roles->add_values() = Text(absl::AsciiStrToLower(absl::StripPrefix(name, "ROLE_")));
    }

    std::set<std::string> excluded;
    auto* parameters = Field(operation, "parameters").mutable_list_value();
    for (const Segment& segment : route.segments) {
      if (segment.field.empty()) continue;
      excluded.insert(segment.field);
      *parameters->add_values() = Object({{"name", Text(segment.field)},
                                          {"in", Text("path")},
                                          {"required", Flag(true)},
                                          {"schema", Object({{"type", Text("string")}})}});
    }
    const std::string& body = route.rule.body();
    if (body != "*") {
      if (!body.empty()) excluded.insert(body);
      AddQueryParameters(method->input_type(), "", excluded, 0, schemas, parameters);
    }
    if (!body.empty()) {
      const Descriptor* body_type =
          body == "*" ? method->input_type()
                      : method->input_type()->FindFieldByName(body)->message_type();
      schemas.Add(body_type);
      Field(operation, "requestBody") = Object(
          {{"required", Flag(true)},
           {"content", Object({{"application/json", Object({{"schema", Ref(body_type)}})}})}});
    }
    schemas.Add(method->output_type());
    Value ok;
    if (method->server_streaming()) {
      ok = Object(
          {{"description", Text(absl::StrCat("Server-Sent Events: each event's data is a ",
                                             method->output_type()->full_name(), " and its id ",
                                             route.rule.event_id_field(),
                                             "; reconnect with Last-Event-ID to resume after it"))},
           {"content", Object({{"text/event-stream",
                                Object({{"schema", Object({{"type", Text("string")}})}})}})}});
    } else {
      ok = Object({{"description", Text("OK")},
                   {"content", Object({{"application/json",
                                        Object({{"schema", Ref(method->output_type())}})}})}});
    }
    Field(operation, "responses") = Object({{"200", ok}, {"default", ErrorResponse()}});
    Field(Field(paths, path), absl::AsciiStrToLower(route.http_method)) = operation;
  }

  if (!extra_paths.empty()) {
    Struct extra;
    if (google::protobuf::util::JsonStringToMessage(absl::StrCat("{", extra_paths, "}"), &extra)
            .ok()) {
      for (const auto& [path, item] : extra.fields()) Field(paths, path) = item;
    }
  }
  (*schemas.schemas().mutable_fields())["Error"] =
      Object({{"type", Text("object")},
              {"properties", Object({{"code", Object({{"type", Text("integer")}})},
                                     {"status", Object({{"type", Text("string")}})},
                                     {"message", Object({{"type", Text("string")}})}})}});
  Value document = Object(
      {{"openapi", Text("3.0.3")},
       {"info",
        Object(
            {{"title", Text("Suishin")},
             {"version", Text("v1")},
             {"description",
              Text("プロジェクト推進管理表: the plan, KPI and notification services as JSON over "
                   "HTTP (the protobuf JSON mapping of their gRPC APIs).")}})},
       {"paths", paths}});
  // Every route wants a bearer token: [{"bearer": []}].
  Value no_scopes;
  no_scopes.mutable_list_value();
  *Field(document, "security").mutable_list_value()->add_values() = Object({{"bearer", no_scopes}});
  Value components = Object({});
  *Field(components, "schemas").mutable_struct_value() = schemas.schemas();
  Field(components, "securitySchemes") =
      Object({{"bearer", Object({{"type", Text("http")},
                                 {"scheme", Text("bearer")},
                                 {"bearerFormat", Text("JWT")}})}});
  Field(document, "components") = components;
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(document.struct_value(), &json, options);
  return json;
}

}  // namespace suishin::gateway
