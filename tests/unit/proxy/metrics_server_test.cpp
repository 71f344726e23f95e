// The Prometheus endpoint over a real loopback socket, with a minimal HTTP/1.0 client: the server
// closes the connection after each answer, so a reply is everything read until EOF.

#include "proxy/metrics_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace replproxy::proxy {
namespace {

constexpr std::string_view kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kBody = "# TYPE replproxy_sessions gauge\nreplproxy_sessions 3\n";

// A socket closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

struct Reply {
  std::string status_line;
  std::string headers;  // every header line after the status line, each ending in "\r\n"
  std::string body;
};

sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Connects to 127.0.0.1:port, or returns -1 with errno set.
int connect_loopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return -1;
  }
  const sockaddr_in addr = loopback(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int error = errno;
    ::close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

// Sends `request` and reads until the server closes; an empty string on any failure (reported).
// A receive timeout keeps a broken server from hanging the test.
std::string round_trip(uint16_t port, std::string_view request) {
  const Fd fd(connect_loopback(port));
  if (fd.get() < 0) {
    ADD_FAILURE() << "connect: " << std::strerror(errno);
    return "";
  }
  const timeval timeout{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ADD_FAILURE() << "send: " << std::strerror(errno);
    return "";
  }
  std::string reply;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (n == 0) {
      return reply;
    }
    if (n < 0) {
      ADD_FAILURE() << "recv: " << std::strerror(errno);
      return "";
    }
    reply.append(buffer, static_cast<size_t>(n));
  }
}

Reply parse_reply(const std::string& raw) {
  Reply reply;
  const size_t status_end = raw.find("\r\n");
  const size_t headers_end = raw.find("\r\n\r\n");
  if (status_end == std::string::npos || headers_end == std::string::npos) {
    ADD_FAILURE() << "not an HTTP reply: " << raw;
    return reply;
  }
  reply.status_line = raw.substr(0, status_end);
  reply.headers = raw.substr(status_end + 2, headers_end + 2 - (status_end + 2));
  reply.body = raw.substr(headers_end + 4);
  return reply;
}

Reply request(uint16_t port, std::string_view method, std::string_view path) {
  return parse_reply(round_trip(port, std::string(method) + " " + std::string(path) +
                                          " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"));
}

// The value of header `name` (matched case-insensitively, as HTTP says), or "" when absent.
std::string header(const Reply& reply, std::string_view name) {
  size_t start = 0;
  while (start < reply.headers.size()) {
    const size_t end = reply.headers.find("\r\n", start);
    const std::string_view line(reply.headers.data() + start, end - start);
    const size_t colon = line.find(':');
    if (colon == name.size() && strncasecmp(line.data(), name.data(), name.size()) == 0) {
      std::string_view value = line.substr(colon + 1);
      while (value.starts_with(' ')) {
        value.remove_prefix(1);
      }
      return std::string(value);
    }
    start = end + 2;
  }
  return "";
}

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = server_.start({"127.0.0.1", 0}, [this] {
      ++renders_;
      return std::string(kBody);
    });
    ASSERT_TRUE(started.has_value()) << started.error();
    ASSERT_NE(server_.port(), 0);
  }

  MetricsServer server_;
  std::atomic<int> renders_ = 0;
};

TEST_F(MetricsServerTest, GetMetrics) {
  const Reply reply = request(server_.port(), "GET", "/metrics");
  EXPECT_EQ(reply.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(header(reply, "Content-Type"), kMetricsType);
  EXPECT_EQ(header(reply, "Content-Length"), std::to_string(kBody.size()));
  EXPECT_EQ(reply.body, kBody);
  EXPECT_EQ(renders_, 1);
}

// Every scrape renders anew: the text is not cached between requests.
TEST_F(MetricsServerTest, RendersPerScrape) {
  EXPECT_EQ(request(server_.port(), "GET", "/metrics").body, kBody);
  EXPECT_EQ(request(server_.port(), "GET", "/metrics").body, kBody);
  EXPECT_EQ(renders_, 2);
}

TEST_F(MetricsServerTest, HeadHasHeadersWithoutBody) {
  const Reply reply = request(server_.port(), "HEAD", "/metrics");
  EXPECT_EQ(reply.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(header(reply, "Content-Type"), kMetricsType);
  EXPECT_EQ(reply.body, "");
}

TEST_F(MetricsServerTest, OtherPathIsNotFound) {
  for (std::string_view path : {"/nope", "/", "/metrics/", "/metricsx"}) {
    const Reply reply = request(server_.port(), "GET", path);
    EXPECT_EQ(reply.status_line, "HTTP/1.1 404 Not Found") << path;
    EXPECT_EQ(header(reply, "Content-Type"), "text/plain; charset=utf-8") << path;
    EXPECT_EQ(reply.body, "not found: the metrics are at /metrics\n") << path;
  }
  EXPECT_EQ(renders_, 0);
}

TEST_F(MetricsServerTest, OtherMethodIsNotAllowed) {
  for (std::string_view method : {"POST", "PUT", "DELETE"}) {
    const Reply reply = request(server_.port(), method, "/metrics");
    EXPECT_EQ(reply.status_line, "HTTP/1.1 405 Method Not Allowed") << method;
    EXPECT_EQ(header(reply, "Allow"), "GET, HEAD") << method;
    EXPECT_EQ(reply.body, "only GET and HEAD are allowed\n") << method;
  }
  EXPECT_EQ(renders_, 0);
}

TEST_F(MetricsServerTest, StopClosesTheListener) {
  const uint16_t port = server_.port();
  server_.stop();
  EXPECT_EQ(server_.port(), 0);
  const Fd fd(connect_loopback(port));
  const int error = errno;
  EXPECT_LT(fd.get(), 0);
  EXPECT_EQ(error, ECONNREFUSED);
  server_.stop();  // a second stop is harmless
}

TEST_F(MetricsServerTest, PortInUseNamesTheAddress) {
  MetricsServer second;
  const auto started = second.start({"127.0.0.1", server_.port()}, [] { return std::string(); });
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error(), "cannot serve metrics on 127.0.0.1:" + std::to_string(server_.port()) +
                                 ": Address already in use");
  EXPECT_EQ(second.port(), 0);
  // The first server is unaffected.
  EXPECT_EQ(request(server_.port(), "GET", "/metrics").body, kBody);
}

TEST(MetricsServer, RenderFailureIsAServerError) {
  MetricsServer server;
  const auto started = server.start(
      {"127.0.0.1", 0}, []() -> std::string { throw std::runtime_error("snapshot unavailable"); });
  ASSERT_TRUE(started.has_value()) << started.error();
  const Reply reply = request(server.port(), "GET", "/metrics");
  EXPECT_EQ(reply.status_line, "HTTP/1.1 500 Internal Server Error");
  EXPECT_EQ(reply.body, "cannot render the metrics\n");
}

TEST(MetricsServer, RejectsAHostName) {
  MetricsServer server;
  const auto started = server.start({"localhost", 9033}, [] { return std::string(); });
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error(),
            "cannot serve metrics on localhost:9033: not an IP address: localhost");
}

// A listener bound to 127.0.0.1 only must not answer on another local address of the machine.
TEST(MetricsServer, BindsTheExactAddress) {
  MetricsServer server;
  ASSERT_TRUE(server.start({"127.0.0.2", 0}, [] { return std::string(kBody); }).has_value());
  const Fd fd(connect_loopback(server.port()));
  const int error = errno;
  EXPECT_LT(fd.get(), 0);
  EXPECT_EQ(error, ECONNREFUSED);
}

}  // namespace
}  // namespace replproxy::proxy
