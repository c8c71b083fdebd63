#include "services/gateway/exchange_routes.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/fiscal_year.h"
#include "exchange/csv_codec.h"
#include "exchange/csv_files.h"
#include "exchange/dataset_import.h"
#include "exchange/dataset_io.h"
#include "report/report_html.h"
#include "report/report_markdown.h"
#include "report/report_model.h"
#include "services/gateway/http_status.h"

namespace suishin::gateway {
namespace {

using google::protobuf::Struct;

const char kJson[] = "application/json; charset=utf-8";
// Refused rows listed in a refusal's message (all are in "problems").
constexpr size_t kMaxListedProblems = 20;

void SetStatus(httplib::Response& response, const absl::Status& status,
               const google::protobuf::Message* detail = nullptr) {
  const auto code = static_cast<grpc::StatusCode>(status.code());
  response.status = HttpStatusOf(code);
  response.set_content(ErrorJson(code, status.message(), detail), kJson);
}

std::string JsonOf(const google::protobuf::Message& message) {
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json);
  return json;
}

// The fiscal year of query parameter `name` ("2019", "R元", "令和元年度").
absl::StatusOr<int> YearParameter(const httplib::Request& request, const std::string& name) {
  const std::string text = request.get_param_value(name.c_str());
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(name, ": give the fiscal year"));
  absl::StatusOr<int> year = ParseFiscalYear(text);
  if (!year.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", year.status().message()));
  }
  return year;
}

// The encoding query parameter; for a download, UTF-8 (with a byte order
// mark) when not given.
absl::StatusOr<std::optional<exchange::CsvEncoding>> EncodingParameter(
    const httplib::Request& request, bool allow_auto) {
  return exchange::ParseCsvEncoding("encoding", request.get_param_value("encoding"), allow_auto);
}

void SendCsv(httplib::Response& response, const std::string& file_name,
             const std::vector<std::vector<std::string>>& records, exchange::CsvEncoding encoding) {
  absl::StatusOr<std::string> bytes = exchange::CsvBytes(records, encoding);
  if (!bytes.ok()) {
    SetStatus(response, bytes.status());
    return;
  }
  response.set_header("Content-Disposition",
                      absl::StrCat("attachment; filename=\"", file_name, "\""));
  response.set_content(*bytes, encoding == exchange::CsvEncoding::kCp932
                                   ? "text/csv; charset=Shift_JIS"
                                   : "text/csv; charset=utf-8");
}

// A problem as JSON: {"line": 3, "column": "値", "message": …, "text": …}.
void AddProblem(google::protobuf::ListValue* list, int64_t line, const std::string& column,
                const std::string& message, const std::string& text) {
  auto& fields = *list->add_values()->mutable_struct_value()->mutable_fields();
  fields["line"].set_number_value(static_cast<double>(line));
  fields["column"].set_string_value(column);
  fields["message"].set_string_value(message);
  fields["text"].set_string_value(text);
}

// A refused upload: 400, the refusal's message and every problem.
void SetRefusal(httplib::Response& response, const std::string& message,
                const google::protobuf::ListValue& problems) {
  Struct body;
  auto& fields = *body.mutable_fields();
  fields["code"].set_number_value(static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  fields["status"].set_string_value("INVALID_ARGUMENT");
  fields["message"].set_string_value(message);
  *fields["problems"].mutable_list_value() = problems;
  response.status = 400;
  response.set_content(JsonOf(body), kJson);
}

}  // namespace

ExchangeRoutes::ExchangeRoutes(const clients::ServiceStubs* stubs, absl::Duration timeout)
    : stubs_(stubs), timeout_(timeout) {}

clients::Services ExchangeRoutes::For(const httplib::Request& request) const {
  std::vector<std::pair<std::string, std::string>> metadata;
  if (const std::string authorization = request.get_header_value("Authorization");
      !authorization.empty()) {
    metadata.emplace_back("authorization", authorization);
  }
  return stubs_->For(timeout_, std::move(metadata));
}

void ExchangeRoutes::Register(httplib::Server& server) const {
  const auto bind =
      [this](void (ExchangeRoutes::*handler)(const httplib::Request&, httplib::Response&) const) {
        return [this, handler](const httplib::Request& request, httplib::Response& response) {
          (this->*handler)(request, response);
        };
      };
  server.Post("/v1/actuals:importCsv", bind(&ExchangeRoutes::ImportCsv));
  server.Get(R"(/v1/kpis/([^/]+)/data\.csv)", bind(&ExchangeRoutes::KpiDataCsv));
  server.Get(R"(/v1/projects/([^/]+)/kpi-table\.csv)", bind(&ExchangeRoutes::KpiTableCsv));
  server.Get("/v1/dataset", bind(&ExchangeRoutes::ExportDataset));
  server.Post("/v1/dataset:import", bind(&ExchangeRoutes::ImportDataset));
  server.Get(R"(/v1/projects/([^/]+)/report)", bind(&ExchangeRoutes::Report));
}

