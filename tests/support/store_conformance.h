// The Store contract (controller/store/store.h) as a parameterized suite,
// checked on every backend: the fixture and the tests, the same for all.
// Included by one test file per executable, which names its backends:
//   INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance,
//                            ::testing::Values(StoreBackend{"memory", open_fn}, ...),
//                            backend_name);
// unit/store_conformance_test.cpp: memory, sqlite; integration/
// etcd_store_conformance.cpp: etcd (one member, three members).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <thread>

#include "api/json.h"
#include "controller/store/batch_write.h"
#include "base/clock.h"
#include "controller/store/store.h"
#include <functional>
#include <string>

#include "tests/support/temp_dir.h"

namespace corral::store {
namespace store_conformance_test {

using namespace std::chrono_literals;

// Long enough never to flake, never waited out when an event is due.
constexpr auto kEventDue = 2000ms;
// How long we wait to conclude that no event is coming.
constexpr auto kNoEvent = 20ms;

inline Json object(const std::string& kind, const std::string& name, Json spec = Json::object(),
            Labels labels = {}) {
  Json o = {{"apiVersion", "corral/v1"}, {"kind", kind}, {"metadata", {{"name", name}}}};
  if (!labels.empty()) o["metadata"]["labels"] = labels;
  if (kind != "Event") o["spec"] = std::move(spec);
  return o;
}

inline Json owned_by(Json o, const Record& owner) {
  o["metadata"]["ownerReferences"] = Json::array({{{"apiVersion", "corral/v1"},
                                                   {"kind", owner.kind},
                                                   {"name", owner.name},
                                                   {"uid", owner.uid},
                                                   {"controller", true}}});
  return o;
}

inline std::vector<std::string> names(const ListResult& r) {
  std::vector<std::string> out;
  for (const auto& item : r.items) out.push_back(item->name);
  return out;
}

// One backend under test: how to open a fresh, empty store of it. `opened`
// counts the stores this test opened (1, 2, ...), for distinct files or prefixes.
struct StoreBackend {
  std::string name;
  std::function<Result<std::unique_ptr<Store>>(const Clock& clock, StoreOptions options,
                                               testing::TempDir& dir, int opened)>
      open;
};

inline std::string backend_name(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param.name;
}

class StoreConformance : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override { open({}); }

