#pragma once

// Command-phase packets sent by the client. The first payload byte is the Command; a decoder
// given another command byte says invalid_input. Encoders append the payload only: frame it with
// encode_packet() or begin_packet()/finish_packet().

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "protocol/constants.h"
#include "protocol/wire.h"

namespace replproxy::protocol {

// COM_QUERY: 0x03, query string<EOF>. (replproxy never negotiates CLIENT_QUERY_ATTRIBUTES.)
struct ComQuery {
  std::string_view query;  // borrowed

  bool operator==(const ComQuery&) const = default;
};
Result<ComQuery> decode_com_query(ByteView payload);
void encode_com_query(std::string_view query, Bytes& out);

// COM_INIT_DB: 0x02, schema string<EOF>.
struct ComInitDb {
  std::string_view schema;

  bool operator==(const ComInitDb&) const = default;
};
Result<ComInitDb> decode_com_init_db(ByteView payload);
void encode_com_init_db(std::string_view schema, Bytes& out);

// COM_FIELD_LIST: 0x04, table string<NUL>, wildcard string<EOF>.
struct ComFieldList {
  std::string_view table;
  std::string_view wildcard;

  bool operator==(const ComFieldList&) const = default;
};
Result<ComFieldList> decode_com_field_list(ByteView payload);
void encode_com_field_list(const ComFieldList& msg, Bytes& out);

// COM_SET_OPTION: 0x1b, option 2 (0 = MULTI_STATEMENTS_ON, 1 = MULTI_STATEMENTS_OFF).
struct ComSetOption {
  uint16_t option = 0;

  bool operator==(const ComSetOption&) const = default;
};
Result<ComSetOption> decode_com_set_option(ByteView payload);
void encode_com_set_option(uint16_t option, Bytes& out);

// COM_STMT_PREPARE: 0x16, query string<EOF>.
struct ComStmtPrepare {
  std::string_view query;

  bool operator==(const ComStmtPrepare&) const = default;
};
Result<ComStmtPrepare> decode_com_stmt_prepare(ByteView payload);
void encode_com_stmt_prepare(std::string_view query, Bytes& out);

// COM_STMT_EXECUTE header: 0x17, statement_id 4, flags 1, iteration_count 4, then the
// parameter block (null bitmap, new-params-bound flag, types, values), whose layout depends on
// the statement's parameter count and is kept raw here.
struct ComStmtExecute {
  uint32_t statement_id = 0;
  uint8_t flags = 0;  // cursor type: 0 none, 1 read only, 2 for update, 4 scrollable
  uint32_t iteration_count = 0;
  ByteView parameters;

  // Compares the parameter bytes, not where they are stored.
  bool operator==(const ComStmtExecute& o) const {
    return statement_id == o.statement_id && flags == o.flags &&
           iteration_count == o.iteration_count && std::ranges::equal(parameters, o.parameters);
  }
};
Result<ComStmtExecute> decode_com_stmt_execute(ByteView payload);
void encode_com_stmt_execute(const ComStmtExecute& msg, Bytes& out);

// COM_STMT_CLOSE (0x19) and COM_STMT_RESET (0x1a): statement_id 4.
// COM_STMT_FETCH (0x1c): statement_id 4, num_rows 4.
// COM_STMT_SEND_LONG_DATA (0x18): statement_id 4, param_id 2, data string<EOF>.
struct ComStmtId {
  uint32_t statement_id = 0;

  bool operator==(const ComStmtId&) const = default;
};
Result<ComStmtId> decode_com_stmt_close(ByteView payload);
Result<ComStmtId> decode_com_stmt_reset(ByteView payload);
void encode_com_stmt_close(uint32_t statement_id, Bytes& out);
void encode_com_stmt_reset(uint32_t statement_id, Bytes& out);
struct ComStmtFetch {
  uint32_t statement_id = 0;
  uint32_t num_rows = 0;

  bool operator==(const ComStmtFetch&) const = default;
};
Result<ComStmtFetch> decode_com_stmt_fetch(ByteView payload);
void encode_com_stmt_fetch(const ComStmtFetch& msg, Bytes& out);
struct ComStmtSendLongData {
  uint32_t statement_id = 0;
  uint16_t param_id = 0;
  ByteView data;

  // Compares the data bytes, not where they are stored.
  bool operator==(const ComStmtSendLongData& o) const {
    return statement_id == o.statement_id && param_id == o.param_id &&
           std::ranges::equal(data, o.data);
  }
};
Result<ComStmtSendLongData> decode_com_stmt_send_long_data(ByteView payload);
void encode_com_stmt_send_long_data(const ComStmtSendLongData& msg, Bytes& out);

// COM_CHANGE_USER.
//
//   field            width        condition
//   command          1            0x11
//   user             string<NUL>
//   auth_response    1 + n        CLIENT_SECURE_CONNECTION (else string<NUL>)
//   schema           string<NUL>
//   character_set    2            only if bytes remain
//   auth_plugin_name string<NUL>  CLIENT_PLUGIN_AUTH, only if bytes remain
//   attributes       lenenc total, then lenenc pairs   CLIENT_CONNECT_ATTRS, only if bytes remain
struct ComChangeUser {
  std::string username;
  std::string auth_response;
  std::string schema;
  uint16_t character_set = 0;
  std::string auth_plugin_name;
  std::vector<std::pair<std::string, std::string>> attributes;

  bool operator==(const ComChangeUser&) const = default;
};
Result<ComChangeUser> decode_com_change_user(ByteView payload, uint64_t capabilities);
void encode_com_change_user(const ComChangeUser& msg, uint64_t capabilities, Bytes& out);

}  // namespace replproxy::protocol
