#include "api/selector.h"

#include <gtest/gtest.h>

namespace corral {
namespace selector_test {

using Op = Requirement::Op;

Selector must_parse(std::string_view text) {
  auto s = Selector::parse(text);
  EXPECT_TRUE(s.ok()) << text << ": " << (s.ok() ? "" : s.error().message);
  return s.ok() ? *s : Selector();
}

std::string parse_error(std::string_view text) {
  auto s = Selector::parse(text);
  EXPECT_FALSE(s.ok()) << "\"" << text << "\" parsed";
  if (s.ok()) return "";
  EXPECT_EQ(s.error().code, ErrorCode::kBadRequest);
  return s.error().message;
}

TEST(Selector, EmptyStringMatchesEverything) {
  Selector s = must_parse("");
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(s.matches({}));
  EXPECT_TRUE(s.matches({{"app", "web"}}));
  EXPECT_TRUE(must_parse("   ").empty());
}

TEST(Selector, ParsesEquality) {
  Selector s = must_parse("app=web");
  ASSERT_EQ(s.requirements().size(), 1u);
  EXPECT_EQ(s.requirements()[0], (Requirement{"app", Op::kEquals, {"web"}}));
  EXPECT_TRUE(s.matches({{"app", "web"}, {"tier", "x"}}));
  EXPECT_FALSE(s.matches({{"app", "db"}}));
  EXPECT_FALSE(s.matches({}));
}

TEST(Selector, DoubleEqualsIsEquality) {
  Selector s = must_parse("app==web");
  EXPECT_EQ(s.requirements()[0], (Requirement{"app", Op::kEquals, {"web"}}));
}

TEST(Selector, NotEqualsMatchesMissingLabel) {
  Selector s = must_parse("app!=web");
  EXPECT_EQ(s.requirements()[0], (Requirement{"app", Op::kNotEquals, {"web"}}));
  EXPECT_TRUE(s.matches({}));
  EXPECT_TRUE(s.matches({{"app", "db"}}));
  EXPECT_FALSE(s.matches({{"app", "web"}}));
}

TEST(Selector, EqualityWithEmptyValue) {
  Selector s = must_parse("app=");
  EXPECT_EQ(s.requirements()[0], (Requirement{"app", Op::kEquals, {""}}));
  EXPECT_TRUE(s.matches({{"app", ""}}));
  EXPECT_FALSE(s.matches({}));
}

TEST(Selector, ParsesSetBasedIn) {
  Selector s = must_parse("zone in (b, a)");
  ASSERT_EQ(s.requirements().size(), 1u);
  // Values are a set: sorted, so that equal selectors compare equal.
  EXPECT_EQ(s.requirements()[0], (Requirement{"zone", Op::kIn, {"a", "b"}}));
  EXPECT_TRUE(s.matches({{"zone", "a"}}));
  EXPECT_TRUE(s.matches({{"zone", "b"}}));
  EXPECT_FALSE(s.matches({{"zone", "c"}}));
  EXPECT_FALSE(s.matches({}));
}

TEST(Selector, ParsesSetBasedNotIn) {
  Selector s = must_parse("zone notin (a)");
  EXPECT_EQ(s.requirements()[0], (Requirement{"zone", Op::kNotIn, {"a"}}));
  EXPECT_TRUE(s.matches({{"zone", "b"}}));
  EXPECT_TRUE(s.matches({}));
  EXPECT_FALSE(s.matches({{"zone", "a"}}));
}

TEST(Selector, ParsesExistsAndDoesNotExist) {
  Selector s = must_parse("gpu,!spot");
  ASSERT_EQ(s.requirements().size(), 2u);
  EXPECT_EQ(s.requirements()[0], (Requirement{"gpu", Op::kExists, {}}));
  EXPECT_EQ(s.requirements()[1], (Requirement{"spot", Op::kDoesNotExist, {}}));
  EXPECT_TRUE(s.matches({{"gpu", "1"}}));
  EXPECT_FALSE(s.matches({{"gpu", "1"}, {"spot", "true"}}));
  EXPECT_FALSE(s.matches({}));
}

TEST(Selector, AllRequirementsMustHold) {
  Selector s = must_parse("app=web, tier in (front,back), !canary");
  EXPECT_EQ(s.requirements().size(), 3u);
  EXPECT_TRUE(s.matches({{"app", "web"}, {"tier", "front"}}));
  EXPECT_FALSE(s.matches({{"app", "web"}, {"tier", "db"}}));
  EXPECT_FALSE(s.matches({{"app", "web"}, {"tier", "front"}, {"canary", "1"}}));
}

TEST(Selector, ToleratesWhitespace) {
  Selector a = must_parse("  app = web ,zone   in(a,  b)  ,  ! spot ");
  Selector b = must_parse("app=web,zone in (a,b),!spot");
  EXPECT_EQ(a.requirements(), b.requirements());
}

TEST(Selector, AcceptsPrefixedKeys) {
  Selector s = must_parse("corral.io/vmset=frontend");
  EXPECT_EQ(s.requirements()[0].key, "corral.io/vmset");
}

TEST(Selector, ToStringRoundTrips) {
  for (const char* text : {"app=web", "app!=web", "zone in (a,b)", "zone notin (a)", "gpu", "!spot",
                           "a=1,b in (x,y),c,!d,e!=2,f notin (z)", "corral.io/vmset=x", "app="}) {
    Selector s = must_parse(text);
    Selector back = must_parse(s.to_string());
    EXPECT_EQ(back.requirements(), s.requirements()) << text << " -> " << s.to_string();
  }
}

TEST(Selector, ToStringIsCanonical) {
  EXPECT_EQ(must_parse("zone in (b,a), app==web, !spot").to_string(),
            "app=web,!spot,zone in (a,b)");
  EXPECT_EQ(must_parse("x notin (q)").to_string(), "x notin (q)");
  EXPECT_EQ(Selector().to_string(), "");
}

TEST(Selector, RejectsInWithoutParenthesis) {
  EXPECT_EQ(parse_error("a in x"),
            "invalid label selector \"a in x\": expected \"(\" after \"in\"");
  EXPECT_EQ(parse_error("a notin"),
            "invalid label selector \"a notin\": expected \"(\" after \"notin\"");
}

TEST(Selector, RejectsEmptySet) {
  EXPECT_EQ(parse_error("a in ()"),
            "invalid label selector \"a in ()\": the values of \"in\" must not be empty");
}

TEST(Selector, RejectsUnclosedSet) {
  EXPECT_EQ(parse_error("a in (x,y"),
            "invalid label selector \"a in (x,y\": expected \")\" to close the values of \"a\"");
  EXPECT_EQ(parse_error("a in (x y)"),
            "invalid label selector \"a in (x y)\": expected \",\" or \")\" in the values of "
            "\"a\", found \"y\"");
}

TEST(Selector, RejectsUnknownOperator) {
  EXPECT_EQ(parse_error("a within (x)"),
            "invalid label selector \"a within (x)\": expected an operator (=, ==, !=, in, notin) "
            "after \"a\", found \"within\"");
  EXPECT_EQ(parse_error("a!b"), "invalid label selector \"a!b\": expected \"!=\" after \"a\"");
}

TEST(Selector, RejectsDanglingComma) {
  EXPECT_EQ(parse_error("a=b,"),
            "invalid label selector \"a=b,\": expected a requirement after \",\"");
  EXPECT_EQ(parse_error(",a"), "invalid label selector \",a\": expected a label key, found \",\"");
}

TEST(Selector, RejectsTrailingGarbage) {
  EXPECT_EQ(parse_error("a=b c"),
            "invalid label selector \"a=b c\": expected \",\" or the end after a requirement, "
            "found \"c\"");
}

TEST(Selector, ChecksKeysAndValues) {
  EXPECT_EQ(parse_error("-a=b"),
            "invalid label selector \"-a=b\": invalid key \"-a\": name part must consist of "
            "alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character");
  EXPECT_EQ(parse_error("a=b-"),
            "invalid label selector \"a=b-\": invalid value \"b-\": a valid label must be an "
            "empty string or consist of alphanumeric characters, '-', '_' or '.', and must start "
            "and end with an alphanumeric character");
  EXPECT_EQ(parse_error("a in (x,_y)").substr(0, 52),
            "invalid label selector \"a in (x,_y)\": invalid value ");
}

TEST(Selector, FromMapIsEqualityPerLabel) {
  Selector s = Selector::from_map({{"app", "web"}, {"zone", "a"}});
  ASSERT_EQ(s.requirements().size(), 2u);
  EXPECT_EQ(s.to_string(), "app=web,zone=a");
  EXPECT_TRUE(s.matches({{"app", "web"}, {"zone", "a"}, {"x", "y"}}));
  EXPECT_FALSE(s.matches({{"app", "web"}}));
  EXPECT_TRUE(Selector::from_map({}).matches({}));
}

TEST(Selector, FromLabelSelectorCombinesLabelsAndExpressions) {
  LabelSelector ls;
  ls.matchLabels = {{"app", "web"}};
  ls.matchExpressions = {{"zone", "In", {"b", "a"}},
                         {"spot", "DoesNotExist", {}},
                         {"tier", "NotIn", {"db"}},
                         {"gpu", "Exists", {}}};
  auto s = Selector::from(ls);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->to_string(), "app=web,gpu,!spot,tier notin (db),zone in (a,b)");
  EXPECT_TRUE(s->matches({{"app", "web"}, {"zone", "a"}, {"gpu", "1"}}));
  EXPECT_FALSE(s->matches({{"app", "web"}, {"zone", "a"}}));
  EXPECT_FALSE(s->matches({{"app", "web"}, {"zone", "a"}, {"gpu", "1"}, {"tier", "db"}}));
}

TEST(Selector, FromEmptyLabelSelectorMatchesEverything) {
  auto s = Selector::from(LabelSelector{});
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->empty());
  EXPECT_TRUE(s->matches({{"a", "b"}}));
}

