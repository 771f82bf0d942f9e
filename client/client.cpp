#include "client/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

#include "api/json.h"
#include "api/yaml.h"
#include "base/line_splitter.h"

namespace corral {

namespace {

// curl_global_init is not thread-safe; do it once, before the first handle.
void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

CURL* handle(void* p) { return static_cast<CURL*>(p); }

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
  void add(const std::string& h) { list = curl_slist_append(list, h.c_str()); }
};

// Where request() collects an answer's body, bounded by `max` (0: none).
struct BodyBuffer {
  std::string* body = nullptr;
  size_t max = 0;
  bool over = false;  // the answer passed `max`: the transfer was cut
};

size_t collect_body(char* data, size_t size, size_t n, void* user) {
  auto* b = static_cast<BodyBuffer*>(user);
  if (b->max > 0 && b->body->size() + size * n > b->max) {
    b->over = true;
    return 0;  // makes curl abort the transfer with CURLE_WRITE_ERROR
  }
  b->body->append(data, size * n);
  return size * n;
}

// One response header line ("Name: value\r\n") into HttpResponse::headers;
// the status line and the blank line are not headers. At most 100 are kept:
// a server cannot grow the list without end (curl caps each line itself).
size_t collect_header(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
  const std::string_view line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos && colon > 0 && headers->size() < 100 &&
      line.rfind("HTTP/", 0) != 0) {
    headers->emplace_back(trim(std::string(line.substr(0, colon))),
                          trim(std::string(line.substr(colon + 1))));
  }
  return size * n;
}

// State of one streamed request, shared with curl's callbacks.
struct StreamState {
  CURL* curl = nullptr;
  const std::function<bool(const std::string&)>* on_line = nullptr;
  LineSplitter lines;      // no bound: the API's own watch lines
  std::string error_body;  // the whole body of a non-2xx answer
  bool stopped = false;    // on_line asked to stop
  bool timed_out = false;
  std::chrono::steady_clock::time_point deadline;
};

size_t stream_write(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<StreamState*>(user);
  size_t bytes = size * n;
  long code = 0;
  curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
  if (code < 200 || code >= 300) {
    s->error_body.append(data, bytes);
    return bytes;
  }
  if (s->lines.feed(std::string_view(data, bytes), *s->on_line) == LineSplitter::Outcome::kStopped) {
    s->stopped = true;
    return 0;  // makes curl abort the transfer with CURLE_WRITE_ERROR
  }
  return bytes;
}

// Called by curl at least once a second even on an idle connection, which is
// what lets a quiet watch end at its deadline.
int stream_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* s = static_cast<StreamState*>(user);
  if (std::chrono::steady_clock::now() >= s->deadline) {
    s->timed_out = true;
    return 1;
  }
  return 0;
}


}  // namespace

bool ApiClient::prefer(const std::string& server) {
  const std::vector<std::string> wanted = split_servers(server);
  if (wanted.size() != 1) return false;
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (servers_[i] == wanted.front()) {
      current_ = i;
      return true;
    }
  }
  return false;
}

std::vector<std::string> split_servers(const std::string& servers) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= servers.size()) {
    size_t comma = servers.find(',', start);
    if (comma == std::string::npos) comma = servers.size();
    std::string one = trim(servers.substr(start, comma - start));
    while (!one.empty() && one.back() == '/') one.pop_back();
    if (!one.empty()) out.push_back(std::move(one));
    start = comma + 1;
  }
  return out;
}

std::string join_servers(const std::string& servers) {
  std::string joined;
  for (const auto& one : split_servers(servers)) joined += (joined.empty() ? "" : ",") + one;
  return joined;
}

ApiClient::ApiClient(ClientConfig config)
    : config_(std::move(config)), servers_(split_servers(config_.server)) {
  global_init_once();
  curl_ = curl_easy_init();
  if (servers_.empty()) {
    servers_.push_back(config_.server);  // "" fails, naming it, on use
  } else {
    config_.server = join_servers(config_.server);
  }
}

