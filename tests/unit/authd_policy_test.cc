// authd's password policy (every rule, with hostile input), its random
// initial credentials, and account names.
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/authd/password_policy.h"
#include "services/authd/user_name.h"

namespace rustiq::authd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Refused with INVALID_ARGUMENT, a message containing `why`, and never the
// password itself.
void ExpectRefused(const std::string& password, absl::string_view user,
                   const std::string& why) {
  absl::Status s = CheckNewPassword(password, user);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument)
      << "accepted: " << password;
  EXPECT_THAT(std::string(s.message()), HasSubstr(why)) << password;
  if (password.size() >= 4) {
    EXPECT_THAT(std::string(s.message()), Not(HasSubstr(password)));
  }
}

TEST(AuthdPasswordPolicy, AcceptsGoodPasswords) {
  for (const char* good : {
           "correct horse battery staple",
           "Tr0ub4dor&3-xkcd-936",
           "blue Kettle 42 sunrise",
           "mK9#xQ2$vL7!",
           "Über-Straße-Köln-17",
           "\xF0\x9F\x98\x80\xF0\x9F\x98\x83\xF0\x9F\x98\x84\xF0\x9F\x98\x81"
           "\xF0\x9F\x98\x86\xF0\x9F\x98\x85\xF0\x9F\x98\x82\xF0\x9F\xA4\xA3"
           "\xF0\x9F\x98\x8A\xF0\x9F\x98\x87\xF0\x9F\x99\x82\xF0\x9F\x99\x83",
       }) {
    absl::Status s = CheckNewPassword(good, "alice");
    EXPECT_TRUE(s.ok()) << good << ": " << s;
  }
}

TEST(AuthdPasswordPolicy, LengthInBytes) {
  ExpectRefused("", "alice", "empty");
  ExpectRefused(std::string(257, 'q') + "x", "alice", "256 bytes");
  ExpectRefused(std::string(10 * 1024, 'z'), "alice", "256 bytes");
  // 256 bytes is the most; not a repeated character so only length counts.
  std::string longest;
  while (longest.size() < 256) longest += "plum tree ";
  longest.resize(256);
  EXPECT_TRUE(CheckNewPassword(longest, "alice").ok());
}

TEST(AuthdPasswordPolicy, LengthInCodePoints) {
  // 11 emoji are 44 bytes but 11 characters: too short.
  const std::string eleven =
      "\xF0\x9F\x98\x80\xF0\x9F\x98\x83\xF0\x9F\x98\x84\xF0\x9F\x98\x81"
      "\xF0\x9F\x98\x86\xF0\x9F\x98\x85\xF0\x9F\x98\x82\xF0\x9F\xA4\xA3"
      "\xF0\x9F\x98\x8A\xF0\x9F\x98\x87\xF0\x9F\x99\x82";
  ExpectRefused(eleven, "alice", "at least 12 characters");
  ExpectRefused("short pw 1!", "alice", "at least 12 characters");
  // "é" twice per word: 12 code points, 16 bytes.
  EXPECT_TRUE(CheckNewPassword("éléphant-vé", "alice").code() ==
              absl::StatusCode::kInvalidArgument);  // 11 code points
  EXPECT_TRUE(CheckNewPassword("éléphant-vél", "alice").ok());
  PasswordPolicyOptions longer{.min_length = 20};
  EXPECT_EQ(CheckNewPassword("correct horse staple", "alice", longer).code(),
            absl::StatusCode::kOk);
  absl::Status s = CheckNewPassword("correct horse stapl", "alice", longer);
  EXPECT_THAT(std::string(s.message()), HasSubstr("at least 20"));
}

TEST(AuthdPasswordPolicy, RefusesNulAndControlCharacters) {
  const std::string nul("correct horse\0battery staple", 28);
  ExpectRefused(nul, "alice", "control character");
  ExpectRefused(std::string(1, '\0') + "correct horse battery", "alice",
                "control character");
  for (const char* c :
       {"\t", "\n", "\r", "\x1b", "\x7f", "\xC2\x85", "\xE2\x80\xA8"}) {
    ExpectRefused(std::string("correct horse") + c + "battery staple", "alice",
                  "control character");
  }
}

TEST(AuthdPasswordPolicy, RefusesInvalidUtf8) {
  for (const char* bad : {
           "\xFF",              // never valid
           "\xC0\xAF",          // overlong '/'
           "\xE0\x80\xAF",      // overlong
           "\xED\xA0\x80",      // a UTF-16 surrogate
           "\xF4\x90\x80\x80",  // beyond U+10FFFF
           "\xE2\x82",          // truncated
           "\x80",              // a lone continuation byte
           "\xF8\x88\x80\x80\x80",
       }) {
    ExpectRefused(std::string("correct horse ") + bad + " battery", "alice",
                  "UTF-8");
  }
  ExpectRefused("correct horse battery \xE2\x82", "alice", "UTF-8");
}

