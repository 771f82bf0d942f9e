#include "client/agent_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/private_file.h"
#include "base/ready_file.h"

namespace corral {

namespace {

std::string to_hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

bool from_hex(const std::string& hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

std::string hmac_hex(const std::string& key, const std::string& message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &size);
  return to_hex(mac, size);
}

std::string canonical(const std::string& method, const std::string& path, const std::string& node,
                      const std::string& time, const std::string& content_sha256) {
  return "CORRAL-AGENT-V1\n" + method + "\n" + path + "\n" + node + "\n" + time + "\n" +
         content_sha256;
}

Error unauthorized(const std::string& why) { return make_error(ErrorCode::kUnauthorized, why); }

}  // namespace

Result<std::string> random_key_hex() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    return make_error(ErrorCode::kUnavailable, "cannot draw a random key (OpenSSL RAND_bytes failed)");
  return to_hex(bytes, sizeof bytes);
}

std::string derive_agent_key(const std::string& master_hex, const std::string& node) {
  std::string master;
  if (master_hex.empty() || !from_hex(master_hex, &master)) return "";
  return hmac_hex(master, std::string("corral agent endpoint v1") + '\0' + node);
}

std::string sha256_hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return to_hex(digest, sizeof digest);
}

std::vector<std::string> sign_agent_request(const std::string& key_hex, const std::string& node,
                                            const std::string& method, const std::string& path,
                                            const std::string& body, int64_t unix_seconds) {
  std::string key;
  if (!from_hex(key_hex, &key) || key.empty()) return {};
  const std::string time = std::to_string(unix_seconds);
  const std::string content = sha256_hex(body);
  return {std::string(kAgentNodeHeader) + ": " + node, std::string(kAgentTimeHeader) + ": " + time,
          std::string(kAgentContentHeader) + ": " + content,
          std::string(kAgentSignatureHeader) + ": " +
              hmac_hex(key, canonical(method, path, node, time, content))};
}

Result<void> verify_agent_request(const std::string& key_hex, const std::string& node,
                                  const std::string& method, const std::string& path,
                                  const AgentRequestProof& proof, int64_t unix_now,
                                  std::chrono::seconds window) {
  if (proof.signature.empty())
    return unauthorized("this endpoint takes only requests signed by the controller (" +
                        std::string(kAgentSignatureHeader) + " missing)");
  if (proof.node != node)
    return unauthorized("the request is signed for node \"" + proof.node + "\", this is node " + node);
  if (proof.time.empty() || proof.time.size() > 12 ||
      proof.time.find_first_not_of("0123456789") != std::string::npos)
    return unauthorized(std::string(kAgentTimeHeader) + " must be Unix seconds");
  const int64_t signed_at = std::stoll(proof.time);
  if (signed_at < unix_now - window.count() || signed_at > unix_now + window.count())
    return unauthorized("the signature's time is " + std::to_string(signed_at - unix_now) +
                        " s from this agent's clock, outside ±" + std::to_string(window.count()) +
                        " s (replayed, or a clock out of sync)");
  if (proof.content_sha256.size() != 64)
    return unauthorized(std::string(kAgentContentHeader) + " must be 64 hex digits");
  std::string key;
  if (!from_hex(key_hex, &key) || key.empty())
    return make_error(ErrorCode::kUnavailable, "this agent has no endpoint key yet");
  const std::string expected = hmac_hex(key, canonical(method, path, node, proof.time, proof.content_sha256));
  if (proof.signature.size() != expected.size() ||
      CRYPTO_memcmp(proof.signature.data(), expected.data(), expected.size()) != 0)
    return unauthorized("bad signature (not signed with this node's key, or the request was altered)");
  return Ok{};
}

Result<std::string> load_or_create_master_key(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    auto key = random_key_hex();
    if (!key) return key.take_error();
    // umask may be anything here: the file is created private by its writer
    // only if the umask says so, so the mode is set before the key is in it.
    const std::string tmp = path + ".new";
    {
      std::ofstream out(tmp, std::ios::trunc);
      if (!out) return make_error(ErrorCode::kUnavailable, "cannot write " + tmp);
    }
    ::chmod(tmp.c_str(), 0600);
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << *key << "\n";
      if (!out.flush()) return make_error(ErrorCode::kUnavailable, "cannot write " + tmp);
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) return make_error(ErrorCode::kUnavailable, "cannot create " + path + ": " + ec.message());
    return *key;
  }
  auto text = read_token_file(path, "the agent endpoint key");
  if (!text) return text.take_error();
  std::string raw;
  if (text->size() != 64 || !from_hex(*text, &raw))
    return make_error(ErrorCode::kBadRequest,
                      path + ": expected 64 hex digits (the agents' endpoint master key); delete "
                             "it to have a new one made");
  return *text;
}

}  // namespace corral
