#include "controller/heartbeat/secret_env.h"

#include "api/base64.h"
#include "api/conditions.h"
#include "api/kinds.h"
#include "base/log.h"

namespace corral::heartbeat {

namespace {

// VM.status words for a VM held back by its configuration.
constexpr const char* kConfigReadyCondition = "ConfigReady";
constexpr const char* kConfigErrorReason = "CreateVMConfigError";
constexpr const char* kConfigErrorEvent = "VMConfigError";
constexpr int kStatusConflictRetries = 5;

}  // namespace

// ---- SecretCache ----------------------------------------------------------------

SecretCache::SecretCache() : snapshot_(std::make_shared<const SecretSnapshot>()) {}

std::shared_ptr<const SecretValues> SecretCache::decode(const store::Record& record) {
  auto secret = from_json<Secret>(record.parse());
  if (!secret) {
    logger("heartbeat")->error("BUG: stored secret/{} does not decode: {}", record.name,
                               secret.error().message);
    return nullptr;
  }
  auto values = std::make_shared<SecretValues>();
  for (const auto& [key, text] : secret->data) {
    auto value = base64_decode(text);
    if (!value) {
      logger("heartbeat")->error("BUG: stored secret/{} key {} is not base64", record.name, key);
      continue;
    }
    (*values)[key] = std::move(*value);
  }
  return values;
}

void SecretCache::reset(const std::vector<store::RecordPtr>& records) {
  auto next = std::make_shared<SecretSnapshot>();
  for (const auto& r : records)
    if (auto v = decode(*r)) (*next)[r->name] = std::move(v);
  std::lock_guard lock(mu_);
  snapshot_ = std::move(next);
}

void SecretCache::apply(const store::WatchEvent& event) {
  // Copy-on-write: a Secret changes rarely, and readers never wait for it.
  auto next = std::make_shared<SecretSnapshot>(*snapshot());
  const std::string& name = event.object->name;
  if (event.type == store::WatchEvent::Type::kDeleted) {
    next->erase(name);
  } else if (auto v = decode(*event.object)) {
    (*next)[name] = std::move(v);
  } else {
    next->erase(name);
  }
  std::lock_guard lock(mu_);
  snapshot_ = std::move(next);
}

std::shared_ptr<const SecretSnapshot> SecretCache::snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

// ---- resolution -------------------------------------------------------------------

Result<Json> resolve_secret_env(const Json& bound, const SecretSnapshot& secrets) {
  Json out = bound;
  auto runtime = out.find("runtime");
  if (runtime == out.end() || !runtime->is_object()) return out;
  auto env = runtime->find("env");
  if (env == runtime->end() || !env->is_array()) return out;  // the map form: plain values only
  for (Json& item : *env) {
    auto from = item.find("valueFrom");
    if (from == item.end()) continue;
    const Json& ref = from->value("secretKeyRef", Json::object());
    const std::string secret = ref.value("name", "");
    const std::string key = ref.value("key", "");
    auto s = secrets.find(secret);
    if (s == secrets.end())
      return make_error(ErrorCode::kNotFound, "secret \"" + secret + "\" not found");
    auto v = s->second->find(key);
    if (v == s->second->end())
      return make_error(ErrorCode::kNotFound,
                        "secret \"" + secret + "\" has no key \"" + key + "\"");
    if (v->second.find('\0') != std::string::npos)
      return make_error(ErrorCode::kInvalid, "secret \"" + secret + "\" key \"" + key +
                                                 "\" holds a NUL byte, which an environment "
                                                 "variable cannot");
    item.erase("valueFrom");
    item["value"] = v->second;
  }
  return out;
}

// ---- SecretEnv --------------------------------------------------------------------

SecretEnv::SecretEnv(store::Store& store, const Clock& clock, events::EventRecorder& events)
    : store_(store), clock_(clock), events_(events) {}

std::optional<Json> SecretEnv::bound_for(const std::string& node, const BoundEntry& entry) const {
  auto secrets = cache_.snapshot();
  auto resolved = resolve_secret_env(entry.bound, *secrets);
  if (resolved) {
    std::lock_guard lock(mu_);
    if (resolved_.size() >= kMaxRemembered) resolved_.clear();
    resolved_[entry.name] = Resolved{node, entry.generation, *resolved};
    reported_.erase(entry.name);
    return std::move(*resolved);
  }
  {
    std::lock_guard lock(mu_);
    auto last = resolved_.find(entry.name);
    // The copy already sent for this very spec on this node keeps its values.
    if (last != resolved_.end() && last->second.node == node &&
        last->second.generation == entry.generation)
      return last->second.bound;
    auto [it, fresh] = reported_.try_emplace(entry.name, resolved.error().message);
    if (!fresh && it->second == resolved.error().message) return std::nullopt;
    it->second = resolved.error().message;
  }
  report(node, entry, resolved.error().message);
  return std::nullopt;
}

void SecretEnv::report(const std::string& node, const BoundEntry& entry,
                       const std::string& why) const {
  auto log = logger("heartbeat");
  log->warn("vm/{} on node/{} not started: {}", entry.name, node, why);
  std::string uid;
  for (int attempt = 0; attempt <= kStatusConflictRetries; ++attempt) {
    auto record = store_.get("VM", entry.name);
    if (!record) return;  // deleted meanwhile: nothing to report on
    auto vm = from_json<VM>((*record)->parse());
    if (!vm || vm->spec.nodeName != node) return;
    uid = vm->metadata.uid;
    vm->status.message = why;
    set_condition(vm->status.conditions,
                  Condition{kConfigReadyCondition, condition_status::kFalse, kConfigErrorReason,
                            why, format_time(clock_.now()), vm->metadata.generation});
    auto normalized = normalize_typed(std::move(*vm));
    if (!normalized) {
      log->error("BUG: vm/{} status does not validate: {}", entry.name,
                 normalized.error().message);
      return;
    }
    auto written = store_.update_status("VM", std::move(*normalized));
    if (written) break;
    if (written.error().code != ErrorCode::kConflict) {
      log->warn("vm/{}: cannot write its status: {}", entry.name, written.error().message);
      break;
    }
  }
  (void)events_.record({"VM", entry.name, uid}, event_type::kWarning, kConfigErrorEvent,
                       "vm/" + entry.name + " not started on node/" + node + ": " + why, node);
}

}  // namespace corral::heartbeat
