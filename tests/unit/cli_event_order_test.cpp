// `corralctl get events` prints a timeline: oldest first by lastTimestamp
// (else firstTimestamp, else creation), then firstTimestamp, then name — not
// the store's name order; `-w` then appends newer events below.
#include <gtest/gtest.h>

#include "api/json.h"
#include "cli/event_order.h"
#include "cli/get.h"
#include "tests/unit/cli_test_context.h"

namespace corral::cli {
namespace cli_event_order_test {

using testing::CliHarness;

Json event(const std::string& name, const std::string& reason, const std::string& first,
           const std::string& last) {
  Json e = Json::parse(R"({"apiVersion":"corral/v1","kind":"Event","metadata":{"name":""},
    "involvedObject":{"kind":"VMSet","name":"web"},"type":"Normal","count":1})");
  e["metadata"]["name"] = name;
  e["reason"] = reason;
  if (!first.empty()) e["firstTimestamp"] = first;
  if (!last.empty()) e["lastTimestamp"] = last;
  return e;
}

std::vector<std::string> names(const std::vector<Json>& events) {
  std::vector<std::string> out;
  for (const Json& e : events) out.push_back(e["metadata"]["name"]);
  return out;
}

TEST(EventOrder, OldestFirstByLastThenFirstThenName) {
  std::vector<Json> events = {
      event("a", "Latest", "2026-12-02T10:00:00.000Z", "2026-12-02T10:09:00.000Z"),
      event("b", "Middle", "2026-12-02T10:05:00Z", ""),  // no last: its first, no fraction
      event("c", "Oldest", "2026-12-02T10:01:00.000Z", "2026-12-02T10:01:00.000Z"),
      event("e", "TieByName", "2026-12-02T10:05:00.000Z", "2026-12-02T10:05:00.000Z"),
      event("d", "TieByFirst", "2026-12-02T09:00:00.000Z", "2026-12-02T10:05:00.000Z"),
  };
  sort_events_oldest_first(events);
  EXPECT_EQ(names(events), (std::vector<std::string>{"c", "d", "b", "e", "a"}));
}

TEST(EventOrder, GetEventsPrintsTheTimelineOldestFirst) {
  CliHarness h;
  // Names sort the other way round from time, as random suffixes do.
  h.client.put(event("web.0001", "SuccessfulDelete", "2026-12-02T10:03:00.000Z",
                     "2026-12-02T10:03:00.000Z"));
  h.client.put(event("web.0002", "SuccessfulCreate", "2026-12-02T10:00:00.000Z",
                     "2026-12-02T10:00:00.000Z"));
  h.client.put(
      event("web.0003", "ScaleHint", "2026-12-02T10:01:00.000Z", "2026-12-02T10:01:00.000Z"));
  std::chrono::system_clock::time_point now;
  ASSERT_TRUE(parse_time("2026-12-02T10:10:00.000Z", &now));
  h.clock.set(now);
  GetOptions o;
  o.args = {"events"};
  ASSERT_EQ(run_get(h.ctx, o), 0) << h.err.str();
  const std::string out = h.out.str();
  const size_t create = out.find("SuccessfulCreate");
  const size_t hint = out.find("ScaleHint");
  const size_t del = out.find("SuccessfulDelete");
  ASSERT_NE(create, std::string::npos) << out;
  EXPECT_LT(create, hint) << out;
  EXPECT_LT(hint, del) << out;

  // -o name lists in the same order.
  CliHarness named;
  named.client.objects = h.client.objects;
  o.output = "name";
  ASSERT_EQ(run_get(named.ctx, o), 0);
  EXPECT_EQ(named.out.str(), "event/web.0002\nevent/web.0003\nevent/web.0001\n");
}

}  // namespace cli_event_order_test
}  // namespace corral::cli
