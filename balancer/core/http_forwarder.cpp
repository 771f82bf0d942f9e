#include "balancer/core/http_forwarder.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>

#include <charconv>

#include "balancer/core/target_normalizer.h"

namespace corral::balancer {

namespace http = boost::beast::http;
using boost::beast::error_code;
using boost::beast::string_view;

namespace {

void append(std::string& out, string_view s) { out.append(s.data(), s.size()); }

void append_number(std::string& out, uint64_t n, int base = 10) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n, base);
  out.append(buf, r.ptr);
}

void append_field(std::string& out, string_view name, string_view value) {
  append(out, name);
  out += ": ";
  append(out, value);
  out += "\r\n";
}

// Connection-scoped fields (RFC 9110 7.6.1): each side of the proxy has its own.
// Upgrade is dropped too, so that a backend never switches protocols on a
// connection the proxy parses as HTTP/1.1 (tcp mode carries WebSockets).
bool hop_by_hop(http::field name) {
  switch (name) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_connection:
    case http::field::upgrade:
    case http::field::te:
      return true;
    default:
      return false;
  }
}

// obs-fold (RFC 9112 5.2): the field's first line is followed by one that
// starts with SP or HTAB. Beast accepts it and hands over the joined value,
// so it shows only in the raw bytes: `name` points into the buffer being
// parsed, where Beast has already seen this field's CRLF and the byte after
// it (it looks there for a fold), so the scan stays inside that buffer.
bool obs_folded(string_view name) {
  const char* p = name.data() + name.size();
  while (*p != '\n') ++p;
  return p[1] == ' ' || p[1] == '\t';
}

