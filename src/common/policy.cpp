#include "tempmail/policy.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tempmail {

void ExponentialBackoff::validate() const {
  if (initial.count() <= 0)
    throw std::invalid_argument("ExponentialBackoff.initial must be positive");
  if (!(factor >= 1.0) || !std::isfinite(factor))
    throw std::invalid_argument("ExponentialBackoff.factor must be a finite number >= 1");
  if (max < initial)
    throw std::invalid_argument("ExponentialBackoff.max must be at least ExponentialBackoff.initial");
  if (!(jitter >= 0.0 && jitter <= 1.0))
    throw std::invalid_argument("ExponentialBackoff.jitter must be between 0 and 1");
}

std::chrono::milliseconds ExponentialBackoff::delay(int attempt, double unit_random) const {
  const double cap = static_cast<double>(max.count());
  // pow may overflow to inf for large attempts; min() with the cap handles it.
  double base = static_cast<double>(initial.count()) * std::pow(factor, std::max(attempt, 0));
  base = std::min(base, cap);
  const double u = std::clamp(unit_random, 0.0, 1.0);
  const double d = base * (1.0 - jitter * u);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(std::max(d, 0.0))));
}

void RetryPolicy::validate() const {
  if (max_attempts < 1) throw std::invalid_argument("RetryPolicy.max_attempts must be at least 1");
  if (max_elapsed.count() < 0)
    throw std::invalid_argument("RetryPolicy.max_elapsed must not be negative");
  backoff.validate();
}

}  // namespace tempmail
