// authd's password hasher: argon2id PHC strings, verification, the bounds
// of parameters and passwords, and stored hashes that are damaged. Small
// parameters (m=8 MiB, t=1) keep the suite fast; one test uses the defaults.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/authd/password_hasher.h"

namespace rustiq::authd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr Argon2Params kFast{
    .memory_kib = 8192, .iterations = 1, .parallelism = 1};
constexpr char kPassword[] = "correct horse battery staple";

PasswordHasher MakeHasher(const Argon2Params& params = kFast) {
  absl::StatusOr<PasswordHasher> hasher = PasswordHasher::Create(params);
  EXPECT_TRUE(hasher.ok()) << hasher.status();
  return *std::move(hasher);
}

TEST(AuthdPasswordHasher, RoundTrip) {
  const PasswordHasher hasher = MakeHasher();
  absl::StatusOr<std::string> encoded = hasher.Hash(kPassword);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  absl::StatusOr<bool> ok = hasher.Verify(*encoded, kPassword);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(*ok);
}

TEST(AuthdPasswordHasher, WrongPasswordIsFalse) {
  const PasswordHasher hasher = MakeHasher();
  absl::StatusOr<std::string> encoded = hasher.Hash(kPassword);
  ASSERT_TRUE(encoded.ok());
  for (const char* wrong :
       {"correct horse battery stapl", "Correct horse battery staple", "",
        "correct horse battery staple "}) {
    absl::StatusOr<bool> ok = hasher.Verify(*encoded, wrong);
    ASSERT_TRUE(ok.ok()) << ok.status();
    EXPECT_FALSE(*ok) << wrong;
  }
}

TEST(AuthdPasswordHasher, PhcStringCarriesTheParameters) {
  const PasswordHasher hasher = MakeHasher();
  absl::StatusOr<std::string> encoded = hasher.Hash(kPassword);
  ASSERT_TRUE(encoded.ok());
  EXPECT_THAT(*encoded, StartsWith("$argon2id$v=19$m=8192,t=1,p=1$"));
  std::vector<std::string> parts = absl::StrSplit(*encoded, '$');
  ASSERT_EQ(parts.size(), 6u);
  EXPECT_EQ(parts[4].size(), 22u);  // 16 bytes of salt, unpadded base64
  EXPECT_EQ(parts[5].size(), 43u);  // 32 bytes of hash
  EXPECT_THAT(*encoded, Not(HasSubstr(kPassword)));
}

TEST(AuthdPasswordHasher, SaltMakesEveryHashDifferent) {
  const PasswordHasher hasher = MakeHasher();
  absl::StatusOr<std::string> a = hasher.Hash(kPassword);
  absl::StatusOr<std::string> b = hasher.Hash(kPassword);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(*hasher.Verify(*a, kPassword));
  EXPECT_TRUE(*hasher.Verify(*b, kPassword));
}

TEST(AuthdPasswordHasher, DefaultParameters) {
  const Argon2Params defaults;
  EXPECT_EQ(defaults.memory_kib, 19456u);
  EXPECT_EQ(defaults.iterations, 2u);
  EXPECT_EQ(defaults.parallelism, 1u);
  const PasswordHasher hasher = MakeHasher(defaults);
  absl::StatusOr<std::string> encoded = hasher.Hash(kPassword);
  ASSERT_TRUE(encoded.ok());
  EXPECT_THAT(*encoded, StartsWith("$argon2id$v=19$m=19456,t=2,p=1$"));
  EXPECT_TRUE(*hasher.Verify(*encoded, kPassword));
  EXPECT_FALSE(hasher.NeedsRehash(*encoded));
}

