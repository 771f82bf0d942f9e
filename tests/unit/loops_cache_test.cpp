// The watch cache (deltas, write-through, re-list after Gone), the event
// recorder's de-duplication, and one batch of 1,000 bindings into a real
// SQLite store through the concurrent writers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cstdlib>

#include "api/json.h"
#include "api/kinds.h"
#include "controller/events/event_recorder.h"
#include "controller/loops/object_cache.h"
#include "controller/store/forwarding_store.h"
#include "controller/loops/writer_pool.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/loops_fixtures.h"

namespace corral::loops::testing {
namespace loops_cache_test {

using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

Json vm_json(const std::string& name, const std::string& node = "") {
  VM vm;
  vm.metadata.name = name;
  vm.spec.nodeName = node;
  vm.spec.runtime.driver = "sim";
  return to_json(vm);
}

TEST(LoopsCache, LoadsStateAndReportsChangesAsDeltas) {
  FakeClock clock;
  auto store = store::open_memory_store(clock);
  ASSERT_TRUE(store->create("VM", vm_json("a")).ok());
  ObjectCache cache(*store);
  ASSERT_TRUE(cache.start().ok());
  EXPECT_EQ(cache.vms().size(), 1u);
  CacheDelta first = cache.sync();
  EXPECT_THAT(first.vms, UnorderedElementsAre("a"));

  ASSERT_TRUE(store->create("VM", vm_json("b")).ok());
  ASSERT_TRUE(store->remove("VM", "a").ok());
  CacheDelta d = cache.sync();
  EXPECT_THAT(d.vms, UnorderedElementsAre("a", "b"));
  EXPECT_EQ(cache.vm("a"), nullptr);
  ASSERT_NE(cache.vm("b"), nullptr);
  EXPECT_TRUE(cache.sync().empty());
}

TEST(LoopsCache, WriteThroughIsNotAppliedTwice) {
  FakeClock clock;
  auto store = store::open_memory_store(clock);
  ObjectCache cache(*store);
  ASSERT_TRUE(cache.start().ok());
  auto created = store->create("VM", vm_json("a"));
  ASSERT_TRUE(created.ok());
  cache.apply(*created);
  EXPECT_EQ(cache.vms().revision("a"), (*created)->revision);
  CacheDelta d = cache.sync();  // the delta of the write-through; the echo is skipped
  EXPECT_THAT(d.vms, UnorderedElementsAre("a"));
  EXPECT_TRUE(cache.sync().empty());
}

TEST(LoopsCache, RelistsAfterGoneAndDropsWhatWasDeleted) {
  FakeClock clock;
  store::StoreOptions small;
  small.watch_buffer = 8;  // the cache falls behind after 8 unread events
  auto store = store::open_memory_store(clock, small);
  for (const char* n : {"a", "b", "c"}) ASSERT_TRUE(store->create("VM", vm_json(n)).ok());
  ObjectCache cache(*store);
  ASSERT_TRUE(cache.start().ok());
  cache.sync();
  ASSERT_TRUE(store->remove("VM", "a").ok());
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(store->create("VM", vm_json("n" + std::to_string(i))).ok());
  ASSERT_TRUE(store->remove("VM", "n3").ok());

  CacheDelta d = cache.sync();
  EXPECT_TRUE(d.resynced);
  EXPECT_EQ(cache.vm("a"), nullptr);
  EXPECT_EQ(cache.vm("n3"), nullptr);
  EXPECT_NE(cache.vm("b"), nullptr);
  EXPECT_NE(cache.vm("n19"), nullptr);
  EXPECT_EQ(cache.vms().size(), 2u + 19u);
  EXPECT_TRUE(d.vms.count("a"));
}

TEST(LoopsCache, VmsForVmsetAreOwnedOnesAndNamesSharingItsPrefix) {
  FakeClock clock;
  auto store = store::open_memory_store(clock);
  ObjectCache cache(*store);
  ASSERT_TRUE(cache.start().ok());
  VMSet set;
  set.metadata.name = "web";
  set.metadata.uid = "uid-web";
  VM owned;
  owned.metadata.name = "custom";
  owned.metadata.ownerReferences.push_back({kApiVersion, "VMSet", "web", "uid-web", true});
  VM prefixed;
  prefixed.metadata.name = "web-abcde";
  VM other;
  other.metadata.name = "webby";
  cache.apply_vm(owned, 10);
  cache.apply_vm(prefixed, 11);
  cache.apply_vm(other, 12);
  std::vector<std::string> names;
  for (const VM* vm : cache.vms_for_vmset(set)) names.push_back(vm->metadata.name);
  EXPECT_THAT(names, ::testing::ElementsAre("custom", "web-abcde"));
}

TEST(LoopsCache, ACreatedVmAppliedTypedIsTheStoredObject) {
  FakeClock clock;
  auto store = store::open_memory_store(clock);
  ObjectCache cache(*store);
  ASSERT_TRUE(cache.start().ok());
  VM vm;
  vm.metadata.name = "web-x7k2p";
  vm.metadata.labels = {{"corral.io/vmset", "web"}, {"tier", "front"}};
  vm.metadata.ownerReferences.push_back({kApiVersion, "VMSet", "web", "u-web", true});
  vm.spec.resources.cpu = Quantity::from_milli(500);
  vm.spec.resources.memory = Quantity::from_bytes(int64_t{1} << 30);
  vm.spec.runtime.driver = "sim";
  VM sent = vm;
  auto json = normalize_typed_in_place(sent);  // defaults applied to `sent` too
  ASSERT_TRUE(json.ok()) << json.error().to_string();
  clock.advance(std::chrono::seconds(3));
  auto created = store->create("VM", *json);
  ASSERT_TRUE(created.ok()) << created.error().message;
  cache.apply_created_vm(sent, **created);

  const VM* cached = cache.vm("web-x7k2p");
  ASSERT_NE(cached, nullptr);
  EXPECT_EQ(to_json(*cached), to_json(from_json<VM>((*created)->parse()).value()));
  EXPECT_EQ(cached->metadata.uid, (*created)->uid);
  EXPECT_EQ(cached->metadata.resourceVersion, std::to_string((*created)->revision));
  EXPECT_EQ(cached->metadata.generation, 1);
  EXPECT_FALSE(cached->metadata.creationTimestamp.empty());
  EXPECT_EQ(cache.vms_by_name().size(), 1u);
}

TEST(LoopsEvents, IdenticalEventsBumpTheCountWithinTheWindow) {
  FakeClock clock;
  auto store = store::open_memory_store(clock);
  events::EventRecorder events(*store, clock);
  ObjectReference ref{"Node", "host-1", "u1"};
  auto first = events.record(ref, "Warning", "NodeNotReady", "lease expired");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->rfind("host-1.", 0), 0u);
  clock.advance(std::chrono::seconds(5));
  auto again = events.record(ref, "Warning", "NodeNotReady", "lease expired");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  auto other = events.record(ref, "Normal", "NodeReady", "lease renewed");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *first);

