// The libvirt driver against libvirt's built-in mock hypervisor,
// test:///default: real libvirt API calls, no daemon, no KVM.
//
// test:///default's state (its domains) lives in the process and is shared by
// every connection to it while one is open; it is dropped when the last one
// closes. Each test holds an observer connection for its whole life — so that
// a second driver sees the first one's domains, as an agent restart would —
// and closes it at the end, so the next test starts from the default state
// again (one domain, "test", which is not Corral's).
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <thread>

#include "agent/drivers/driver.h"
#include "agent/drivers/libvirt_driver.h"
#include "agent/drivers/libvirt_xml.h"

namespace corral::agent {
namespace agent_libvirt_driver_test {

using namespace std::chrono_literals;

constexpr int64_t kMiB = 1024 * 1024;

class LibvirtDriverTest : public ::testing::Test {
 protected:
  LibvirtDriverTest() {
    install_libvirt_error_handler();
    observer_ = virConnectOpen("test:///default");
    options_.libvirt_uri = "test:///default";
    // test:///default shuts a domain down at once; a stuck guest would be
    // forced off after this.
    options_.stop_grace = 200ms;
    options_.stop_poll = 5ms;
    options_.clock = &clock_;
    driver_ = make();
  }
  ~LibvirtDriverTest() override {
    if (driver_)
      for (const auto& s : driver_->list()) (void)driver_->destroy(s.name);
    driver_.reset();
    if (observer_) virConnectClose(observer_);
  }

  std::unique_ptr<LibvirtDriver> make() {
    auto d = LibvirtDriver::open(options_);
    EXPECT_TRUE(d.ok()) << d.error().message;
    return d ? std::move(d).value() : nullptr;
  }

  static VmInstance vm(const std::string& name, int64_t epoch = 5) {
    VmInstance v;
    v.name = name;
    v.node = "host-1";
    v.epoch = epoch;
    v.resources.cpu = Quantity::from_milli(1500);
    v.resources.memory = Quantity::from_bytes(64 * kMiB);
    return v;
  }

  // The domain as another libvirt client sees it; null when it does not exist.
  DomainRef lookup(const std::string& domain) {
    return DomainRef(virDomainLookupByName(observer_, domain.c_str()));
  }

  std::optional<InstanceStatus> listed(const std::string& name) {
    for (const auto& s : driver_->list())
      if (s.name == name) return s;
    return std::nullopt;
  }

  FakeClock clock_;
  virConnectPtr observer_ = nullptr;
  DriverOptions options_;
  std::unique_ptr<LibvirtDriver> driver_;
};

TEST_F(LibvirtDriverTest, EachTestStartsWithoutCorralDomains) {
  ASSERT_NE(observer_, nullptr);
  auto unknown = driver_->unknown_instances();
  ASSERT_TRUE(unknown.ok()) << unknown.error().message;
  EXPECT_TRUE(unknown->empty());
  EXPECT_EQ(driver_->default_domain_type(), "test");
}

TEST_F(LibvirtDriverTest, StartRunsADomainNamedForTheVm) {
  auto s = driver_->start(vm("web-1"));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->state, InstanceState::kRunning);
  EXPECT_EQ(s->epoch, 5);
  EXPECT_TRUE(s->limits_enforced);
  EXPECT_EQ(s->limits_message, "");
  EXPECT_EQ(s->pid, 0);

  auto l = listed("web-1");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->state, InstanceState::kRunning);

  DomainRef dom = lookup("corral-web-1");
  ASSERT_TRUE(dom);
  EXPECT_EQ(virDomainIsActive(dom.get()), 1);
  EXPECT_EQ(virDomainIsPersistent(dom.get()), 1);
  virDomainInfo info{};
  ASSERT_EQ(virDomainGetInfo(dom.get(), &info), 0);
  EXPECT_EQ(info.maxMem, 64u * 1024);  // KiB
  EXPECT_EQ(info.nrVirtCpu, 2);        // 1500m rounded up
  char* meta = virDomainGetMetadata(dom.get(), VIR_DOMAIN_METADATA_ELEMENT, kMetadataNamespace, 0);
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(metadata_epoch(meta), 5);
  free(meta);
}

