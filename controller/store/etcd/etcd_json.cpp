#include "controller/store/etcd/etcd_json.h"

#include <charconv>
#include <stdexcept>

#include "api/base64.h"
#include "api/json.h"

namespace corral::etcd {

namespace {

// Thrown by the readers below and caught in each decode_* (the parse boundary).
struct EtcdMalformed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const Json* etcd_field(const Json& o, const char* name) {
  if (!o.is_object()) throw EtcdMalformed(std::string("expected an object around \"") + name + "\"");
  auto it = o.find(name);
  if (it == o.end() || it->is_null()) return nullptr;
  return &*it;
}

// int64 fields: proto3 JSON writes them as strings; numbers are taken too.
template <class Int>
Int etcd_int(const Json& o, const char* name) {
  const Json* v = etcd_field(o, name);
  if (!v) return 0;
  if (v->is_number_integer()) return v->get<Int>();
  if (!v->is_string()) throw EtcdMalformed(std::string("\"") + name + "\" is not an integer");
  const std::string& s = v->get_ref<const std::string&>();
  Int out = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end != s.data() + s.size())
    throw EtcdMalformed(std::string("\"") + name + "\" is not an integer: " + s);
  return out;
}

bool etcd_bool(const Json& o, const char* name) {
  const Json* v = etcd_field(o, name);
  if (!v) return false;
  if (!v->is_boolean()) throw EtcdMalformed(std::string("\"") + name + "\" is not a boolean");
  return v->get<bool>();
}

std::string etcd_string(const Json& o, const char* name) {
  const Json* v = etcd_field(o, name);
  if (!v) return "";
  if (!v->is_string()) throw EtcdMalformed(std::string("\"") + name + "\" is not a string");
  return v->get<std::string>();
}

std::string etcd_bytes(const Json& o, const char* name) {
  std::string text = etcd_string(o, name);
  auto bytes = base64_decode(text);
  if (!bytes) throw EtcdMalformed(std::string("\"") + name + "\" is not base64");
  return *bytes;
}

const Json& etcd_array(const Json& o, const char* name) {
  static const Json kEmpty = Json::array();
  const Json* v = etcd_field(o, name);
  if (!v) return kEmpty;
  if (!v->is_array()) throw EtcdMalformed(std::string("\"") + name + "\" is not an array");
  return *v;
}

int64_t etcd_header_revision(const Json& o) {
  const Json* h = etcd_field(o, "header");
  return h ? etcd_int<int64_t>(*h, "revision") : 0;
}

KeyValue etcd_read_kv(const Json& o) {
  KeyValue kv;
  kv.key = etcd_bytes(o, "key");
  kv.value = etcd_bytes(o, "value");
  kv.create_revision = etcd_int<int64_t>(o, "create_revision");
  kv.mod_revision = etcd_int<int64_t>(o, "mod_revision");
  kv.version = etcd_int<int64_t>(o, "version");
  kv.lease = etcd_int<int64_t>(o, "lease");
  return kv;
}

std::vector<KeyValue> etcd_read_kvs(const Json& o, const char* name) {
  std::vector<KeyValue> out;
  for (const Json& kv : etcd_array(o, name)) out.push_back(etcd_read_kv(kv));
  return out;
}

RangeResult etcd_read_range(const Json& o) {
  RangeResult r;
  r.revision = etcd_header_revision(o);
  r.kvs = etcd_read_kvs(o, "kvs");
  r.more = etcd_bool(o, "more");
  r.count = etcd_int<int64_t>(o, "count");
  return r;
}

PutResult etcd_read_put(const Json& o) {
  PutResult r;
  r.revision = etcd_header_revision(o);
  if (const Json* prev = etcd_field(o, "prev_kv")) r.prev_kv = etcd_read_kv(*prev);
  return r;
}

DeleteResult etcd_read_delete(const Json& o) {
  DeleteResult r;
  r.revision = etcd_header_revision(o);
  r.deleted = etcd_int<int64_t>(o, "deleted");
  r.prev_kvs = etcd_read_kvs(o, "prev_kvs");
  return r;
}

// Parses `body` and runs `read` on it, turning every failure into one Error.
template <class Reader>
auto etcd_decode(const std::string& body, Reader read) -> Result<decltype(read(std::declval<const Json&>()))> {
  auto parsed = parse_json(body);
  if (!parsed) return make_error(ErrorCode::kInternal, "malformed answer: " + parsed.error().message);
  try {
    return read(*parsed);
  } catch (const EtcdMalformed& e) {
    return make_error(ErrorCode::kInternal, std::string("malformed answer: ") + e.what());
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kInternal, std::string("malformed answer: ") + e.what());
  }
}

