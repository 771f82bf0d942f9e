#include "controller/server/balancer_listen.h"

#include "api/json.h"
#include "api/listen_address.h"
#include "controller/server/request.h"

namespace corral::server {

namespace {

std::string listen_of(const Json& object) {
  auto spec = object.find("spec");
  if (spec == object.end() || !spec->is_object()) return "";
  auto listen = spec->find("listen");
  return listen != spec->end() && listen->is_string() ? listen->get<std::string>() : "";
}

}  // namespace

Result<void> admit_balancer_listen(store::Store& store, const Json& normalized) {
  const std::string listen = listen_of(normalized);
  auto mine = split_listen(listen);
  if (!mine || mine->port == 0) return Ok{};  // malformed: validation said so; 0: any port
  const std::string name = object_name(normalized);
  auto others = store.list("Balancer", {});
  if (!others) return others.take_error();
  for (const store::RecordPtr& r : others->items) {
    if (r->name == name) continue;  // its own stored version (an update)
    const std::string theirs_text = listen_of(r->parse());
    auto theirs = split_listen(theirs_text);
    if (!theirs || !listens_collide(*mine, *theirs)) continue;
    return invalid(
        "Balancer \"" + name + "\"",
        {{"spec.listen",
          listen + " is already used by balancer/" + r->name + " (spec.listen " + theirs_text + ")",
          ""}});
  }
  return Ok{};
}

}  // namespace corral::server
