#include "controller/server/self_review.h"

#include "api/json.h"

namespace corral::server {

Json self_subject_review(const Identity& who) {
  return Json{{"kind", "SelfSubjectReview"},
              {"apiVersion", "authentication.k8s.io/v1"},
              {"metadata", Json::object()},
              {"status",
               {{"userInfo",
                 {{"username", who.user}, {"groups", Json::array({"corral:" + who.role})}}}}}};
}

}  // namespace corral::server
