#include "proxy/log.h"

#include <mutex>

namespace replproxy::proxy {

std::shared_ptr<spdlog::logger> module_logger(const char* name) {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get(name)) {
    return existing;
  }
  auto logger = spdlog::default_logger()->clone(name);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace replproxy::proxy
