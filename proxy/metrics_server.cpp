#include "proxy/metrics_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <string_view>

#include "proxy/log.h"

namespace replproxy::proxy {
namespace {

constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kTextContentType = "text/plain; charset=utf-8";
// A scraper sends its request at once; a connection idle this long is dropped so that stray
// clients cannot pile up. Both are unsigned int, as the varargs of MHD_start_daemon expect.
constexpr unsigned int kIdleTimeoutSeconds = 10;
// Scrapers are a handful of Prometheus servers; more connections than this are refused.
constexpr unsigned int kMaxConnections = 64;

// sockaddr_in or sockaddr_in6 for an IP literal, as MHD_OPTION_SOCK_ADDR wants it (the
// MHD_USE_IPv6 flag tells libmicrohttpd which of the two it is given).
struct ListenAddress {
  sockaddr_storage storage{};
  bool ipv6 = false;
};

std::expected<ListenAddress, std::string> to_sockaddr(const config::Address& listen) {
  ListenAddress out;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  if (inet_pton(AF_INET, listen.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(listen.port);
    return out;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET6, listen.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(listen.port);
    out.ipv6 = true;
    return out;
  }
  return std::unexpected("cannot serve metrics on " + listen.to_string() +
                         ": not an IP address: " + listen.host);
}

// The port the daemon's listening socket is bound to (the configured one, or the one the kernel
// picked for port 0), or 0 when it cannot be read.
uint16_t bound_port(MHD_Daemon* daemon) {
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_LISTEN_FD);
  if (info == nullptr) {
    return 0;
  }
  sockaddr_storage addr{};
  socklen_t length = sizeof addr;
  if (getsockname(info->listen_fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    return 0;
  }
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
}

MHD_Result queue(MHD_Connection* connection, unsigned int status, std::string_view body,
                 const char* content_type) {
  MHD_Response* response = MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) {
    return MHD_NO;
  }
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
    MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
  }
  const MHD_Result result = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return result;
}

// The render callback is the proxy's code called from a C library's thread: an exception must
// not unwind through libmicrohttpd, so it becomes a 500 for this one scrape.
MHD_Result serve_metrics(MHD_Connection* connection, const MetricsServer::Render& render) {
  std::string text;
  try {
    text = render();
  } catch (const std::exception& e) {
    module_logger("metrics")->error("rendering the metrics failed: {}", e.what());
    return queue(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render the metrics\n",
                 kTextContentType);
  }
  return queue(connection, MHD_HTTP_OK, text, kMetricsContentType);
}

// The access handler; `cls` is the server's render callback. A GET or HEAD has no body to wait
// for, so every request is answered on the first call, from its headers alone (for a HEAD,
// libmicrohttpd sends the headers of the response and drops its body).
MHD_Result on_request(void* cls, MHD_Connection* connection, const char* url, const char* method,
                      const char* /*version*/, const char* /*upload_data*/,
                      size_t* /*upload_data_size*/, void** /*request_state*/) {
  const std::string_view verb(method);
  if (verb != MHD_HTTP_METHOD_GET && verb != MHD_HTTP_METHOD_HEAD) {
    return queue(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD are allowed\n",
                 kTextContentType);
  }
  if (std::string_view(url) != "/metrics") {
    return queue(connection, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n",
                 kTextContentType);
  }
  return serve_metrics(connection, *static_cast<const MetricsServer::Render*>(cls));
}

}  // namespace

void MetricsServer::DaemonStopper::operator()(MHD_Daemon* daemon) const { MHD_stop_daemon(daemon); }

MetricsServer::MetricsServer() = default;

MetricsServer::~MetricsServer() { stop(); }

std::expected<void, std::string> MetricsServer::start(const config::Address& listen,
                                                      Render render) {
  stop();
  auto address = to_sockaddr(listen);
  if (!address) {
    return std::unexpected(address.error());
  }
  render_ = std::move(render);
  // Without MHD_USE_ERROR_LOG libmicrohttpd prints nothing to stderr; failures are reported here.
  // MHD_USE_AUTO picks epoll: select() would refuse the descriptors above FD_SETSIZE that a proxy
  // with thousands of client connections hands out.
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
  if (address->ipv6) {
    flags |= MHD_USE_IPv6;
  }
  // libmicrohttpd returns no reason. On Linux errno is left as the failed bind() or listen() set
  // it (the port-in-use test relies on it); the reason is left out when it is not set.
  errno = 0;
  daemon_.reset(MHD_start_daemon(
      flags, listen.port, nullptr, nullptr, &on_request, &render_, MHD_OPTION_SOCK_ADDR,
      reinterpret_cast<sockaddr*>(&address->storage), MHD_OPTION_CONNECTION_TIMEOUT,
      kIdleTimeoutSeconds, MHD_OPTION_CONNECTION_LIMIT, kMaxConnections, MHD_OPTION_END));
  if (!daemon_) {
    const int error = errno;
    render_ = nullptr;
    std::string message = "cannot serve metrics on " + listen.to_string();
    if (error != 0) {
      message += ": ";
      message += std::strerror(error);
    }
    return std::unexpected(std::move(message));
  }
  port_ = bound_port(daemon_.get());
  const config::Address bound{listen.host, port_};
  module_logger("metrics")->info("serving metrics on http://{}/metrics", bound.to_string());
  return {};
}

void MetricsServer::stop() {
  if (!daemon_) {
    return;
  }
  daemon_.reset();
  render_ = nullptr;
  port_ = 0;
  module_logger("metrics")->info("stopped serving metrics");
}

}  // namespace replproxy::proxy
