#include "proxy/session_state.h"

#include <algorithm>

namespace replproxy::proxy {

namespace {
constexpr size_t kExecuteHeader = 1 + 4 + 1 + 4;  // command, statement id, flags, iterations
}  // namespace

bool SessionHistory::record(std::string key, protocol::Bytes payload) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& e) { return e.key == key; });
  if (it != entries_.end()) {
    entries_.erase(it);
  } else if (entries_.size() >= max_entries_) {
    return false;
  }
  entries_.push_back(Entry{std::move(key), std::move(payload), next_sequence_++});
  return true;
}

std::vector<const SessionHistory::Entry*> SessionHistory::pending(uint64_t applied) const {
  std::vector<const Entry*> out;
  for (const auto& e : entries_) {
    if (e.sequence > applied) {
      out.push_back(&e);
    }
  }
  return out;
}

void SessionHistory::clear() { entries_.clear(); }

void PreparedStatements::insert(uint32_t id, PreparedStatement statement) {
  statements_.insert_or_assign(id, std::move(statement));
}

PreparedStatement* PreparedStatements::find(uint32_t client_id) {
  auto it = statements_.find(client_id);
  return it == statements_.end() ? nullptr : &it->second;
}

void PreparedStatements::remove(uint32_t client_id) { statements_.erase(client_id); }

void PreparedStatements::forget_backend(size_t backend) {
  for (auto& [id, statement] : statements_) {
    statement.backends.erase(backend);
    if (statement.last_execute_backend == backend) {
      statement.last_execute_backend.reset();
    }
  }
}

void PreparedStatements::clear() { statements_.clear(); }

void PreparedStatements::remap_backends(const std::vector<std::optional<size_t>>& moved) {
  const auto to = [&](size_t backend) {
    return backend < moved.size() ? moved[backend] : std::nullopt;
  };
  for (auto& [id, statement] : statements_) {
    std::map<size_t, PreparedStatement::OnBackend> backends;
    for (const auto& [backend, on] : statement.backends) {
      if (const auto index = to(backend)) {
        backends.emplace(*index, on);
      }
    }
    statement.backends = std::move(backends);
    if (statement.last_execute_backend) {
      statement.last_execute_backend = to(*statement.last_execute_backend);
    }
  }
}

std::optional<ExecuteParameters> parse_execute_parameters(protocol::ByteView payload,
                                                          uint16_t num_params) {
  ExecuteParameters p;
  if (num_params == 0) {
    return p;
  }
  const size_t flag_at = kExecuteHeader + (num_params + 7) / 8;
  if (payload.size() <= flag_at) {
    return std::nullopt;
  }
  p.new_params_bound = payload[flag_at] == 1;
  if (p.new_params_bound) {
    p.types_offset = flag_at + 1;
    if (payload.size() < p.types_offset + 2 * size_t{num_params}) {
      return std::nullopt;
    }
  }
  return p;
}

protocol::Bytes bind_execute_types(protocol::ByteView payload, uint16_t num_params,
                                   protocol::ByteView types) {
  const size_t flag_at = kExecuteHeader + (num_params + 7) / 8;
  protocol::Bytes out(payload.begin(), payload.begin() + static_cast<ptrdiff_t>(flag_at));
  out.push_back(1);
  out.insert(out.end(), types.begin(), types.end());
  out.insert(out.end(), payload.begin() + static_cast<ptrdiff_t>(flag_at) + 1, payload.end());
  return out;
}

}  // namespace replproxy::proxy
