// The gateway's file routes: what suishinctl exchanges as files, over HTTP,
// made by the same libraries (exchange/, report/) from the services' answers
// with the caller's own token:
//
//   POST /v1/actuals:importCsv[?encoding=auto|utf-8|cp932&name=FILE]
//        body: a KPI data file (import-csv's): 200 with what was stored, or
//        400 with every refused row by line and column ("problems"), nothing
//        stored
//   GET  /v1/kpis/{kpi_id}/data.csv[?encoding=utf-8|cp932]    export-csv --kpi
//   GET  /v1/projects/{project_id}/kpi-table.csv?year=2019[&encoding=…]
//                                                              export-csv --table
//   GET  /v1/dataset                   export-json: the whole dataset
//   POST /v1/dataset:import            import-json: a dataset file
//   GET  /v1/projects/{project_id}/report?year=2019[&format=html|markdown]
//                                                              report
//
// These are not RPCs: each is several calls (the RPC routes are routes.h's).
// OpenApiPaths() describes them for /openapi.json.
#ifndef SUISHIN_SERVICES_GATEWAY_EXCHANGE_ROUTES_H_
#define SUISHIN_SERVICES_GATEWAY_EXCHANGE_ROUTES_H_

#include <httplib.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "clients/services.h"

namespace suishin::gateway {

class ExchangeRoutes {
 public:
  // Calls the services through `stubs` (not owned) with `timeout` per call.
  ExchangeRoutes(const clients::ServiceStubs* stubs, absl::Duration timeout);

  // Adds the routes to `server`.
  void Register(httplib::Server& server) const;

  // The routes' part of the OpenAPI document's "paths", as JSON members
  // ("\"/v1/dataset\": {...}, ...").
  static std::string OpenApiPaths();

 private:
  // The services as the caller of `request` calls them (its Authorization).
  clients::Services For(const httplib::Request& request) const;

  void ImportCsv(const httplib::Request& request, httplib::Response& response) const;
  void KpiDataCsv(const httplib::Request& request, httplib::Response& response) const;
  void KpiTableCsv(const httplib::Request& request, httplib::Response& response) const;
  void ExportDataset(const httplib::Request& request, httplib::Response& response) const;
  void ImportDataset(const httplib::Request& request, httplib::Response& response) const;
  void Report(const httplib::Request& request, httplib::Response& response) const;

  const clients::ServiceStubs* stubs_;
  const absl::Duration timeout_;
};

}  // namespace suishin::gateway

#endif  // SUISHIN_SERVICES_GATEWAY_EXCHANGE_ROUTES_H_
