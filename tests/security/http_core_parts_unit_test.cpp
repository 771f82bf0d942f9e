// The event-driven core's pure parts: connection caps and the request and
// response types (controller/server/connection_limits.h, http_message.h).
#include <gtest/gtest.h>

#include "controller/server/connection_limits.h"
#include "controller/server/http_message.h"

namespace corral::testing {
namespace http_core_parts_unit_test {

using server::ConnectionLimits;
using server::ConnectionRefusal;

TEST(ConnectionLimits, PerAddressCapRefusesThatAddressOnly) {
  ConnectionLimits limits(/*total=*/10, /*per_address=*/2);
  ConnectionLimits::Slot a1, a2, a3, b1;
  EXPECT_EQ(limits.admit("10.0.0.1", &a1), ConnectionRefusal::kNone);
  EXPECT_EQ(limits.admit("10.0.0.1", &a2), ConnectionRefusal::kNone);
  EXPECT_EQ(limits.admit("10.0.0.1", &a3), ConnectionRefusal::kPerAddress);
  EXPECT_EQ(limits.admit("10.0.0.2", &b1), ConnectionRefusal::kNone);
  EXPECT_EQ(limits.open(), 3u);
  a1.reset();  // a slot comes back when its connection goes
  EXPECT_EQ(limits.open_from("10.0.0.1"), 1u);
  EXPECT_EQ(limits.admit("10.0.0.1", &a3), ConnectionRefusal::kNone);
}

TEST(ConnectionLimits, TotalCapRefusesEveryone) {
  ConnectionLimits limits(/*total=*/2, /*per_address=*/0);
  ConnectionLimits::Slot s1, s2, s3;
  EXPECT_EQ(limits.admit("a", &s1), ConnectionRefusal::kNone);
  EXPECT_EQ(limits.admit("b", &s2), ConnectionRefusal::kNone);
  EXPECT_EQ(limits.admit("c", &s3), ConnectionRefusal::kTotal);
  {
    ConnectionLimits::Slot moved = std::move(s1);  // one release, by the new owner
  }
  EXPECT_EQ(limits.open(), 1u);
  EXPECT_EQ(limits.admit("c", &s3), ConnectionRefusal::kNone);
}

TEST(HttpMessage, QueryAndPathAreDecoded) {
  auto q = server::parse_query("labelSelector=app%3Dweb%2Ctier+in+(a)&watch=1&empty=&flag");
  EXPECT_EQ(q.find("labelSelector")->second, "app=web,tier in (a)");
  EXPECT_EQ(q.find("watch")->second, "1");
  EXPECT_EQ(q.find("empty")->second, "");
  EXPECT_EQ(q.count("flag"), 1u);
  EXPECT_EQ(server::decode_url("/apis/corral/v1/vms/a%20b+c", false), "/apis/corral/v1/vms/a b+c");
  EXPECT_EQ(server::decode_url("bad%zz%4", false), "bad%zz%4") << "malformed escapes kept";
}

TEST(HttpMessage, HeaderNamesIgnoreCase) {
  server::HttpRequest req;
  req.headers = {{"content-type", "application/json"}, {"X-A", "1"}, {"x-a", "2"}};
  EXPECT_TRUE(req.has_header("Content-Type"));
  EXPECT_EQ(req.get_header_value("X-a"), "1") << "the first value wins";
  EXPECT_EQ(req.get_header_value("Missing"), "");

  server::HttpResponse res;
  res.set_content("{}", "application/json");
  res.set_content("{}", "text/plain");
  res.set_header("Warning", "299 - \"a\"");
  res.set_header("Warning", "299 - \"b\"");
  EXPECT_EQ(res.get_header_value("content-type"), "text/plain") << "replaced";
  EXPECT_EQ(res.headers.size(), 3u) << "warnings are appended";
}

}  // namespace http_core_parts_unit_test
}  // namespace corral::testing