TEST(Selector, FromRejectsUnknownOperatorWithPath) {
  LabelSelector ls;
  ls.matchExpressions = {{"zone", "Equals", {"a"}}};
  auto s = Selector::from(ls);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kBadRequest);
  ASSERT_EQ(s.error().causes.size(), 1u);
  EXPECT_EQ(s.error().causes[0].field, "selector.matchExpressions[0].operator");
  EXPECT_EQ(s.error().causes[0].message, "must be one of In, NotIn, Exists, DoesNotExist");
}

TEST(Selector, FromChecksOperatorValuesConsistency) {
  LabelSelector ls;
  ls.matchExpressions = {{"zone", "In", {}}, {"gpu", "Exists", {"x"}}};
  auto s = Selector::from(ls, "spec.selector");
  ASSERT_FALSE(s.ok());
  std::vector<Cause> want = {
      {"spec.selector.matchExpressions[0].values", "must be specified when operator is In or NotIn",
       ""},
      {"spec.selector.matchExpressions[1].values",
       "must be empty when operator is Exists or DoesNotExist", ""},
  };
  EXPECT_EQ(s.error().causes, want);
}

TEST(Selector, FromChecksKeysAndValues) {
  LabelSelector ls;
  ls.matchLabels = {{"bad key", "ok"}, {"app", "bad value"}};
  ls.matchExpressions = {{"", "Exists", {}}, {"zone", "In", {"a", "-b"}}};
  auto s = Selector::from(ls);
  ASSERT_FALSE(s.ok());
  const auto& c = s.error().causes;
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0].field, "selector.matchLabels.app");
  EXPECT_EQ(c[0].message.rfind("invalid value \"bad value\": a valid label must be", 0), 0u);
  EXPECT_EQ(c[1].field, "selector.matchLabels.bad key");
  EXPECT_EQ(c[1].message.rfind("invalid key: name part must consist", 0), 0u);
  EXPECT_EQ(c[2], (Cause{"selector.matchExpressions[0].key", "required", ""}));
  EXPECT_EQ(c[3].field, "selector.matchExpressions[1].values[1]");
}

