// The libvirt driver's XML: the domain definition built from a VmInstance, and
// reading back the epoch it records. Pure functions, no libvirt calls, so they
// are tested without a hypervisor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "agent/drivers/driver.h"

namespace corral::agent {

// Every domain Corral makes is named "corral-<vm>", so it never collides with a
// domain an administrator defined, and every corral-* domain is Corral's.
inline constexpr const char* kDomainPrefix = "corral-";
std::string domain_name(const std::string& vm);
// The VM of a corral-* domain; nullopt for any other domain.
std::optional<std::string> vm_of_domain(const std::string& domain);

// The namespace of the <metadata> element that records the VM, node and epoch.
inline constexpr const char* kMetadataNamespace = "https://corral.dev/xmlns/libvirt/vm/1";

// Escapes & < > " ' so that any value is safe as element text or as an
// attribute value quoted with either quote.
std::string xml_escape(const std::string& text);

// The domain XML for `vm`:
//  - type: runtime.domainType when set, else `default_type` ("test" for
//    test:// connections, "kvm" otherwise);
//  - memory: resources.memory in KiB, rounded up, at least 1 MiB;
//  - vcpus: resources.cpu rounded up to whole cores, at least 1;
//  - os type hvm, booting from runtime.image as a virtio disk when set (qcow2
//    when its name ends in .qcow2, raw otherwise);
//  - ACPI for kvm/qemu, without which the graceful virDomainShutdown is ignored;
//  - <metadata> with the VM, node and epoch; <description> says the same for
//    people reading `virsh dumpxml`.
std::string domain_xml(const VmInstance& vm, const std::string& default_type);

// The epoch recorded in a domain's Corral metadata element, as returned by
// virDomainGetMetadata; nullopt when there is none or it does not parse.
std::optional<int64_t> metadata_epoch(const std::string& metadata_xml);

}  // namespace corral::agent