void ExchangeRoutes::ImportCsv(const httplib::Request& request, httplib::Response& response) const {
  absl::StatusOr<std::optional<exchange::CsvEncoding>> encoding =
      EncodingParameter(request, /*allow_auto=*/true);
  if (!encoding.ok()) {
    SetStatus(response, encoding.status());
    return;
  }
  std::string name = request.get_param_value("name");
  if (name.empty()) name = "upload.csv";
  absl::StatusOr<exchange::CsvImport> import =
      exchange::ImportKpiDataCsv(For(request), name, request.body, *encoding);
  if (!import.ok()) {
    // A file that cannot be read as one: where, when it says.
    const std::optional<exchange::CsvLocation> location = exchange::CsvLocationOf(import.status());
    if (!location) {
      SetStatus(response, import.status());
      return;
    }
    google::protobuf::ListValue problems;
    AddProblem(&problems, location->line,
               location->field >= 0 ? absl::StrCat(location->field + 1) : "",
               std::string(import.status().message()), std::string(import.status().message()));
    SetRefusal(response, absl::StrCat(import.status().message(), "; nothing stored"), problems);
    return;
  }
  if (!import->problems.empty()) {
    google::protobuf::ListValue problems;
    for (const exchange::CsvProblem& problem : import->problems) {
      AddProblem(&problems, problem.line, problem.column, problem.message, problem.text);
    }
    SetRefusal(response, exchange::RefusalMessage(name, *import, kMaxListedProblems), problems);
    return;
  }
  Struct body;
  auto& fields = *body.mutable_fields();
  fields["file"].set_string_value(name);
  fields["encoding"].set_string_value(absl::StrCat(exchange::CsvEncodingName(import->encoding),
                                                   import->byte_order_mark ? " with BOM" : ""));
  fields["rows"].set_number_value(static_cast<double>(import->rows));
  fields["rowsAlreadyStored"].set_number_value(static_cast<double>(import->skipped));
  fields["rowsSent"].set_number_value(static_cast<double>(import->sent));
  fields["rowsApplied"].set_number_value(static_cast<double>(import->applied));
  fields["lastSequence"].set_string_value(absl::StrCat(import->last_sequence));
  response.set_content(JsonOf(body), kJson);
}

void ExchangeRoutes::KpiDataCsv(const httplib::Request& request,
                                httplib::Response& response) const {
  absl::StatusOr<std::optional<exchange::CsvEncoding>> encoding =
      EncodingParameter(request, /*allow_auto=*/false);
  if (!encoding.ok()) {
    SetStatus(response, encoding.status());
    return;
  }
  const std::string kpi_id = request.matches[1];
  absl::StatusOr<std::vector<std::vector<std::string>>> records =
      exchange::KpiDataCsvRecords(For(request), kpi_id);
  if (!records.ok()) {
    SetStatus(response, records.status());
    return;
  }
  SendCsv(response, absl::StrCat(kpi_id, ".csv"), *records,
          encoding->value_or(exchange::CsvEncoding::kUtf8));
}

void ExchangeRoutes::KpiTableCsv(const httplib::Request& request,
                                 httplib::Response& response) const {
  absl::StatusOr<std::optional<exchange::CsvEncoding>> encoding =
      EncodingParameter(request, /*allow_auto=*/false);
  absl::StatusOr<int> year = YearParameter(request, "year");
  if (!encoding.ok() || !year.ok()) {
    SetStatus(response, !encoding.ok() ? encoding.status() : year.status());
    return;
  }
  const std::string project_id = request.matches[1];
  absl::StatusOr<std::vector<std::vector<std::string>>> records =
      exchange::KpiTableCsvRecords(For(request), project_id, *year);
  if (!records.ok()) {
    SetStatus(response, records.status());
    return;
  }
  SendCsv(response, absl::StrCat(project_id, "-", *year, ".csv"), *records,
          encoding->value_or(exchange::CsvEncoding::kUtf8));
}

void ExchangeRoutes::ExportDataset(const httplib::Request& request,
                                   httplib::Response& response) const {
  absl::StatusOr<dataset::v1::Dataset> dataset = exchange::ExportDataset(For(request));
  if (!dataset.ok()) {
    SetStatus(response, dataset.status());
    return;
  }
  dataset->set_source(absl::StrCat(
      "gateway export ", absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone())));
  response.set_header("Content-Disposition", "attachment; filename=\"dataset.json\"");
  response.set_content(exchange::DatasetJson(*dataset), kJson);
}

void ExchangeRoutes::ImportDataset(const httplib::Request& request,
                                   httplib::Response& response) const {
  absl::StatusOr<dataset::v1::Dataset> dataset =
      exchange::ParseDatasetJson("dataset", request.body);
  if (!dataset.ok()) {
    SetStatus(response, dataset.status());
    return;
  }
  const clients::Services services = For(request);
  if (absl::Status checked = exchange::CheckDatasetReferences(services, "dataset", *dataset);
      !checked.ok()) {
    SetStatus(response, checked);
    return;
  }
  plan::v1::ImportPlanResponse plan;
  std::vector<exchange::KpiImportResult> results;
  kpi::v1::ImportActualsResponse refused;
  const absl::Status imported =
      exchange::ImportDataset(services, *dataset, &plan, &results, &refused);
  if (!imported.ok()) {
    SetStatus(response, imported, refused.errors().empty() ? nullptr : &refused);
    return;
  }
  response.set_content(JsonOf(exchange::ImportSummaryJson(plan, results)), kJson);
}

