#include "relay/replica_login.h"

#include "protocol/auth.h"
#include "protocol/constants.h"
#include "protocol/generic.h"
#include "protocol/handshake.h"
#include "proxy/server_handshake.h"

namespace replproxy::relay {
namespace {

namespace cap = protocol::cap;

// What the replica port offers: protocol 4.1 with plugin auth and connect attributes, as a
// MariaDB primary does; no multi-statements, no compression, no LOCAL INFILE.
constexpr uint64_t kReplicaPortCapabilities =
    cap::kLongPassword | cap::kFoundRows | cap::kLongFlag | cap::kConnectWithDb |
    cap::kProtocol41 | cap::kTransactions | cap::kSecureConnection | cap::kPluginAuth |
    cap::kConnectAttrs | cap::kPluginAuthLenencClientData | cap::kMultiResults |
    cap::kDeprecateEof;

std::expected<Packet, std::string> read(Channel& channel, uint8_t expected_seq, int timeout_ms) {
  auto packet = channel.read_packet(timeout_ms);
  if (!packet) {
    return std::unexpected(packet.error());
  }
  if (!*packet) {
    return std::unexpected(std::string("timed out in the connection phase"));
  }
  if ((*packet)->sequence_id != expected_seq) {
    return std::unexpected("packets out of order in the connection phase (sequence id " +
                           std::to_string((*packet)->sequence_id) + ", expected " +
                           std::to_string(expected_seq) + ")");
  }
  return std::move(**packet);
}

std::string refuse(Channel& channel, uint8_t seq, uint16_t code, const char* state,
                   const std::string& message, uint64_t caps, int timeout_ms) {
  protocol::Bytes payload;
  protocol::encode_err({code, state, message}, caps | cap::kProtocol41, payload);
  (void)channel.write_packet(payload, seq, timeout_ms);
  return message;
}

std::string peer_host(const Channel& channel) {
  std::string peer = channel.peer();
  const size_t colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

}  // namespace

std::expected<ReplicaLogin, std::string> serve_replica_login(Channel& channel,
                                                             const ReplicaLoginOptions& options) {
  const int timeout = options.timeout_ms;
  const uint64_t offered = kReplicaPortCapabilities | (options.tls != nullptr ? cap::kSsl : 0);
  // The greeting and the auth switch are the client port's (proxy::ServerHandshake); only the
  // transport differs: a blocking channel here.
  proxy::ServerHandshake handshake;
  uint8_t seq = 0;
  const protocol::Bytes greeting =
      handshake.greeting(options.server_version, options.connection_id, offered, seq);
  const std::string nonce = handshake.nonce();
  if (auto w = channel.write(greeting, timeout); !w) {
    return std::unexpected("sending the greeting: " + w.error());
  }

  channel.set_exact_reads(true);
  auto reply = read(channel, seq, timeout);
  channel.set_exact_reads(false);
  if (!reply) {
    return std::unexpected(reply.error());
  }
  seq = static_cast<uint8_t>(reply->last_sequence_id + 1);
  if (protocol::is_ssl_request(reply->payload)) {
    if (options.tls == nullptr) {
      return std::unexpected(std::string("the replica asked for TLS, which is not offered"));
    }
    if (auto tls = channel.start_tls_server(options.tls, timeout); !tls) {
      return std::unexpected("TLS handshake failed: " + tls.error());
    }
    reply = read(channel, seq, timeout);
    if (!reply) {
      return std::unexpected(reply.error());
    }
    seq = static_cast<uint8_t>(reply->last_sequence_id + 1);
  }
  auto response = protocol::decode_handshake_response(reply->payload);
  if (!response) {
    return std::unexpected(refuse(channel, seq, protocol::errc::kHandshake, "08S01",
                                  "Bad handshake", 0, timeout));
  }
  const uint64_t caps = response->capabilities & offered;
  const std::string who = "'" + response->username + "'@'" + peer_host(channel) + "'";
  if (options.require_tls && !channel.tls()) {
    return std::unexpected(refuse(channel, seq, protocol::errc::kAccessDenied, "28000",
                                  "Access denied for user " + who + " (TLS is required)", caps,
                                  timeout));
  }

  std::string scramble = response->auth_response;
  if (!response->auth_plugin_name.empty() &&
      response->auth_plugin_name != protocol::kNativePasswordPlugin) {
    const protocol::Bytes sw = handshake.auth_switch_request(seq);
    if (auto w = channel.write(sw, timeout); !w) {
      return std::unexpected("sending the auth switch: " + w.error());
    }
    auto answer = read(channel, seq, timeout);
    if (!answer) {
      return std::unexpected(answer.error());
    }
    seq = static_cast<uint8_t>(answer->last_sequence_id + 1);
    scramble.assign(answer->payload.begin(), answer->payload.end());
  }

  const config::User* account = nullptr;
  if (options.users != nullptr) {
    for (const config::User& u : *options.users) {
      if (u.name == response->username) {
        account = &u;
      }
    }
  }
  if (account == nullptr ||
      !protocol::native_password_verify(scramble, nonce, account->password_stage2)) {
    return std::unexpected(refuse(channel, seq, protocol::errc::kAccessDenied, "28000",
                                  "Access denied for user " + who + " (using password: " +
                                      (scramble.empty() ? "NO" : "YES") + ")",
                                  caps, timeout));
  }
  protocol::Bytes ok;
  protocol::encode_ok({.status_flags = protocol::status::kAutocommit}, caps, ok);
  if (auto w = channel.write_packet(ok, seq, timeout); !w) {
    return std::unexpected("sending OK: " + w.error());
  }
  return ReplicaLogin{response->username, caps};
}

}  // namespace replproxy::relay
