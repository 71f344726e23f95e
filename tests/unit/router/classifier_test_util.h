#pragma once

// A one-line summary of a Classification, so that a table of statements can state everything
// that matters about each in one string:
//   "read" | "write:<reason>", then as present: " trx=<effect>", " chain", " release",
//   " autocommit=on|off|unknown", " locks=lock|unlock", " session", " use=<schema>",
//   " set=<kind>:<name>,...", " tables=<effect>:<[schema.]name>,...", " hint=<route>",
//   " stmts=<n>" (when not 1), " last_insert_id", " found_rows", " row_count", " warnings".

#include <string>

#include "router/classifier.h"

namespace replproxy::router::testutil {

inline std::string hint_text(const RouteHint& hint) {
  switch (hint.route) {
    case HintRoute::none:
      return "";
    case HintRoute::primary:
      return "primary";
    case HintRoute::replica:
      return "replica";
    case HintRoute::backend:
      return "backend:" + std::string(hint.backend);
    case HintRoute::invalid:
      return "invalid";
  }
  return "?";
}

inline std::string transaction_text(const Classification& c) {
  std::string out;
  if (c.transaction != TransactionEffect::none) {
    out += " trx=" + std::string(to_string(c.transaction));
  }
  out += c.transaction_chain ? " chain" : "";
  out += c.transaction_release ? " release" : "";
  constexpr const char* kAutocommit[] = {"", " autocommit=on", " autocommit=off",
                                         " autocommit=unknown"};
  out += kAutocommit[static_cast<int>(c.autocommit)];
  constexpr const char* kLocks[] = {"", " locks=lock", " locks=unlock"};
  out += kLocks[static_cast<int>(c.table_locks)];
  return out;
}

inline std::string session_text(const Classification& c) {
  std::string out = c.session_state ? " session" : "";
  if (!c.use_schema.empty()) {
    out += " use=" + std::string(c.use_schema);
  }
  for (size_t i = 0; i < c.set_targets.size(); ++i) {
    out += (i == 0 ? " set=" : ",") + std::string(to_string(c.set_targets[i].kind)) + ":" +
           std::string(c.set_targets[i].name);
  }
  for (size_t i = 0; i < c.tables.size(); ++i) {
    const TableName& t = c.tables[i];
    out += i == 0 ? " tables=" + std::string(to_string(c.table_effect)) + ":" : ",";
    out += (t.schema.empty() ? "" : std::string(t.schema) + ".") + std::string(t.name);
  }
  return out;
}

inline std::string describe(const Classification& c) {
  std::string out = c.is_read() ? "read" : "write:" + std::string(to_string(c.reason));
  out += transaction_text(c) + session_text(c);
  if (c.hint.route != HintRoute::none) {
    out += " hint=" + hint_text(c.hint);
  }
  if (c.statement_count != 1) {
    out += " stmts=" + std::to_string(c.statement_count);
  }
  out += c.uses_last_insert_id ? " last_insert_id" : "";
  out += c.uses_found_rows ? " found_rows" : "";
  out += c.uses_row_count ? " row_count" : "";
  out += c.is_show_warnings_or_errors ? " warnings" : "";
  return out;
}

}  // namespace replproxy::router::testutil