  Event ev = from_json<Event>((*store->get("Event", *first))->parse()).value();
  EXPECT_EQ(ev.count, 2);
  EXPECT_EQ(ev.involvedObject.name, "host-1");
  EXPECT_EQ(ev.source.component, "corral-controller");
  EXPECT_NE(ev.firstTimestamp, ev.lastTimestamp);

  clock.advance(std::chrono::minutes(11));  // past the window: a new Event
  auto later = events.record(ref, "Warning", "NodeNotReady", "lease expired");
  ASSERT_TRUE(later.ok());
  EXPECT_NE(*later, *first);
}

TEST(LoopsEvents, NewEventsAboutOneObjectAreLimitedToABurstThenOnePerRefill) {
  FakeClock clock;
  auto store = store::open_memory_store(clock);
  events::EventRecorder events(*store, clock);  // burst 25, then one per 300 s
  const ObjectReference set{"VMSet", "web", "u1"};
  std::vector<events::EventWrite> creates;
  for (int i = 0; i < 30; ++i)
    creates.push_back({set, "Normal", "SuccessfulCreate", "Created vm: web-" + std::to_string(i), ""});
  events.record_all(std::move(creates));
  auto listed = store->list("Event", {});
  ASSERT_TRUE(listed.ok());
  EXPECT_THAT(listed->items, SizeIs(25));
  EXPECT_EQ(events.dropped(), 5u);

  auto refused = events.record(set, "Normal", "SuccessfulCreate", "Created vm: web-31");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kTooManyRequests);
  EXPECT_THAT(refused.error().message, ::testing::HasSubstr("VMSet/web"));
  // Another object has a budget of its own.
  EXPECT_TRUE(events.record({"VMSet", "db", "u2"}, "Normal", "SuccessfulCreate", "Created vm: db-0").ok());
  // A repeat of an Event already written is counted on it, whatever the budget.
  auto repeat = events.record(set, "Normal", "SuccessfulCreate", "Created vm: web-0");
  ASSERT_TRUE(repeat.ok());
  EXPECT_EQ(from_json<Event>((*store->get("Event", *repeat))->parse()).value().count, 2);

  clock.advance(std::chrono::seconds(300));  // one more
  EXPECT_TRUE(events.record(set, "Normal", "SuccessfulCreate", "Created vm: web-32").ok());
  EXPECT_FALSE(events.record(set, "Normal", "SuccessfulCreate", "Created vm: web-33").ok());
  EXPECT_EQ(events.dropped(), 7u);
}