Json etcd_range_json(const RangeRequest& r) {
  Json j = Json::object();
  j["key"] = base64_encode(r.key);
  if (!r.range_end.empty()) j["range_end"] = base64_encode(r.range_end);
  if (r.limit) j["limit"] = std::to_string(r.limit);
  if (r.revision) j["revision"] = std::to_string(r.revision);
  if (r.keys_only) j["keys_only"] = true;
  if (r.count_only) j["count_only"] = true;
  return j;
}

Json etcd_put_json(const PutRequest& r) {
  Json j = Json::object();
  j["key"] = base64_encode(r.key);
  j["value"] = base64_encode(r.value);
  if (r.lease) j["lease"] = std::to_string(r.lease);
  if (r.prev_kv) j["prev_kv"] = true;
  return j;
}

Json etcd_delete_json(const DeleteRequest& r) {
  Json j = Json::object();
  j["key"] = base64_encode(r.key);
  if (!r.range_end.empty()) j["range_end"] = base64_encode(r.range_end);
  if (r.prev_kv) j["prev_kv"] = true;
  return j;
}

Json etcd_op_json(const TxnOp& op) {
  Json j = Json::object();
  if (const auto* r = std::get_if<RangeRequest>(&op)) j["request_range"] = etcd_range_json(*r);
  if (const auto* p = std::get_if<PutRequest>(&op)) j["request_put"] = etcd_put_json(*p);
  if (const auto* d = std::get_if<DeleteRequest>(&op)) j["request_delete_range"] = etcd_delete_json(*d);
  return j;
}

const char* etcd_compare_op_name(Compare::Op op) {
  switch (op) {
    case Compare::Op::kEqual: return "EQUAL";
    case Compare::Op::kGreater: return "GREATER";
    case Compare::Op::kLess: return "LESS";
    case Compare::Op::kNotEqual: return "NOT_EQUAL";
  }
  return "EQUAL";
}

Json etcd_compare_json(const Compare& c) {
  Json j = Json::object();
  j["result"] = etcd_compare_op_name(c.op);
  j["key"] = base64_encode(c.key);
  if (!c.range_end.empty()) j["range_end"] = base64_encode(c.range_end);
  switch (c.target) {
    case Compare::Target::kVersion:
      j["target"] = "VERSION";
      j["version"] = std::to_string(c.number);
      break;
    case Compare::Target::kCreate:
      j["target"] = "CREATE";
      j["create_revision"] = std::to_string(c.number);
      break;
    case Compare::Target::kMod:
      j["target"] = "MOD";
      j["mod_revision"] = std::to_string(c.number);
      break;
    case Compare::Target::kValue:
      j["target"] = "VALUE";
      j["value"] = base64_encode(c.value);
      break;
    case Compare::Target::kLease:
      j["target"] = "LEASE";
      j["lease"] = std::to_string(c.number);
      break;
  }
  return j;
}

// gRPC status codes (google.golang.org/grpc/codes) as Corral's.
ErrorCode etcd_grpc_code(int code, const std::string& message, int http_status) {
  // "etcdserver: request is too large" (InvalidArgument) and grpc's "received
  // message larger than max" (ResourceExhausted): a request over etcd's
  // --max-request-bytes (1.5 MiB by default), seen on 3.4.23.
  if ((code == 3 || code == 8) &&
      (message.find("too large") != std::string::npos || message.find("larger than max") != std::string::npos))
    return ErrorCode::kTooLarge;
  switch (code) {
    case 1: return ErrorCode::kUnavailable;       // Canceled
    case 3: return ErrorCode::kBadRequest;        // InvalidArgument
    case 4: return ErrorCode::kTimeout;           // DeadlineExceeded
    case 5: return ErrorCode::kNotFound;          // NotFound ("requested lease not found")
    case 6: return ErrorCode::kAlreadyExists;     // AlreadyExists
    case 7: return ErrorCode::kForbidden;         // PermissionDenied
    case 8: return ErrorCode::kTooManyRequests;   // ResourceExhausted
    case 9: return ErrorCode::kConflict;          // FailedPrecondition
    case 10: return ErrorCode::kConflict;         // Aborted
    case 11:                                      // OutOfRange: compacted, or a future revision
      return message.find("compacted") != std::string::npos ? ErrorCode::kGone : ErrorCode::kBadRequest;
    case 12: return ErrorCode::kBadRequest;       // Unimplemented
    case 14: return ErrorCode::kUnavailable;      // Unavailable ("no leader", "stopped")
    case 16: return ErrorCode::kUnauthorized;     // Unauthenticated
    default: break;                               // Unknown, Internal, DataLoss
  }
  if (http_status == 503) return ErrorCode::kUnavailable;
  if (http_status == 504) return ErrorCode::kTimeout;
  return ErrorCode::kInternal;
}

}  // namespace

