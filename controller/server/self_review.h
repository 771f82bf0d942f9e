// POST /apis/authentication.k8s.io/v1/selfsubjectreviews: who the caller is,
// as Kubernetes answers it (`kubectl auth whoami`). The dashboard asks it to
// learn whether to offer cordon, drain and scale. Any identity may ask.
#pragma once

#include "api/json_fwd.h"
#include "controller/server/auth.h"

namespace corral::server {

// A SelfSubjectReview: status.userInfo.username is the token's user, groups
// hold "corral:<role>" ("corral:admin", "corral:viewer", ...).
Json self_subject_review(const Identity& who);

}  // namespace corral::server