TEST(LoopsEvents, WithoutABurstLimitEveryNewEventIsWritten) {
  FakeClock clock;
  auto store = store::open_memory_store(clock);
  events::EventRecorderOptions options;
  options.per_object_burst = 0;
  events::EventRecorder events(*store, clock, options);
  for (int i = 0; i < 40; ++i)
    ASSERT_TRUE(events.record({"VMSet", "web", "u1"}, "Normal", "SuccessfulCreate", std::to_string(i)).ok());
  EXPECT_EQ(events.dropped(), 0u);
}

TEST(LoopsEvents, RecordAllCreatesInFewCommitsAndBumpsRepeats) {
  FakeClock clock;
  auto store = store::open_memory_store(clock);
  events::EventRecorder events(*store, clock);
  const ObjectReference vm0{"VM", "vm-0", "u0"};
  auto earlier = events.record(vm0, "Normal", "Scheduled", "to node/a");
  ASSERT_TRUE(earlier.ok());
  const int64_t before = store->revision();

  std::vector<events::EventWrite> batch;
  const size_t n = events::EventRecorderOptions{}.create_chunk + 7;  // two chunks
  for (size_t i = 0; i < n; ++i) {
    batch.push_back({{"VM", "vm-" + std::to_string(i), "u" + std::to_string(i)},
                     "Normal",
                     "Scheduled",
                     "to node/" + std::string(i == 0 ? "a" : "b"),
                     "host-b"});
  }
  batch.push_back({{"VM", "vm-1", "u1"}, "Normal", "Scheduled", "to node/b", "host-b"});
  events.record_all(std::move(batch));

  auto listed = store->list("Event", {});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->items.size(), n) << "vm-0's is a repeat of the earlier one, vm-1's twice";
  EXPECT_EQ(store->revision(), before + static_cast<int64_t>(n - 1) + 2)
      << "n - 1 creates, then two bumps";
  Event bumped = from_json<Event>((*store->get("Event", *earlier))->parse()).value();
  EXPECT_EQ(bumped.count, 2);
  int twice = 0;
  for (const auto& r : listed->items) {
    Event ev = from_json<Event>(r->parse()).value();
    EXPECT_EQ(ev.reason, "Scheduled");
    if (ev.involvedObject.name == "vm-1") {
      EXPECT_EQ(ev.count, 2);
      EXPECT_EQ(ev.source.host, "host-b");
      ++twice;
    }
  }
  EXPECT_EQ(twice, 1);
}

// A store whose write_batch waits until open() (the asynchronous recorder's
// writer blocks there; the test thread never does).
class GatedStore final : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  std::vector<Result<store::RecordPtr>> write_batch(std::vector<store::BatchWrite> writes) override {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return open_; });
    }
    return ForwardingStore::write_batch(std::move(writes));
  }
  void open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

std::vector<events::EventWrite> scheduled_events(int n) {
  std::vector<events::EventWrite> out;
  for (int i = 0; i < n; ++i) {
    const std::string vm = "vm-" + std::to_string(i);
    out.push_back({{"VM", vm, "u" + std::to_string(i)}, "Normal", "Scheduled", "to node/a", "a"});
  }
  return out;
}

size_t stored_events(store::Store& store) {
  auto listed = store.list("Event", {});
  return listed.ok() ? listed->items.size() : 0;
}

// An asynchronous recorder of at most `queue` Events over a GatedStore.
struct GatedRecorder {
  explicit GatedRecorder(size_t queue) : events(store, clock, options_of(queue)) {}
  static events::EventRecorderOptions options_of(size_t queue) {
    events::EventRecorderOptions options;
    options.async_queue = queue;
    return options;
  }
  FakeClock clock;
  std::unique_ptr<store::Store> inner = store::open_memory_store(clock);
  GatedStore store{*inner};
  events::EventRecorder events;
};