TEST_F(LibvirtDriverTest, StartingARunningVmTwiceIsRefused) {
  ASSERT_TRUE(driver_->start(vm("web-1")).ok());
  auto again = driver_->start(vm("web-1"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);

  // Another driver (a restarted agent that lost its state) must not define a
  // second copy over the running domain either.
  auto other = make();
  auto dup = other->start(vm("web-1"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists);
  EXPECT_NE(dup.error().message.find("adopt"), std::string::npos);
}

TEST_F(LibvirtDriverTest, InvalidNamesAreBadRequests) {
  for (const std::string name : {"", "a/b", "a\nb"}) {
    auto s = driver_->start(vm(name));
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_EQ(s.error().code, ErrorCode::kBadRequest);
  }
}

TEST_F(LibvirtDriverTest, StopShutsDownAndKeepsTheVmListedAsExited) {
  ASSERT_TRUE(driver_->start(vm("web-1")).ok());
  ASSERT_TRUE(driver_->stop("web-1").ok());

  auto l = listed("web-1");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->state, InstanceState::kExited);
  EXPECT_EQ(l->exit_code, 0);
  EXPECT_EQ(l->message, "shut down");
  DomainRef dom = lookup("corral-web-1");
  ASSERT_TRUE(dom);  // still defined until destroy()
  EXPECT_EQ(virDomainIsActive(dom.get()), 0);

  EXPECT_TRUE(driver_->stop("web-1").ok());  // idempotent
  auto unknown = driver_->stop("nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

TEST_F(LibvirtDriverTest, AStoppedVmCanBeStartedAgainWithANewEpoch) {
  ASSERT_TRUE(driver_->start(vm("web-1", 5)).ok());
  ASSERT_TRUE(driver_->stop("web-1").ok());
  auto s = driver_->start(vm("web-1", 6));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->state, InstanceState::kRunning);
  EXPECT_EQ(s->epoch, 6);
  DomainRef dom = lookup("corral-web-1");
  ASSERT_TRUE(dom);
  char* meta = virDomainGetMetadata(dom.get(), VIR_DOMAIN_METADATA_ELEMENT, kMetadataNamespace, 0);
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(metadata_epoch(meta), 6);
  free(meta);
}

TEST_F(LibvirtDriverTest, DestroyUndefinesTheDomain) {
  ASSERT_TRUE(driver_->start(vm("web-1")).ok());
  ASSERT_TRUE(driver_->destroy("web-1").ok());
  EXPECT_FALSE(lookup("corral-web-1"));
  EXPECT_FALSE(listed("web-1"));
  EXPECT_TRUE(driver_->destroy("web-1").ok());  // Ok when unknown
}

TEST_F(LibvirtDriverTest, DestroyRemovesACorralDomainItDidNotKnow) {
  auto first = make();
  ASSERT_TRUE(first->start(vm("web-1")).ok());
  first.reset();
  ASSERT_TRUE(driver_->destroy("web-1").ok());
  EXPECT_FALSE(lookup("corral-web-1"));
}

TEST_F(LibvirtDriverTest, ChangesMadeOutsideCorralAreReported) {
  ASSERT_TRUE(driver_->start(vm("web-1")).ok());
  ASSERT_TRUE(driver_->start(vm("web-2")).ok());
  {
    DomainRef dom = lookup("corral-web-1");
    ASSERT_TRUE(dom);
    ASSERT_EQ(virDomainDestroy(dom.get()), 0);  // `virsh destroy`
  }
  {
    DomainRef dom = lookup("corral-web-2");
    ASSERT_TRUE(dom);
    ASSERT_EQ(virDomainDestroy(dom.get()), 0);
    ASSERT_EQ(virDomainUndefine(dom.get()), 0);  // `virsh undefine`
  }
  auto one = listed("web-1");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->state, InstanceState::kExited);
  EXPECT_EQ(one->exit_code, 137);
  EXPECT_EQ(one->message, "destroyed (forced off)");
  auto two = listed("web-2");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->state, InstanceState::kExited);
  EXPECT_NE(two->message.find("gone"), std::string::npos);
}

TEST_F(LibvirtDriverTest, ADomainLibvirtRefusesFailsToStartAndDisturbsNoOther) {
  ASSERT_TRUE(driver_->start(vm("good")).ok());
  VmInstance bad = vm("bad");
  bad.runtime.domainType = "no-such-type";
  auto s = driver_->start(bad);
  ASSERT_TRUE(s.ok()) << "a refused domain is a status, not an Error";
  EXPECT_EQ(s->state, InstanceState::kFailedToStart);
  EXPECT_EQ(s->message.rfind("failed to start: ", 0), 0u) << s->message;
  EXPECT_NE(s->message.find("no-such-type"), std::string::npos) << s->message;
  EXPECT_FALSE(lookup("corral-bad"));

  auto b = listed("bad");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->state, InstanceState::kFailedToStart);
  auto g = listed("good");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->state, InstanceState::kRunning);

  EXPECT_TRUE(driver_->stop("bad").ok());
  EXPECT_TRUE(driver_->destroy("bad").ok());
  EXPECT_FALSE(listed("bad"));
  EXPECT_TRUE(listed("good"));
}