void ExchangeRoutes::Report(const httplib::Request& request, httplib::Response& response) const {
  absl::StatusOr<int> year = YearParameter(request, "year");
  std::string format = absl::AsciiStrToLower(request.get_param_value("format"));
  if (format.empty()) format = "html";
  if (!year.ok() || (format != "html" && format != "markdown")) {
    SetStatus(response, !year.ok() ? year.status()
                                   : absl::InvalidArgumentError(absl::StrCat(
                                         "format: \"", format, "\" is not html or markdown")));
    return;
  }
  absl::StatusOr<report::ReportModel> model =
      report::GatherReport(For(request), request.matches[1], *year);
  if (!model.ok()) {
    SetStatus(response, model.status());
    return;
  }
  if (format == "html") {
    response.set_content(report::RenderHtmlReport(*model), "text/html; charset=utf-8");
  } else {
    response.set_content(report::RenderMarkdownReport(*model), "text/markdown; charset=utf-8");
  }
}

std::string ExchangeRoutes::OpenApiPaths() {
  const std::string error =
      R"json("default": {"description": "An error, as the RPC routes answer them", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})json";
  const std::string encoding =
      R"json({"name": "encoding", "in": "query", "schema": {"type": "string", "enum": ["utf-8", "cp932"]}})json";
  const std::string year =
      R"json({"name": "year", "in": "query", "required": true, "description": "the fiscal year: 2019, R元, 令和元年度", "schema": {"type": "string"}})json";
  return absl::StrCat(
      R"json("/v1/actuals:importCsv": {"post": {"operationId": "Exchange.ImportCsv", "tags": ["Exchange"], "summary": "A KPI data file (suishinctl import-csv's), all rows or none", "parameters": [{"name": "encoding", "in": "query", "schema": {"type": "string", "enum": ["auto", "utf-8", "cp932"]}}, {"name": "name", "in": "query", "schema": {"type": "string"}}], "requestBody": {"required": true, "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}}}, "responses": {"200": {"description": "What was stored", "content": {"application/json": {"schema": {"type": "object"}}}}, "400": {"description": "Refused, nothing stored: every bad row in problems (line, column, message)", "content": {"application/json": {"schema": {"type": "object"}}}}, )json",
      error, R"json(}, "x-suishin-roles": ["officer"]}}, )json",
      R"json("/v1/kpis/{kpi_id}/data.csv": {"get": {"operationId": "Exchange.KpiDataCsv", "tags": ["Exchange"], "summary": "A KPI's stored figures as a KPI data file (export-csv --kpi)", "parameters": [{"name": "kpi_id", "in": "path", "required": true, "schema": {"type": "string"}}, )json",
      encoding,
      R"json(], "responses": {"200": {"description": "The file", "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}}}, )json",
      error, R"json(}, "x-suishin-roles": ["*"]}}, )json",
      R"json("/v1/projects/{project_id}/kpi-table.csv": {"get": {"operationId": "Exchange.KpiTableCsv", "tags": ["Exchange"], "summary": "A project's KPI table as of a year (export-csv --table)", "parameters": [{"name": "project_id", "in": "path", "required": true, "schema": {"type": "string"}}, )json",
      year, ", ", encoding,
      R"json(], "responses": {"200": {"description": "The file", "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}}}, )json",
      error, R"json(}, "x-suishin-roles": ["*"]}}, )json",
      R"json("/v1/dataset": {"get": {"operationId": "Exchange.ExportDataset", "tags": ["Exchange"], "summary": "Everything the services hold as one dataset file (export-json)", "responses": {"200": {"description": "A suishin.dataset.v1.Dataset", "content": {"application/json": {"schema": {"type": "object"}}}}, )json", error, R"json(}, "x-suishin-roles": ["*"]}}, )json", R"json("/v1/dataset:import": {"post": {"operationId": "Exchange.ImportDataset", "tags": ["Exchange"], "summary": "A dataset file loaded (import-json)", "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}}, "responses": {"200": {"description": "What the plan and each KPI did", "content": {"application/json": {"schema": {"type": "object"}}}}, )json", error, R"json(}, "x-suishin-roles": ["planner"]}}, )json", R"json("/v1/projects/{project_id}/report": {"get": {"operationId": "Exchange.Report", "tags": ["Exchange"], "summary": "The management table as a document (suishinctl report)", "parameters": [{"name": "project_id", "in": "path", "required": true, "schema": {"type": "string"}}, )json", year, R"json(, {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["html", "markdown"]}}], "responses": {"200": {"description": "The report", "content": {"text/html": {"schema": {"type": "string"}}, "text/markdown": {"schema": {"type": "string"}}}}, )json",
      error, R"json(}, "x-suishin-roles": ["*"]}})json");
}

}  // namespace suishin::gateway
