// Paging a LIST the way Kubernetes does: ?limit=N answers at most N items
// and, when more remain, metadata.continue (a token) and
// metadata.remainingItemCount; ?continue=TOKEN answers the items after the
// last one of the previous page. Clients need not hold 300,000 objects at
// once.
//
// Each page is read from the store as it is when the page is asked for: the
// items after the previous page's last name, in name order, with that
// read's resourceVersion. Unlike etcd-backed Kubernetes, the pages together
// are not one snapshot (the cache keeps no old versions): an object created
// or deleted between pages is seen or not by name order. Watch from the last
// page's resourceVersion to follow on.
//
// The token is opaque to clients: URL-safe base64 of the last name and the
// resourceVersion it was read at. A token that does not decode is 400 with
// the field named; limit must be a positive integer (400 otherwise).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "base/error.h"
#include "controller/server/http_message.h"

namespace corral::server {

struct ListPage {
  size_t limit = 0;   // 0: everything
  std::string after;  // answer names greater than this one; empty: from the first
};

// The page asked for by ?limit= and ?continue=.
Result<ListPage> read_list_page(const HttpRequest& req);

std::string encode_continue(const std::string& last_name, int64_t revision);
// The last name of the previous page; kBadRequest when `token` is not one.
Result<std::string> decode_continue(const std::string& token);

}  // namespace corral::server
