// Caps on open connections, in total and per client address, so that one
// address (or a flood from many) cannot take every socket and file
// descriptor the server has. The event-driven core (http_core.h) asks before
// it serves a new connection; over a cap the connection is closed at once.
//
// Thread-safe: the I/O thread admits, a session's last owner (any thread)
// releases.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace corral::server {

enum class ConnectionRefusal {
  kNone,
  kTotal,       // the server holds max_connections already
  kPerAddress,  // this address holds max_connections_per_address already
};

class ConnectionLimits {
 public:
  // 0 means no cap.
  ConnectionLimits(size_t total, size_t per_address) : total_(total), per_address_(per_address) {}

  // A held slot: released when destroyed.
  class Slot {
   public:
    Slot() = default;
    Slot(ConnectionLimits* limits, std::string address)
        : limits_(limits), address_(std::move(address)) {}
    Slot(Slot&& o) noexcept : limits_(o.limits_), address_(std::move(o.address_)) {
      o.limits_ = nullptr;
    }
    Slot& operator=(Slot&& o) noexcept {
      if (this != &o) {
        reset();
        limits_ = o.limits_;
        address_ = std::move(o.address_);
        o.limits_ = nullptr;
      }
      return *this;
    }
    Slot(const Slot&) = delete;
    ~Slot() { reset(); }
    void reset() {
      if (limits_) limits_->release(address_);
      limits_ = nullptr;
    }

   private:
    ConnectionLimits* limits_ = nullptr;
    std::string address_;
  };

  // Takes a slot for one more connection from `address`, or says which cap
  // refuses it (the slot is then empty).
  ConnectionRefusal admit(const std::string& address, Slot* slot);
  size_t open() const;
  size_t open_from(const std::string& address) const;

 private:
  void release(const std::string& address);

  const size_t total_;
  const size_t per_address_;
  mutable std::mutex mu_;
  size_t open_ = 0;                                   // guarded by mu_
  std::unordered_map<std::string, size_t> by_addr_;  // guarded by mu_; no zero entries
};

}  // namespace corral::server
