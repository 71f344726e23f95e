#include "config/config.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "config/sections.h"
#include "config/table_reader.h"

namespace replproxy::config {

const User* Config::find_user(std::string_view name) const {
  for (const User& user : users) {
    if (user.name == name) {
      return &user;
    }
  }
  return nullptr;
}

const Backend* Config::find_backend(std::string_view name) const {
  for (const Backend& backend : backends) {
    if (backend.name == name) {
      return &backend;
    }
  }
  return nullptr;
}

std::expected<Config, ConfigErrors> parse_config(std::string_view text,
                                                 std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    return std::unexpected(
        ConfigErrors{{std::string(source_name) + ":" + std::to_string(e.source().begin.line) +
                      ": " + std::string(e.description())}});
  }
  internal::Diagnostics diagnostics(source_name);
  internal::TableReader top(root, "the top-level table", diagnostics);
  Config config;
  config.source_path = source_name;
  internal::read_proxy_section(top, config.proxy);
  internal::read_log_section(top, config.log);
  internal::read_users(top, config.users);
  internal::read_health_section(top, config.health);
  internal::read_backends(top, config.health, config.backends);
  internal::read_routing_section(top, config.backends, config.routing);
  internal::check_health_topology(top, config.health, config.backends);
  internal::read_admin_section(top, config.admin);
  internal::read_metrics_section(top, config.metrics);
  internal::read_relay_section(top, config.backends, config.relay);
  internal::read_tunnels(top, config, config.tunnels);
  top.report_unknown_keys();
  if (!diagnostics.empty()) {
    return std::unexpected(ConfigErrors{diagnostics.take_messages()});
  }
  return config;
}

namespace {

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

// The whole file, or the reason it could not be read.
std::expected<std::string, std::string> read_file(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) {
    return std::unexpected(std::strerror(errno));
  }
  std::string text;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    text.append(buffer, n);
  }
  if (std::ferror(file.get()) != 0) {
    return std::unexpected(std::strerror(errno));
  }
  return text;
}

}  // namespace

std::expected<Config, ConfigErrors> load_config_file(const std::string& path) {
  const auto text = read_file(path);
  if (!text) {
    return std::unexpected(ConfigErrors{{path + ": cannot read: " + text.error()}});
  }
  return parse_config(*text, path);
}

}  // namespace replproxy::config
