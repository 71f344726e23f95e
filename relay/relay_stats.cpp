#include "relay/relay_stats.h"

#include <bit>

namespace replproxy::relay {

void LatencyHistogram::record(uint64_t us) {
  size_t bucket = us == 0 ? 0 : static_cast<size_t>(std::bit_width(us));
  if (bucket >= kBuckets) {
    bucket = kBuckets - 1;
  }
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(us, std::memory_order_relaxed);
}

uint64_t LatencyHistogram::count() const {
  uint64_t total = 0;
  for (const auto& b : buckets_) {
    total += b.load(std::memory_order_relaxed);
  }
  return total;
}

uint64_t LatencyHistogram::quantile(double q) const {
  std::array<uint64_t, kBuckets> counts{};
  uint64_t total = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    counts[i] = buckets_[i].load(std::memory_order_relaxed);
    total += counts[i];
  }
  if (total == 0) {
    return 0;
  }
  const auto rank = static_cast<uint64_t>(q * static_cast<double>(total) + 0.999999);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts[i];
    if (seen >= rank) {
      return uint64_t{1} << i;  // bucket i holds values below 2^i
    }
  }
  return uint64_t{1} << (kBuckets - 1);
}

void RelayStats::set_state(std::string state, std::string source, std::string address) {
  std::lock_guard lock(mu_);
  text_.state = std::move(state);
  text_.source = std::move(source);
  text_.address = std::move(address);
}

void RelayStats::set_error(std::string error) {
  std::lock_guard lock(mu_);
  text_.last_error = std::move(error);
}

RelayStats::Text RelayStats::text() const {
  std::lock_guard lock(mu_);
  return text_;
}

void RelayStats::replica_update(const Replica& r) {
  std::lock_guard lock(mu_);
  replicas_[r.id] = r;
}

void RelayStats::replica_remove(uint64_t id) {
  std::lock_guard lock(mu_);
  replicas_.erase(id);
}

std::vector<RelayStats::Replica> RelayStats::replicas() const {
  std::lock_guard lock(mu_);
  std::vector<Replica> out;
  out.reserve(replicas_.size());
  for (const auto& [id, r] : replicas_) {
    out.push_back(r);
  }
  return out;
}

}  // namespace replproxy::relay
