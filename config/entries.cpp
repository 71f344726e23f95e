// The [[users]] and [[backends]] arrays.

#include <algorithm>
#include <cctype>

#include "config/entries.h"
#include "config/sections.h"
#include "protocol/auth.h"

namespace replproxy::config::internal {
namespace {

constexpr EnumName<BackendRole> kBackendRoles[] = {
    {"primary", BackendRole::primary},
    {"replica", BackendRole::replica},
};

bool is_backend_name(std::string_view name) {
  return std::ranges::all_of(name, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
  });
}

// tls_ca and tls_verify without tls = true would suggest an encrypted connection that is not there.
void check_backend_tls(TableReader& reader, const Backend& backend) {
  if (backend.tls) {
    return;
  }
  for (std::string_view key : {"tls_ca", "tls_verify"}) {
    if (reader.has(key)) {
      reader.error_at(key, quoted(key) + " has no effect without 'tls = true'");
    }
  }
}

// A per-backend lag limit without a [health] table would promise a check that never runs.
void read_max_lag(TableReader& reader, const HealthSection& health, Backend& backend) {
  uint32_t lag_ms = 0;
  if (!reader.read("max_replication_lag_ms", lag_ms, 0, kU32Max)) {
    return;
  }
  if (!health.enabled) {
    reader.error_at("max_replication_lag_ms",
                    "'max_replication_lag_ms' has no effect without a [health] table");
    return;
  }
  backend.max_replication_lag_ms = lag_ms;
}

void read_backend(TableReader& reader, const HealthSection& health, Backend& backend,
                  UniqueNames& names) {
  if (reader.require("name") && reader.read_non_empty("name", backend.name)) {
    if (is_backend_name(backend.name)) {
      names.add(reader, backend.name);
    } else {
      reader.error_at("name", "backend name " + quoted(backend.name) +
                                  " is invalid: use only letters, digits, '_', '.' and '-'");
    }
  }
  if (reader.require("address")) {
    reader.read("address", backend.address, HostKind::name_or_ip);
  }
  read_enum(reader, "role", kBackendRoles, backend.role);
  reader.read("weight", backend.weight, 1, kU32Max);
  const bool tls_valid = reader.read("tls", backend.tls) || !reader.has("tls");
  reader.read_non_empty("tls_ca", backend.tls_ca);
  reader.read("tls_verify", backend.tls_verify);
  if (tls_valid) {
    check_backend_tls(reader, backend);
  }
  read_max_lag(reader, health, backend);
}

}  // namespace

const toml::array* read_entries(TableReader& parent, std::string_view key, std::string_view kind,
                                const EntryRules& rules) {
  const std::string path(rules.path.empty() ? key : rules.path);
  const std::string none =
      "no [[" + path + "]] defined: at least one " + std::string(kind) + " is required";
  const toml::node* node = parent.find(key);
  if (node == nullptr) {
    if (rules.at_least_one) {
      parent.error(parent.line(), none);
    }
    return nullptr;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    parent.error_at(key, quoted(path) + " must be an array of tables, as in [[" + path + "]]");
    return nullptr;
  }
  if (array->empty()) {
    if (rules.at_least_one) {
      parent.error_at(key, none);
    }
    return nullptr;
  }
  return array;
}

void read_password(TableReader& reader, User& user) {
  const bool has_plain = reader.has("password");
  const bool has_hash = reader.has("password_hash");
  if (has_plain && has_hash) {
    reader.error_at("password_hash", "'password' and 'password_hash' are mutually exclusive");
    return;
  }
  if (!has_plain && !has_hash) {
    reader.error(reader.line(),
                 "missing required key 'password' or 'password_hash' in " + reader.name());
    return;
  }
  std::string text;
  if (has_plain && reader.read("password", text)) {
    user.password_stage2 = protocol::native_password_stage2(text);
    user.password = std::move(text);
  } else if (has_hash && reader.read("password_hash", text)) {
    const auto stage2 = protocol::parse_native_password_hash(text);
    if (!stage2) {
      reader.error_at("password_hash", "'password_hash' is not a valid hash " + quoted(text) +
                                           ": expected '*' followed by 40 hex digits");
      return;
    }
    user.password_stage2 = *stage2;
  }
}

void read_users(TableReader& top, std::vector<User>& out) {
  UniqueNames names("user");
  for_each_entry(top, "users", "user", {}, [&](TableReader& reader) {
    User& user = out.emplace_back();
    if (reader.require("name") && reader.read_non_empty("name", user.name)) {
      names.add(reader, user.name);
    }
    read_password(reader, user);
  });
}

void read_backends(TableReader& top, const HealthSection& health, std::vector<Backend>& out) {
  UniqueNames names("backend");
  for_each_entry(top, "backends", "backend", {}, [&](TableReader& reader) {
    read_backend(reader, health, out.emplace_back(), names);
  });
}

}  // namespace replproxy::config::internal
