#include "protocol/binlog_transaction.h"

#include <cctype>

#include "protocol/binlog_bodies.h"

namespace replproxy::protocol::binlog {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// "XA COMMIT X'..'" and the like: `words` ("XA COMMIT") then the end or whitespace. The words of
// the statement may be separated by any run of whitespace.
bool starts_with_words(std::string_view text, std::string_view first, std::string_view second) {
  if (text.size() < first.size() || !iequals(text.substr(0, first.size()), first)) {
    return false;
  }
  text.remove_prefix(first.size());
  if (text.empty() || !std::isspace(static_cast<unsigned char>(text.front()))) {
    return false;
  }
  text = trim(text);
  if (text.size() < second.size() || !iequals(text.substr(0, second.size()), second)) {
    return false;
  }
  text.remove_prefix(second.size());
  return text.empty() || std::isspace(static_cast<unsigned char>(text.front()));
}

// The events that precede the statement of a group and so do not end a statement group (MariaDB's
// Log_event::is_part_of_group list, which its replica uses to skip a standalone group).
bool precedes_statement(uint8_t type) {
  switch (static_cast<EventType>(type)) {
    case EventType::annotate_rows:
    case EventType::intvar:
    case EventType::rand:
    case EventType::user_var:
    case EventType::table_map:
      return true;
    default:
      return false;
  }
}

bool is_gtid_event(uint8_t type) {
  return type == type_byte(EventType::gtid_mariadb) || type == type_byte(EventType::gtid_mysql) ||
         type == type_byte(EventType::anonymous_gtid);
}

}  // namespace

bool is_outside_group(uint8_t type) {
  switch (static_cast<EventType>(type)) {
    case EventType::format_description:
    case EventType::rotate:
    case EventType::gtid_list:
    case EventType::binlog_checkpoint:
    case EventType::heartbeat:
    case EventType::heartbeat_v2:
    case EventType::stop:
    case EventType::previous_gtids:
    case EventType::start_encryption:
      return true;
    default:
      return false;
  }
}

bool ends_transaction(std::string_view query) {
  query = trim(query);
  return iequals(query, "COMMIT") || iequals(query, "ROLLBACK") ||
         starts_with_words(query, "XA", "COMMIT") || starts_with_words(query, "XA", "ROLLBACK");
}

bool begins_transaction(std::string_view query) {
  query = trim(query);
  return iequals(query, "BEGIN") || starts_with_words(query, "XA", "START");
}

void TransactionTracker::reset() {
  stage_ = Stage::idle;
  open_gtid_.reset();
}

EventRole TransactionTracker::start(Stage stage, std::optional<Gtid> gtid) {
  EventRole role;
  role.starts_group = true;
  role.interrupts_group = in_group();
  role.gtid = gtid;
  stage_ = stage;
  open_gtid_ = gtid;
  return role;
}

EventRole TransactionTracker::end(EventRole role) {
  role.ends_group = true;
  if (open_gtid_) {
    last_complete_gtid_ = open_gtid_;
  }
  stage_ = Stage::idle;
  open_gtid_.reset();
  return role;
}

EventRole TransactionTracker::continue_group(uint8_t type, std::optional<std::string_view> query) {
  switch (stage_) {
    case Stage::idle:
      break;
    case Stage::statement:
      return precedes_statement(type) ? EventRole{} : end(EventRole{});
    case Stage::mysql_first:
      if (query && begins_transaction(*query)) {
        stage_ = Stage::transaction;
        return EventRole{};
      }
      return precedes_statement(type) ? EventRole{} : end(EventRole{});
    case Stage::transaction:
      if (type == type_byte(EventType::xid) || type == type_byte(EventType::xa_prepare) ||
          (query && ends_transaction(*query))) {
        return end(EventRole{});
      }
      return EventRole{};
  }
  // No group is open: BEGIN opens one, anything else is a group by itself.
  if (query && begins_transaction(*query)) {
    return start(Stage::transaction, std::nullopt);
  }
  EventRole role = start(Stage::idle, std::nullopt);
  return end(role);
}

Result<EventRole> TransactionTracker::on_event(const EventView& event) {
  const uint8_t type = event.header.type;
  if (is_outside_group(type)) {
    EventRole role;
    role.outside_group = true;
    return role;
  }
  if (type == type_byte(EventType::query)) {
    auto q = decode_query(event.body);
    if (!q) {
      return std::unexpected(q.error());
    }
    return continue_group(type, q->query);
  }
  if (!is_gtid_event(type)) {
    return continue_group(type, std::nullopt);
  }
  if (type == type_byte(EventType::gtid_mariadb)) {
    auto gtid = decode_maria_gtid(event.body);
    if (!gtid) {
      return std::unexpected(gtid.error());
    }
    const Stage stage = gtid->standalone() ? Stage::statement : Stage::transaction;
    return start(stage, gtid->gtid(event.header.server_id));
  }
  auto gtid = decode_mysql_gtid(event.body);
  if (!gtid) {
    return std::unexpected(gtid.error());
  }
  return start(Stage::mysql_first, std::nullopt);
}

}  // namespace replproxy::protocol::binlog