std::string prefix_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

Compare Compare::mod_revision(std::string key, Op op, int64_t revision) {
  return Compare{op, Target::kMod, std::move(key), "", revision, ""};
}
Compare Compare::create_revision(std::string key, Op op, int64_t revision) {
  return Compare{op, Target::kCreate, std::move(key), "", revision, ""};
}
Compare Compare::version(std::string key, Op op, int64_t version) {
  return Compare{op, Target::kVersion, std::move(key), "", version, ""};
}
Compare Compare::value_is(std::string key, Op op, std::string value) {
  return Compare{op, Target::kValue, std::move(key), "", 0, std::move(value)};
}

std::string encode_range(const RangeRequest& r) { return etcd_range_json(r).dump(); }
std::string encode_put(const PutRequest& r) { return etcd_put_json(r).dump(); }
std::string encode_delete(const DeleteRequest& r) { return etcd_delete_json(r).dump(); }

std::string encode_txn(const TxnRequest& r) {
  Json j = Json::object();
  Json& compare = j["compare"] = Json::array();
  for (const Compare& c : r.compare) compare.push_back(etcd_compare_json(c));
  Json& success = j["success"] = Json::array();
  for (const TxnOp& op : r.success) success.push_back(etcd_op_json(op));
  Json& failure = j["failure"] = Json::array();
  for (const TxnOp& op : r.failure) failure.push_back(etcd_op_json(op));
  return j.dump();
}

std::string encode_compact(int64_t revision, bool physical) {
  Json j = Json::object();
  j["revision"] = std::to_string(revision);
  if (physical) j["physical"] = true;
  return j.dump();
}

std::string encode_lease_grant(int64_t ttl_seconds) {
  Json j = Json::object();
  j["TTL"] = std::to_string(ttl_seconds);
  return j.dump();
}

std::string encode_lease_id(int64_t id) {
  Json j = Json::object();
  j["ID"] = std::to_string(id);
  return j.dump();
}

std::string encode_watch_create(const std::string& key, const std::string& range_end,
                                int64_t start_revision, bool prev_kv, bool progress_notify) {
  Json create = Json::object();
  create["key"] = base64_encode(key);
  if (!range_end.empty()) create["range_end"] = base64_encode(range_end);
  if (start_revision) create["start_revision"] = std::to_string(start_revision);
  if (progress_notify) create["progress_notify"] = true;
  if (prev_kv) create["prev_kv"] = true;
  Json j = Json::object();
  j["create_request"] = std::move(create);
  return j.dump();
}

Result<RangeResult> decode_range(const std::string& body) { return etcd_decode(body, etcd_read_range); }
Result<PutResult> decode_put(const std::string& body) { return etcd_decode(body, etcd_read_put); }
Result<DeleteResult> decode_delete(const std::string& body) { return etcd_decode(body, etcd_read_delete); }

Result<TxnResult> decode_txn(const std::string& body) {
  return etcd_decode(body, [](const Json& o) {
    TxnResult r;
    r.revision = etcd_header_revision(o);
    r.succeeded = etcd_bool(o, "succeeded");
    for (const Json& op : etcd_array(o, "responses")) {
      if (const Json* range = etcd_field(op, "response_range")) {
        r.responses.emplace_back(etcd_read_range(*range));
      } else if (const Json* put = etcd_field(op, "response_put")) {
        r.responses.emplace_back(etcd_read_put(*put));
      } else if (const Json* del = etcd_field(op, "response_delete_range")) {
        r.responses.emplace_back(etcd_read_delete(*del));
      } else {
        throw EtcdMalformed("a txn response holds no range, put or delete_range answer");
      }
    }
    return r;
  });
}

Result<LeaseGrant> decode_lease_grant(const std::string& body) {
  return etcd_decode(body, [](const Json& o) {
    std::string error = etcd_string(o, "error");  // LeaseGrantResponse.error
    if (!error.empty()) throw EtcdMalformed("lease grant refused: " + error);
    return LeaseGrant{etcd_int<int64_t>(o, "ID"), etcd_int<int64_t>(o, "TTL")};
  });
}