TEST_F(LibvirtDriverTest, StatsReportMemoryAndCpu) {
  ASSERT_TRUE(driver_->start(vm("web-1")).ok());
  auto first = driver_->stats("web-1");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->memory_bytes, 64 * kMiB);
  EXPECT_EQ(first->cpu_milli, 0);  // no previous sample yet
  clock_.advance(1s);
  auto second = driver_->stats("web-1");
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->memory_bytes, 64 * kMiB);
  EXPECT_GE(second->cpu_milli, 0);

  ASSERT_TRUE(driver_->stop("web-1").ok());
  auto stopped = driver_->stats("web-1");
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->memory_bytes, 0);
  auto unknown = driver_->stats("nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

TEST_F(LibvirtDriverTest, AdoptTakesOverARunningDomainWithItsRecordedEpoch) {
  auto previous = make();  // the agent run before a restart
  ASSERT_TRUE(previous->start(vm("web-1", 5)).ok());
  previous.reset();  // the domain keeps running

  auto unknown = driver_->unknown_instances();
  ASSERT_TRUE(unknown.ok()) << unknown.error().message;
  ASSERT_EQ(unknown->size(), 1u);  // not "test", the mock's own domain
  EXPECT_EQ((*unknown)[0].name, "web-1");
  EXPECT_EQ((*unknown)[0].epoch, 5);
  EXPECT_EQ((*unknown)[0].state, InstanceState::kRunning);

  auto s = driver_->adopt(vm("web-1", 6), InstanceHandle{});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->state, InstanceState::kRunning);
  EXPECT_TRUE(s->adopted);
  EXPECT_EQ(s->epoch, 5);  // what runs, so that a stale copy shows as stale
  auto l = listed("web-1");
  ASSERT_TRUE(l);
  EXPECT_TRUE(l->adopted);
  EXPECT_TRUE(driver_->unknown_instances()->empty());

  auto again = driver_->adopt(vm("web-1"), InstanceHandle{});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_TRUE(driver_->stop("web-1").ok());
  EXPECT_EQ(listed("web-1")->state, InstanceState::kExited);
}

TEST_F(LibvirtDriverTest, AdoptRefusesAMissingOrStoppedDomain) {
  auto missing = driver_->adopt(vm("web-1"), InstanceHandle{});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  auto previous = make();
  ASSERT_TRUE(previous->start(vm("web-2")).ok());
  ASSERT_TRUE(previous->stop("web-2").ok());
  previous.reset();
  auto stopped = driver_->adopt(vm("web-2"), InstanceHandle{});
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(listed("web-2"));
  // The stale definition does not block a fresh start.
  auto s = driver_->start(vm("web-2", 7));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->state, InstanceState::kRunning);
}

TEST_F(LibvirtDriverTest, WeirdNamesAndPathsAreEscaped) {
  VmInstance v = vm("a<b>&'\"c<memory>1<");  // no "/": libvirt forbids it in names
  v.node = "]]><x/>";
  v.runtime.image = "/images/it's <mine> & \"yours\".qcow2";
  auto s = driver_->start(v);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->state, InstanceState::kRunning) << s->message;
  DomainRef dom = lookup("corral-" + v.name);
  ASSERT_TRUE(dom);
  EXPECT_STREQ(virDomainGetName(dom.get()), ("corral-" + v.name).c_str());
  virDomainInfo info{};
  ASSERT_EQ(virDomainGetInfo(dom.get(), &info), 0);
  EXPECT_EQ(info.maxMem, 64u * 1024);  // the name did not inject a <memory>
  char* xml = virDomainGetXMLDesc(dom.get(), 0);
  ASSERT_NE(xml, nullptr);
  EXPECT_NE(std::string(xml).find("it&apos;s &lt;mine&gt; &amp; &quot;yours&quot;.qcow2"),
            std::string::npos)
      << xml;
  free(xml);
}

