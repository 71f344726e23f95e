#include "protocol/commands.h"

#include "protocol/connect_attributes.h"
#include "protocol/field_reader.h"

namespace replproxy::protocol {
namespace {

// Reads the command byte; invalid_input when it is another command.
void expect_command(FieldReader& f, Command command) {
  if (f.u8() != static_cast<uint8_t>(command)) {
    f.fail(CodecErrc::invalid_input);
  }
}

// Decodes "command, argument string<EOF>", the layout of several commands.
Result<std::string_view> decode_string_command(ByteView payload, Command command) {
  FieldReader f(payload);
  expect_command(f, command);
  std::string_view argument = f.rest_string();
  return f.finish(argument);
}

void encode_string_command(Command command, std::string_view argument, Bytes& out) {
  Writer(out).u8(static_cast<uint8_t>(command)).raw(argument);
}

// Decodes "command, statement_id 4", the layout of COM_STMT_CLOSE and COM_STMT_RESET.
Result<ComStmtId> decode_statement_command(ByteView payload, Command command) {
  FieldReader f(payload);
  expect_command(f, command);
  ComStmtId msg;
  msg.statement_id = f.u32();
  f.expect_end();
  return f.finish(msg);
}

void encode_statement_command(Command command, uint32_t statement_id, Bytes& out) {
  Writer(out).u8(static_cast<uint8_t>(command)).u32(statement_id);
}

}  // namespace

Result<ComQuery> decode_com_query(ByteView payload) {
  auto query = decode_string_command(payload, Command::query);
  if (!query) {
    return std::unexpected(query.error());
  }
  return ComQuery{*query};
}

void encode_com_query(std::string_view query, Bytes& out) {
  encode_string_command(Command::query, query, out);
}

Result<ComInitDb> decode_com_init_db(ByteView payload) {
  auto schema = decode_string_command(payload, Command::init_db);
  if (!schema) {
    return std::unexpected(schema.error());
  }
  return ComInitDb{*schema};
}

void encode_com_init_db(std::string_view schema, Bytes& out) {
  encode_string_command(Command::init_db, schema, out);
}

Result<ComFieldList> decode_com_field_list(ByteView payload) {
  FieldReader f(payload);
  expect_command(f, Command::field_list);
  ComFieldList msg;
  msg.table = f.nul_string();
  msg.wildcard = f.rest_string();
  return f.finish(msg);
}

void encode_com_field_list(const ComFieldList& msg, Bytes& out) {
  Writer(out).u8(static_cast<uint8_t>(Command::field_list)).nul_string(msg.table).raw(msg.wildcard);
}

Result<ComSetOption> decode_com_set_option(ByteView payload) {
  FieldReader f(payload);
  expect_command(f, Command::set_option);
  ComSetOption msg;
  msg.option = f.u16();
  f.expect_end();
  return f.finish(msg);
}

void encode_com_set_option(uint16_t option, Bytes& out) {
  Writer(out).u8(static_cast<uint8_t>(Command::set_option)).u16(option);
}

Result<ComStmtPrepare> decode_com_stmt_prepare(ByteView payload) {
  auto query = decode_string_command(payload, Command::stmt_prepare);
  if (!query) {
    return std::unexpected(query.error());
  }
  return ComStmtPrepare{*query};
}

void encode_com_stmt_prepare(std::string_view query, Bytes& out) {
  encode_string_command(Command::stmt_prepare, query, out);
}

Result<ComStmtExecute> decode_com_stmt_execute(ByteView payload) {
  FieldReader f(payload);
  expect_command(f, Command::stmt_execute);
  ComStmtExecute msg;
  msg.statement_id = f.u32();
  msg.flags = f.u8();
  msg.iteration_count = f.u32();
  msg.parameters = f.rest();
  return f.finish(msg);
}

void encode_com_stmt_execute(const ComStmtExecute& msg, Bytes& out) {
  Writer(out)
      .u8(static_cast<uint8_t>(Command::stmt_execute))
      .u32(msg.statement_id)
      .u8(msg.flags)
      .u32(msg.iteration_count)
      .raw(msg.parameters);
}

Result<ComStmtId> decode_com_stmt_close(ByteView payload) {
  return decode_statement_command(payload, Command::stmt_close);
}

Result<ComStmtId> decode_com_stmt_reset(ByteView payload) {
  return decode_statement_command(payload, Command::stmt_reset);
}

void encode_com_stmt_close(uint32_t statement_id, Bytes& out) {
  encode_statement_command(Command::stmt_close, statement_id, out);
}

void encode_com_stmt_reset(uint32_t statement_id, Bytes& out) {
  encode_statement_command(Command::stmt_reset, statement_id, out);
}

Result<ComStmtFetch> decode_com_stmt_fetch(ByteView payload) {
  FieldReader f(payload);
  expect_command(f, Command::stmt_fetch);
  ComStmtFetch msg;
  msg.statement_id = f.u32();
  msg.num_rows = f.u32();
  f.expect_end();
  return f.finish(msg);
}

void encode_com_stmt_fetch(const ComStmtFetch& msg, Bytes& out) {
  Writer(out).u8(static_cast<uint8_t>(Command::stmt_fetch)).u32(msg.statement_id).u32(msg.num_rows);
}

Result<ComStmtSendLongData> decode_com_stmt_send_long_data(ByteView payload) {
  FieldReader f(payload);
  expect_command(f, Command::stmt_send_long_data);
  ComStmtSendLongData msg;
  msg.statement_id = f.u32();
  msg.param_id = f.u16();
  msg.data = f.rest();
  return f.finish(msg);
}

void encode_com_stmt_send_long_data(const ComStmtSendLongData& msg, Bytes& out) {
  Writer(out)
      .u8(static_cast<uint8_t>(Command::stmt_send_long_data))
      .u32(msg.statement_id)
      .u16(msg.param_id)
      .raw(msg.data);
}

Result<ComChangeUser> decode_com_change_user(ByteView payload, uint64_t capabilities) {
  FieldReader f(payload);
  expect_command(f, Command::change_user);
  ComChangeUser msg;
  msg.username = f.nul_string();
  if (capabilities & cap::kSecureConnection) {
    msg.auth_response = f.fixed_string(f.u8());
  } else {
    msg.auth_response = f.nul_string();
  }
  msg.schema = f.nul_string();
  // Old clients end the packet after the schema; each later field is present only if bytes
  // remain.
  if (!f.at_end()) {
    msg.character_set = f.u16();
  }
  if ((capabilities & cap::kPluginAuth) && !f.at_end()) {
    msg.auth_plugin_name = f.nul_string();
  }
  if ((capabilities & cap::kConnectAttrs) && !f.at_end()) {
    std::string_view block = f.lenenc_string();
    if (!f.failed()) {
      msg.attributes = f.take(decode_connect_attributes(block));
    }
  }
  f.expect_end();
  return f.finish(std::move(msg));
}

void encode_com_change_user(const ComChangeUser& msg, uint64_t capabilities, Bytes& out) {
  Writer w(out);
  w.u8(static_cast<uint8_t>(Command::change_user)).nul_string(msg.username);
  if (capabilities & cap::kSecureConnection) {
    // A one-byte length: COM_CHANGE_USER has no lenenc form of the auth response.
    const std::string_view auth = std::string_view(msg.auth_response).substr(0, 0xff);
    w.u8(static_cast<uint8_t>(auth.size())).raw(auth);
  } else {
    w.nul_string(msg.auth_response);
  }
  w.nul_string(msg.schema).u16(msg.character_set);
  if (capabilities & cap::kPluginAuth) {
    w.nul_string(msg.auth_plugin_name);
  }
  if (capabilities & cap::kConnectAttrs) {
    encode_connect_attributes(msg.attributes, w);
  }
}

}  // namespace replproxy::protocol
