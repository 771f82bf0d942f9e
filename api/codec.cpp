// The one place the field-visitor codec (api/fields.h) is instantiated for the
// API's types; api/codec.h declares what is defined here.
#include "api/codec.h"

#include "api/json.h"
#include "api/fields.h"
#include "api/heartbeat.h"
#include "api/types.h"

namespace corral {

template <class T>
Result<T> from_json(const Json& object) {
  std::vector<Cause> errs;
  T out{};
  if (!object.is_object()) return invalid(T::kKind, {{"", "expected an object", ""}});
  StructDecoder d(object, "", errs);
  d.skip("apiVersion");
  d.skip("kind");
  out.visit(d);
  d.finish();
  if (!errs.empty()) return invalid(std::string(T::kKind), std::move(errs));
  return out;
}

template <class T>
Json to_json(const T& object) {
  Json out = Json::object();
  out["apiVersion"] = kApiVersion;
  out["kind"] = T::kKind;
  Json body = encode_value(object);
  for (auto it = body.begin(); it != body.end(); ++it) out[it.key()] = std::move(it.value());
  return out;
}

template <class T>
Json encode_fields(const T& value) {
  return encode_value(value);
}

template <class T>
bool same_json(const T& a, const T& b) {
  return encode_value(a) == encode_value(b);
}

// Whole objects: the kinds and the agent protocol's messages.
#define CORRAL_CODEC_OBJECT(T)                  \
  template Result<T> from_json<T>(const Json&); \
  template Json to_json<T>(const T&);           \
  template Json encode_fields<T>(const T&);     \
  template bool same_json<T>(const T&, const T&);
// Parts of objects that loops and agents encode or compare on their own.
#define CORRAL_CODEC_PART(T)                \
  template Json encode_fields<T>(const T&); \
  template bool same_json<T>(const T&, const T&);

CORRAL_CODEC_OBJECT(Node)
CORRAL_CODEC_OBJECT(Pool)
CORRAL_CODEC_OBJECT(VMSet)
CORRAL_CODEC_OBJECT(VM)
CORRAL_CODEC_OBJECT(Balancer)
CORRAL_CODEC_OBJECT(Secret)
CORRAL_CODEC_OBJECT(Event)
CORRAL_CODEC_OBJECT(HeartbeatRequest)
CORRAL_CODEC_OBJECT(HeartbeatResponse)
CORRAL_CODEC_OBJECT(ProbeRequest)
CORRAL_CODEC_OBJECT(ProbeResponse)
CORRAL_CODEC_PART(NodeStatus)
CORRAL_CODEC_PART(PoolStatus)
CORRAL_CODEC_PART(VMSetStatus)
CORRAL_CODEC_PART(VMStatus)
CORRAL_CODEC_PART(BalancerStatus)
CORRAL_CODEC_PART(VmReport)
CORRAL_CODEC_PART(BoundVm)

#undef CORRAL_CODEC_OBJECT
#undef CORRAL_CODEC_PART

}  // namespace corral