  void open(StoreOptions options) {
    store_.reset();
    auto s = GetParam().open(clock_, options, dir_, ++opened_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
  }

  RecordPtr create(Json o) {
    std::string kind = o["kind"];
    auto r = store_->create(kind, std::move(o));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : nullptr;
  }

  WatchEvent next_event(Watch& w) {
    auto e = w.next(kEventDue);
    EXPECT_TRUE(e.ok()) << e.error().message;
    if (!e.ok() || !e->has_value()) {
      ADD_FAILURE() << "no event";
      return {};
    }
    return **e;
  }

  void expect_no_event(Watch& w) {
    auto e = w.next(kNoEvent);
    ASSERT_TRUE(e.ok()) << e.error().message;
    EXPECT_FALSE(e->has_value()) << "unexpected " << watch_event_type_name((*e)->type) << " "
                                 << (*e)->object->name;
  }

  testing::TempDir dir_;
  FakeClock clock_;
  int opened_ = 0;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformance, CreateFillsMetadata) {
  RecordPtr r = create(object("VM", "web-1", {{"cpu", "1"}}, {{"app", "web"}}));
  ASSERT_TRUE(r);
  Json o = r->parse();
  EXPECT_EQ(o["metadata"]["name"], "web-1");
  EXPECT_EQ(o["metadata"]["uid"].get<std::string>().size(), 36u);
  EXPECT_EQ(o["metadata"]["uid"], r->uid);
  EXPECT_EQ(o["metadata"]["creationTimestamp"], format_time(clock_.now()));
  EXPECT_EQ(o["metadata"]["generation"], 1);
  EXPECT_EQ(o["metadata"]["resourceVersion"], std::to_string(r->revision));
  EXPECT_EQ(r->generation, 1);
  EXPECT_EQ(r->labels, (Labels{{"app", "web"}}));
  EXPECT_EQ(store_->revision(), r->revision);

  auto got = store_->get("VM", "web-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)->json, r->json);
}

TEST_P(StoreConformance, CreateOfTakenNameIsAlreadyExists) {
  create(object("Pool", "web"));
  auto again = store_->create("Pool", object("Pool", "web"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.error().message, "pools \"web\" already exists");
  // The same name in another kind is another object.
  EXPECT_TRUE(store_->create("VMSet", object("VMSet", "web")).ok());
}

TEST_P(StoreConformance, MissingObjectIsNotFound) {
  auto got = store_->get("VM", "web-1");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(got.error().message, "vms \"web-1\" not found");
  auto upd = store_->update("VM", object("VM", "web-1"));
  EXPECT_EQ(upd.error().code, ErrorCode::kNotFound);
  auto st = store_->update_status("VM", object("VM", "web-1"));
  EXPECT_EQ(st.error().code, ErrorCode::kNotFound);
  auto del = store_->remove("VM", "web-1");
  EXPECT_EQ(del.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreConformance, ListIsSortedByNameAtTheStoreRevision) {
  create(object("VM", "c"));
  create(object("VM", "a"));
  create(object("VM", "b"));
  create(object("Node", "n1"));
  auto list = store_->list("VM", {});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(names(*list), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(list->revision, store_->revision());
  auto none = store_->list("Pool", {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->items.empty());
}

TEST_P(StoreConformance, ListFiltersByLabelSelector) {
  create(object("VM", "a", {}, {{"app", "web"}, {"tier", "front"}}));
  create(object("VM", "b", {}, {{"app", "db"}}));
  create(object("VM", "c", {}, {{"app", "web"}}));
  ListOptions opts;
  opts.labels = *Selector::parse("app=web");
  EXPECT_EQ(names(*store_->list("VM", opts)), (std::vector<std::string>{"a", "c"}));
  opts.labels = *Selector::parse("app=web,!tier");
  EXPECT_EQ(names(*store_->list("VM", opts)), (std::vector<std::string>{"c"}));
}

TEST_P(StoreConformance, ListFiltersByFieldSelector) {
  create(object("VM", "a", {{"nodeName", "n1"}}));
  create(object("VM", "b", {{"nodeName", "n2"}}));
  create(object("VM", "c"));
  ListOptions opts;
  opts.fields = *parse_field_selector("spec.nodeName=n1");
  EXPECT_EQ(names(*store_->list("VM", opts)), (std::vector<std::string>{"a"}));
  opts.fields = *parse_field_selector("spec.nodeName!=n1");
  EXPECT_EQ(names(*store_->list("VM", opts)), (std::vector<std::string>{"b", "c"}));
  // An absent field reads as "", as in Kubernetes (unbound VMs).
  opts.fields = *parse_field_selector("spec.nodeName=");
  EXPECT_EQ(names(*store_->list("VM", opts)), (std::vector<std::string>{"c"}));
  opts.fields = *parse_field_selector("metadata.name=b");
  EXPECT_EQ(names(*store_->list("VM", opts)), (std::vector<std::string>{"b"}));
}

// A page (ListOptions::after, limit) walks the name order from `after`, on
// every path the store may take: the whole kind, an indexed field's names,
// metadata.name; `more` says whether a matching record remains past it.
TEST_P(StoreConformance, ListPagesFromAfterUpToLimit) {
  for (const char* name : {"a", "b", "c", "d", "e"})
    create(object("VM", name, {{"nodeName", std::string(name) < "d" ? "n1" : "n2"}}, {{"app", "web"}}));
  create(object("VM", "f", {{"nodeName", "n1"}}, {{"app", "db"}}));
  using Names = std::vector<std::string>;
  struct Page {
    Names names;
    bool more;
    bool operator==(const Page&) const = default;
  };
  auto page = [&](const std::string& fields, const std::string& labels, const std::string& after,
                  size_t limit) {
    ListOptions opts;
    if (!fields.empty()) opts.fields = *parse_field_selector(fields);
    if (!labels.empty()) opts.labels = *Selector::parse(labels);
    opts.after = after;
    opts.limit = limit;
    auto list = store_->list("VM", opts);
    EXPECT_TRUE(list.ok());
    if (!list.ok()) return Page{};
    EXPECT_EQ(list->of_kind, 6u);
    return Page{names(*list), list->more};
  };
  EXPECT_EQ(page("", "", "", 2), (Page{{"a", "b"}, true}));
  EXPECT_EQ(page("", "", "b", 2), (Page{{"c", "d"}, true}));
  EXPECT_EQ(page("", "", "d", 2), (Page{{"e", "f"}, false})) << "exactly full: nothing remains";
  EXPECT_EQ(page("", "", "bb", 0), (Page{{"c", "d", "e", "f"}, false})) << "after a name not stored";
  EXPECT_EQ(page("", "", "f", 2), (Page{{}, false}));
  // An indexed field: its names from `after`.
  EXPECT_EQ(page("spec.nodeName=n1", "", "", 2), (Page{{"a", "b"}, true}));
  EXPECT_EQ(page("spec.nodeName=n1", "", "b", 1), (Page{{"c"}, true}));
  EXPECT_EQ(page("spec.nodeName=n1", "", "c", 5), (Page{{"f"}, false}));
  // Records that do not match neither fill the page nor count as more.
  EXPECT_EQ(page("spec.nodeName=n1", "app=web", "b", 1), (Page{{"c"}, false}));
  EXPECT_EQ(page("", "app=web", "c", 2), (Page{{"d", "e"}, false}));
  EXPECT_EQ(page("metadata.name=c", "", "b", 1), (Page{{"c"}, false}));
  EXPECT_EQ(page("metadata.name=c", "", "c", 1), (Page{{}, false}));
}

TEST_P(StoreConformance, FieldSelectorFollowsUpdatesAndDeletes) {
  RecordPtr a = create(object("VM", "a", {{"nodeName", "n1"}}));
  create(object("VM", "b", {{"nodeName", "n1"}}));
  auto on = [&](const std::string& selector) {
    ListOptions opts;
    opts.fields = *parse_field_selector(selector);
    return names(*store_->list("VM", opts));
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(on("spec.nodeName=n1"), (Names{"a", "b"}));
  Json o = a->parse();
  o["spec"]["nodeName"] = "n2";
  auto a2 = store_->update("VM", o);
  ASSERT_TRUE(a2.ok());
  EXPECT_EQ(on("spec.nodeName=n1"), (Names{"b"}));
  EXPECT_EQ(on("spec.nodeName=n2"), (Names{"a"}));
  o = (*a2)->parse();
  o["status"] = {{"phase", "Running"}};
  ASSERT_TRUE(store_->update_status("VM", o).ok());
  EXPECT_EQ(on("spec.nodeName=n2,status.phase=Running"), (Names{"a"}));
  EXPECT_EQ(on("status.phase!=Running,spec.nodeName=n2"), (Names{}));
  EXPECT_EQ(on("status.phase!=Running"), (Names{"b"}));
  EXPECT_EQ(on("metadata.name=a,spec.nodeName=n1"), (Names{}));
  ASSERT_TRUE(store_->remove("VM", "a").ok());
  EXPECT_EQ(on("spec.nodeName=n2"), (Names{}));
  EXPECT_EQ(on("metadata.name=a"), (Names{}));
}

TEST_P(StoreConformance, UnsupportedFieldSelectorIsBadRequest) {
  ListOptions opts;
  opts.fields = *parse_field_selector("spec.replicas=3");
  auto list = store_->list("VMSet", opts);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(list.error().message, "field label not supported: spec.replicas");
  auto w = store_->watch("VMSet", 0, opts);
  EXPECT_EQ(w.error().code, ErrorCode::kBadRequest);
}

TEST_P(StoreConformance, UpdateWithStaleResourceVersionConflicts) {
  RecordPtr v1 = create(object("VMSet", "web", {{"replicas", 1}}));
  Json o = v1->parse();
  o["spec"]["replicas"] = 2;
  ASSERT_TRUE(store_->update("VMSet", o).ok());
  o["spec"]["replicas"] = 3;  // still carries v1's resourceVersion
  auto stale = store_->update("VMSet", o);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  EXPECT_EQ(stale.error().message,
            "the object has been modified; please apply your changes to the latest version and "
            "try again");
  auto st = store_->update_status("VMSet", o);
  EXPECT_EQ(st.error().code, ErrorCode::kConflict);
  // Without a resourceVersion the update is unconditional.
  o["metadata"].erase("resourceVersion");
  EXPECT_TRUE(store_->update("VMSet", o).ok());
}

TEST_P(StoreConformance, UpdateWithWrongUidConflicts) {
  RecordPtr v1 = create(object("VMSet", "web", {{"replicas", 1}}));
  Json o = v1->parse();
  o["metadata"]["uid"] = "00000000-0000-4000-8000-000000000000";
  o["spec"]["replicas"] = 2;
  EXPECT_EQ(store_->update("VMSet", o).error().code, ErrorCode::kConflict);
}

TEST_P(StoreConformance, GenerationBumpsOnlyWhenSpecChanges) {
  RecordPtr v1 = create(object("VMSet", "web", {{"replicas", 1}}));
  Json o = v1->parse();
  o["metadata"]["labels"] = {{"team", "a"}};
  auto v2 = store_->update("VMSet", o);
  ASSERT_TRUE(v2.ok());
  EXPECT_GT((*v2)->revision, v1->revision);
  EXPECT_EQ((*v2)->generation, 1);
  EXPECT_EQ((*v2)->labels, (Labels{{"team", "a"}}));

  o = (*v2)->parse();
  o["spec"]["replicas"] = 5;
  auto v3 = store_->update("VMSet", o);
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ((*v3)->generation, 2);
  Json stored = (*v3)->parse();
  EXPECT_EQ(stored["metadata"]["generation"], 2);
  EXPECT_EQ(stored["metadata"]["uid"], v1->uid);
  EXPECT_EQ(stored["metadata"]["creationTimestamp"], v1->parse()["metadata"]["creationTimestamp"]);
}

TEST_P(StoreConformance, GenerationOfKindWithoutSpecCountsEverythingButMetadata) {
  Json ev = object("Event", "e1");
  ev["reason"] = "Scheduled";
  ev["message"] = "bound";
  RecordPtr v1 = create(ev);
  Json o = v1->parse();
  o["metadata"]["labels"] = {{"a", "b"}};
  auto v2 = store_->update("Event", o);
  EXPECT_EQ((*v2)->generation, 1);
  o = (*v2)->parse();
  o["message"] = "rebound";
  auto v3 = store_->update("Event", o);
  EXPECT_EQ((*v3)->generation, 2);
}

TEST_P(StoreConformance, UpdateThatChangesNothingWritesNothing) {
  RecordPtr v1 = create(object("VMSet", "web", {{"replicas", 1}}, {{"app", "web"}}));
  int64_t before = store_->revision();
  auto w = store_->watch("VMSet", before);
  ASSERT_TRUE(w.ok());
  // Same object, and the same object with its metadata keys in another order.
  auto same = store_->update("VMSet", v1->parse());
  ASSERT_TRUE(same.ok());
  EXPECT_EQ((*same)->revision, v1->revision);
  Json reordered = object("VMSet", "web", {{"replicas", 1}});
  reordered["metadata"] = {{"labels", {{"app", "web"}}}, {"name", "web"}};
  auto again = store_->update("VMSet", reordered);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->revision, v1->revision);
  auto st = store_->update_status("VMSet", v1->parse());
  EXPECT_EQ((*st)->revision, v1->revision);
  EXPECT_EQ(store_->revision(), before);
  expect_no_event(**w);
}

TEST_P(StoreConformance, UpdateStatusTouchesOnlyStatus) {
  RecordPtr v1 = create(object("VM", "web-1", {{"cpu", "1"}}));
  Json o = v1->parse();
  o["spec"]["cpu"] = "8";                  // ignored on /status
  o["metadata"]["labels"] = {{"x", "y"}};  // ignored on /status
  o["status"] = {{"phase", "Running"}};
  auto v2 = store_->update_status("VM", o);
  ASSERT_TRUE(v2.ok()) << v2.error().message;
  Json stored = (*v2)->parse();
  EXPECT_EQ(stored["spec"]["cpu"], "1");
  EXPECT_EQ(stored["status"]["phase"], "Running");
  EXPECT_FALSE(stored["metadata"].contains("labels"));
  EXPECT_EQ((*v2)->generation, 1);
  EXPECT_GT((*v2)->revision, v1->revision);
  EXPECT_EQ(stored["metadata"]["resourceVersion"], std::to_string((*v2)->revision));
  // The status is selectable at once.
  ListOptions opts;
  opts.fields = *parse_field_selector("status.phase=Running");
  EXPECT_EQ(names(*store_->list("VM", opts)), (std::vector<std::string>{"web-1"}));
}

TEST_P(StoreConformance, MainUpdateDoesNotTouchStatus) {
  RecordPtr v1 = create(object("VM", "web-1", {{"cpu", "1"}}));
  Json o = v1->parse();
  o["status"] = {{"phase", "Running"}};
  auto v2 = store_->update_status("VM", o);
  ASSERT_TRUE(v2.ok());
  o = (*v2)->parse();
  o["spec"]["cpu"] = "2";
  o["status"] = {{"phase", "Failed"}};  // ignored on the main path
  auto v3 = store_->update("VM", o);
  ASSERT_TRUE(v3.ok());
  Json stored = (*v3)->parse();
  EXPECT_EQ(stored["spec"]["cpu"], "2");
  EXPECT_EQ(stored["status"]["phase"], "Running");
  // And an update without status keeps it too.
  o = stored;
  o.erase("status");
  o["spec"]["cpu"] = "3";
  auto v4 = store_->update("VM", o);
  EXPECT_EQ((*v4)->parse()["status"]["phase"], "Running");
}

TEST_P(StoreConformance, WriteBatchChecksEachEntryAndCommitsThePassedOnes) {
  RecordPtr a = create(object("VM", "a", {{"cpu", "1"}}));
  RecordPtr b = create(object("VM", "b", {{"cpu", "1"}}));
  RecordPtr c = create(object("VM", "c", {{"cpu", "1"}}));
  auto w = store_->watch("VM", store_->revision());
  ASSERT_TRUE(w.ok());

  Json bind_a = a->parse();  // spec and status in one write
  bind_a["spec"]["nodeName"] = "host-1";
  bind_a["status"] = {{"phase", "Scheduled"}};
  Json stale_b = b->parse();  // b changes before the batch: its entry conflicts
  ASSERT_TRUE(store_->update_status("VM", [&] {
                      Json o = b->parse();
                      o["status"] = {{"phase", "Lost"}};
                      return o;
                    }())
                  .ok());
  stale_b["status"] = {{"phase", "Scheduled"}};
  Json status_c = c->parse();  // status only: the spec edit is ignored
  status_c["spec"]["cpu"] = "9";
  status_c["status"] = {{"phase", "Pending"}, {"message", "0/3 nodes are available"}};
  Json missing = object("VM", "gone");

  auto results = store_->write_batch({{BatchWrite::Part::kSpecAndStatus, "VM", bind_a},
                                      {BatchWrite::Part::kSpecAndStatus, "VM", stale_b},
                                      {BatchWrite::Part::kStatus, "VM", status_c},
                                      {BatchWrite::Part::kStatus, "VM", missing}});
  ASSERT_EQ(results.size(), 4u);
  ASSERT_TRUE(results[0].ok()) << results[0].error().message;
  Json stored_a = (*results[0])->parse();
  EXPECT_EQ(stored_a["spec"]["nodeName"], "host-1");
  EXPECT_EQ(stored_a["status"]["phase"], "Scheduled");
  EXPECT_EQ((*results[0])->generation, 2);  // the spec changed
  EXPECT_EQ(stored_a["metadata"]["uid"], a->uid);
  ASSERT_FALSE(results[1].ok());
  EXPECT_EQ(results[1].error().code, ErrorCode::kConflict);
  ASSERT_TRUE(results[2].ok()) << results[2].error().message;
  Json stored_c = (*results[2])->parse();
  EXPECT_EQ(stored_c["spec"]["cpu"], "1");
  EXPECT_EQ(stored_c["status"]["message"], "0/3 nodes are available");
  EXPECT_EQ((*results[2])->generation, 1);
  ASSERT_FALSE(results[3].ok());
  EXPECT_EQ(results[3].error().code, ErrorCode::kNotFound);

  // What the store holds and what watchers see: b's own write, then a and c.
  EXPECT_EQ((*store_->get("VM", "b"))->parse()["status"]["phase"], "Lost");
  EXPECT_EQ((*store_->get("VM", "a"))->revision, (*results[0])->revision);
  EXPECT_EQ(next_event(**w).object->name, "b");
  WatchEvent ea = next_event(**w);
  WatchEvent ec = next_event(**w);
  EXPECT_EQ(ea.object->name, "a");
  EXPECT_EQ(ec.object->name, "c");
  EXPECT_EQ(ec.revision, ea.revision + 1);
  expect_no_event(**w);
}

TEST_P(StoreConformance, WriteBatchEntriesSeeTheEntriesBeforeThem) {
  RecordPtr a = create(object("VM", "a", {{"cpu", "1"}}));
  Json first = a->parse();
  first["status"] = {{"phase", "Scheduled"}};
  Json second = a->parse();  // same resourceVersion: the first entry made it stale
  second["status"] = {{"phase", "Running"}};
  Json unconditional = a->parse();
  unconditional["metadata"].erase("resourceVersion");
  unconditional["status"] = {{"phase", "Running"}};
  auto results = store_->write_batch({{BatchWrite::Part::kStatus, "VM", first},
                                      {BatchWrite::Part::kStatus, "VM", second},
                                      {BatchWrite::Part::kStatus, "VM", unconditional}});
  ASSERT_TRUE(results[0].ok());
  ASSERT_FALSE(results[1].ok());
  EXPECT_EQ(results[1].error().code, ErrorCode::kConflict);
  ASSERT_TRUE(results[2].ok());
  EXPECT_EQ((*results[2])->revision, (*results[0])->revision + 1);
  EXPECT_EQ((*store_->get("VM", "a"))->parse()["status"]["phase"], "Running");
}

TEST_P(StoreConformance, WriteBatchCreatesObjectsAndRefusesTakenNames) {
  RecordPtr taken = create(object("Event", "taken"));
  auto w = store_->watch("Event", store_->revision());
  ASSERT_TRUE(w.ok());
  auto results = store_->write_batch({{BatchWrite::Part::kCreate, "Event", object("Event", "e1")},
                                      {BatchWrite::Part::kCreate, "Event", object("Event", "taken")},
                                      {BatchWrite::Part::kCreate, "Event", object("Event", "e2")},
                                      {BatchWrite::Part::kCreate, "Event", object("Event", "e1")}});
  ASSERT_EQ(results.size(), 4u);
  ASSERT_TRUE(results[0].ok()) << results[0].error().message;
  ASSERT_FALSE(results[1].ok());
  EXPECT_EQ(results[1].error().code, ErrorCode::kAlreadyExists);
  ASSERT_TRUE(results[2].ok()) << results[2].error().message;
  ASSERT_FALSE(results[3].ok()) << "an entry sees the entries before it";
  EXPECT_EQ(results[3].error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ((*results[2])->revision, (*results[0])->revision + 1);
  EXPECT_FALSE((*results[0])->uid.empty());
  EXPECT_NE((*results[0])->uid, (*results[2])->uid);
  EXPECT_EQ((*results[0])->generation, 1);
  EXPECT_EQ((*store_->get("Event", "taken"))->uid, taken->uid) << "the taken name is untouched";
  EXPECT_EQ((*store_->get("Event", "e2"))->revision, (*results[2])->revision);
  WatchEvent e1 = next_event(**w);
  WatchEvent e2 = next_event(**w);
  EXPECT_EQ(e1.type, WatchEvent::Type::kAdded);
  EXPECT_EQ(e1.object->name, "e1");
  EXPECT_EQ(e2.object->name, "e2");
  expect_no_event(**w);
}

TEST_P(StoreConformance, WriteBatchThatChangesNothingWritesNothing) {
  RecordPtr a = create(object("VM", "a", {{"cpu", "1"}}));
  const int64_t before = store_->revision();
  auto results = store_->write_batch({{BatchWrite::Part::kSpecAndStatus, "VM", a->parse()}});
  ASSERT_TRUE(results[0].ok());
  EXPECT_EQ((*results[0])->revision, a->revision);
  EXPECT_EQ(store_->revision(), before);
  EXPECT_TRUE(store_->write_batch({}).empty());
}

TEST_P(StoreConformance, RemoveCascadesThroughOwnerReferences) {
  RecordPtr set = create(object("VMSet", "web"));
  RecordPtr vm1 = create(owned_by(object("VM", "web-1"), *set));
  RecordPtr vm2 = create(owned_by(object("VM", "web-2"), *set));
  RecordPtr grandchild = create(owned_by(object("Balancer", "web-1-lb"), *vm1));
  RecordPtr other = create(object("VM", "db-1"));
  int64_t before = store_->revision();
  auto w = store_->watch("", before);
  ASSERT_TRUE(w.ok());

  auto removed = store_->remove("VMSet", "web");
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ((*removed)->name, "web");
  EXPECT_GT((*removed)->revision, before);
  EXPECT_EQ(store_->get("VMSet", "web").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->get("VM", "web-1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->get("VM", "web-2").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->get("Balancer", "web-1-lb").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->get("VM", "db-1").ok());

  std::set<std::string> deleted;
  int64_t last = before;
  for (int i = 0; i < 4; ++i) {
    WatchEvent e = next_event(**w);
    EXPECT_EQ(e.type, WatchEvent::Type::kDeleted);
    if (!e.object) continue;
    EXPECT_GT(e.revision, last);
    last = e.revision;
    deleted.insert(e.object->kind + "/" + e.object->name);
  }
  EXPECT_EQ(deleted,
            (std::set<std::string>{"VMSet/web", "VM/web-1", "VM/web-2", "Balancer/web-1-lb"}));
  EXPECT_EQ(store_->revision(), last);
  expect_no_event(**w);
}

TEST_P(StoreConformance, RemovePreconditionsAreChecked) {
  RecordPtr v1 = create(object("Pool", "web"));
  auto wrong_uid = store_->remove("Pool", "web", {"00000000-0000-4000-8000-000000000000", ""});
  EXPECT_EQ(wrong_uid.error().code, ErrorCode::kConflict);
  auto stale = store_->remove("Pool", "web", {"", std::to_string(v1->revision - 1)});
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(store_->remove("Pool", "web", {v1->uid, std::to_string(v1->revision)}).ok());
}

TEST_P(StoreConformance, RevisionsIncreaseStrictlyAcrossKinds) {
  int64_t last = store_->revision();
  for (const char* kind : {"Node", "Pool", "VMSet", "VM", "Balancer", "Event", "VM"}) {
    RecordPtr r = create(object(kind, std::string("x-") + std::to_string(last)));
    ASSERT_TRUE(r);
    EXPECT_GT(r->revision, last);
    last = r->revision;
  }
  EXPECT_EQ(store_->revision(), last);
}

TEST_P(StoreConformance, WatchFromZeroListsCurrentObjectsThenFollows) {
  create(object("VM", "b"));
  create(object("VM", "a"));
  create(object("Node", "n1"));
  auto w = store_->watch("VM", 0);
  ASSERT_TRUE(w.ok());
  std::set<std::string> added;
  for (int i = 0; i < 2; ++i) {
    WatchEvent e = next_event(**w);
    EXPECT_EQ(e.type, WatchEvent::Type::kAdded);
    if (e.object) added.insert(e.object->name);
  }
  EXPECT_EQ(added, (std::set<std::string>{"a", "b"}));
  expect_no_event(**w);

  RecordPtr c = create(object("VM", "c"));
  create(object("Node", "n2"));  // another kind: not seen
  WatchEvent e = next_event(**w);
  EXPECT_EQ(e.type, WatchEvent::Type::kAdded);
  EXPECT_EQ(e.object, c);
  EXPECT_EQ(e.revision, c->revision);

  Json o = c->parse();
  o["spec"]["cpu"] = "2";
  auto c2 = store_->update("VM", o);
  e = next_event(**w);
  EXPECT_EQ(e.type, WatchEvent::Type::kModified);
  EXPECT_EQ(e.object->revision, (*c2)->revision);
  expect_no_event(**w);
}

TEST_P(StoreConformance, WatchFromRevisionReplaysLaterEvents) {
  create(object("VM", "a"));
  int64_t from = store_->revision();
  RecordPtr b = create(object("VM", "b"));
  ASSERT_TRUE(store_->remove("VM", "a").ok());
  auto w = store_->watch("VM", from);
  ASSERT_TRUE(w.ok());
  WatchEvent e1 = next_event(**w);
  EXPECT_EQ(e1.type, WatchEvent::Type::kAdded);
  EXPECT_EQ(e1.object->name, "b");
  WatchEvent e2 = next_event(**w);
  EXPECT_EQ(e2.type, WatchEvent::Type::kDeleted);
  EXPECT_EQ(e2.object->name, "a");
  // Live events follow the replay.
  create(object("VM", "c"));
  EXPECT_EQ(next_event(**w).object->name, "c");
  expect_no_event(**w);
}

TEST_P(StoreConformance, DeletedEventCarriesLastVersionAtDeleteRevision) {
  RecordPtr a = create(object("VM", "a", {{"cpu", "1"}}));
  auto w = store_->watch("VM", store_->revision());
  auto removed = store_->remove("VM", "a");
  ASSERT_TRUE(removed.ok());
  WatchEvent e = next_event(**w);
  EXPECT_EQ(e.type, WatchEvent::Type::kDeleted);
  EXPECT_EQ(e.revision, store_->revision());
  EXPECT_EQ(e.object->revision, e.revision);
  EXPECT_EQ(e.object->uid, a->uid);
  Json o = e.object->parse();
  EXPECT_EQ(o["spec"]["cpu"], "1");
  EXPECT_EQ(o["metadata"]["resourceVersion"], std::to_string(e.revision));
}

TEST_P(StoreConformance, WatchFromRevisionNewerThanTheStoreIsAnError) {
  create(object("VM", "a"));
  const int64_t now = store_->revision();
  auto same = store_->watch("VM", now);
  EXPECT_TRUE(same.ok()) << "the current revision is fine";
  auto ahead = store_->watch("VM", now + 1);
  ASSERT_FALSE(ahead.ok()) << "silence would skip every event up to it";
  EXPECT_EQ(ahead.error().code, ErrorCode::kTimeout);
  EXPECT_EQ(ahead.error().message,
            "too large resource version: " + std::to_string(now + 1) +
                ", current: " + std::to_string(now));
}

TEST_P(StoreConformance, WatchFromRevisionOlderThanHistoryIsGone) {
  open({.history_events = 3});
  for (int i = 0; i < 6; ++i) create(object("VM", "vm-" + std::to_string(i)));
  int64_t now = store_->revision();
  auto old = store_->watch("VM", 1);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, ErrorCode::kGone);
  EXPECT_EQ(old.error().message.rfind("too old resource version: 1 (", 0), 0u)
      << old.error().message;
  // The last three events are still kept.
  auto recent = store_->watch("VM", now - 3);
  ASSERT_TRUE(recent.ok()) << recent.error().message;
  EXPECT_EQ(next_event(**recent).object->name, "vm-3");
}

TEST_P(StoreConformance, FilteredWatchSeesObjectsMoveInAndOut) {
  ListOptions filter;
  filter.labels = *Selector::parse("app=web");
  create(object("VM", "web-1", {}, {{"app", "web"}}));
  create(object("VM", "db-1", {}, {{"app", "db"}}));
  auto w = store_->watch("VM", 0, filter);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(next_event(**w).object->name, "web-1");
  expect_no_event(**w);

  create(object("VM", "db-2", {}, {{"app", "db"}}));
  expect_no_event(**w);

  // db-1 relabelled into the filter: ADDED; web-1 out of it: DELETED.
  Json db1 = (*store_->get("VM", "db-1"))->parse();
  db1["metadata"]["labels"]["app"] = "web";
  ASSERT_TRUE(store_->update("VM", db1).ok());
  WatchEvent in = next_event(**w);
  EXPECT_EQ(in.type, WatchEvent::Type::kAdded);
  EXPECT_EQ(in.object->name, "db-1");
  Json web1 = (*store_->get("VM", "web-1"))->parse();
  web1["metadata"]["labels"]["app"] = "other";
  ASSERT_TRUE(store_->update("VM", web1).ok());
  WatchEvent out = next_event(**w);
  EXPECT_EQ(out.type, WatchEvent::Type::kDeleted);
  EXPECT_EQ(out.object->name, "web-1");

  // A field-selected watch, as an agent follows the VMs bound to its node.
  ListOptions mine;
  mine.fields = *parse_field_selector("spec.nodeName=n1");
  auto agent = store_->watch("VM", store_->revision(), mine);
  ASSERT_TRUE(agent.ok());
  create(object("VM", "bound", {{"nodeName", "n1"}}));
  create(object("VM", "elsewhere", {{"nodeName", "n2"}}));
  EXPECT_EQ(next_event(**agent).object->name, "bound");
  expect_no_event(**agent);
}

TEST_P(StoreConformance, WatchOfAllKinds) {
  auto w = store_->watch("", 0);
  ASSERT_TRUE(w.ok());
  create(object("Node", "n1"));
  create(object("Pool", "p1"));
  EXPECT_EQ(next_event(**w).object->kind, "Node");
  EXPECT_EQ(next_event(**w).object->kind, "Pool");
}

TEST_P(StoreConformance, SlowWatcherIsClosedWithGone) {
  open({.watch_buffer = 2});
  auto slow = store_->watch("VM", 0);
  auto fast = store_->watch("VM", 0);
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE(fast.ok());
  EXPECT_EQ(store_->open_watches(), 2u);
  for (int i = 0; i < 5; ++i) {
    create(object("VM", "vm-" + std::to_string(i)));
    // The fast one keeps up.
    EXPECT_EQ(next_event(**fast).object->name, "vm-" + std::to_string(i));
  }
  auto e = (*slow)->next(kEventDue);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, ErrorCode::kGone);
  EXPECT_EQ(store_->open_watches(), 1u);
  fast->reset();
  EXPECT_EQ(store_->open_watches(), 0u);
}

TEST_P(StoreConformance, ConcurrentCreatesAreAllAcknowledgedWithDistinctRevisions) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::vector<std::vector<int64_t>> revisions(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r =
            store_->create("VM", object("VM", "vm-" + std::to_string(t) + "-" + std::to_string(i)));
        if (!r.ok()) {
          ++failures;
          continue;
        }
        revisions[t].push_back((*r)->revision);
        // Acknowledged means visible.
        if (!store_->get("VM", (*r)->name).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::set<int64_t> all;
  for (const auto& per : revisions) {
    for (size_t i = 1; i < per.size(); ++i) EXPECT_GT(per[i], per[i - 1]);
    all.insert(per.begin(), per.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(store_->list("VM", {})->items.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(store_->revision(), *all.rbegin());
  EXPECT_TRUE(store_->healthy().ok());
}

}  // namespace store_conformance_test
}  // namespace corral::store
