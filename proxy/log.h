#pragma once

// A spdlog logger per module ("session", "backend", "worker"...), sharing the default logger's
// sinks and registered so that spdlog::set_level reaches all of them.

#include <spdlog/spdlog.h>

#include <memory>

namespace replproxy::proxy {

std::shared_ptr<spdlog::logger> module_logger(const char* name);

}  // namespace replproxy::proxy