Result<int64_t> decode_lease_keepalive(const std::string& body) {
  return etcd_decode(body, [](const Json& o) {
    const Json* result = etcd_field(o, "result");
    if (!result) throw EtcdMalformed("no \"result\" in the keepalive answer");
    return etcd_int<int64_t>(*result, "TTL");
  });
}

Result<Status> decode_status(const std::string& body) {
  return etcd_decode(body, [](const Json& o) {
    Status s;
    s.version = etcd_string(o, "version");
    s.db_size = etcd_int<int64_t>(o, "dbSize");
    s.leader = etcd_int<uint64_t>(o, "leader");
    s.raft_term = etcd_int<uint64_t>(o, "raftTerm");
    if (const Json* h = etcd_field(o, "header")) {
      s.revision = etcd_int<int64_t>(*h, "revision");
      s.member_id = etcd_int<uint64_t>(*h, "member_id");
    }
    return s;
  });
}

Result<int64_t> decode_header_revision(const std::string& body) {
  return etcd_decode(body, etcd_header_revision);
}

Result<WatchResponse> decode_watch_line(const std::string& line) {
  auto parsed = parse_json(line);
  if (!parsed) return make_error(ErrorCode::kInternal, "malformed answer: " + parsed.error().message);
  try {
    if (const Json* error = etcd_field(*parsed, "error")) {
      // A stream-level error: {"error":{"grpc_code":N,"http_code":H,"message":"..."}}.
      if (error->is_object()) {
        int code = etcd_int<int>(*error, "grpc_code");
        std::string message = etcd_string(*error, "message");
        return make_error(etcd_grpc_code(code, message, etcd_int<int>(*error, "http_code")), message);
      }
      return decode_error(500, line);
    }
    const Json* result = etcd_field(*parsed, "result");
    if (!result) throw EtcdMalformed("a watch line holds neither \"result\" nor \"error\"");
    WatchResponse w;
    w.revision = etcd_header_revision(*result);
    w.watch_id = etcd_int<int64_t>(*result, "watch_id");
    w.created = etcd_bool(*result, "created");
    w.canceled = etcd_bool(*result, "canceled");
    w.compact_revision = etcd_int<int64_t>(*result, "compact_revision");
    w.cancel_reason = etcd_string(*result, "cancel_reason");
    for (const Json& e : etcd_array(*result, "events")) {
      WatchEvent event;
      std::string type = etcd_string(e, "type");  // PUT is 0: left out
      if (type == "DELETE") {
        event.type = WatchEvent::Type::kDelete;
      } else if (!type.empty() && type != "PUT") {
        throw EtcdMalformed("unknown event type " + type);
      }
      if (const Json* kv = etcd_field(e, "kv")) event.kv = etcd_read_kv(*kv);
      if (const Json* prev = etcd_field(e, "prev_kv")) event.prev_kv = etcd_read_kv(*prev);
      w.events.push_back(std::move(event));
    }
    return w;
  } catch (const EtcdMalformed& e) {
    return make_error(ErrorCode::kInternal, std::string("malformed answer: ") + e.what());
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kInternal, std::string("malformed answer: ") + e.what());
  }
}

Error decode_error(int http_status, const std::string& body) {
  auto parsed = parse_json(body);
  if (parsed && parsed->is_object()) {
    try {
      std::string message = etcd_string(*parsed, "message");
      if (message.empty()) message = etcd_string(*parsed, "error");
      int code = etcd_int<int>(*parsed, "code");
      if (!message.empty() || code != 0) {
        if (message.empty()) message = "gRPC code " + std::to_string(code);
        return make_error(etcd_grpc_code(code, message, http_status), message);
      }
    } catch (const EtcdMalformed&) {
      // not the gateway's error shape: fall through to the raw body
    }
  }
  std::string text = body.size() > 200 ? body.substr(0, 200) + "..." : body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  ErrorCode code = http_status == 503 ? ErrorCode::kUnavailable
                   : http_status == 504 ? ErrorCode::kTimeout
                   : http_status >= 400 && http_status < 500 ? ErrorCode::kBadRequest
                                                             : ErrorCode::kInternal;
  return make_error(code, "HTTP " + std::to_string(http_status) + (text.empty() ? "" : ": " + text));
}

}  // namespace corral::etcd