TEST(LoopsEvents, AnAsynchronousRecorderQueuesAndFlushWaitsForTheWrites) {
  GatedRecorder r(100);
  ASSERT_TRUE(r.events.async());
  r.events.record_all(scheduled_events(3));  // returns though the store blocks
  EXPECT_EQ(stored_events(r.store), 0u);
  r.store.open();
  r.events.flush();
  EXPECT_EQ(stored_events(r.store), 3u);
  EXPECT_EQ(r.events.dropped(), 0u);
}

TEST(LoopsEvents, AFullQueueDropsAndCountsTheRestAndTheQueuedAreStillWritten) {
  GatedRecorder r(4);
  r.events.record_all(scheduled_events(10));  // queued under one lock: 4 fit
  EXPECT_EQ(r.events.dropped(), 6u);
  r.store.open();
  r.events.flush();
  EXPECT_EQ(stored_events(r.store), 4u);
}

TEST(LoopsEvents, WhatIsQueuedIsWrittenBeforeTheRecorderIsGone) {
  FakeClock clock;
  auto store = store::open_memory_store(clock);
  {
    events::EventRecorderOptions options;
    options.async_queue = 10'000;
    options.create_chunk = 100;
    events::EventRecorder events(*store, clock, options);
    events.record_all(scheduled_events(750));
  }
  EXPECT_EQ(stored_events(*store), 750u);
}

TEST(Kinds, NormalizeTypedEqualsNormalizingTheEncodedObject) {
  Event ev;
  ev.metadata.name = "vm-1.0123456789abcdef";
  ev.involvedObject = {"VM", "vm-1", "u1"};
  ev.type = "Normal";
  ev.reason = "Scheduled";
  ev.message = "Successfully assigned vm/vm-1 to node/a";
  ev.count = 1;
  auto typed = normalize_typed(ev);
  auto via_json = normalize_object(to_json(ev));
  ASSERT_TRUE(typed.ok()) << typed.error().message;
  ASSERT_TRUE(via_json.ok()) << via_json.error().message;
  EXPECT_EQ(typed->dump(), via_json->dump());
  ev.reason.clear();
  EXPECT_FALSE(normalize_typed(ev).ok()) << "validated as the API validates";
}

// 1,000 VMs created and bound in one pass, durably, through the writer pool.
class LoopsSqlite : public LoopsTest {
 protected:
  void SetUp() override {
    if (std::getenv("CORRAL_MEMSTORE")) {  // the throughput test without disk syncs
      store_ = store::open_memory_store(clock_);
      return;
    }
    auto opened = store::open_sqlite_store(dir_.file("corral.db"), clock_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
  }
  void TearDown() override {
    manager_.reset();
    store_.reset();  // closed before dir_ goes away
  }
  ControllerManagerOptions options() override {
    ControllerManagerOptions o = LoopsTest::options();
    // CORRAL_WRITERS: try other pool sizes in the throughput test.
    const char* writers = std::getenv("CORRAL_WRITERS");
    o.writer_threads = writers ? std::strtoul(writers, nullptr, 10) : 128;
    return o;
  }
  corral::testing::TempDir dir_;
};

TEST_F(LoopsSqlite, BindsAThousandVmsInOneBatch) {
  add_pool("web");
  std::vector<std::string> nodes;
  for (int i = 0; i < 50; ++i) {
    nodes.push_back("host-" + std::to_string(i));
    add_node(nodes.back(), 64, 256);
  }
  add_vmset("app", 1000, 0.5, 1);
  const auto started = std::chrono::steady_clock::now();
  pass_renewing(nodes);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  std::vector<VM> vms = vms_of("app");
  ASSERT_THAT(vms, SizeIs(1000));
  std::map<std::string, int> per_node;
  for (const VM& vm : vms) {
    ASSERT_FALSE(vm.spec.nodeName.empty()) << vm.metadata.name;
    EXPECT_EQ(vm.spec.epoch, 1);
    EXPECT_EQ(vm.status.phase, "Scheduled");
    ++per_node[vm.spec.nodeName];
  }
  EXPECT_EQ(per_node.size(), 50u);  // spread
  EXPECT_EQ(counter("corral_scheduler_bindings_total"), 1000);
  std::printf("created and bound 1000 VMs into SQLite in %lld ms\n",
              static_cast<long long>(took.count()));
}

}  // namespace loops_cache_test
}  // namespace corral::loops::testing
