// The request-target normaliser (balancer/core/target_normalizer.h): what
// content rules match and what the backend receives.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "balancer/core/target_normalizer.h"

namespace corral::balancer {
namespace balancer_target_normalizer_test {

// The normal form of `target`, or "<unchanged>" / "<above root>".
std::string normal(std::string_view target) {
  std::string out = "<untouched>";
  switch (normalize_target(target, out)) {
    case TargetNormalization::kUnchanged:
      EXPECT_EQ(out, "<untouched>") << "kUnchanged must not write";
      return "<unchanged>";
    case TargetNormalization::kChanged:
      return out;
    case TargetNormalization::kAboveRoot:
      return "<above root>";
  }
  return "<?>";
}

TEST(TargetNormalizer, LeavesNormalTargetsAloneWithoutCopying) {
  for (std::string_view t :
       {"/", "/a/b", "/a/b/", "//a//b", "/a.b/c..d/...", "/x?y=/../z", "*", "host:443", "/a%2Fb",
        "/a%20b", "http://h", "http://h?q=../x", "/.well-known/x"})
    EXPECT_EQ(normal(t), "<unchanged>") << t;
}

TEST(TargetNormalizer, RemovesDotSegmentsAsRfc3986Does) {
  EXPECT_EQ(normal("/public/../admin"), "/admin");
  EXPECT_EQ(normal("/a/./b"), "/a/b");
  EXPECT_EQ(normal("/a/b/../c/./d"), "/a/c/d");
  EXPECT_EQ(normal("/a/."), "/a/");
  EXPECT_EQ(normal("/a/b/.."), "/a/");
  EXPECT_EQ(normal("/a/.."), "/");
  EXPECT_EQ(normal("/."), "/");
  EXPECT_EQ(normal("/a//../b"), "/a/b");  // ".." takes the empty segment; nothing else collapses
  EXPECT_EQ(normal("/a/../b?x=/../y#f"), "/b?x=/../y#f");
}

TEST(TargetNormalizer, DecodesUnreservedEscapesIncludingDotsAndNothingElse) {
  EXPECT_EQ(normal("/public/%2e%2e/admin"), "/admin");
  EXPECT_EQ(normal("/public/%2E%2E/admin"), "/admin");
  EXPECT_EQ(normal("/public/.%2e/admin"), "/admin");
  EXPECT_EQ(normal("/%7Euser/%41b%5f"), "/~user/Ab_");
  EXPECT_EQ(normal("/a%2Fb/%2e"), "/a%2Fb/");           // %2F stays a byte of the segment
  EXPECT_EQ(normal("/a%2F..%2Fadmin"), "<unchanged>");  // one segment "a%2F..%2Fadmin"
  EXPECT_EQ(normal("/%252e%252e/x"), "<unchanged>");    // decoded once only: "%25" is '%', reserved
  EXPECT_EQ(normal("/%zz/%4"), "<unchanged>");          // malformed escapes are left as they are
  EXPECT_EQ(normal("/%2e%2"), "/.%2");
}

TEST(TargetNormalizer, RefusesTargetsThatClimbAboveTheRoot) {
  EXPECT_EQ(normal("/../x"), "<above root>");
  EXPECT_EQ(normal("/.."), "<above root>");
  EXPECT_EQ(normal("/a/../../x"), "<above root>");
  EXPECT_EQ(normal("/%2e%2e/etc/passwd"), "<above root>");
  EXPECT_EQ(normal("http://h/../x"), "<above root>");
}

TEST(TargetNormalizer, NormalisesThePathOfAnAbsoluteFormTargetOnly) {
  EXPECT_EQ(normal("http://Shop.Example:80/a/%2e%2e/admin?q=%2e"),
            "http://Shop.Example:80/admin?q=%2e");
  EXPECT_EQ(normal("http://user@h/./x"), "http://user@h/x");
}

}  // namespace balancer_target_normalizer_test
}  // namespace corral::balancer