ApiClient::~ApiClient() {
  if (curl_) curl_easy_cleanup(handle(curl_));
}

namespace {

// The options every request shares. curl_easy_reset keeps the connection
// cache, so the next request to the same server reuses the open connection.
void prepare(CURL* c, const ClientConfig& cfg, const std::string& method, const std::string& url,
             const std::string& body, HeaderList& headers, char* errbuf,
             const std::string& content_type = kJsonBody) {
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(cfg.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  if (!cfg.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, cfg.ca_file.c_str());
  if (cfg.insecure_skip_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!cfg.keep_alive) {
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    headers.add("Connection: close");
  }
  headers.add("Accept: application/json");
  if (!cfg.token.empty()) headers.add("Authorization: Bearer " + cfg.token);
  for (const std::string& line : cfg.headers) headers.add(line);
  if (method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method != "DELETE" || !body.empty()) {
      headers.add("Content-Type: " + content_type);
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
  }
  // curl would otherwise send "Expect: 100-continue" for big bodies and wait.
  headers.add("Expect:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.list);
}

Error transport_error(const std::string& server, CURLcode rc, const char* errbuf) {
  std::string detail = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);
  ErrorCode code = rc == CURLE_OPERATION_TIMEDOUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable;
  return make_error(code, "cannot reach " + server + ": " + detail);
}

}  // namespace

namespace {

// Whether a failed transfer sent not one byte of its request: then a write
// cannot have reached the server, and may go to another.
bool nothing_sent(CURL* c) {
  long request_bytes = 0;
  curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &request_bytes);
  return request_bytes == 0;
}

// "cannot reach any of A, B: <the last failure>".
Error none_reached(const std::vector<std::string>& servers, Error last) {
  if (servers.size() < 2) return last;
  std::string list;
  for (const auto& s : servers) list += (list.empty() ? "" : ", ") + s;
  last.message = "no server answered (tried " + list + "); last: " + last.message;
  return last;
}

}  // namespace

template <class T, class Attempt>
Result<T> ApiClient::first_that_answers(Attempt attempt) {
  std::optional<Error> last;
  for (size_t tried = 0; tried < servers_.size(); ++tried) {
    const size_t i = (current_ + tried) % servers_.size();
    bool may_retry = false;
    Result<T> r = attempt(servers_[i], &may_retry);
    if (r.ok() || !may_retry) {
      if (r.ok()) current_ = i;
      return r;
    }
    last = r.take_error();
  }
  return none_reached(servers_, std::move(*last));
}

Result<HttpResponse> ApiClient::request(const std::string& method, const std::string& path,
                                        const std::string& body, const std::string& content_type) {
  return first_that_answers<HttpResponse>([&](const std::string& server, bool* may_retry) {
    return request_to(server, method, path, body, content_type, may_retry);
  });
}

Result<HttpResponse> ApiClient::request_to(const std::string& server, const std::string& method,
                                           const std::string& path, const std::string& body,
                                           const std::string& content_type, bool* may_retry) {
  if (!curl_) return make_error(ErrorCode::kInternal, "curl_easy_init failed");
  CURL* c = handle(curl_);
  HeaderList headers;
  char errbuf[CURL_ERROR_SIZE] = {0};
  prepare(c, config_, method, server + path, body, headers, errbuf, content_type);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count()));
  HttpResponse response;
  BodyBuffer buffer{&response.body, config_.max_response_bytes};
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &buffer);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.headers);
  if (buffer.max > 0)  // a declared Content-Length over it fails before the body is read
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(buffer.max));
  CURLcode rc = curl_easy_perform(c);
  if (buffer.over || rc == CURLE_FILESIZE_EXCEEDED) {
    return make_error(ErrorCode::kTooLarge, server + " answered " + method + " " + path +
                                                " with more than " + std::to_string(buffer.max) +
                                                " bytes, the most this client takes");
  }
  if (rc != CURLE_OK) {
    *may_retry = method == "GET" || nothing_sent(c);
    return transport_error(server, rc, errbuf);
  }
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  response.status = static_cast<int>(code);
  char* ct = nullptr;
  curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
  if (ct) response.content_type = ct;
  return response;
}

