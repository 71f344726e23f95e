#include "relay/sql_client.h"

#include "protocol/auth.h"
#include "protocol/constants.h"
#include "protocol/generic.h"
#include "protocol/commands.h"
#include "protocol/wire.h"

namespace replproxy::relay {
namespace {

std::string err_text(protocol::ByteView payload, uint64_t caps) {
  auto err = protocol::decode_err(payload, caps);
  if (!err) {
    return "a malformed ERR packet";
  }
  return "ERROR " + std::to_string(err->error_code) + ": " + err->message;
}

}  // namespace

std::expected<Packet, std::string> SqlClient::read(int timeout_ms) {
  auto packet = channel_.read_packet(timeout_ms);
  if (!packet) {
    return std::unexpected(packet.error());
  }
  if (!*packet) {
    return std::unexpected(std::string("timed out waiting for the server"));
  }
  return std::move(**packet);
}

std::expected<void, std::string> SqlClient::login(const LoginOptions& options) {
  auto first = read(options.timeout_ms);
  if (!first) {
    return std::unexpected(first.error());
  }
  if (protocol::is_err_payload(first->payload)) {
    return std::unexpected("the server refused the connection: " + err_text(first->payload, 0));
  }
  auto greeting = protocol::decode_initial_handshake(first->payload);
  if (!greeting) {
    return std::unexpected(std::string("a malformed greeting"));
  }
  greeting_ = *greeting;
  namespace cap = protocol::cap;
  if ((greeting_.capabilities & cap::kProtocol41) == 0) {
    return std::unexpected(std::string("the server does not speak protocol 4.1"));
  }
  uint64_t caps = cap::kLongPassword | cap::kLongFlag | cap::kProtocol41 | cap::kTransactions |
                  cap::kSecureConnection | cap::kPluginAuth | cap::kPluginAuthLenencClientData;
  caps &= greeting_.capabilities | cap::kLongPassword;
  uint8_t seq = static_cast<uint8_t>(first->last_sequence_id + 1);
  if (options.tls != nullptr) {
    if ((greeting_.capabilities & cap::kSsl) == 0) {
      return std::unexpected(std::string("TLS is required but the server does not offer it"));
    }
    caps |= cap::kSsl;
    protocol::Bytes payload;
    protocol::encode_ssl_request({caps, 0x01000000, 45}, payload);
    if (auto w = channel_.write_packet(payload, seq, options.timeout_ms); !w) {
      return std::unexpected(w.error());
    }
    if (auto tls = channel_.start_tls_client(options.tls, options.verify_host, options.timeout_ms);
        !tls) {
      return std::unexpected(tls.error());
    }
  }
  capabilities_ = caps;
  const protocol::Sha1Digest stage1 = protocol::native_password_stage1(options.password);
  const bool empty = options.password.empty();
  protocol::HandshakeResponse response;
  response.capabilities = caps;
  response.max_packet_size = 0x40000000;
  response.character_set = 45;
  response.username = options.user;
  response.auth_response =
      empty ? "" : protocol::native_password_response(stage1, greeting_.auth_plugin_data);
  response.auth_plugin_name = "mysql_native_password";
  protocol::Bytes payload;
  protocol::encode_handshake_response(response, payload);
  if (auto w = channel_.write_packet(payload, seq, options.timeout_ms); !w) {
    return std::unexpected(w.error());
  }
  for (int round = 0; round < 3; ++round) {
    auto reply = read(options.timeout_ms);
    if (!reply) {
      return std::unexpected(reply.error());
    }
    const protocol::ByteView p = reply->payload;
    if (protocol::is_ok_payload(p)) {
      return {};
    }
    if (protocol::is_err_payload(p)) {
      return std::unexpected("access denied: " + err_text(p, caps));
    }
    if (!p.empty() && p[0] == 0xfe) {
      auto sw = protocol::decode_auth_switch_request(p);
      if (!sw) {
        return std::unexpected(std::string("a malformed AuthSwitchRequest"));
      }
      if (sw->plugin_name != "mysql_native_password") {
        return std::unexpected("the server asks for the " + sw->plugin_name +
                               " plugin; the replication account must use mysql_native_password");
      }
      const std::string answer =
          empty ? "" : protocol::native_password_response(stage1, sw->plugin_data);
      seq = static_cast<uint8_t>(reply->last_sequence_id + 1);
      const protocol::ByteView bytes(reinterpret_cast<const uint8_t*>(answer.data()),
                                     answer.size());
      if (auto w = channel_.write_packet(bytes, seq, options.timeout_ms); !w) {
        return std::unexpected(w.error());
      }
      continue;
    }
    return std::unexpected(std::string("an unexpected packet during the login"));
  }
  return std::unexpected(std::string("the login did not finish"));
}

std::expected<void, std::string> SqlClient::command_ok(const protocol::Bytes& payload,
                                                       int timeout_ms) {
  uint8_t seq = 0;
  if (auto w = channel_.write_packet(payload, seq, timeout_ms); !w) {
    return std::unexpected(w.error());
  }
  auto reply = read(timeout_ms);
  if (!reply) {
    return std::unexpected(reply.error());
  }
  if (protocol::is_err_payload(reply->payload)) {
    return std::unexpected(err_text(reply->payload, capabilities_));
  }
  if (!protocol::is_ok_payload(reply->payload)) {
    return std::unexpected(std::string("an unexpected answer (no OK)"));
  }
  return {};
}

std::expected<QueryResult, std::string> SqlClient::query(const std::string& sql, int timeout_ms) {
  protocol::Bytes payload;
  protocol::encode_com_query(sql, payload);
  uint8_t seq = 0;
  if (auto w = channel_.write_packet(payload, seq, timeout_ms); !w) {
    return std::unexpected(w.error());
  }
  auto first = read(timeout_ms);
  if (!first) {
    return std::unexpected(first.error());
  }
  QueryResult result;
  const protocol::ByteView p = first->payload;
  if (protocol::is_err_payload(p)) {
    return std::unexpected(err_text(p, capabilities_));
  }
  if (protocol::is_ok_payload(p)) {
    return result;
  }
  protocol::Reader reader(p);
  auto count = reader.lenenc_int();
  if (!count || *count == 0 || *count > 4096) {
    return std::unexpected(std::string("a malformed result set header"));
  }
  for (uint64_t i = 0; i < *count; ++i) {
    auto column = read(timeout_ms);
    if (!column) {
      return std::unexpected(column.error());
    }
    // Column definition 41: catalog, schema, table, org_table, name, ...
    protocol::Reader def(column->payload);
    std::string name;
    for (int field = 0; field < 5; ++field) {
      auto s = def.lenenc_string();
      if (!s) {
        return std::unexpected(std::string("a malformed column definition"));
      }
      if (field == 4) {
        name = std::string(*s);
      }
    }
    result.columns.push_back(std::move(name));
  }
  auto eof = read(timeout_ms);  // no CLIENT_DEPRECATE_EOF: an EOF after the columns
  if (!eof) {
    return std::unexpected(eof.error());
  }
  for (;;) {
    auto row = read(timeout_ms);
    if (!row) {
      return std::unexpected(row.error());
    }
    if (protocol::is_eof_payload(row->payload)) {
      return result;
    }
    if (protocol::is_err_payload(row->payload)) {
      return std::unexpected(err_text(row->payload, capabilities_));
    }
    auto values = protocol::decode_text_row(row->payload, result.columns.size());
    if (!values) {
      return std::unexpected(std::string("a malformed row"));
    }
    result.rows.push_back(std::move(*values));
  }
}

std::expected<std::optional<std::string>, std::string> SqlClient::query_value(
    const std::string& sql) {
  auto result = query(sql);
  if (!result) {
    return std::unexpected(result.error());
  }
  if (result->rows.empty() || result->rows[0].empty() || !result->rows[0][0]) {
    return std::optional<std::string>{};
  }
  return result->rows[0][0];
}

}  // namespace replproxy::relay
