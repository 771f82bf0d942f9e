#include "agent/metrics/ewma.h"

#include <cmath>

namespace corral::agent {

Ewma::Ewma(Options options) : options_(options) {}

void Ewma::add(double sample, std::chrono::steady_clock::time_point now) {
  if (!value_) {
    value_ = sample;
    last_ = now;
    return;
  }
  if (now <= last_) return;
  double intervals = std::chrono::duration<double>(now - last_).count() /
                     std::chrono::duration<double>(options_.interval).count();
  double weight = 1.0 - std::pow(1.0 - options_.alpha, intervals);
  *value_ += weight * (sample - *value_);
  last_ = now;
}

}  // namespace corral::agent