Result<Json> ApiClient::call(const std::string& method, const std::string& path, const Json* body,
                             const std::string& content_type) {
  auto response = request(method, path, body ? body->dump() : std::string(), content_type);
  if (!response) return response.take_error();
  if (response->status < 200 || response->status >= 300) return error_from_response(*response);
  if (trim(response->body).empty()) return Json::object();
  auto parsed = parse_json(response->body, method + " " + path);
  if (!parsed) {
    return make_error(ErrorCode::kInternal,
                      "the server answered " + method + " " + path + " with malformed JSON");
  }
  return parsed;
}

Result<void> ApiClient::stream_lines(const std::string& path,
                                     const std::function<bool(const std::string&)>& on_line,
                                     std::chrono::milliseconds timeout) {
  return first_that_answers<void>([&](const std::string& server, bool* may_retry) {
    return stream_from(server, path, on_line, timeout, may_retry);
  });
}

Result<void> ApiClient::stream_from(const std::string& server, const std::string& path,
                                    const std::function<bool(const std::string&)>& on_line,
                                    std::chrono::milliseconds timeout, bool* may_retry) {
  if (!curl_) return make_error(ErrorCode::kInternal, "curl_easy_init failed");
  CURL* c = handle(curl_);
  HeaderList headers;
  char errbuf[CURL_ERROR_SIZE] = {0};
  prepare(c, config_, "GET", server + path, "", headers, errbuf);
  StreamState state;
  state.curl = c;
  bool delivered = false;  // a line reached on_line: the stream is this server's now
  const std::function<bool(const std::string&)> counting = [&](const std::string& line) {
    delivered = true;
    return on_line(line);
  };
  state.on_line = &counting;
  state.deadline = std::chrono::steady_clock::now() + timeout;
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stream_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, stream_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &state);
  CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (code != 0 && (code < 200 || code >= 300)) {
    HttpResponse response{static_cast<int>(code), state.error_body, ""};
    return error_from_response(response);
  }
  if (rc == CURLE_OK || state.stopped || state.timed_out) {
    // A last line without its newline still counts (the server closed after it).
    std::string rest = trim(state.lines.rest());
    if (rc == CURLE_OK && !rest.empty()) on_line(rest);
    return Ok{};
  }
  *may_retry = !delivered && code == 0;
  return transport_error(server, rc, errbuf);
}

std::string ApiClient::resource_path(const std::string& plural, const std::string& name,
                                     const std::string& subresource) {
  std::string path = "/apis/corral/v1/" + plural;
  if (!name.empty()) path += "/" + url_encode(name);
  if (!subresource.empty()) path += "/" + subresource;
  return path;
}

std::string ApiClient::url_encode(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return value;
  }
  return "";
}

Error error_from_response(const HttpResponse& response) {
  auto parsed = parse_json(response.body);
  if (parsed && parsed->is_object() && parsed->value("kind", "") == "Status") {
    const Json& st = *parsed;
    std::string reason = st.value("reason", "");
    int code =
        st.contains("code") && st["code"].is_number_integer() ? st["code"].get<int>() : response.status;
    Error err;
    err.code = code_from_reason(reason, code);
    err.message = st.value("message", "");
    if (err.message.empty()) err.message = reason.empty() ? "HTTP " + std::to_string(code) : reason;
    if (st.contains("details") && st["details"].is_object()) {
      const Json& details = st["details"];
      if (details.contains("causes") && details["causes"].is_array()) {
        for (const auto& c : details["causes"]) {
          if (!c.is_object()) continue;
          err.causes.push_back({c.value("field", ""), c.value("message", ""), c.value("location", "")});
        }
      }
    }
    return err;
  }
  ErrorCode code = code_from_reason("", response.status);
  std::string body = trim(response.body);
  if (body.size() > 200) body = body.substr(0, 200) + "...";
  std::string message = "the server answered HTTP " + std::to_string(response.status);
  if (!body.empty()) message += ": " + body;
  return make_error(code, message);
}