TEST_F(LibvirtDriverTest, ConcurrentCallsAreSafe) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 5; ++i) {
        const std::string name = "vm-" + std::to_string(t) + "-" + std::to_string(i);
        EXPECT_TRUE(driver_->start(vm(name)).ok());
        (void)driver_->list();
        EXPECT_TRUE(driver_->stats(name).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  auto all = driver_->list();
  EXPECT_EQ(all.size(), 20u);
  for (const auto& s : all) EXPECT_EQ(s.state, InstanceState::kRunning) << s.name;
}

TEST(LibvirtDriverRegistry, MadeByName) {
  DriverOptions options;
  options.libvirt_uri = "test:///default";
  auto d = make_driver("libvirt", options);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ((*d)->name(), "libvirt");
  auto names = driver_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "libvirt"), names.end());

  options.libvirt_uri = "no-such-scheme:///nowhere";
  auto bad = make_driver("libvirt", options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(bad.error().message.find("no-such-scheme:///nowhere"), std::string::npos);
}

// ---- the domain XML, without a hypervisor ----

TEST(LibvirtXml, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(xml_escape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
  EXPECT_EQ(xml_escape("plain"), "plain");
}

TEST(LibvirtXml, SizesMemoryAndVcpusWithFloors) {
  VmInstance v;
  v.name = "tiny";
  std::string x = domain_xml(v, "kvm");
  EXPECT_NE(x.find("<memory unit='KiB'>1024</memory>"), std::string::npos) << x;
  EXPECT_NE(x.find("<vcpu>1</vcpu>"), std::string::npos) << x;

  v.resources.memory = Quantity::from_bytes(3 * 1024 * kMiB + 1);  // rounds up to a KiB
  v.resources.cpu = Quantity::from_milli(2001);
  x = domain_xml(v, "kvm");
  EXPECT_NE(x.find("<memory unit='KiB'>3145729</memory>"), std::string::npos) << x;
  EXPECT_NE(x.find("<vcpu>3</vcpu>"), std::string::npos) << x;
}

TEST(LibvirtXml, TypeFeaturesAndDisk) {
  VmInstance v;
  v.name = "db";
  std::string x = domain_xml(v, "kvm");
  EXPECT_NE(x.find("<domain type='kvm'>"), std::string::npos);
  EXPECT_NE(x.find("<acpi/>"), std::string::npos);  // or shutdown is ignored
  EXPECT_EQ(x.find("<disk"), std::string::npos);

  v.runtime.domainType = "test";
  v.runtime.image = "/var/lib/corral/db.img";
  x = domain_xml(v, "kvm");
  EXPECT_NE(x.find("<domain type='test'>"), std::string::npos);
  EXPECT_EQ(x.find("<acpi/>"), std::string::npos);
  EXPECT_NE(x.find("type='raw'"), std::string::npos);
  EXPECT_NE(x.find("<source file='/var/lib/corral/db.img'/>"), std::string::npos);

  v.runtime.image = "/var/lib/corral/db.qcow2";
  EXPECT_NE(domain_xml(v, "kvm").find("type='qcow2'"), std::string::npos);
}

TEST(LibvirtXml, DomainNamesAndEpochs) {
  EXPECT_EQ(domain_name("web-1"), "corral-web-1");
  EXPECT_EQ(vm_of_domain("corral-web-1"), "web-1");
  EXPECT_EQ(vm_of_domain("corral-"), std::nullopt);
  EXPECT_EQ(vm_of_domain("test"), std::nullopt);

  EXPECT_EQ(metadata_epoch("<vm>\n  <epoch>7</epoch>\n</vm>"), 7);
  EXPECT_EQ(metadata_epoch("<corral:vm><corral:epoch>12</corral:epoch></corral:vm>"), 12);
  EXPECT_EQ(metadata_epoch("<vm><epoch>x</epoch></vm>"), std::nullopt);
  EXPECT_EQ(metadata_epoch("<vm/>"), std::nullopt);
}

TEST(LibvirtState, MapsDomainStatesToInstanceStates) {
  InstanceStatus s;
  apply_domain_state(s, VIR_DOMAIN_RUNNING, 0);
  EXPECT_EQ(s.state, InstanceState::kRunning);
  apply_domain_state(s, VIR_DOMAIN_PAUSED, 0);
  EXPECT_EQ(s.state, InstanceState::kRunning);
  EXPECT_EQ(s.message, "paused");
  apply_domain_state(s, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SHUTDOWN);
  EXPECT_EQ(s.state, InstanceState::kExited);
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_EQ(s.message, "shut down");
  apply_domain_state(s, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED);
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_EQ(s.message, "crashed");
  apply_domain_state(s, VIR_DOMAIN_CRASHED, VIR_DOMAIN_CRASHED_PANICKED);
  EXPECT_EQ(s.state, InstanceState::kExited);
  EXPECT_EQ(s.message, "crashed");
}

}  // namespace agent_libvirt_driver_test
}  // namespace corral::agent
