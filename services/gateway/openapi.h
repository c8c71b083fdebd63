// The gateway's OpenAPI 3.0 document, made from the same route declarations
// the gateway serves (routes.h): a path per route template, an operation per
// RPC ("KpiService.GetProgress") with its path and query parameters, its
// JSON request body and answer as schemas of the RPC's messages in the
// protobuf JSON mapping (int64 as a string, enums by name, Timestamp as a
// date-time), server streams as text/event-stream, errors as the error body
// of http_status.h, and bearer tokens as the security scheme.
#ifndef SUISHIN_SERVICES_GATEWAY_OPENAPI_H_
#define SUISHIN_SERVICES_GATEWAY_OPENAPI_H_

#include <string>

#include "services/gateway/routes.h"

namespace suishin::gateway {

// The document as JSON text. `extra_paths`: more members of "paths" as JSON
// text ("\"/v1/dataset\": {...}, ..."), routes that are not RPCs.
std::string OpenApiJson(const RouteTable& table, const std::string& extra_paths = "");

}  // namespace suishin::gateway

#endif  // SUISHIN_SERVICES_GATEWAY_OPENAPI_H_