TEST(AuthdPasswordHasher, ParametersOutOfBoundsNameTheKey) {
  struct Case {
    Argon2Params params;
    const char* key;
  };
  const Case cases[] = {
      {{.memory_kib = 8191, .iterations = 1, .parallelism = 1},
       "authd.argon2_memory_kib"},
      {{.memory_kib = 1024 * 1024 + 1, .iterations = 1, .parallelism = 1},
       "authd.argon2_memory_kib"},
      {{.memory_kib = 8192, .iterations = 0, .parallelism = 1},
       "authd.argon2_iterations"},
      {{.memory_kib = 8192, .iterations = 11, .parallelism = 1},
       "authd.argon2_iterations"},
      {{.memory_kib = 8192, .iterations = 1, .parallelism = 0},
       "authd.argon2_parallelism"},
      {{.memory_kib = 8192, .iterations = 1, .parallelism = 5},
       "authd.argon2_parallelism"},
  };
  for (const Case& c : cases) {
    absl::Status s = ValidateParams(c.params);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.key;
    EXPECT_THAT(s.message(), HasSubstr(c.key));
    EXPECT_EQ(PasswordHasher::Create(c.params).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(
      ValidateParams(
          {.memory_kib = 1024 * 1024, .iterations = 10, .parallelism = 4})
          .ok());
}

TEST(AuthdPasswordHasher, RefusesOverlongPasswordWithoutHashing) {
  const PasswordHasher hasher = MakeHasher();
  const std::string longest(kMaxPasswordBytes, 'x');
  const std::string too_long(kMaxPasswordBytes + 1, 'x');
  EXPECT_TRUE(hasher.Hash(longest).ok());
  absl::StatusOr<std::string> refused = hasher.Hash(too_long);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("256 bytes"));
  EXPECT_EQ(hasher.Hash("").status().code(),
            absl::StatusCode::kInvalidArgument);
  // Verify never matches one (no hashing is done for it).
  absl::StatusOr<std::string> encoded = hasher.Hash(longest);
  ASSERT_TRUE(encoded.ok());
  absl::StatusOr<bool> ok = hasher.Verify(*encoded, too_long);
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(*ok);
  hasher.VerifyDummy(std::string(1 << 20, 'x'));  // returns at once
}

TEST(AuthdPasswordHasher, NeedsRehashWhenParametersChange) {
  const PasswordHasher fast = MakeHasher();
  const PasswordHasher stronger =
      MakeHasher({.memory_kib = 8192, .iterations = 2, .parallelism = 1});
  absl::StatusOr<std::string> encoded = fast.Hash(kPassword);
  ASSERT_TRUE(encoded.ok());
  EXPECT_FALSE(fast.NeedsRehash(*encoded));
  EXPECT_TRUE(stronger.NeedsRehash(*encoded));
  // The stronger hasher still verifies the old hash: its params are in it.
  EXPECT_TRUE(*stronger.Verify(*encoded, kPassword));
  EXPECT_TRUE(fast.NeedsRehash("not a hash"));
}

TEST(AuthdPasswordHasher, VerifyDummyDoesTheWork) {
  const PasswordHasher hasher = MakeHasher();
  hasher.VerifyDummy(kPassword);
  hasher.VerifyDummy("");
}

// A damaged stored hash is an error (or, where the damage only changes the
// hash bytes, a mismatch), never a crash or a match; the error never
// contains the stored string.
TEST(AuthdPasswordHasher, DamagedStoredHashIsRefused) {
  const PasswordHasher hasher = MakeHasher();
  absl::StatusOr<std::string> good = hasher.Hash(kPassword);
  ASSERT_TRUE(good.ok());
  const std::vector<std::string> parts = absl::StrSplit(*good, '$');
  std::vector<std::string> damaged = {
      "",
      "$",
      "$argon2id$",
      "plain text",
      std::string(4096, '$'),
      absl::StrCat("$argon2i$v=19$m=8192,t=1,p=1$", parts[4], "$", parts[5]),
      absl::StrCat("$argon2id$v=16$m=8192,t=1,p=1$", parts[4], "$", parts[5]),
      absl::StrCat("$argon2id$m=8192,t=1,p=1$", parts[4], "$", parts[5]),
      absl::StrCat("$argon2id$v=19$m=4294967295,t=1,p=1$", parts[4], "$",
                   parts[5]),
      absl::StrCat("$argon2id$v=19$m=8192,t=4000000,p=1$", parts[4], "$",
                   parts[5]),
      absl::StrCat("$argon2id$v=19$m=8192,t=1,p=255$", parts[4], "$", parts[5]),
      absl::StrCat("$argon2id$v=19$m=08192,t=1,p=1$", parts[4], "$", parts[5]),
      absl::StrCat("$argon2id$v=19$m=+8192,t=1,p=1$", parts[4], "$", parts[5]),
      absl::StrCat("$argon2id$v=19$t=1,m=8192,p=1$", parts[4], "$", parts[5]),
      absl::StrCat("$argon2id$v=19$m=8192,t=1,p=1$", "$", parts[5]),
      absl::StrCat("$argon2id$v=19$m=8192,t=1,p=1$", "AAAA", "$", parts[5]),
      absl::StrCat("$argon2id$v=19$m=8192,t=1,p=1$", parts[4], "$"),
      absl::StrCat("$argon2id$v=19$m=8192,t=1,p=1$", parts[4], "$", "AAAA"),
      absl::StrCat("$argon2id$v=19$m=8192,t=1,p=1$", parts[4], "=$", parts[5]),
      absl::StrCat(*good, "$extra"),
      absl::StrCat(*good, "A"),
      absl::StrCat(std::string(*good).insert(20, 1, '\0')),
  };
  // Every truncation.
  for (size_t n = 0; n < good->size(); ++n)
    damaged.push_back(good->substr(0, n));
  for (const std::string& bad : damaged) {
    absl::StatusOr<bool> r = hasher.Verify(bad, kPassword);
    if (r.ok()) {
      EXPECT_FALSE(*r) << bad;
    } else {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << bad;
      EXPECT_THAT(r.status().message(), HasSubstr("malformed"));
      if (bad.size() > 8) {
        EXPECT_THAT(r.status().message(), Not(HasSubstr(parts[5])));
      }
    }
    EXPECT_TRUE(hasher.NeedsRehash(bad) || bad == *good);
  }
}

// Every single bit flipped: a mismatch or an error, never a match.
TEST(AuthdPasswordHasher, BitFlippedStoredHashNeverMatches) {
  const PasswordHasher hasher = MakeHasher();
  absl::StatusOr<std::string> good = hasher.Hash(kPassword);
  ASSERT_TRUE(good.ok());
  int mismatches = 0;
  for (size_t i = 0; i < good->size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = *good;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      absl::StatusOr<bool> r = hasher.Verify(bad, kPassword);
      if (r.ok()) {
        EXPECT_FALSE(*r) << "byte " << i << " bit " << bit;
        ++mismatches;
      } else {
        EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss)
            << "byte " << i << " bit " << bit << ": " << r.status();
      }
    }
  }
  EXPECT_GT(mismatches, 0);  // flips inside the hash bytes are plain mismatches
}

}  // namespace
}  // namespace rustiq::authd