TEST(FieldSelector, ParsesAllOperators) {
  auto r = parse_field_selector("spec.nodeName=host-1, status.phase==Running,metadata.name!=x");
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::vector<FieldRequirement> want = {
      {"spec.nodeName", false, "host-1"},
      {"status.phase", false, "Running"},
      {"metadata.name", true, "x"},
  };
  EXPECT_EQ(*r, want);
}

TEST(FieldSelector, EmptyIsNoRequirements) {
  auto r = parse_field_selector("");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(FieldSelector, EmptyValueIsAllowed) {
  // spec.nodeName= selects the unbound VMs, as in Kubernetes.
  auto r = parse_field_selector("spec.nodeName=");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0], (FieldRequirement{"spec.nodeName", false, ""}));
}

TEST(FieldSelector, RejectsMissingOperator) {
  auto r = parse_field_selector("spec.nodeName");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(r.error().message,
            "invalid field selector \"spec.nodeName\": \"spec.nodeName\" must be path=value, "
            "path==value or path!=value");
}

TEST(FieldSelector, RejectsMissingPathAndEmptyParts) {
  auto r = parse_field_selector("=x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "invalid field selector \"=x\": \"=x\" has no field path before the operator");
  auto e = parse_field_selector("a=b,,c=d");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "invalid field selector \"a=b,,c=d\": empty requirement");
  auto m = parse_field_selector("a=b=c");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message,
            "invalid field selector \"a=b=c\": \"a=b=c\" has more than one operator");
}

}  // namespace selector_test
}  // namespace corral