// ---- configuration ----------------------------------------------------------------

namespace {

std::string default_config_path() {
  const char* home = std::getenv("HOME");
  if (!home || !*home) return "";
  return std::string(home) + "/.corral/config";
}

Result<void> read_config_file(const std::string& path, ClientConfig& cfg) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::kBadRequest, path + ": cannot read the config file");
  std::stringstream ss;
  ss << in.rdbuf();
  auto docs = parse_yaml_documents(ss.str(), path);
  if (!docs) {
    Error e = docs.take_error();
    e.code = ErrorCode::kBadRequest;  // its message already starts with file:line:column
    return e;
  }
  if (docs->empty()) return Ok{};
  if (docs->size() > 1)
    return make_error(ErrorCode::kBadRequest, path + ":" + std::to_string((*docs)[1].line) +
                                                  ": malformed config: expected one document");
  const SourceDoc& doc = (*docs)[0];
  if (!doc.object.is_object())
    return make_error(ErrorCode::kBadRequest, doc.locate("") +
                                                  ": malformed config: expected a mapping "
                                                  "with server, token and ca");
  for (auto it = doc.object.begin(); it != doc.object.end(); ++it) {
    const std::string& key = it.key();
    const Json& v = it.value();
    std::string where = doc.locate(key);
    if (key == "insecure-skip-tls-verify" || key == "insecureSkipTLSVerify") {
      if (!v.is_boolean())
        return make_error(ErrorCode::kBadRequest,
                          where + ": malformed config: " + key + " must be a boolean");
      cfg.insecure_skip_verify = v.get<bool>();
      continue;
    }
    if (key == "server" && v.is_array()) {  // a list of the cluster's controllers
      std::string joined;
      for (const Json& one : v) {
        if (!one.is_string())
          return make_error(ErrorCode::kBadRequest, where + ": malformed config: each server "
                                                            "must be a string, not " +
                                                            json_type_name(one));
        joined += (joined.empty() ? "" : ",") + one.get<std::string>();
      }
      cfg.server = joined;
      continue;
    }
    if (key != "server" && key != "token" && key != "ca")
      return make_error(ErrorCode::kBadRequest, where + ": malformed config: unknown key \"" + key +
                                                    "\" (expected server, token, ca)");
    if (!v.is_string())
      return make_error(ErrorCode::kBadRequest,
                        where + ": malformed config: " + key + " must be a string, not " + json_type_name(v));
    std::string s = v.get<std::string>();
    if (key == "server") cfg.server = s;
    if (key == "token") cfg.token = s;
    if (key == "ca") cfg.ca_file = s;
  }
  return Ok{};
}

}  // namespace

Result<ClientConfig> load_client_config(const std::string& config_path) {
  ClientConfig cfg;
  // An explicit path must exist; the default one is optional.
  std::string path = config_path.empty() ? default_config_path() : config_path;
  std::error_code ec;
  if (!path.empty() && (!config_path.empty() || std::filesystem::exists(path, ec))) {
    if (!config_path.empty() && !std::filesystem::exists(path, ec))
      return make_error(ErrorCode::kNotFound, path + ": config file not found");
    auto r = read_config_file(path, cfg);
    if (!r) return r.take_error();
  }
  if (const char* v = std::getenv("CORRAL_SERVER"); v && *v) cfg.server = v;
  if (const char* v = std::getenv("CORRAL_TOKEN"); v && *v) cfg.token = v;
  if (const char* v = std::getenv("CORRAL_CA"); v && *v) cfg.ca_file = v;
  if (auto joined = join_servers(cfg.server); !joined.empty()) cfg.server = joined;
  return cfg;
}

}  // namespace corral
