#include "protocol/auth.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "codec_test_util.h"

namespace replproxy::protocol {
namespace {

using test::hex;

std::string hex_of(const Sha1Digest& d) { return test::to_hex(d); }

Sha1Digest digest(std::string_view hex_text) {
  const Bytes b = hex(hex_text);
  Sha1Digest d{};
  EXPECT_EQ(b.size(), d.size());
  std::copy(b.begin(), b.begin() + std::min(b.size(), d.size()), d.begin());
  return d;
}

TEST(Sha1, KnownVectors) {
  // FIPS 180 test vector, and SHA1 of the empty string.
  EXPECT_EQ(hex_of(sha1(as_bytes("abc"))),
            "a9 99 3e 36 47 06 81 6a ba 3e 25 71 78 50 c2 6c 9c d0 d8 9d");
  EXPECT_EQ(hex_of(sha1(as_bytes(""))),
            "da 39 a3 ee 5e 6b 4b 0d 32 55 bf ef 95 60 18 90 af d8 07 09");
  EXPECT_EQ(sha1(as_bytes("ab"), as_bytes("c")), sha1(as_bytes("abc")));
}

// The hashes MariaDB shows in mysql.user for PASSWORD('...'), computed independently (Python's
// hashlib for "app"; the root hash is the widely published one).
TEST(NativePassword, Stage2FormatsAsMariadbPasswordHash) {
  EXPECT_EQ(format_native_password_hash(native_password_stage2("app")),
            "*5BCB3E6AC345B435C7C2E6B7949A04CE6F6563D3");
  EXPECT_EQ(format_native_password_hash(native_password_stage2("root")),
            "*81F5E21E35407D884A6CD4A731AEBFB6AF209E1B");
  EXPECT_EQ(hex_of(native_password_stage1("app")),
            "7d 10 43 47 3d 55 bf a9 0e 85 30 d3 58 01 d4 e3 81 bc 69 f0");
  // MariaDB's PASSWORD('') is '' (an account without password), not this hash: an empty
  // password is recognised by its empty response instead, see native_password_verify.
  EXPECT_EQ(format_native_password_hash(native_password_stage2("")),
            "*BE1BDEC0AA74B4DCB079943E70528096CCA985F8");
}

TEST(NativePassword, ParseHash) {
  const Sha1Digest root = native_password_stage2("root");
  EXPECT_EQ(parse_native_password_hash("*81F5E21E35407D884A6CD4A731AEBFB6AF209E1B").value(), root);
  EXPECT_EQ(parse_native_password_hash("*81f5e21e35407d884a6cd4a731aebfb6af209e1b").value(), root);

  for (std::string_view bad : {
           "",  // MariaDB's "no password"; the caller decides what an empty hash means
           "81F5E21E35407D884A6CD4A731AEBFB6AF209E1B",    // no star
           "*81F5E21E35407D884A6CD4A731AEBFB6AF209E1",    // 39 digits
           "*81F5E21E35407D884A6CD4A731AEBFB6AF209E1B0",  // 41 digits
           "*81F5E21E35407D884A6CD4A731AEBFB6AF209E1G",   // not hex
           "*81F5E21E35407D884A6CD4A731AEBFB6AF209E 1",   // space
       }) {
    SCOPED_TRACE(bad);
    test::expect_error(parse_native_password_hash(bad), CodecErrc::invalid_input);
  }
}

TEST(NativePassword, ResponseKnownVectors) {
  // A client test vector published with a MySQL driver: password "secret", scramble "scramble"
  // (a short nonce is used as it is).
  EXPECT_EQ(test::to_hex(
                as_bytes(native_password_response(native_password_stage1("secret"), "scramble"))),
            "18 d8 8d 74 77 2c 27 22 89 e1 cd bc 4b 5f 77 08 18 3c 6e ba");
  // Computed with Python's hashlib: SHA1(P) XOR SHA1(N + SHA1(SHA1(P))), N = 01 02 .. 14.
  const Bytes nonce = hex("01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14");
  EXPECT_EQ(test::to_hex(
                as_bytes(native_password_response(native_password_stage1("app"), as_chars(nonce)))),
            "12 32 80 35 ee 49 5d a7 a7 00 c0 f1 72 e9 11 70 66 41 ab c5");
}

TEST(NativePassword, NonceTrailingNulIsIgnored) {
  const std::string nonce = "abcdefghijklmnopqrst";
  const Sha1Digest stage1 = native_password_stage1("app");
  EXPECT_EQ(native_password_response(stage1, nonce),
            native_password_response(stage1, nonce + std::string(1, '\0')));
}

TEST(NativePassword, VerifyRecoversStage1ThatAnswersAnotherNonce) {
  const std::string client_nonce = "abcdefghijklmnopqrst";
  const std::string backend_nonce = "ABCDEFGHIJKLMNOPQRST";
  const Sha1Digest stage1 = native_password_stage1("app");
  const Sha1Digest stage2 = native_password_stage2("app");

  const std::string response = native_password_response(stage1, client_nonce);
  ASSERT_EQ(response.size(), 20u);
  auto recovered = native_password_verify(response, client_nonce, stage2);
  ASSERT_TRUE(recovered);
  EXPECT_EQ(*recovered, stage1);
  EXPECT_EQ(native_password_response(*recovered, backend_nonce),
            native_password_response(stage1, backend_nonce));
}

TEST(NativePassword, VerifyRejects) {
  const std::string nonce = "abcdefghijklmnopqrst";
  const Sha1Digest stage2 = native_password_stage2("app");
  const std::string right = native_password_response(native_password_stage1("app"), nonce);

  EXPECT_FALSE(native_password_verify(
      native_password_response(native_password_stage1("apq"), nonce), nonce, stage2));
  EXPECT_FALSE(native_password_verify(right, "abcdefghijklmnopqrsT", stage2)) << "other nonce";
  EXPECT_FALSE(native_password_verify(right.substr(0, 19), nonce, stage2)) << "short";
  EXPECT_FALSE(native_password_verify(right + "x", nonce, stage2)) << "long";
  EXPECT_FALSE(native_password_verify("", nonce, stage2)) << "empty response, real password";
}

TEST(NativePassword, EmptyPassword) {
  const std::string nonce = "abcdefghijklmnopqrst";
  const Sha1Digest empty_stage2 = native_password_stage2("");
  EXPECT_EQ(empty_stage2, digest("be 1b de c0 aa 74 b4 dc b0 79 94 3e 70 52 80 96 cc a9 85 f8"));

  // A client with an empty password sends an empty response.
  auto stage1 = native_password_verify("", nonce, empty_stage2);
  ASSERT_TRUE(stage1);
  EXPECT_EQ(*stage1, native_password_stage1(""));
  EXPECT_TRUE(native_password_is_empty(*stage1));
  EXPECT_FALSE(native_password_is_empty(native_password_stage1("app")));

  // The function itself always computes 20 bytes; sending "" instead is the caller's choice.
  EXPECT_EQ(native_password_response(*stage1, nonce).size(), 20u);
}

}  // namespace
}  // namespace replproxy::protocol