bool all_digits(string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// A response's Transfer-Encoding: "chunked" may come only last and once
// ("gzip, chunked"); codings without it mean the body ends with the connection.
bool valid_response_codings(string_view value) {
  size_t chunked_at = string_view::npos;
  size_t count = 0;
  while (!value.empty()) {
    size_t comma = value.find(',');
    string_view coding = value.substr(0, comma);
    while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t'))
      coding.remove_prefix(1);
    while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t'))
      coding.remove_suffix(1);
    if (coding.empty()) return false;
    if (boost::beast::iequals(coding, "chunked")) {
      if (chunked_at != string_view::npos) return false;
      chunked_at = count;
    }
    ++count;
    if (comma == string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return count > 0 && (chunked_at == string_view::npos || chunked_at == count - 1);
}

}  // namespace

// Chunked bodies are re-framed as they are parsed (Beast hands over the data,
// not the framing): a chunk's size line before its data, its CRLF when the
// next chunk starts, the last chunk, its trailer fields, the final CRLF.
// Chunk extensions are dropped.
void ChunkFramer::chunk(std::string& out, uint64_t size) {
  if (size == 0) return start_last(out);
  if (in_chunk_) out += "\r\n";
  append_number(out, size, 16);
  out += "\r\n";
  in_chunk_ = true;
}

void ChunkFramer::trailer_field(std::string& out, string_view name, string_view value) {
  start_last(out);
  append_field(out, name, value);
}

void ChunkFramer::finish(std::string& out) {
  start_last(out);
  out += "\r\n";
}

void ChunkFramer::start_last(std::string& out) {
  if (last_started_) return;
  if (in_chunk_) out += "\r\n";
  in_chunk_ = false;
  out += "0\r\n";
  last_started_ = true;
}

RequestForwarder::RequestForwarder(std::string& out, Scratch& scratch, std::string_view client_ip)
    : BodyForwarder(out), scratch_(scratch), client_ip_(client_ip) {
  scratch_.host.clear();
  scratch_.target.clear();
  scratch_.forwarded_for.clear();
}

void RequestForwarder::on_request_impl(http::verb method, string_view method_str, string_view target,
                                       int version, error_code& ec) {
  if (version != 10 && version != 11) {
    ec = http::error::bad_version;
    return;
  }
  version_ = version;
  head_ = method == http::verb::head;
  // A target has no fragment (RFC 9112 3.2). The normaliser ends the path at
  // '#', so rules would match less than a backend that reads '#' as a path
  // character might serve ("/public#/../admin"): refused, as Envoy does.
  if (target.find('#') != string_view::npos) {
    reject(ec, http::error::bad_target, "request target contains a fragment ('#')");
    return;
  }
  switch (normalize_target(std::string_view(target.data(), target.size()), scratch_.target)) {
    case TargetNormalization::kUnchanged:
      scratch_.target.assign(target.data(), target.size());
      break;
    case TargetNormalization::kChanged:
      break;
    case TargetNormalization::kAboveRoot:
      reject(ec, http::error::bad_target, "request target climbs above the root");
      return;
  }
  append(out_, method_str);
  out_ += ' ';
  out_ += scratch_.target;
  out_ += version == 10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n";
}

void RequestForwarder::on_field_impl(http::field name, string_view name_string, string_view value,
                                     error_code& ec) {
  if (obs_folded(name_string)) {
    reject(ec, http::error::bad_value, "a header field is folded over lines (obs-fold)");
    return;
  }
  if (is_header_done()) {
    if (hop_by_hop(name)) return;
    return chunks_.trailer_field(out_, name_string, value);
  }
  switch (name) {
    case http::field::content_length:
      if (++content_length_fields_ > 1 || !all_digits(value)) {
        reject(ec, http::error::bad_content_length,
               "Content-Length must be one field with one number");
        return;
      }
      break;
    case http::field::transfer_encoding:
      if (++transfer_encoding_fields_ > 1 || !boost::beast::iequals(value, "chunked")) {
        reject(ec, http::error::bad_transfer_encoding,
               "Transfer-Encoding must be one field saying \"chunked\" and nothing else");
        return;
      }
      break;
    case http::field::host:
      if (++host_fields_ > 1) {
        reject(ec, http::error::bad_value, "more than one Host field");
        return;
      }
      scratch_.host.assign(value.data(), value.size());
      break;
    default:
      break;
  }
  if (hop_by_hop(name)) return;
  if (name == http::field::expect && boost::beast::iequals(value, "100-continue")) {
    expects_continue_ = true;
    return;
  }
  if (name == http::field::unknown && boost::beast::iequals(name_string, "X-Forwarded-For")) {
    if (!scratch_.forwarded_for.empty()) scratch_.forwarded_for += ", ";
    scratch_.forwarded_for.append(value.data(), value.size());
    return;
  }
  append_field(out_, name_string, value);
}

void RequestForwarder::on_header_impl(error_code& ec) {
  if (transfer_encoding_fields_ > 0 && content_length_fields_ > 0) {
    reject(ec, http::error::bad_transfer_encoding, "Transfer-Encoding and Content-Length together");
    return;
  }
  // RFC 9112 6.1: an HTTP/1.0 recipient cannot know chunked framing.
  if (transfer_encoding_fields_ > 0 && version_ == 10) {
    reject(ec, http::error::bad_transfer_encoding, "Transfer-Encoding in an HTTP/1.0 request");
    return;
  }
  if (host_fields_ == 0 && version_ == 11) {
    reject(ec, http::error::bad_value, "an HTTP/1.1 request without a Host field");
    return;
  }
  out_ += "X-Forwarded-For: ";
  if (!scratch_.forwarded_for.empty()) {
    out_ += scratch_.forwarded_for;
    out_ += ", ";
  }
  out_ += client_ip_;
  out_ += "\r\n";
  // HTTP/1.1 connections persist by default; an HTTP/1.0 one must ask.
  if (version_ == 10) out_ += "Connection: keep-alive\r\n";
  out_ += "\r\n";
}

ResponseForwarder::ResponseForwarder(std::string& out, int client_version, bool client_keep_alive)
    : BodyForwarder(out), client_version_(client_version), client_keep_alive_(client_keep_alive) {}

void ResponseForwarder::on_response_impl(int code, string_view reason, int version, error_code& ec) {
  if (version != 10 && version != 11) {
    ec = http::error::bad_version;
    return;
  }
  status_ = code;
  out_ += client_version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  append_number(out_, static_cast<uint64_t>(code));
  out_ += ' ';
  append(out_, reason);
  out_ += "\r\n";
}

void ResponseForwarder::on_field_impl(http::field name, string_view name_string, string_view value,
                                      error_code& ec) {
  if (obs_folded(name_string)) {
    reject(ec, http::error::bad_value, "a header field is folded over lines (obs-fold)");
    return;
  }
  if (!is_header_done()) {
    if (name == http::field::content_length &&
        (++content_length_fields_ > 1 || !all_digits(value))) {
      reject(ec, http::error::bad_content_length,
             "Content-Length must be one field with one number");
      return;
    }
    if (name == http::field::transfer_encoding &&
        (++transfer_encoding_fields_ > 1 || !valid_response_codings(value))) {
      reject(ec, http::error::bad_transfer_encoding,
             "Transfer-Encoding must be one field with \"chunked\" at most once and last");
      return;
    }
  }
  if (hop_by_hop(name)) return;
  if (is_header_done()) return chunks_.trailer_field(out_, name_string, value);
  append_field(out_, name_string, value);
}

void ResponseForwarder::on_header_impl(error_code& ec) {
  if (transfer_encoding_fields_ > 0 && content_length_fields_ > 0) {
    reject(ec, http::error::bad_transfer_encoding, "Transfer-Encoding and Content-Length together");
    return;
  }
  // An interim response (100 Continue) says nothing about the connection.
  if (status_ / 100 != 1) {
    close_client_ = !client_keep_alive_ || need_eof();
    if (client_version_ == 10) {
      if (!close_client_) out_ += "Connection: keep-alive\r\n";
    } else if (close_client_) {
      out_ += "Connection: close\r\n";
    }
  }
  out_ += "\r\n";
}

void append_local_response(std::string& out, int status, int client_version, bool keep_alive,
                           std::string_view text) {
  out += client_version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  append_number(out, static_cast<uint64_t>(status));
  out += ' ';
  append(out, http::obsolete_reason(static_cast<http::status>(status)));
  out += "\r\nServer: corral-balancer\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ";
  append_number(out, text.size());
  out += "\r\n";
  if (client_version == 10) {
    if (keep_alive) out += "Connection: keep-alive\r\n";
  } else if (!keep_alive) {
    out += "Connection: close\r\n";
  }
  out += "\r\n";
  out += text;
}

}  // namespace corral::balancer
