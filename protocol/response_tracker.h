#pragma once

// Follows the grammar of a server's response to one command, frame by frame, without buffering
// it, to find where the response ends and what its final status is.
//
// Grammar (after the command packet, frames from the server):
//   COM_QUERY, COM_STMT_EXECUTE, COM_PROCESS_INFO:
//     response    := OK | ERR | LOCAL_INFILE_REQ (client data) (OK | ERR) | resultset
//     resultset   := column_count column_def{count} [EOF unless DEPRECATE_EOF] row*
//                    (EOF | OK_FE | ERR)
//     A final OK/EOF with SERVER_MORE_RESULTS_EXISTS starts another response.
//     COM_STMT_EXECUTE with a cursor: column defs and an EOF/OK_FE with
//     SERVER_STATUS_CURSOR_EXISTS end the response (rows come through COM_STMT_FETCH).
//   COM_STMT_FETCH:    row* (EOF | OK_FE | ERR)
//   COM_STMT_PREPARE:  ERR | PREPARE_OK param_def{n} [EOF] column_def{m} [EOF]
//   COM_FIELD_LIST:    ERR | column_def* (EOF | OK_FE)
//   COM_STATISTICS:    one string packet
//   COM_PING, COM_INIT_DB, COM_RESET_CONNECTION, COM_SET_OPTION, COM_STMT_RESET and other simple
//   commands: OK | ERR | EOF
//   COM_QUIT, COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA: no response.
// A row or terminator is recognised by its first byte: 0xfe with a frame shorter than 0xffffff
// ends the rows (a text row can only start with 0xfe when it is at least 16 MiB long), 0xff is an
// ERR. Continuation frames (after a 0xffffff-byte frame) are never interpreted.
// An ERR may stand wherever a packet of the response is expected (a query killed mid-rows sends
// one instead of a row) and ends the response. Sequence ids are not checked: after LOCAL INFILE
// data the server's numbering continues the client's.
// COM_CHANGE_USER and the binlog commands have their own exchanges and are not tracked here;
// start() puts them in simple mode.

#include <cstdint>
#include <optional>
#include <vector>

#include "protocol/generic.h"
#include "protocol/packet.h"
#include "protocol/wire.h"

namespace replproxy::protocol {

// What the tracker learned from the response; valid once it reports done.
struct ResponseSummary {
  uint16_t status_flags = 0;  // from the last OK/EOF
  bool status_seen = false;   // an OK/EOF carried status_flags (PREPARE_OK alone does not)
  bool error = false;         // the response (or its last result) was an ERR
  std::optional<ErrPacket> err;
  uint64_t affected_rows = 0;  // from the last OK
  uint64_t last_insert_id = 0;
  uint16_t warnings = 0;
  std::vector<SessionStateChange> session_state_changes;  // from every OK, in order
  // COM_STMT_PREPARE only.
  uint32_t statement_id = 0;
  uint16_t num_params = 0;
  uint16_t num_columns = 0;
  uint64_t result_sets = 0;  // result sets (with columns) seen
};

class ResponseTracker {
 public:
  enum class Next {
    read_more,         // keep forwarding server frames
    done,              // the response is complete
    send_local_infile  // a LOCAL INFILE request: the client now sends file data, ending with
                       // an empty packet, then the server's OK/ERR follows (keep feeding)
  };

  // `capabilities` are the ones negotiated between client and server.
  explicit ResponseTracker(uint64_t capabilities = 0) : capabilities_(capabilities) {}

  void set_capabilities(uint64_t capabilities) { capabilities_ = capabilities; }

  // Starts tracking the response to the command whose payload is `command_payload` (at least its
  // first byte; for COM_STMT_EXECUTE the first 6 bytes, to see the cursor flags byte).
  void start(ByteView command_payload);

  // Whether the command started gets a response at all.
  bool expects_response() const;

  // Feeds one server frame. invalid_input when the frame cannot occur here.
  Result<Next> feed(const Frame& frame);

  const ResponseSummary& summary() const { return summary_; }

 private:
  enum class Stage {
    idle,                // no command started, or one that gets no response
    first_packet,        // OK | ERR | LOCAL INFILE | column count
    local_infile_reply,  // the OK/ERR after the client's file data
    column_defs,         // counting column definitions
    columns_eof,         // the EOF after column definitions
    rows,                // rows until EOF/OK_FE/ERR
    prepare_ok,          // PREPARE_OK | ERR
    prepare_params,
    prepare_params_eof,
    prepare_columns,
    prepare_columns_eof,
    field_list,     // column definitions until EOF/OK_FE
    single_packet,  // COM_STATISTICS
    simple,         // OK | ERR | EOF
    done,           // the response ended (or was invalid): no further frame belongs to it
  };

  static Stage initial_stage(uint8_t command);
  bool deprecate_eof() const;
  bool multi_result_command() const;
  bool binary_rows() const;
  bool long_packets_allowed() const;

  Result<Next> dispatch(const Frame& frame);
  Result<Next> on_first_packet(const Frame& frame);
  Result<Next> on_local_infile_reply(const Frame& frame);
  Result<Next> on_column_count(ByteView payload);
  Result<Next> on_definition(const Frame& frame);
  Next after_definitions();
  Result<Next> on_columns_eof(const Frame& frame);
  Result<Next> on_row(const Frame& frame);
  Result<Next> on_prepare_ok(const Frame& frame);
  Result<Next> on_prepare_eof(const Frame& frame);
  Next begin_prepare_columns();
  Result<Next> on_field_list(const Frame& frame);
  Result<Next> on_single_packet(const Frame& frame);
  Result<Next> on_simple(const Frame& frame);

  // record_* decode a status packet into the summary and return its status flags.
  Result<uint16_t> record_ok(ByteView payload);
  Result<uint16_t> record_eof(ByteView payload);
  Result<uint16_t> record_terminator(ByteView payload);
  Result<Next> finish_ok(ByteView payload);
  Result<Next> finish_terminator(ByteView payload);
  Result<Next> finish_err(ByteView payload);
  Next end_of_result(uint16_t status_flags);

  uint64_t capabilities_;
  uint8_t command_ = 0;
  bool cursor_requested_ = false;
  Stage stage_ = Stage::idle;
  bool in_continuation_ = false;
  uint64_t columns_left_ = 0;
  ResponseSummary summary_;
};

}  // namespace replproxy::protocol
