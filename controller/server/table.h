// Table answers, as Kubernetes gives kubectl: a GET or LIST whose Accept asks
// for `application/json;as=Table;v=v1;g=meta.k8s.io` gets a meta.k8s.io
// Table — column definitions and one row of cells per object — so that
// `kubectl get vmsets` prints the columns `corralctl get vmsets` prints
// (api/table_columns.h), the -o wide ones at priority 1. Each row carries
// the object as ?includeObject= asks: Metadata (the default: a
// PartialObjectMetadata, enough for --show-labels), Object (whole, for
// --sort-by) or None. A watch that asks for Tables (kubectl get -w) gets each
// event's object as a Table of one row, column definitions in the first
// (watch.cpp).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "api/json_fwd.h"
#include "api/kinds.h"
#include "controller/server/http_message.h"
#include "controller/store/store.h"

namespace corral::server {

// "meta.k8s.io/v1" (or v1beta1) when the Accept header's first acceptable
// JSON type is a Table of that version; nullopt for plain JSON.
std::optional<std::string> wanted_table_version(const HttpRequest& req);

// The Table of `records`; `list_metadata` is the list's metadata
// (resourceVersion, continue, remainingItemCount).
Json make_table(const KindInfo& kind, const std::vector<store::RecordPtr>& records,
                const std::string& api_version, const std::string& include_object,
                Json list_metadata, std::chrono::system_clock::time_point now);

}  // namespace corral::server