TEST(AuthdPasswordPolicy, RefusesTheUserName) {
  ExpectRefused("alice-in-wonderland", "alice", "user name");
  ExpectRefused("my name is ALICE ok", "alice", "user name");
  ExpectRefused("@lice-rocks-the-house", "alice", "user name");
  ExpectRefused("svc.backup.operator", "svc.backup", "user name");
  ExpectRefused("bo", "bo", "");  // whole (and too short)
  // A name of fewer than 3 characters is only compared whole.
  EXPECT_TRUE(CheckNewPassword("bonfire under the stars", "bo").ok());
  EXPECT_TRUE(CheckNewPassword("correct horse battery staple", "").ok());
}

TEST(AuthdPasswordPolicy, RefusesCommonPasswordsAndTheirVariants) {
  for (const char* common : {
           "P@ssw0rd2024!",
           "password2024!",
           "PASSWORD123456",
           "Password 2024",
           "Dragon2024!!!",
           "Dr@g0n2024!!!",
           "L3tm31n!2024",
           "Welcome12345",
           "iloveyou2024",
           "Sunshine!!!!",
           "Liverpool1892",
           "ch4ng3m3!!!!!",
           "administrator",
           "Administrator1!",
           "raspberry2024",
           "monkeymonkey",
           "trustno1trustno1",
           "$uperman12345",
       }) {
    ExpectRefused(common, "alice", "most common passwords");
  }
}

TEST(AuthdPasswordPolicy, RefusesRepeatsAndRuns) {
  for (const char* trivial : {
           "aaaaaaaaaaaa",
           "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
           "abcabcabcabc",
           "121212121212",
           "!!!!!!!!!!!!",
           "abcdefghijkl",
           "ZYXWVUTSRQPO",
           "qwertyuiopas",
           "1qaz2wsx3edc",
           "123456789012",
           "098765432109",
           "1q2w3e4r5t6y",
           "azertyuiopqs",
           "abcdefgh!!!!",
       }) {
    ExpectRefused(trivial, "alice", "repeated character or pattern");
  }
  // Twelve of one emoji: one code point repeated.
  std::string smiles;
  for (int i = 0; i < 12; ++i) smiles += "\xF0\x9F\x98\x80";
  ExpectRefused(smiles, "alice", "repeated character or pattern");
}

TEST(AuthdRandomInitialPassword, HasTheFormatAndPassesThePolicy) {
  const std::regex format(
      "[2-9a-km-np-z]{5}-[2-9a-km-np-z]{5}-[2-9a-km-np-z]{5}-"
      "[2-9a-km-np-z]{5}");
  std::set<std::string> seen;
  std::map<char, int> counts;
  for (int i = 0; i < 1000; ++i) {
    const std::string p = RandomInitialPassword();
    ASSERT_TRUE(std::regex_match(p, format)) << p;
    ASSERT_EQ(p.find_first_of("01OlI"), std::string::npos) << p;
    absl::Status s = CheckNewPassword(p, "alice");
    ASSERT_TRUE(s.ok()) << p << ": " << s;
    seen.insert(p);
    for (char c : p) {
      if (c != '-') ++counts[c];
    }
  }
  EXPECT_EQ(seen.size(), 1000u);
  // 20000 draws over 32 letters: ~625 each; every letter turns up about
  // as often (no modulo bias, no letter missing).
  EXPECT_EQ(counts.size(), 32u);
  for (const auto& [c, n] : counts) {
    EXPECT_GT(n, 450) << c;
    EXPECT_LT(n, 800) << c;
  }
}

TEST(AuthdRandomInitialPassword, NeverContainsTheUserName) {
  for (int i = 0; i < 200; ++i) {
    const std::string p = RandomInitialPassword("abc");
    EXPECT_TRUE(CheckNewPassword(p, "abc").ok()) << p;
  }
}

TEST(AuthdUserName, AcceptsUseraddNames) {
  for (const char* name : {"alice", "_svc", "a.b-c_1", "a", "z9",
                           "abcdefghijklmnopqrstuvwxyz012345"}) {
    absl::Status s = ValidateUserName(name);
    EXPECT_TRUE(s.ok()) << name << ": " << s;
  }
}

TEST(AuthdUserName, RefusesEverythingElse) {
  const std::vector<std::string> bad = {
      "",
      std::string(33, 'a'),
      "Alice",
      "\xD0\xB0"
      "dmin",  // Cyrillic а: looks like "admin"
      "a b",
      std::string("a\0b", 3),
      "a'; DROP TABLE users;--",
      "../x",
      ".hidden",
      "-rf",
      "1abc",
      "alice\n",
      "ali\xC3\xA7"
      "e",
      "user@host",
      "a/b",
  };
  for (const std::string& name : bad) {
    absl::Status s = ValidateUserName(name);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(std::string(s.message()), HasSubstr("a-z 0-9 _ . -"));
    // Hostile bytes are shown escaped: the message stays one printable line.
    for (char c : s.message()) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << name;
    }
  }
  EXPECT_THAT(std::string(ValidateUserName("\xD0\xB0"
                                           "dmin")
                              .message()),
              HasSubstr("\\xd0\\xb0dmin"));
  EXPECT_THAT(std::string(ValidateUserName(std::string(100, 'a')).message()),
              HasSubstr("..."));
}

}  // namespace
}  // namespace rustiq::authd
