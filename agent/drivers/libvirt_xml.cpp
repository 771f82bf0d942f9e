#include "agent/drivers/libvirt_xml.h"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace corral::agent {

namespace {

// libvirt refuses (and a guest cannot boot in) less; also what an unset memory gets.
constexpr int64_t kMinMemoryKiB = 1024;
constexpr int64_t kMinVcpus = 1;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string domain_name(const std::string& vm) { return kDomainPrefix + vm; }

std::optional<std::string> vm_of_domain(const std::string& domain) {
  const std::string prefix = kDomainPrefix;
  if (domain.size() <= prefix.size() || domain.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  return domain.substr(prefix.size());
}

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string domain_xml(const VmInstance& vm, const std::string& default_type) {
  const std::string type = vm.runtime.domainType.empty() ? default_type : vm.runtime.domainType;
  const int64_t bytes = vm.resources.memory.whole();
  const int64_t kib = std::max(kMinMemoryKiB, (bytes + kBytesPerKiB - 1) / kBytesPerKiB);
  const int64_t vcpus = std::max(kMinVcpus, vm.resources.cpu.whole());
  const std::string epoch = std::to_string(vm.epoch);

  std::string x;
  x += "<domain type='" + xml_escape(type) + "'>\n";
  x += "  <name>" + xml_escape(domain_name(vm.name)) + "</name>\n";
  x += "  <description>Corral VM " + xml_escape(vm.name) + ", epoch " + epoch +
       ", managed by corral-agent on node " + xml_escape(vm.node) + "</description>\n";
  x += "  <metadata>\n";
  x += "    <corral:vm xmlns:corral='" + std::string(kMetadataNamespace) + "'>\n";
  x += "      <corral:name>" + xml_escape(vm.name) + "</corral:name>\n";
  x += "      <corral:node>" + xml_escape(vm.node) + "</corral:node>\n";
  x += "      <corral:epoch>" + epoch + "</corral:epoch>\n";
  x += "    </corral:vm>\n";
  x += "  </metadata>\n";
  x += "  <memory unit='KiB'>" + std::to_string(kib) + "</memory>\n";
  x += "  <vcpu>" + std::to_string(vcpus) + "</vcpu>\n";
  x += "  <os>\n    <type>hvm</type>\n    <boot dev='hd'/>\n  </os>\n";
  if (type == "kvm" || type == "qemu")
    x += "  <features>\n    <acpi/>\n    <apic/>\n  </features>\n";
  if (!vm.runtime.image.empty()) {
    const std::string format = ends_with(vm.runtime.image, ".qcow2") ? "qcow2" : "raw";
    x += "  <devices>\n";
    x += "    <disk type='file' device='disk'>\n";
    x += "      <driver name='qemu' type='" + format + "'/>\n";
    x += "      <source file='" + xml_escape(vm.runtime.image) + "'/>\n";
    x += "      <target dev='vda' bus='virtio'/>\n";
    x += "    </disk>\n";
    x += "  </devices>\n";
  }
  x += "</domain>\n";
  return x;
}

std::optional<int64_t> metadata_epoch(const std::string& metadata_xml) {
  // libvirt hands the element back re-serialised, with or without a prefix
  // ("<epoch>7</epoch>" or "<corral:epoch>7</corral:epoch>"), so look for the
  // local name and tolerate either.
  constexpr std::string_view kTag = "epoch>";
  auto tag = metadata_xml.find(kTag);
  if (tag == std::string::npos) return std::nullopt;
  const char* begin = metadata_xml.data() + tag + kTag.size();
  const char* end = metadata_xml.data() + metadata_xml.size();
  int64_t epoch = 0;
  auto [ptr, ec] = std::from_chars(begin, end, epoch);
  if (ec != std::errc() || ptr == begin || ptr == end || *ptr != '<') return std::nullopt;
  return epoch;
}

}  // namespace corral::agent
