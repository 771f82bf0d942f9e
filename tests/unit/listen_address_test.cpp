// When two Balancers' spec.listen cannot both be bound on one host
// (api/listen_address.h): the rule behind the API's 422.
#include <gtest/gtest.h>

#include "api/listen_address.h"

namespace corral {
namespace listen_address_test {

bool collide(const std::string& a, const std::string& b) {
  auto x = split_listen(a);
  auto y = split_listen(b);
  EXPECT_TRUE(x && y) << a << " " << b;
  return x && y && listens_collide(*x, *y) && listens_collide(*y, *x);
}

TEST(ListenAddress, SplitsHostAndPort) {
  auto v4 = split_listen("127.0.0.1:8080");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  auto v6 = split_listen("[::1]:0");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  EXPECT_FALSE(split_listen("127.0.0.1"));
  EXPECT_FALSE(split_listen("127.0.0.1:http"));
  EXPECT_FALSE(split_listen("127.0.0.1:65536"));
  EXPECT_FALSE(split_listen("[::1:80"));
}

TEST(ListenAddress, SameHostAndPortCollide) {
  EXPECT_TRUE(collide("127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_TRUE(collide("[::1]:8080", "[0:0:0:0:0:0:0:1]:8080"));
  EXPECT_TRUE(collide("LB.example:80", "lb.example:80"));
}

TEST(ListenAddress, AWildcardCollidesWithEveryHostOnItsPort) {
  EXPECT_TRUE(collide("0.0.0.0:8080", "127.0.0.1:8080"));
  EXPECT_TRUE(collide("127.0.0.1:8080", "[::]:8080"));
  EXPECT_TRUE(collide("[::]:8080", "0.0.0.0:8080"));
  EXPECT_TRUE(collide("0.0.0.0:8080", "lb.example:8080"));
}

TEST(ListenAddress, OtherPortsOtherHostsAndPortZeroDoNot) {
  EXPECT_FALSE(collide("127.0.0.1:8080", "127.0.0.1:8081"));
  EXPECT_FALSE(collide("127.0.0.1:8080", "127.0.0.2:8080"));
  EXPECT_FALSE(collide("0.0.0.0:0", "0.0.0.0:0"));
  EXPECT_FALSE(collide("127.0.0.1:0", "127.0.0.1:0"));
}

}  // namespace listen_address_test
}  // namespace corral
