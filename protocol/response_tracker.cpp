#include "protocol/response_tracker.h"

#include "protocol/constants.h"

namespace replproxy::protocol {
namespace {

// COM_STMT_EXECUTE flags byte: servers open a cursor only for CURSOR_TYPE_READ_ONLY.
constexpr uint8_t kCursorTypeReadOnly = 0x01;
constexpr size_t kExecuteFlagsOffset = 5;

// PREPARE_OK is 12 bytes; servers older than 4.1 left out the trailing warning count.
constexpr size_t kPrepareOkSize = 12;
constexpr size_t kPrepareOkSizeWithoutWarnings = 9;

// A column definition starts with the lenenc catalog ("def"). The bytes excluded here are the
// headers of OK, NULL, EOF and ERR, none of which can start a definition.
bool starts_column_definition(ByteView payload) {
  if (payload.empty()) {
    return false;
  }
  const uint8_t first = payload[0];
  return first != 0x00 && first != 0xfb && first != 0xfe && first != 0xff;
}

bool is(uint8_t command, Command c) { return command == static_cast<uint8_t>(c); }

}  // namespace

void ResponseTracker::start(ByteView command_payload) {
  summary_ = {};
  in_continuation_ = false;
  columns_left_ = 0;
  command_ = command_payload.empty() ? 0 : command_payload[0];
  stage_ = command_payload.empty() ? Stage::idle : initial_stage(command_);
  cursor_requested_ = is(command_, Command::stmt_execute) &&
                      command_payload.size() > kExecuteFlagsOffset &&
                      (command_payload[kExecuteFlagsOffset] & kCursorTypeReadOnly) != 0;
}

ResponseTracker::Stage ResponseTracker::initial_stage(uint8_t command) {
  switch (static_cast<Command>(command)) {
    case Command::quit:
    case Command::stmt_close:
    case Command::stmt_send_long_data:
      return Stage::idle;
    case Command::query:
    case Command::stmt_execute:
    case Command::process_info:
      return Stage::first_packet;
    case Command::stmt_fetch:
      return Stage::rows;
    case Command::stmt_prepare:
      return Stage::prepare_ok;
    case Command::field_list:
      return Stage::field_list;
    case Command::statistics:
      return Stage::single_packet;
    default:
      // Simple commands, and commands the proxy does not track through here (COM_CHANGE_USER):
      // an unknown command byte is answered with an ERR, which simple mode accepts.
      return Stage::simple;
  }
}

bool ResponseTracker::expects_response() const { return stage_ != Stage::idle; }

bool ResponseTracker::deprecate_eof() const { return (capabilities_ & cap::kDeprecateEof) != 0; }

bool ResponseTracker::multi_result_command() const {
  return is(command_, Command::query) || is(command_, Command::stmt_execute) ||
         is(command_, Command::process_info);
}

bool ResponseTracker::binary_rows() const {
  return is(command_, Command::stmt_execute) || is(command_, Command::stmt_fetch);
}

// Only rows and column definitions may span frames. Every other packet must be decoded whole,
// which a tracker that does not buffer cannot do across frames, and none comes near 16 MiB.
bool ResponseTracker::long_packets_allowed() const {
  switch (stage_) {
    case Stage::column_defs:
    case Stage::rows:
    case Stage::prepare_params:
    case Stage::prepare_columns:
    case Stage::field_list:
      return true;
    default:
      return false;
  }
}

Result<ResponseTracker::Next> ResponseTracker::feed(const Frame& frame) {
  if (in_continuation_) {
    // The rest of a long packet that its first frame already classified; its bytes are data.
    // When that packet was the last of the response, the response ends with its last frame.
    in_continuation_ = frame.continues();
    return !in_continuation_ && stage_ == Stage::done ? Next::done : Next::read_more;
  }
  if (stage_ == Stage::idle || stage_ == Stage::done) {
    return fail(CodecErrc::invalid_input);
  }
  in_continuation_ = frame.continues();
  auto next = in_continuation_ && !long_packets_allowed() ? fail(CodecErrc::invalid_input)
                                                          : dispatch(frame);
  if (!next) {
    // The response can no longer be followed; every further frame is rejected too.
    stage_ = Stage::done;
    in_continuation_ = false;
    return next;
  }
  if (*next == Next::done && in_continuation_) {
    return Next::read_more;
  }
  return next;
}

Result<ResponseTracker::Next> ResponseTracker::dispatch(const Frame& frame) {
  switch (stage_) {
    case Stage::first_packet:
      return on_first_packet(frame);
    case Stage::local_infile_reply:
      return on_local_infile_reply(frame);
    case Stage::column_defs:
    case Stage::prepare_params:
    case Stage::prepare_columns:
      return on_definition(frame);
    case Stage::columns_eof:
      return on_columns_eof(frame);
    case Stage::rows:
      return on_row(frame);
    case Stage::prepare_ok:
      return on_prepare_ok(frame);
    case Stage::prepare_params_eof:
    case Stage::prepare_columns_eof:
      return on_prepare_eof(frame);
    case Stage::field_list:
      return on_field_list(frame);
    case Stage::single_packet:
      return on_single_packet(frame);
    case Stage::simple:
      return on_simple(frame);
    case Stage::idle:
    case Stage::done:
      break;
  }
  return fail(CodecErrc::invalid_input);
}

Result<ResponseTracker::Next> ResponseTracker::on_first_packet(const Frame& frame) {
  const ByteView p = frame.payload;
  if (p.empty()) {
    return fail(CodecErrc::invalid_input);
  }
  switch (p[0]) {
    case 0x00:
      return finish_ok(p);
    case 0xff:
      return finish_err(p);
    case 0xfb:
      // LOCAL INFILE request: the client answers with file data, then the server with OK/ERR.
      // Sequence ids are not checked, so the server continuing the client's count is fine.
      stage_ = Stage::local_infile_reply;
      return Next::send_local_infile;
    default:
      return on_column_count(p);
  }
}

Result<ResponseTracker::Next> ResponseTracker::on_local_infile_reply(const Frame& frame) {
  const ByteView p = frame.payload;
  if (is_ok_payload(p)) {
    return finish_ok(p);
  }
  if (is_err_payload(p)) {
    return finish_err(p);
  }
  return fail(CodecErrc::invalid_input);
}

// The column count is the whole packet: MARIADB_CLIENT_CACHE_METADATA, which would add a byte,
// is never negotiated by the proxy.
Result<ResponseTracker::Next> ResponseTracker::on_column_count(ByteView payload) {
  Reader reader(payload);
  auto count = reader.lenenc_int();
  if (!count || *count == 0 || !reader.empty()) {
    return fail(CodecErrc::invalid_input);
  }
  ++summary_.result_sets;
  columns_left_ = *count;
  stage_ = Stage::column_defs;
  return Next::read_more;
}

// Column and parameter definitions are counted, not parsed. The first frame of a long one is
// counted like any other; its continuation frames never reach here.
Result<ResponseTracker::Next> ResponseTracker::on_definition(const Frame& frame) {
  const ByteView p = frame.payload;
  if (!frame.continues()) {
    if (is_err_payload(p)) {
      return finish_err(p);
    }
    if (!starts_column_definition(p)) {
      return fail(CodecErrc::invalid_input);
    }
  }
  if (--columns_left_ > 0) {
    return Next::read_more;
  }
  return after_definitions();
}

ResponseTracker::Next ResponseTracker::after_definitions() {
  switch (stage_) {
    case Stage::column_defs:
      stage_ = deprecate_eof() ? Stage::rows : Stage::columns_eof;
      return Next::read_more;
    case Stage::prepare_params:
      if (deprecate_eof()) {
        return begin_prepare_columns();
      }
      stage_ = Stage::prepare_params_eof;
      return Next::read_more;
    default:
      if (deprecate_eof()) {
        stage_ = Stage::done;
        return Next::done;
      }
      stage_ = Stage::prepare_columns_eof;
      return Next::read_more;
  }
}

// Without DEPRECATE_EOF an EOF ends the column definitions. When COM_STMT_EXECUTE asked for a
// cursor and the server opened one, the EOF says so and ends the response: rows come later,
// through COM_STMT_FETCH.
Result<ResponseTracker::Next> ResponseTracker::on_columns_eof(const Frame& frame) {
  const ByteView p = frame.payload;
  if (is_err_payload(p)) {
    return finish_err(p);
  }
  if (!is_eof_payload(p)) {
    return fail(CodecErrc::invalid_input);
  }
  auto flags = record_eof(p);
  if (!flags) {
    return std::unexpected(flags.error());
  }
  if (cursor_requested_ && (*flags & status::kCursorExists) != 0) {
    stage_ = Stage::done;
    return Next::done;
  }
  stage_ = Stage::rows;
  return Next::read_more;
}

// Rows are told from terminators by their first byte. A text row starts with 0xfe only when its
// first value is 16 MiB or longer, so its first frame is a full one; binary rows start with 0x00.
Result<ResponseTracker::Next> ResponseTracker::on_row(const Frame& frame) {
  const ByteView p = frame.payload;
  if (p.empty()) {
    return fail(CodecErrc::invalid_input);
  }
  if (!frame.continues()) {
    if (p[0] == 0xff) {
      return finish_err(p);
    }
    if (p[0] == 0xfe) {
      return finish_terminator(p);
    }
  }
  const bool valid_row = binary_rows() ? p[0] == 0x00 : p[0] != 0xff;
  if (!valid_row) {
    return fail(CodecErrc::invalid_input);
  }
  return Next::read_more;
}

// PREPARE_OK:
//   field          width  notes
//   header         1      0x00
//   statement_id   4
//   num_columns    2
//   num_params     2
//   reserved       1
//   warning_count  2      absent from pre-4.1 servers
Result<ResponseTracker::Next> ResponseTracker::on_prepare_ok(const Frame& frame) {
  const ByteView p = frame.payload;
  if (is_err_payload(p)) {
    return finish_err(p);
  }
  if (!is_ok_payload(p) ||
      (p.size() != kPrepareOkSize && p.size() != kPrepareOkSizeWithoutWarnings)) {
    return fail(CodecErrc::invalid_input);
  }
  // The size was checked, so none of these reads can run short.
  Reader reader(p.subspan(1));
  summary_.statement_id = reader.u32().value_or(0);
  summary_.num_columns = reader.u16().value_or(0);
  summary_.num_params = reader.u16().value_or(0);
  (void)reader.skip(1);
  summary_.warnings = reader.u16().value_or(0);
  if (summary_.num_params == 0) {
    return begin_prepare_columns();
  }
  columns_left_ = summary_.num_params;
  stage_ = Stage::prepare_params;
  return Next::read_more;
}

ResponseTracker::Next ResponseTracker::begin_prepare_columns() {
  if (summary_.num_columns == 0) {
    stage_ = Stage::done;
    return Next::done;
  }
  columns_left_ = summary_.num_columns;
  stage_ = Stage::prepare_columns;
  return Next::read_more;
}

Result<ResponseTracker::Next> ResponseTracker::on_prepare_eof(const Frame& frame) {
  const ByteView p = frame.payload;
  if (is_err_payload(p)) {
    return finish_err(p);
  }
  if (!is_eof_payload(p)) {
    return fail(CodecErrc::invalid_input);
  }
  // Only the status is taken: the warning count stays the one of PREPARE_OK.
  auto eof = decode_eof(p, capabilities_);
  if (!eof) {
    return fail(CodecErrc::invalid_input);
  }
  summary_.status_flags = eof->status_flags;
  summary_.status_seen = true;
  if (stage_ == Stage::prepare_params_eof) {
    return begin_prepare_columns();
  }
  stage_ = Stage::done;
  return Next::done;
}

Result<ResponseTracker::Next> ResponseTracker::on_field_list(const Frame& frame) {
  const ByteView p = frame.payload;
  if (!frame.continues()) {
    if (is_err_payload(p)) {
      return finish_err(p);
    }
    if (!p.empty() && p[0] == 0xfe) {
      return finish_terminator(p);
    }
    if (!starts_column_definition(p)) {
      return fail(CodecErrc::invalid_input);
    }
  }
  return Next::read_more;
}

// COM_STATISTICS answers with one human-readable string; an ERR is still recognised.
Result<ResponseTracker::Next> ResponseTracker::on_single_packet(const Frame& frame) {
  if (is_err_payload(frame.payload)) {
    return finish_err(frame.payload);
  }
  stage_ = Stage::done;
  return Next::done;
}

// Some servers answer simple commands (COM_SET_OPTION, COM_DEBUG) with an EOF, which under
// DEPRECATE_EOF becomes an OK with a 0xfe header.
Result<ResponseTracker::Next> ResponseTracker::on_simple(const Frame& frame) {
  const ByteView p = frame.payload;
  if (is_ok_payload(p)) {
    return finish_ok(p);
  }
  if (is_err_payload(p)) {
    return finish_err(p);
  }
  if (!p.empty() && p[0] == 0xfe) {
    return finish_terminator(p);
  }
  return fail(CodecErrc::invalid_input);
}

Result<uint16_t> ResponseTracker::record_ok(ByteView payload) {
  auto ok = decode_ok(payload, capabilities_);
  if (!ok) {
    return fail(CodecErrc::invalid_input);
  }
  summary_.status_flags = ok->status_flags;
  summary_.status_seen = true;
  summary_.warnings = ok->warnings;
  summary_.affected_rows = ok->affected_rows;
  summary_.last_insert_id = ok->last_insert_id;
  for (auto& change : ok->session_state_changes) {
    summary_.session_state_changes.push_back(std::move(change));
  }
  return ok->status_flags;
}

Result<uint16_t> ResponseTracker::record_eof(ByteView payload) {
  auto eof = decode_eof(payload, capabilities_);
  if (!eof) {
    return fail(CodecErrc::invalid_input);
  }
  summary_.status_flags = eof->status_flags;
  summary_.status_seen = true;
  summary_.warnings = eof->warnings;
  return eof->status_flags;
}

// A 0xfe packet shorter than a full frame that ends rows or a simple command: an OK under
// DEPRECATE_EOF (possibly 9 bytes or longer with session state), an EOF otherwise. A classic
// EOF under DEPRECATE_EOF is tolerated, since it cannot be mistaken for anything else there.
Result<uint16_t> ResponseTracker::record_terminator(ByteView payload) {
  if (deprecate_eof()) {
    auto flags = record_ok(payload);
    if (flags || !is_eof_payload(payload)) {
      return flags;
    }
  }
  if (!is_eof_payload(payload)) {
    return fail(CodecErrc::invalid_input);
  }
  return record_eof(payload);
}

Result<ResponseTracker::Next> ResponseTracker::finish_ok(ByteView payload) {
  auto flags = record_ok(payload);
  if (!flags) {
    return std::unexpected(flags.error());
  }
  return end_of_result(*flags);
}

Result<ResponseTracker::Next> ResponseTracker::finish_terminator(ByteView payload) {
  auto flags = record_terminator(payload);
  if (!flags) {
    return std::unexpected(flags.error());
  }
  return end_of_result(*flags);
}

// An ERR ends the whole response, even after earlier results of a multi-statement.
Result<ResponseTracker::Next> ResponseTracker::finish_err(ByteView payload) {
  auto err = decode_err(payload, capabilities_);
  if (!err) {
    return fail(CodecErrc::invalid_input);
  }
  summary_.error = true;
  summary_.err = std::move(*err);
  stage_ = Stage::done;
  return Next::done;
}

// A cursor opened under DEPRECATE_EOF is announced by the OK_FE after the column definitions,
// which arrives here through the rows stage.
ResponseTracker::Next ResponseTracker::end_of_result(uint16_t status_flags) {
  if (cursor_requested_ && (status_flags & status::kCursorExists) != 0) {
    stage_ = Stage::done;
    return Next::done;
  }
  if (multi_result_command() && (status_flags & status::kMoreResultsExist) != 0) {
    stage_ = Stage::first_packet;
    return Next::read_more;
  }
  stage_ = Stage::done;
  return Next::done;
}

}  // namespace replproxy::protocol
