#include "api/quantity.h"

#include <gtest/gtest.h>

namespace corral {
namespace quantity_test {

int64_t milli(const std::string& text) {
  auto q = parse_quantity(text);
  EXPECT_TRUE(q.ok()) << text << ": " << (q.ok() ? "" : q.error().message);
  return q.ok() ? q->milli : -1;
}

std::string error_of(const std::string& text) {
  auto q = parse_quantity(text);
  EXPECT_FALSE(q.ok()) << "\"" << text << "\" parsed";
  return q.ok() ? "" : q.error().message;
}

TEST(Quantity, ParsesMilliCpu) { EXPECT_EQ(milli("500m"), 500); }
TEST(Quantity, ParsesWholeNumbers) { EXPECT_EQ(milli("2"), 2000); }
TEST(Quantity, ParsesDecimals) {
  EXPECT_EQ(milli("1.5"), 1500);
  EXPECT_EQ(milli(".5"), 500);
}

TEST(Quantity, ParsesBinarySuffixes) {
  EXPECT_EQ(milli("4Gi"), int64_t{4} * 1024 * 1024 * 1024 * 1000);
  EXPECT_EQ(milli("512Mi"), int64_t{512} * 1024 * 1024 * 1000);
  EXPECT_EQ(milli("1Ki"), 1024 * 1000);
}

TEST(Quantity, ParsesDecimalSuffixesAndExponents) {
  EXPECT_EQ(milli("10k"), 10'000'000);
  EXPECT_EQ(milli("1e3"), 1'000'000);
  EXPECT_EQ(milli("2M"), int64_t{2'000'000'000});
  EXPECT_EQ(milli("1G"), int64_t{1'000'000'000'000});
}

TEST(Quantity, RoundsUpToTheNextMilli) {
  EXPECT_EQ(milli("0.0001"), 1);
  EXPECT_EQ(milli("1u"), 1);
}

TEST(Quantity, KeepsTextAsWritten) {
  auto q = parse_quantity("4Gi");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->text, "4Gi");
  EXPECT_EQ(q->whole(), int64_t{4} << 30);
  EXPECT_DOUBLE_EQ(parse_quantity("1.5")->value(), 1.5);
  EXPECT_EQ(parse_quantity("1500m")->whole(), 2);  // rounded up
}

TEST(Quantity, RejectsEmpty) {
  EXPECT_EQ(error_of(""), "invalid quantity \"\": must not be empty");
}

TEST(Quantity, RejectsNonNumbers) {
  EXPECT_EQ(error_of("abc"),
            "invalid quantity \"abc\": must start with a number, like 500m, 2, 1.5 or 4Gi");
}

TEST(Quantity, RejectsUnknownSuffix) {
  EXPECT_EQ(error_of("5X"),
            "invalid quantity \"5X\": unknown suffix \"X\" (use m, k, M, G, T, P, E or Ki, Mi, "
            "Gi, Ti, Pi, Ei)");
}

TEST(Quantity, RejectsTwoDecimalPoints) {
  EXPECT_EQ(error_of("1.2.3").rfind("invalid quantity \"1.2.3\": unknown suffix \".3\"", 0), 0u);
}

TEST(Quantity, RejectsHugeExponent) {
  EXPECT_EQ(error_of("1e30"), "invalid quantity \"1e30\": exponent too large");
}

TEST(Quantity, ExponentWithLeadingZerosIsReadWhole) {
  EXPECT_EQ(error_of("1e00019"), "invalid quantity \"1e00019\": exponent too large");
  EXPECT_EQ(milli("1e0003"), 1'000'000);
}

TEST(Quantity, EqualityComparesValueNotText) {
  EXPECT_EQ(*parse_quantity("1"), *parse_quantity("1000m"));
  EXPECT_EQ(*parse_quantity("1Ki"), *parse_quantity("1024"));
  EXPECT_FALSE(Quantity{} == *parse_quantity("0"));  // unset differs from zero
}

TEST(Quantity, FromMilliPrintsCanonically) {
  EXPECT_EQ(Quantity::from_milli(500).text, "500m");
  EXPECT_EQ(Quantity::from_milli(2000).text, "2");
  EXPECT_EQ(Quantity::from_milli(0).text, "0");
}

TEST(Quantity, FromBytesUsesBinarySuffixWhenExact) {
  EXPECT_EQ(Quantity::from_bytes(int64_t{4} << 30).text, "4Gi");
  EXPECT_EQ(Quantity::from_bytes(512 << 20).text, "512Mi");
  EXPECT_EQ(Quantity::from_bytes(1000).text, "1000");
  EXPECT_EQ(Quantity::from_bytes(0).text, "0");
  EXPECT_EQ(Quantity::from_bytes(1536).milli, 1536000);
}

TEST(Quantity, FromTextRoundTrips) {
  for (int64_t bytes : {int64_t{1}, int64_t{1024}, int64_t{3} << 20, int64_t{12345}}) {
    Quantity q = Quantity::from_bytes(bytes);
    EXPECT_EQ(parse_quantity(q.text)->milli, q.milli) << q.text;
  }
  for (int64_t m : {1, 250, 1000, 2500}) {
    Quantity q = Quantity::from_milli(m);
    EXPECT_EQ(parse_quantity(q.text)->milli, m) << q.text;
  }
}

}  // namespace quantity_test
}  // namespace corral
