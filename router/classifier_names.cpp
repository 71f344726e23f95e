// Names of the classification enums, as written in the source.

#include "router/classifier.h"

namespace replproxy::router {

std::string_view to_string(Reason reason) {
  switch (reason) {
    case Reason::none:
      return "none";
    case Reason::data_change:
      return "data_change";
    case Reason::schema_change:
      return "schema_change";
    case Reason::privilege_change:
      return "privilege_change";
    case Reason::locking_read:
      return "locking_read";
    case Reason::select_into:
      return "select_into";
    case Reason::side_effect_function:
      return "side_effect_function";
    case Reason::stored_function:
      return "stored_function";
    case Reason::user_variable_assignment:
      return "user_variable_assignment";
    case Reason::last_insert_id:
      return "last_insert_id";
    case Reason::stored_procedure:
      return "stored_procedure";
    case Reason::do_statement:
      return "do_statement";
    case Reason::transaction_control:
      return "transaction_control";
    case Reason::table_lock:
      return "table_lock";
    case Reason::connection_state:
      return "connection_state";
    case Reason::server_admin:
      return "server_admin";
    case Reason::multi_statement:
      return "multi_statement";
    case Reason::unknown:
      return "unknown";
  }
  return "?";
}

std::string_view to_string(TransactionEffect effect) {
  switch (effect) {
    case TransactionEffect::none:
      return "none";
    case TransactionEffect::begin:
      return "begin";
    case TransactionEffect::begin_read_only:
      return "begin_read_only";
    case TransactionEffect::commit:
      return "commit";
    case TransactionEffect::rollback:
      return "rollback";
    case TransactionEffect::savepoint:
      return "savepoint";
    case TransactionEffect::release_savepoint:
      return "release_savepoint";
    case TransactionEffect::rollback_to_savepoint:
      return "rollback_to_savepoint";
    case TransactionEffect::implicit_commit:
      return "implicit_commit";
    case TransactionEffect::xa:
      return "xa";
  }
  return "?";
}

std::string_view to_string(SetKind kind) {
  switch (kind) {
    case SetKind::session_variable:
      return "session_variable";
    case SetKind::user_variable:
      return "user_variable";
    case SetKind::names:
      return "names";
    case SetKind::character_set:
      return "character_set";
    case SetKind::transaction_session:
      return "transaction_session";
    case SetKind::transaction_next:
      return "transaction_next";
    case SetKind::role:
      return "role";
    case SetKind::global_variable:
      return "global_variable";
  }
  return "?";
}

std::string_view to_string(TableEffect effect) {
  switch (effect) {
    case TableEffect::none:
      return "none";
    case TableEffect::create_temporary:
      return "create_temporary";
    case TableEffect::drop_temporary:
      return "drop_temporary";
    case TableEffect::drop:
      return "drop";
  }
  return "?";
}

}  // namespace replproxy::router
