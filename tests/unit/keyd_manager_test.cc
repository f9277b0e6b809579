// KeyManager, driven directly: the real soft backend, a real store and master
// key in a temporary directory, the compiled well-known keys. Every
// signature is checked with OpenSSL from the exported public key; every
// refusal by its code and the words that tell the caller what is wrong.
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/keyd/key_manager.h"
#include "services/keyd/seal_format.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/keyd_test_util.h"

namespace rustiq::keyd {
namespace {

using test::IsError;
using test::OpenSslVerifies;
using test::RecordingSink;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;
using Code = absl::StatusCode;

const Caller kOwner{"svc/owner", false};
const Caller kOther{"svc/other", false};
const Caller kPerson{"client/rustiqctl", true};

constexpr char kUnsealFailed[] =
    "sealed blob does not open: wrong key, wrong caller or context, or the "
    "blob was altered";

v1::KeyPolicy Policy(
    const std::vector<std::pair<std::string, std::vector<v1::KeyOperation>>>&
        grants) {
  v1::KeyPolicy policy;
  for (const auto& [caller, ops] : grants) {
    v1::KeyGrant* g = policy.add_grants();
    g->set_caller(caller);
    for (v1::KeyOperation op : ops) g->add_operations(op);
  }
  return policy;
}

std::set<v1::KeyOperation> OpsOf(const v1::KeyGrant& grant) {
  std::set<v1::KeyOperation> ops;
  for (int op : grant.operations())
    ops.insert(static_cast<v1::KeyOperation>(op));
  return ops;
}

v1::SignRequest SignMessage(const std::string& name, v1::SignatureAlgorithm alg,
                            const std::string& message) {
  v1::SignRequest r;
  r.set_name(name);
  r.set_algorithm(alg);
  r.set_message(message);
  return r;
}

v1::SignRequest SignDigest(const std::string& name, v1::SignatureAlgorithm alg,
                           const std::string& digest) {
  v1::SignRequest r;
  r.set_name(name);
  r.set_algorithm(alg);
  r.set_digest(digest);
  return r;
}

v1::VerifyRequest VerifyMessage(const std::string& name, uint32_t version,
                                v1::SignatureAlgorithm alg,
                                const std::string& message,
                                const std::string& signature) {
  v1::VerifyRequest r;
  r.set_name(name);
  r.set_version(version);
  r.set_algorithm(alg);
  r.set_message(message);
  r.set_signature(signature);
  return r;
}

v1::SealRequest SealRequest(const std::string& name,
                            const std::string& plaintext,
                            const std::string& context) {
  v1::SealRequest r;
  r.set_name(name);
  r.set_plaintext(plaintext);
  r.set_context(context);
  return r;
}

v1::UnsealRequest UnsealRequest(const std::string& name,
                                const std::string& blob,
                                const std::string& context) {
  v1::UnsealRequest r;
  r.set_name(name);
  r.set_blob(blob);
  r.set_context(context);
  return r;
}

v1::GetPublicKeyRequest PublicKeyRequest(const std::string& name,
                                         uint32_t version = 0) {
  v1::GetPublicKeyRequest r;
  r.set_name(name);
  r.set_version(version);
  return r;
}

std::vector<uint32_t> VersionsOf(const v1::KeyInfo& info) {
  std::vector<uint32_t> out;
  for (const v1::KeyVersion& v : info.versions()) out.push_back(v.version());
  return out;
}

uint32_t CurrentOf(const v1::KeyInfo& info) {
  for (const v1::KeyVersion& v : info.versions()) {
    if (v.current()) return v.version();
  }
  return 0;
}

std::vector<std::string> NamesOf(const v1::ListKeysResponse& list) {
  std::vector<std::string> out;
  for (const v1::KeyInfo& k : list.keys()) out.push_back(k.name());
  return out;
}

uint32_t BlobVersion(const std::string& blob) {
  uint32_t v = 0;
  for (int i = 1; i <= 4; ++i) {
    v = (v << 8) | static_cast<unsigned char>(blob[static_cast<size_t>(i)]);
  }
  return v;
}

class KeydManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(test::CompiledKeys()); }

  // Destroys the manager and opens a new one on the same files.
  void Reopen(std::vector<WellKnownKey> well_known) {
    keys_.reset();
    absl::StatusOr<std::unique_ptr<KeyManager>> m =
        test::OpenManager(files_, &sink_, std::move(well_known));
    ASSERT_TRUE(m.ok()) << m.status();
    keys_ = *std::move(m);
  }

  v1::KeyInfo Create(const Caller& caller, const std::string& name,
                     v1::KeyAlgorithm algorithm,
                     const v1::KeyPolicy& policy = {}) {
    v1::CreateKeyRequest r;
    r.set_name(name);
    r.set_algorithm(algorithm);
    *r.mutable_policy() = policy;
    absl::StatusOr<v1::KeyInfo> info = keys_->CreateKey(caller, r);
    EXPECT_TRUE(info.ok()) << name << ": " << info.status();
    return info.value_or(v1::KeyInfo());
  }

  std::string PublicDer(const Caller& caller, const std::string& name,
                        uint32_t version = 0) {
    absl::StatusOr<v1::PublicKey> pk =
        keys_->GetPublicKey(caller, PublicKeyRequest(name, version));
    EXPECT_TRUE(pk.ok()) << name << " v" << version << ": " << pk.status();
    return pk.ok() ? pk->der() : "";
  }

  v1::SignResponse MustSign(const Caller& caller, const v1::SignRequest& r) {
    absl::StatusOr<v1::SignResponse> s = keys_->Sign(caller, r);
    EXPECT_TRUE(s.ok()) << r.name() << ": " << s.status();
    return s.value_or(v1::SignResponse());
  }

  bool KeydVerifies(const Caller& caller, const v1::VerifyRequest& r) {
    absl::StatusOr<v1::VerifyResponse> v = keys_->Verify(caller, r);
    EXPECT_TRUE(v.ok()) << r.name() << ": " << v.status();
    return v.ok() && v->valid();
  }

  std::string MustSeal(const Caller& caller, const v1::SealRequest& r) {
    absl::StatusOr<v1::SealResponse> s = keys_->Seal(caller, r);
    EXPECT_TRUE(s.ok()) << r.name() << ": " << s.status();
    return s.ok() ? s->blob() : "";
  }

  rustiq::testing::TempDir dir_{"keyd-manager"};
  test::KeydFiles files_{dir_};
  RecordingSink sink_;
  std::unique_ptr<KeyManager> keys_;
};

// ---------------------------------------------------------------------------
// Creating keys

TEST_F(KeydManagerTest, CreatesEachAlgorithmWithTheCreatorAloneAsPolicy) {
  const std::pair<const char*, v1::KeyAlgorithm> kinds[] = {
      {"ec", v1::KEY_ALGORITHM_EC_P256},
      {"ed", v1::KEY_ALGORITHM_ED25519},
      {"aes", v1::KEY_ALGORITHM_AES_256}};
  for (const auto& [name, algorithm] : kinds) {
    SCOPED_TRACE(name);
    size_t events = sink_.size();
    v1::KeyInfo info = Create(kOwner, name, algorithm);
    EXPECT_EQ(info.name(), name);
    EXPECT_EQ(info.algorithm(), algorithm);
    EXPECT_EQ(info.backend(), "soft");
    EXPECT_EQ(info.creator(), "svc/owner");
    EXPECT_FALSE(info.well_known());
    EXPECT_FALSE(info.public_only());
    ASSERT_EQ(info.versions_size(), 1);
    EXPECT_EQ(info.versions(0).version(), 1u);
    EXPECT_TRUE(info.versions(0).current());
    EXPECT_NEAR(info.versions(0).created_unix_seconds(),
                absl::ToUnixSeconds(absl::Now()), 5);
    ASSERT_EQ(info.policy().grants_size(), 1);
    EXPECT_EQ(info.policy().grants(0).caller(), "svc/owner");
    EXPECT_EQ(OpsOf(info.policy().grants(0)), OperationsFor(algorithm, false));
    EXPECT_EQ(OpsOf(info.policy().grants(0)).count(v1::KEY_OPERATION_MANAGE),
              1u);
    // GetKey says the same; the creation was recorded.
    absl::StatusOr<v1::KeyInfo> got = keys_->GetKey(kOwner, name);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->SerializeAsString(), info.SerializeAsString());
    ASSERT_EQ(sink_.size(), events + 1);
    audit::SecurityEvent e = sink_.events().back();
    EXPECT_EQ(e.category, "key");
    EXPECT_EQ(e.action, "key.created");
    EXPECT_EQ(e.outcome, audit::Outcome::kSuccess);
    EXPECT_EQ(e.actor, "svc/owner");
    EXPECT_EQ(test::Attribute(e, "key"), name);
  }
  EXPECT_EQ(OperationsFor(v1::KEY_ALGORITHM_AES_256, false),
            (std::set<v1::KeyOperation>{v1::KEY_OPERATION_SEAL,
                                        v1::KEY_OPERATION_UNSEAL,
                                        v1::KEY_OPERATION_MANAGE}));
  // The creator uses its keys; nobody else does.
  EXPECT_TRUE(
      keys_
          ->Sign(
              kOwner,
              SignMessage("ec", v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256, "m"))
          .ok());
  EXPECT_TRUE(keys_->Seal(kOwner, SealRequest("aes", "p", "c")).ok());
  EXPECT_TRUE(IsError(
      keys_->Sign(kOther,
                  SignMessage("ed", v1::SIGNATURE_ALGORITHM_ED25519, "m")),
      Code::kPermissionDenied));
  // A 64-character name is the longest allowed.
  Create(kOwner, std::string(64, 'k'), v1::KEY_ALGORITHM_ED25519);
}

TEST_F(KeydManagerTest, EachOperationNeedsItsOwnGrant) {
  // Seal and unseal are granted apart: svc/owner may seal only.
  Create(kOwner, "box", v1::KEY_ALGORITHM_AES_256,
         Policy({{"svc/owner", {v1::KEY_OPERATION_SEAL}},
                 {"svc/other", {v1::KEY_OPERATION_UNSEAL}}}));
  std::string blob = MustSeal(kOwner, SealRequest("box", "p", "c"));
  EXPECT_TRUE(IsError(keys_->Unseal(kOwner, UnsealRequest("box", blob, "c")),
                      Code::kPermissionDenied,
                      {"caller svc/owner may not unseal with key 'box'"}));
  EXPECT_EQ(test::Attribute(sink_.events().back(), "operation"), "unseal");
  // svc/other may unseal but not seal (and a blob of svc/owner's is still
  // bound to svc/owner).
  EXPECT_TRUE(IsError(keys_->Seal(kOther, SealRequest("box", "p", "c")),
                      Code::kPermissionDenied,
                      {"caller svc/other may not seal with key 'box'"}));
  EXPECT_TRUE(IsError(keys_->Unseal(kOther, UnsealRequest("box", blob, "c")),
                      Code::kInvalidArgument, {kUnsealFailed}));

  // Decrypt is not implied by sign, nor sign by decrypt.
  Create(kOwner, "rsa", v1::KEY_ALGORITHM_RSA_3072,
         Policy({{"svc/owner",
                  {v1::KEY_OPERATION_SIGN, v1::KEY_OPERATION_PUBLIC_KEY}},
                 {"svc/other", {v1::KEY_OPERATION_DECRYPT}}}));
  std::string ciphertext =
      test::OaepEncrypt(PublicDer(kOwner, "rsa"), "secret");
  v1::DecryptRequest d;
  d.set_name("rsa");
  d.set_algorithm(v1::DECRYPT_ALGORITHM_RSA_OAEP_SHA256);
  d.set_ciphertext(ciphertext);
  EXPECT_TRUE(IsError(keys_->Decrypt(kOwner, d).status(),
                      Code::kPermissionDenied,
                      {"caller svc/owner may not decrypt with key 'rsa'"}));
  EXPECT_EQ(test::Attribute(sink_.events().back(), "operation"), "decrypt");
  absl::StatusOr<SecretBytes> plain = keys_->Decrypt(kOther, d);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->view(), "secret");
  EXPECT_TRUE(IsError(
      keys_->Sign(
          kOther,
          SignMessage("rsa", v1::SIGNATURE_ALGORITHM_RSA_PSS_SHA256, "m")),
      Code::kPermissionDenied, {"caller svc/other may not sign"}));
}

TEST_F(KeydManagerTest, CreatesWithAnExplicitPolicy) {
  v1::KeyInfo info = Create(
      kOwner, "shared", v1::KEY_ALGORITHM_EC_P256,
      Policy({{"svc/signer", {v1::KEY_OPERATION_SIGN}},
              {"client/*",
               {v1::KEY_OPERATION_PUBLIC_KEY, v1::KEY_OPERATION_VERIFY}}}));
  ASSERT_EQ(info.policy().grants_size(), 2);
  EXPECT_EQ(info.policy().grants(0).caller(), "svc/signer");
  EXPECT_EQ(info.policy().grants(1).caller(), "client/*");
  EXPECT_EQ(info.creator(), "svc/owner");

  v1::SignRequest sign =
      SignMessage("shared", v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256, "hi");
  v1::SignResponse sig = MustSign({"svc/signer", false}, sign);
  const Caller viewer{"client/viewer", false};
  EXPECT_TRUE(OpenSslVerifies(PublicDer(viewer, "shared"),
                              v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256, "hi",
                              sig.signature()));
  EXPECT_TRUE(KeydVerifies(
      viewer,
      VerifyMessage("shared", 0, v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256,
                    "hi", sig.signature())));
  // The policy replaces the default: the creator is not in it.
  EXPECT_TRUE(IsError(keys_->Sign(kOwner, sign), Code::kPermissionDenied,
                      {"svc/owner", "sign", "'shared'"}));
  EXPECT_TRUE(IsError(keys_->RotateKey(kOwner, "shared"),
                      Code::kPermissionDenied, {"manage"}));
  EXPECT_TRUE(IsError(keys_->Sign(viewer, sign), Code::kPermissionDenied));
  EXPECT_TRUE(IsError(
      keys_->GetPublicKey({"svc/signer", false}, PublicKeyRequest("shared")),
      Code::kPermissionDenied, {"public-key"}));
  // "client/*" is one segment.
  EXPECT_TRUE(IsError(
      keys_->GetPublicKey({"client/a/b", false}, PublicKeyRequest("shared")),
      Code::kPermissionDenied));
  // Its creator still sees its metadata.
  EXPECT_TRUE(keys_->GetKey(kOwner, "shared").ok());
}

TEST_F(KeydManagerTest, RefusesBadNames) {
  const std::string bad[] = {
      "",
      std::string(65, 'a'),
      "Upper",
      "upPer",
      "a/b",
      std::string("a\0b", 3),
      std::string("ab\0", 3),
      ".hidden",
      "-dash",
      "_under",
      "sp ace",
      "caf\xc3\xa9",
  };
  for (const std::string& name : bad) {
    SCOPED_TRACE(name);
    v1::CreateKeyRequest r;
    r.set_name(name);
    r.set_algorithm(v1::KEY_ALGORITHM_ED25519);
    EXPECT_TRUE(IsError(keys_->CreateKey(kOwner, r), Code::kInvalidArgument,
                        {"1-64 characters of a-z 0-9 . _ -",
                         "starting with a letter or digit"}));
    // Every method checks the name the same way.
    EXPECT_TRUE(IsError(keys_->GetKey(kOwner, name), Code::kInvalidArgument,
                        {"1-64 characters"}));
  }
  v1::ListKeysResponse all = *keys_->ListKeys(kPerson);
  EXPECT_EQ(all.keys_size(), 4);  // the generated well-known keys alone
}

TEST_F(KeydManagerTest, RefusesAnUnspecifiedAlgorithm) {
  for (int algorithm : {0, 5, 99}) {
    v1::CreateKeyRequest r;
    r.set_name("k");
    r.set_algorithm(static_cast<v1::KeyAlgorithm>(algorithm));
    EXPECT_TRUE(IsError(keys_->CreateKey(kOwner, r), Code::kInvalidArgument,
                        {"algorithm must be one of EC_P256, ED25519, "
                         "RSA_3072, AES_256"}))
        << algorithm;
  }
  EXPECT_TRUE(IsError(keys_->GetKey(kOwner, "k"), Code::kNotFound));
}

TEST_F(KeydManagerTest, RefusesBadGrants) {
  struct Case {
    const char* what;
    v1::KeyAlgorithm algorithm;
    v1::KeyPolicy policy;
    std::vector<absl::string_view> parts;
  };
  const Case cases[] = {
      {"empty pattern",
       v1::KEY_ALGORITHM_EC_P256,
       Policy({{"", {v1::KEY_OPERATION_SIGN}}}),
       {"grant 1: bad caller pattern"}},
      {"wildcard inside a segment",
       v1::KEY_ALGORITHM_EC_P256,
       Policy({{"svc/own*", {v1::KEY_OPERATION_SIGN}}}),
       {"grant 1: bad caller pattern"}},
      {"empty segment",
       v1::KEY_ALGORITHM_EC_P256,
       Policy({{"svc/owner", {v1::KEY_OPERATION_SIGN}},
               {"svc//x", {v1::KEY_OPERATION_SIGN}}}),
       {"grant 2: bad caller pattern"}},
      {"no operations",
       v1::KEY_ALGORITHM_EC_P256,
       Policy({{"svc/owner", {}}}),
       {"grant 1 (svc/owner) lists no operations"}},
      {"seal on EC",
       v1::KEY_ALGORITHM_EC_P256,
       Policy(
           {{"svc/owner", {v1::KEY_OPERATION_SIGN, v1::KEY_OPERATION_SEAL}}}),
       {"grant 1 (svc/owner)", "operation seal is not possible",
        "sign, verify, public-key, manage are"}},
      {"sign on AES",
       v1::KEY_ALGORITHM_AES_256,
       Policy({{"svc/owner", {v1::KEY_OPERATION_SIGN}}}),
       {"operation sign is not possible", "seal, unseal, manage are"}},
      {"public-key on AES",
       v1::KEY_ALGORITHM_AES_256,
       Policy({{"svc/owner", {v1::KEY_OPERATION_PUBLIC_KEY}}}),
       {"operation public-key is not possible"}},
      {"decrypt on Ed25519",
       v1::KEY_ALGORITHM_ED25519,
       Policy({{"svc/owner", {v1::KEY_OPERATION_DECRYPT}}}),
       {"operation decrypt is not possible"}},
      {"unspecified operation",
       v1::KEY_ALGORITHM_ED25519,
       Policy({{"svc/owner", {v1::KEY_OPERATION_UNSPECIFIED}}}),
       {"operation unknown is not possible"}},
      {"out-of-range operation",
       v1::KEY_ALGORITHM_ED25519,
       Policy({{"svc/owner", {static_cast<v1::KeyOperation>(42)}}}),
       {"is not possible"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    v1::CreateKeyRequest r;
    r.set_name("k");
    r.set_algorithm(c.algorithm);
    *r.mutable_policy() = c.policy;
    absl::Status s = keys_->CreateKey(kOwner, r).status();
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s;
    for (absl::string_view part : c.parts) {
      EXPECT_THAT(std::string(s.message()), HasSubstr(std::string(part)));
    }
    EXPECT_TRUE(IsError(keys_->GetKey(kOwner, "k"), Code::kNotFound));
  }
  // At most 64 grants.
  v1::KeyPolicy many;
  for (int i = 0; i < 65; ++i) {
    v1::KeyGrant* g = many.add_grants();
    g->set_caller(absl::StrCat("svc/d", i));
    g->add_operations(v1::KEY_OPERATION_SIGN);
  }
  v1::CreateKeyRequest r;
  r.set_name("k");
  r.set_algorithm(v1::KEY_ALGORITHM_ED25519);
  *r.mutable_policy() = many;
  EXPECT_TRUE(IsError(keys_->CreateKey(kOwner, r), Code::kInvalidArgument,
                      {"at most 64 grants"}));
}

TEST_F(KeydManagerTest, RefusesDuplicateAndWellKnownNames) {
  v1::KeyInfo first = Create(kOwner, "dup", v1::KEY_ALGORITHM_ED25519);
  std::string der = PublicDer(kOwner, "dup");
  v1::CreateKeyRequest r;
  r.set_name("dup");
  r.set_algorithm(v1::KEY_ALGORITHM_EC_P256);
  EXPECT_TRUE(IsError(keys_->CreateKey(kOther, r), Code::kAlreadyExists,
                      {"'dup' already exists"}));
  // The existing key is untouched.
  absl::StatusOr<v1::KeyInfo> info = keys_->GetKey(kOwner, "dup");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->algorithm(), v1::KEY_ALGORITHM_ED25519);
  EXPECT_EQ(info->creator(), "svc/owner");
  EXPECT_EQ(PublicDer(kOwner, "dup"), der);
  // Generated well-known keys exist; the imported one is reserved although
  // nobody imported it yet.
  for (const char* name : {"device-ca", "token-signing", "update-anchor"}) {
    r.set_name(name);
    EXPECT_TRUE(IsError(keys_->CreateKey(kPerson, r), Code::kAlreadyExists,
                        {"reserved by policies/keyd/keys.toml"}))
        << name;
  }
  EXPECT_TRUE(
      IsError(keys_->GetKey(kPerson, "update-anchor"), Code::kNotFound));
}

// ---------------------------------------------------------------------------
// Lookups and the policy check

TEST_F(KeydManagerTest, UnknownKeyIsNotFoundForEveryOperation) {
  const std::string name = "nope";
  auto not_found = [&](const absl::Status& s) {
    return IsError(s, Code::kNotFound, {"no key named 'nope'"});
  };
  EXPECT_TRUE(not_found(keys_->GetKey(kPerson, name).status()));
  EXPECT_TRUE(
      not_found(keys_->GetPublicKey(kPerson, PublicKeyRequest(name)).status()));
  EXPECT_TRUE(not_found(
      keys_
          ->Sign(kPerson,
                 SignMessage(name, v1::SIGNATURE_ALGORITHM_ED25519, "m"))
          .status()));
  EXPECT_TRUE(not_found(
      keys_
          ->Verify(
              kPerson,
              VerifyMessage(name, 0, v1::SIGNATURE_ALGORITHM_ED25519, "m", "s"))
          .status()));
  v1::DecryptRequest d;
  d.set_name(name);
  d.set_algorithm(v1::DECRYPT_ALGORITHM_RSA_OAEP_SHA256);
  d.set_ciphertext("x");
  EXPECT_TRUE(not_found(keys_->Decrypt(kPerson, d).status()));
  EXPECT_TRUE(
      not_found(keys_->Seal(kPerson, SealRequest(name, "p", "c")).status()));
  std::string blob = EncodeSealedBlob(1, std::string(28, 'x'));
  EXPECT_TRUE(not_found(
      keys_->Unseal(kPerson, UnsealRequest(name, blob, "c")).status()));
  EXPECT_TRUE(not_found(keys_->RotateKey(kPerson, name).status()));
  EXPECT_TRUE(not_found(keys_->RetireKeyVersion(kPerson, name, 1).status()));
  EXPECT_TRUE(not_found(keys_->DeleteKey(kPerson, name)));
  EXPECT_TRUE(not_found(keys_->InternalKey(name).status()));
}

TEST_F(KeydManagerTest, CallerOutsideThePolicyIsDeniedAndRecorded) {
  Create(kOwner, "mine", v1::KEY_ALGORITHM_EC_P256);
  Create(kOwner, "box", v1::KEY_ALGORITHM_AES_256);
  size_t before = sink_.size();

  EXPECT_TRUE(IsError(
      keys_->Sign(
          kOther,
          SignMessage("mine", v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256, "m")),
      Code::kPermissionDenied,
      {"caller svc/other may not sign with key 'mine'",
       "its policy does not grant it"}));
  ASSERT_EQ(sink_.size(), before + 1);
  audit::SecurityEvent e = sink_.events().back();
  EXPECT_EQ(e.category, "key");
  EXPECT_EQ(e.action, "key.use.denied");
  EXPECT_EQ(e.outcome, audit::Outcome::kDenied);
  EXPECT_EQ(e.actor, "svc/other");
  EXPECT_EQ(test::Attribute(e, "key"), "mine");
  EXPECT_EQ(test::Attribute(e, "operation"), "sign");

  // A person needs a grant to use a key too.
  EXPECT_TRUE(IsError(keys_->Seal(kPerson, SealRequest("box", "p", "c")),
                      Code::kPermissionDenied,
                      {"client/rustiqctl may not seal with key 'box'"}));
  e = sink_.events().back();
  EXPECT_EQ(e.action, "key.use.denied");
  EXPECT_EQ(e.actor, "client/rustiqctl");
  EXPECT_EQ(test::Attribute(e, "key"), "box");
  EXPECT_EQ(test::Attribute(e, "operation"), "seal");

  EXPECT_TRUE(IsError(
      keys_->Verify(
          kOther,
          VerifyMessage("mine", 0, v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256,
                        "m", "s")),
      Code::kPermissionDenied, {"may not verify"}));
  EXPECT_EQ(test::Attribute(sink_.events().back(), "operation"), "verify");
  EXPECT_TRUE(IsError(keys_->GetPublicKey(kOther, PublicKeyRequest("mine")),
                      Code::kPermissionDenied, {"may not public-key"}));
  EXPECT_EQ(test::Attribute(sink_.events().back(), "operation"), "public-key");

  // Metadata of a key that does not mention the caller is refused too.
  EXPECT_TRUE(IsError(keys_->GetKey(kOther, "mine"), Code::kPermissionDenied,
                      {"svc/other is not named by key 'mine'"}));
  e = sink_.events().back();
  EXPECT_EQ(e.action, "key.read.denied");
  EXPECT_EQ(e.outcome, audit::Outcome::kDenied);
  EXPECT_EQ(test::Attribute(e, "key"), "mine");
  EXPECT_TRUE(keys_->GetKey(kPerson, "mine").ok());
}

// ---------------------------------------------------------------------------
// Signing and verifying

TEST_F(KeydManagerTest, SignaturesVerifyWithOpenSsl) {
  Create(kOwner, "ec", v1::KEY_ALGORITHM_EC_P256);
  Create(kOwner, "ed", v1::KEY_ALGORITHM_ED25519);
  absl::StatusOr<v1::PublicKey> ec_pk =
      keys_->GetPublicKey(kOwner, PublicKeyRequest("ec"));
  ASSERT_TRUE(ec_pk.ok()) << ec_pk.status();
  EXPECT_EQ(ec_pk->name(), "ec");
  EXPECT_EQ(ec_pk->version(), 1u);
  EXPECT_TRUE(ec_pk->current());
  EXPECT_EQ(ec_pk->algorithm(), v1::KEY_ALGORITHM_EC_P256);
  // The PEM is the DER.
  pki::BioPtr bio(BIO_new_mem_buf(ec_pk->pem().data(),
                                  static_cast<int>(ec_pk->pem().size())));
  pki::EvpPkeyPtr from_pem(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_NE(from_pem, nullptr);
  EXPECT_EQ(test::PublicDerOf(from_pem.get()), ec_pk->der());
  EXPECT_TRUE(pki::IsP256Key(from_pem.get()));

  const std::string message = "the quick brown fox";
  v1::SignResponse by_message = MustSign(
      kOwner,
      SignMessage("ec", v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256, message));
  EXPECT_EQ(by_message.version(), 1u);
  EXPECT_TRUE(OpenSslVerifies(ec_pk->der(),
                              v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256,
                              message, by_message.signature()));
  v1::SignResponse by_digest = MustSign(
      kOwner, SignDigest("ec", v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256,
                         test::Sha256(message)));
  EXPECT_TRUE(OpenSslVerifies(ec_pk->der(),
                              v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256,
                              message, by_digest.signature()));
  EXPECT_FALSE(OpenSslVerifies(ec_pk->der(),
                               v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256,
                               message + "!", by_digest.signature()));

  std::string ed_der = PublicDer(kOwner, "ed");
  pki::EvpPkeyPtr ed_key = test::PublicFromDer(ed_der);
  ASSERT_NE(ed_key, nullptr);
  EXPECT_EQ(EVP_PKEY_is_a(ed_key.get(), "ED25519"), 1);
  for (const std::string& m :
       {message, std::string(), std::string(kMaxMessageBytes, 'z')}) {
    v1::SignResponse ed_sig =
        MustSign(kOwner, SignMessage("ed", v1::SIGNATURE_ALGORITHM_ED25519, m));
    EXPECT_EQ(ed_sig.signature().size(), 64u);
    EXPECT_TRUE(OpenSslVerifies(ed_der, v1::SIGNATURE_ALGORITHM_ED25519, m,
                                ed_sig.signature()))
        << m.size();
  }
}

TEST_F(KeydManagerTest, SignRefusesMismatchedRequests) {
  Create(kOwner, "ec", v1::KEY_ALGORITHM_EC_P256);
  Create(kOwner, "ed", v1::KEY_ALGORITHM_ED25519);
  EXPECT_TRUE(IsError(
      keys_->Sign(kOwner,
                  SignMessage("ec", v1::SIGNATURE_ALGORITHM_ED25519, "m")),
      Code::kInvalidArgument,
      {"key 'ec' is KEY_ALGORITHM_EC_P256",
       "cannot make SIGNATURE_ALGORITHM_ED25519 signatures"}));
  EXPECT_TRUE(IsError(
      keys_->Sign(
          kOwner,
          SignMessage("ed", v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256, "m")),
      Code::kInvalidArgument, {"KEY_ALGORITHM_ED25519", "cannot make"}));
  EXPECT_TRUE(IsError(
      keys_->Sign(
          kOwner,
          SignMessage("ec", v1::SIGNATURE_ALGORITHM_RSA_PSS_SHA256, "m")),
      Code::kInvalidArgument, {"cannot make SIGNATURE_ALGORITHM_RSA_PSS"}));
  EXPECT_TRUE(IsError(
      keys_->Sign(kOwner,
                  SignMessage("ec", v1::SIGNATURE_ALGORITHM_UNSPECIFIED, "m")),
      Code::kInvalidArgument, {"state the signature algorithm"}));
  for (size_t n : {size_t{0}, size_t{31}, size_t{33}, size_t{64}}) {
    EXPECT_TRUE(IsError(
        keys_->Sign(kOwner,
                    SignDigest("ec", v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256,
                               std::string(n, 'd'))),
        Code::kInvalidArgument,
        {"digest must be a 32-byte SHA-256 digest",
         absl::StrCat("got ", n, " bytes")}))
        << n;
  }
  EXPECT_TRUE(IsError(
      keys_->Sign(kOwner, SignDigest("ed", v1::SIGNATURE_ALGORITHM_ED25519,
                                     test::Sha256("m"))),
      Code::kInvalidArgument,
      {"Ed25519 signs the message itself; a digest cannot be signed"}));
  for (const char* name : {"ec", "ed"}) {
    v1::SignatureAlgorithm alg = std::string(name) == "ec"
                                     ? v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256
                                     : v1::SIGNATURE_ALGORITHM_ED25519;
    EXPECT_TRUE(IsError(
        keys_->Sign(
            kOwner,
            SignMessage(name, alg, std::string(kMaxMessageBytes + 1, 'x'))),
        Code::kInvalidArgument,
        {"message is 65537 bytes; at most 65536",
         "send its SHA-256 digest instead"}))
        << name;
    v1::SignRequest neither;
    neither.set_name(name);
    neither.set_algorithm(alg);
    EXPECT_TRUE(IsError(keys_->Sign(kOwner, neither), Code::kInvalidArgument,
                        {"set either message or digest"}))
        << name;
  }
  // An empty message is a message.
  EXPECT_TRUE(
      keys_
          ->Sign(
              kOwner,
              SignMessage("ec", v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256, ""))
          .ok());
}

TEST_F(KeydManagerTest, VerifySaysTrueFalseAndTampered) {
  Create(kOwner, "ec", v1::KEY_ALGORITHM_EC_P256,
         Policy({{"svc/owner", {v1::KEY_OPERATION_SIGN}},
                 {"svc/*", {v1::KEY_OPERATION_VERIFY}}}));
  Create(kOwner, "ed", v1::KEY_ALGORITHM_ED25519);
  const Caller verifier{"svc/verifier", false};
  const std::string m = "firmware manifest";
  std::string ec_sig =
      MustSign(kOwner,
               SignMessage("ec", v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256, m))
          .signature();
  std::string ed_sig =
      MustSign(kOwner, SignMessage("ed", v1::SIGNATURE_ALGORITHM_ED25519, m))
          .signature();
  struct Key {
    const char* name;
    v1::SignatureAlgorithm alg;
    std::string sig;
    Caller caller;
  };
  for (const Key& k :
       {Key{"ec", v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256, ec_sig, verifier},
        Key{"ed", v1::SIGNATURE_ALGORITHM_ED25519, ed_sig, kOwner}}) {
    SCOPED_TRACE(k.name);
    EXPECT_TRUE(
        KeydVerifies(k.caller, VerifyMessage(k.name, 0, k.alg, m, k.sig)));
    EXPECT_TRUE(
        KeydVerifies(k.caller, VerifyMessage(k.name, 1, k.alg, m, k.sig)));
    EXPECT_FALSE(KeydVerifies(k.caller,
                              VerifyMessage(k.name, 0, k.alg, m + ".", k.sig)));
    for (size_t i : {size_t{0}, k.sig.size() / 2, k.sig.size() - 1}) {
      std::string tampered = k.sig;
      tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
      EXPECT_FALSE(
          KeydVerifies(k.caller, VerifyMessage(k.name, 0, k.alg, m, tampered)))
          << i;
    }
    EXPECT_FALSE(
        KeydVerifies(k.caller, VerifyMessage(k.name, 0, k.alg, m, "")));
    EXPECT_FALSE(
        KeydVerifies(k.caller, VerifyMessage(k.name, 0, k.alg, m, "garbage")));
    EXPECT_TRUE(
        IsError(keys_->Verify(k.caller, VerifyMessage(k.name, 0, k.alg, m,
                                                      std::string(1025, 's'))),
                Code::kInvalidArgument, {"longer than 1024 bytes"}));
    EXPECT_TRUE(IsError(
        keys_->Verify(k.caller, VerifyMessage(k.name, 2, k.alg, m, k.sig)),
        Code::kNotFound, {"has no version 2"}));
  }
  // A digest verifies what the message signed.
  v1::VerifyRequest by_digest = VerifyMessage(
      "ec", 0, v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256, "", ec_sig);
  by_digest.set_digest(test::Sha256(m));
  EXPECT_TRUE(KeydVerifies(verifier, by_digest));
  EXPECT_TRUE(IsError(
      keys_->Verify(
          verifier,
          VerifyMessage("ec", 0, v1::SIGNATURE_ALGORITHM_ED25519, m, ec_sig)),
      Code::kInvalidArgument, {"cannot check SIGNATURE_ALGORITHM_ED25519"}));
  // verify is granted to svc/*, not to people.
  EXPECT_TRUE(IsError(
      keys_->Verify(
          kPerson,
          VerifyMessage("ec", 0, v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256, m,
                        ec_sig)),
      Code::kPermissionDenied));
  EXPECT_TRUE(IsError(
      keys_->Sign(
          verifier,
          SignMessage("ec", v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256, m)),
      Code::kPermissionDenied));
}

// ---------------------------------------------------------------------------
// Rotation, retirement, deletion

TEST_F(KeydManagerTest, RotationKeepsOldVersionsUntilRetired) {
  Create(kOwner, "rot", v1::KEY_ALGORITHM_EC_P256);
  const auto alg = v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256;
  v1::SignResponse old_sig = MustSign(kOwner, SignMessage("rot", alg, "old"));
  EXPECT_EQ(old_sig.version(), 1u);
  std::string v1_der = PublicDer(kOwner, "rot");

  absl::StatusOr<v1::KeyInfo> rotated = keys_->RotateKey(kOwner, "rot");
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_THAT(VersionsOf(*rotated), ElementsAre(1u, 2u));
  EXPECT_EQ(CurrentOf(*rotated), 2u);
  audit::SecurityEvent e = sink_.events().back();
  EXPECT_EQ(e.action, "key.rotated");
  EXPECT_EQ(test::Attribute(e, "version"), "2");

  absl::StatusOr<v1::PublicKey> current =
      keys_->GetPublicKey(kOwner, PublicKeyRequest("rot"));
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->version(), 2u);
  EXPECT_TRUE(current->current());
  EXPECT_NE(current->der(), v1_der);
  absl::StatusOr<v1::PublicKey> old =
      keys_->GetPublicKey(kOwner, PublicKeyRequest("rot", 1));
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->version(), 1u);
  EXPECT_FALSE(old->current());
  EXPECT_EQ(old->der(), v1_der);

  // New signatures come from version 2.
  v1::SignResponse new_sig = MustSign(kOwner, SignMessage("rot", alg, "new"));
  EXPECT_EQ(new_sig.version(), 2u);
  EXPECT_TRUE(OpenSslVerifies(current->der(), alg, "new", new_sig.signature()));
  EXPECT_FALSE(OpenSslVerifies(v1_der, alg, "new", new_sig.signature()));
  // Old signatures verify against version 1, not against the current one.
  EXPECT_TRUE(KeydVerifies(
      kOwner, VerifyMessage("rot", 1, alg, "old", old_sig.signature())));
  EXPECT_FALSE(KeydVerifies(
      kOwner, VerifyMessage("rot", 0, alg, "old", old_sig.signature())));
  EXPECT_TRUE(KeydVerifies(
      kOwner, VerifyMessage("rot", 2, alg, "new", new_sig.signature())));

  // The current version cannot be retired.
  EXPECT_TRUE(IsError(
      keys_->RetireKeyVersion(kOwner, "rot", 2), Code::kFailedPrecondition,
      {"version 2 is key 'rot's current version", "rotate first"}));
  EXPECT_TRUE(IsError(keys_->RetireKeyVersion(kOwner, "rot", 0),
                      Code::kFailedPrecondition, {"version 2 is"}));
  EXPECT_TRUE(IsError(keys_->RetireKeyVersion(kOwner, "rot", 7),
                      Code::kNotFound, {"has no version 7"}));

  absl::StatusOr<v1::KeyInfo> retired =
      keys_->RetireKeyVersion(kOwner, "rot", 1);
  ASSERT_TRUE(retired.ok()) << retired.status();
  EXPECT_THAT(VersionsOf(*retired), ElementsAre(2u));
  e = sink_.events().back();
  EXPECT_EQ(e.action, "key.version.retired");
  EXPECT_EQ(test::Attribute(e, "version"), "1");
  EXPECT_TRUE(IsError(keys_->Verify(kOwner, VerifyMessage("rot", 1, alg, "old",
                                                          old_sig.signature())),
                      Code::kNotFound, {"key 'rot' has no version 1"}));
  EXPECT_TRUE(IsError(keys_->GetPublicKey(kOwner, PublicKeyRequest("rot", 1)),
                      Code::kNotFound, {"has no version 1"}));
  EXPECT_TRUE(
      IsError(keys_->RetireKeyVersion(kOwner, "rot", 1), Code::kNotFound));
  // Version numbers are never reused.
  rotated = keys_->RotateKey(kOwner, "rot");
  ASSERT_TRUE(rotated.ok());
  EXPECT_THAT(VersionsOf(*rotated), ElementsAre(2u, 3u));
  EXPECT_EQ(MustSign(kOwner, SignMessage("rot", alg, "x")).version(), 3u);
}

TEST_F(KeydManagerTest, DeletedKeyIsGoneForEveryOperation) {
  Create(kOwner, "gone", v1::KEY_ALGORITHM_ED25519);
  Create(kOwner, "gone-box", v1::KEY_ALGORITHM_AES_256);
  std::string der = PublicDer(kOwner, "gone");
  std::string blob = MustSeal(kOwner, SealRequest("gone-box", "p", ""));
  ASSERT_TRUE(keys_->DeleteKey(kOwner, "gone").ok());
  ASSERT_TRUE(keys_->DeleteKey(kOwner, "gone-box").ok());
  audit::SecurityEvent e = sink_.events().back();
  EXPECT_EQ(e.action, "key.deleted");
  EXPECT_EQ(test::Attribute(e, "key"), "gone-box");

  auto gone = [](const absl::Status& s) {
    return IsError(s, Code::kNotFound, {"no key named 'gone"});
  };
  EXPECT_TRUE(gone(keys_->GetKey(kOwner, "gone").status()));
  EXPECT_TRUE(
      gone(keys_->GetPublicKey(kOwner, PublicKeyRequest("gone")).status()));
  EXPECT_TRUE(
      gone(keys_
               ->Sign(kOwner,
                      SignMessage("gone", v1::SIGNATURE_ALGORITHM_ED25519, "m"))
               .status()));
  EXPECT_TRUE(
      gone(keys_
               ->Verify(kOwner, VerifyMessage("gone", 0,
                                              v1::SIGNATURE_ALGORITHM_ED25519,
                                              "m", "s"))
               .status()));
  EXPECT_TRUE(gone(keys_->RotateKey(kOwner, "gone").status()));
  EXPECT_TRUE(gone(keys_->RetireKeyVersion(kOwner, "gone", 1).status()));
  EXPECT_TRUE(gone(keys_->DeleteKey(kOwner, "gone")));
  EXPECT_TRUE(
      gone(keys_->Seal(kOwner, SealRequest("gone-box", "p", "")).status()));
  EXPECT_TRUE(gone(
      keys_->Unseal(kOwner, UnsealRequest("gone-box", blob, "")).status()));
  // (svc/owner still sees the well-known keys granted to svc/*.)
  EXPECT_THAT(NamesOf(*keys_->ListKeys(kOwner)),
              UnorderedElementsAre("token-signing", "event-checkpoint"));

  // The name is free again, for a new key.
  Create(kOwner, "gone", v1::KEY_ALGORITHM_ED25519);
  EXPECT_NE(PublicDer(kOwner, "gone"), der);
}

TEST_F(KeydManagerTest, WellKnownKeysCannotBeDeleted) {
  for (const char* name :
       {"device-ca", "device-identity", "token-signing", "event-checkpoint"}) {
    EXPECT_TRUE(IsError(keys_->DeleteKey(kPerson, name),
                        Code::kFailedPrecondition,
                        {"well-known key declared in policies/keyd/keys.toml",
                         "cannot be deleted; rotate it instead"}))
        << name;
    // A daemon without manage does not even get that far.
    EXPECT_TRUE(IsError(keys_->DeleteKey({"svc/supervisord", false}, name),
                        Code::kPermissionDenied, {"does not grant manage"}))
        << name;
    EXPECT_TRUE(keys_->GetKey(kPerson, name).ok());
  }
  // A person may rotate one.
  absl::StatusOr<v1::KeyInfo> r = keys_->RotateKey(kPerson, "event-checkpoint");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(CurrentOf(*r), 2u);
}

TEST_F(KeydManagerTest, ManagingNeedsTheManageGrantOrAPerson) {
  // svc/owner may use the key but not manage it.
  Create(kOwner, "k", v1::KEY_ALGORITHM_ED25519,
         Policy({{"svc/owner",
                  {v1::KEY_OPERATION_SIGN, v1::KEY_OPERATION_PUBLIC_KEY}}}));
  const Caller not_a_person{"client/rustiqctl", false};
  for (const Caller& c : {kOwner, kOther, not_a_person}) {
    SCOPED_TRACE(c.path);
    EXPECT_TRUE(
        IsError(keys_->RotateKey(c, "k"), Code::kPermissionDenied,
                {absl::StrCat("caller ", c.path, " may not rotate key 'k'"),
                 "does not grant manage"}));
    audit::SecurityEvent e = sink_.events().back();
    EXPECT_EQ(e.action, "key.manage.denied");
    EXPECT_EQ(e.outcome, audit::Outcome::kDenied);
    EXPECT_EQ(e.actor, c.path);
    EXPECT_EQ(test::Attribute(e, "key"), "k");
    EXPECT_EQ(test::Attribute(e, "action"), "rotate");
    EXPECT_TRUE(IsError(keys_->DeleteKey(c, "k"), Code::kPermissionDenied,
                        {"may not delete key 'k'"}));
    EXPECT_EQ(test::Attribute(sink_.events().back(), "action"), "delete");
    EXPECT_TRUE(IsError(keys_->RetireKeyVersion(c, "k", 1),
                        Code::kPermissionDenied,
                        {"may not retire a version of key 'k'"}));
  }
  absl::StatusOr<v1::KeyInfo> info = keys_->GetKey(kOwner, "k");
  ASSERT_TRUE(info.ok());
  EXPECT_THAT(VersionsOf(*info), ElementsAre(1u));

  // A person (whose token the enforcement point checked) may.
  absl::StatusOr<v1::KeyInfo> r = keys_->RotateKey(kPerson, "k");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(sink_.events().back().actor, "client/rustiqctl");
  ASSERT_TRUE(keys_->RetireKeyVersion(kPerson, "k", 1).ok());
  ASSERT_TRUE(keys_->DeleteKey(kPerson, "k").ok());
  EXPECT_TRUE(IsError(keys_->GetKey(kOwner, "k"), Code::kNotFound));

  // With the default policy the creator manages its own key.
  Create(kOwner, "own", v1::KEY_ALGORITHM_ED25519);
  EXPECT_TRUE(keys_->RotateKey(kOwner, "own").ok());
  EXPECT_TRUE(keys_->RetireKeyVersion(kOwner, "own", 1).ok());
  EXPECT_TRUE(
      IsError(keys_->RotateKey(kOther, "own"), Code::kPermissionDenied));
  EXPECT_TRUE(keys_->DeleteKey(kOwner, "own").ok());
}

// ---------------------------------------------------------------------------
// Sealing

class KeydManagerSealTest : public KeydManagerTest {
 protected:
  void SetUp() override {
    KeydManagerTest::SetUp();
    Create(kOwner, "box", v1::KEY_ALGORITHM_AES_256,
           Policy({{"svc/*",
                    {v1::KEY_OPERATION_SEAL, v1::KEY_OPERATION_UNSEAL,
                     v1::KEY_OPERATION_MANAGE}}}));
  }
  const Caller a_{"svc/a", false};
  const Caller b_{"svc/b", false};
};

TEST_F(KeydManagerSealTest, RoundTripsForTheSameCallerAndContext) {
  for (const std::string& plaintext :
       {std::string("wifi password"), std::string(), std::string("\0\1\2", 3),
        std::string(kMaxPlaintextBytes, 'p')}) {
    for (const std::string& context : {std::string(), std::string("ctx"),
                                       std::string(kMaxContextBytes, 'c')}) {
      std::string blob = MustSeal(a_, SealRequest("box", plaintext, context));
      EXPECT_EQ(blob.size(),
                1 + 4 + kGcmNonceBytes + plaintext.size() + kGcmTagBytes);
      EXPECT_EQ(blob[0], '\x01');
      EXPECT_EQ(BlobVersion(blob), 1u);
      EXPECT_EQ(blob.find("wifi password"), std::string::npos);
      absl::StatusOr<SecretBytes> opened =
          keys_->Unseal(a_, UnsealRequest("box", blob, context));
      ASSERT_TRUE(opened.ok()) << opened.status();
      EXPECT_EQ(opened->view(), plaintext);
    }
  }
  // Two seals of the same plaintext differ (fresh nonce).
  EXPECT_NE(MustSeal(a_, SealRequest("box", "x", "")),
            MustSeal(a_, SealRequest("box", "x", "")));
}

TEST_F(KeydManagerSealTest, RefusesAnotherCallerContextKeyOrAlteredBlob) {
  std::string blob = MustSeal(a_, SealRequest("box", "secret", "ctx"));
  ASSERT_TRUE(keys_->Unseal(a_, UnsealRequest("box", blob, "ctx")).ok());
  // Same grants, another caller.
  EXPECT_TRUE(IsError(keys_->Unseal(b_, UnsealRequest("box", blob, "ctx")),
                      Code::kInvalidArgument, {kUnsealFailed}));
  // Another context.
  for (const std::string& ctx : {std::string(), std::string("ctx2"),
                                 std::string("ct"), std::string("ctx\0", 4)}) {
    EXPECT_TRUE(IsError(keys_->Unseal(a_, UnsealRequest("box", blob, ctx)),
                        Code::kInvalidArgument, {kUnsealFailed}));
  }
  // Any byte altered. The format byte and version say so in their own words.
  EXPECT_TRUE(IsError(
      keys_->Unseal(
          a_,
          UnsealRequest("box", std::string(1, '\x02') + blob.substr(1), "ctx")),
      Code::kInvalidArgument, {"not a sealed blob made by keyd"}));
  for (size_t i : {size_t{1}, size_t{4}}) {
    std::string altered = blob;
    altered[i] = static_cast<char>(altered[i] ^ 0x01);
    EXPECT_FALSE(keys_->Unseal(a_, UnsealRequest("box", altered, "ctx")).ok())
        << i;
  }
  for (size_t i = 5; i < blob.size(); ++i) {
    std::string altered = blob;
    altered[i] = static_cast<char>(altered[i] ^ 0x80);
    EXPECT_TRUE(IsError(keys_->Unseal(a_, UnsealRequest("box", altered, "ctx")),
                        Code::kInvalidArgument, {kUnsealFailed}))
        << i;
  }
  // Truncated.
  for (size_t n : {size_t{0}, size_t{1}, size_t{5}, size_t{5 + 12 + 16 - 1}}) {
    EXPECT_TRUE(IsError(
        keys_->Unseal(a_, UnsealRequest("box", blob.substr(0, n), "ctx")),
        Code::kInvalidArgument, {"not a sealed blob made by keyd"}))
        << n;
  }
  for (size_t n : {size_t{5 + 12 + 16}, blob.size() - 1}) {
    EXPECT_TRUE(IsError(
        keys_->Unseal(a_, UnsealRequest("box", blob.substr(0, n), "ctx")),
        Code::kInvalidArgument, {kUnsealFailed}))
        << n;
  }
  EXPECT_TRUE(
      IsError(keys_->Unseal(a_, UnsealRequest("box", blob + "x", "ctx")),
              Code::kInvalidArgument, {kUnsealFailed}));
  // A blob naming version 0.
  std::string v0 = blob;
  v0[1] = v0[2] = v0[3] = v0[4] = '\0';
  EXPECT_TRUE(IsError(keys_->Unseal(a_, UnsealRequest("box", v0, "ctx")),
                      Code::kInvalidArgument, {"names key version 0"}));
  // Another key with the same policy.
  Create(
      kOwner, "box2", v1::KEY_ALGORITHM_AES_256,
      Policy({{"svc/*", {v1::KEY_OPERATION_SEAL, v1::KEY_OPERATION_UNSEAL}}}));
  EXPECT_TRUE(IsError(keys_->Unseal(a_, UnsealRequest("box2", blob, "ctx")),
                      Code::kInvalidArgument, {kUnsealFailed}));
  // Nothing above broke the original.
  absl::StatusOr<SecretBytes> opened =
      keys_->Unseal(a_, UnsealRequest("box", blob, "ctx"));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->view(), "secret");
}

TEST_F(KeydManagerSealTest, OldBlobsOpenAfterRotationUntilRetired) {
  std::string v1_blob = MustSeal(a_, SealRequest("box", "one", "c"));
  ASSERT_TRUE(keys_->RotateKey(a_, "box").ok());
  std::string v2_blob = MustSeal(a_, SealRequest("box", "two", "c"));
  EXPECT_EQ(BlobVersion(v1_blob), 1u);
  EXPECT_EQ(BlobVersion(v2_blob), 2u);
  absl::StatusOr<SecretBytes> one =
      keys_->Unseal(a_, UnsealRequest("box", v1_blob, "c"));
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->view(), "one");
  // A blob cannot be passed off as another version's.
  std::string relabelled = v1_blob;
  relabelled[4] = '\x02';
  EXPECT_TRUE(IsError(keys_->Unseal(a_, UnsealRequest("box", relabelled, "c")),
                      Code::kInvalidArgument, {kUnsealFailed}));

  ASSERT_TRUE(keys_->RetireKeyVersion(a_, "box", 1).ok());
  EXPECT_TRUE(IsError(keys_->Unseal(a_, UnsealRequest("box", v1_blob, "c")),
                      Code::kNotFound, {"key 'box' has no version 1"}));
  absl::StatusOr<SecretBytes> two =
      keys_->Unseal(a_, UnsealRequest("box", v2_blob, "c"));
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->view(), "two");
}

TEST_F(KeydManagerSealTest, RefusesOversizedInputs) {
  EXPECT_TRUE(IsError(
      keys_->Seal(
          a_, SealRequest("box", std::string(kMaxPlaintextBytes + 1, 'p'), "")),
      Code::kInvalidArgument,
      {"plaintext is 65537 bytes; at most 65536 can be sealed"}));
  EXPECT_TRUE(IsError(
      keys_->Seal(
          a_, SealRequest("box", "p", std::string(kMaxContextBytes + 1, 'c'))),
      Code::kInvalidArgument, {"context is longer than 256 bytes"}));
  std::string blob = MustSeal(a_, SealRequest("box", "p", ""));
  EXPECT_TRUE(IsError(
      keys_->Unseal(a_, UnsealRequest("box", blob,
                                      std::string(kMaxContextBytes + 1, 'c'))),
      Code::kInvalidArgument, {"context is longer than 256 bytes"}));
  // An AES key has no public half: a mistake by those it concerns, not a
  // denied use; others learn nothing about the key.
  size_t events = sink_.size();
  for (const Caller& c : {a_, kOwner, kPerson}) {
    EXPECT_TRUE(IsError(keys_->GetPublicKey(c, PublicKeyRequest("box")),
                        Code::kFailedPrecondition,
                        {"'box' is an aes-256 key: no public half"}))
        << c.path;
  }
  EXPECT_EQ(sink_.size(), events);
  const Caller stranger{"client/stranger", false};
  EXPECT_TRUE(IsError(keys_->GetPublicKey(stranger, PublicKeyRequest("box")),
                      Code::kPermissionDenied, {"may not public-key"}));
  ASSERT_EQ(sink_.size(), events + 1);
  EXPECT_EQ(sink_.events().back().action, "key.use.denied");
  // Nor does it sign.
  EXPECT_TRUE(IsError(
      keys_->Sign(a_, SignMessage("box", v1::SIGNATURE_ALGORITHM_ED25519, "m")),
      Code::kPermissionDenied));
}

// ---------------------------------------------------------------------------
// RSA-3072: one key (its generation is slow) for every RSA operation.

TEST_F(KeydManagerTest, Rsa3072SignsAndDecrypts) {
  v1::KeyInfo info = Create(kOwner, "rsa", v1::KEY_ALGORITHM_RSA_3072);
  ASSERT_EQ(info.policy().grants_size(), 1);
  EXPECT_EQ(OpsOf(info.policy().grants(0)),
            (std::set<v1::KeyOperation>{
                v1::KEY_OPERATION_SIGN, v1::KEY_OPERATION_VERIFY,
                v1::KEY_OPERATION_DECRYPT, v1::KEY_OPERATION_PUBLIC_KEY,
                v1::KEY_OPERATION_MANAGE}));
  std::string der = PublicDer(kOwner, "rsa");
  pki::EvpPkeyPtr pub = test::PublicFromDer(der);
  ASSERT_NE(pub, nullptr);
  EXPECT_EQ(EVP_PKEY_is_a(pub.get(), "RSA"), 1);
  EXPECT_EQ(EVP_PKEY_get_bits(pub.get()), 3072);

  const std::string m = "rsa message";
  for (v1::SignatureAlgorithm alg :
       {v1::SIGNATURE_ALGORITHM_RSA_PSS_SHA256,
        v1::SIGNATURE_ALGORITHM_RSA_PKCS1_SHA256}) {
    SCOPED_TRACE(v1::SignatureAlgorithm_Name(alg));
    std::string sig = MustSign(kOwner, SignMessage("rsa", alg, m)).signature();
    EXPECT_EQ(sig.size(), 384u);
    EXPECT_TRUE(OpenSslVerifies(der, alg, m, sig));
    EXPECT_TRUE(KeydVerifies(kOwner, VerifyMessage("rsa", 0, alg, m, sig)));
    EXPECT_FALSE(
        KeydVerifies(kOwner, VerifyMessage("rsa", 0, alg, m + "x", sig)));
    std::string by_digest =
        MustSign(kOwner, SignDigest("rsa", alg, test::Sha256(m))).signature();
    EXPECT_TRUE(OpenSslVerifies(der, alg, m, by_digest));
  }
  // The two RSA schemes are not interchangeable.
  std::string pss =
      MustSign(kOwner,
               SignMessage("rsa", v1::SIGNATURE_ALGORITHM_RSA_PSS_SHA256, m))
          .signature();
  EXPECT_FALSE(
      OpenSslVerifies(der, v1::SIGNATURE_ALGORITHM_RSA_PKCS1_SHA256, m, pss));
  EXPECT_FALSE(KeydVerifies(
      kOwner, VerifyMessage("rsa", 0, v1::SIGNATURE_ALGORITHM_RSA_PKCS1_SHA256,
                            m, pss)));
  EXPECT_TRUE(IsError(
      keys_->Sign(
          kOwner,
          SignMessage("rsa", v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256, m)),
      Code::kInvalidArgument, {"KEY_ALGORITHM_RSA_3072", "cannot make"}));

  // Decryption of what OpenSSL encrypted to the public key.
  const std::string secret = "session key material";
  std::string ciphertext = test::OaepEncrypt(der, secret);
  ASSERT_EQ(ciphertext.size(), 384u);
  v1::DecryptRequest d;
  d.set_name("rsa");
  d.set_algorithm(v1::DECRYPT_ALGORITHM_RSA_OAEP_SHA256);
  d.set_ciphertext(ciphertext);
  absl::StatusOr<SecretBytes> plain = keys_->Decrypt(kOwner, d);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->view(), secret);
  d.set_version(1);
  EXPECT_TRUE(keys_->Decrypt(kOwner, d).ok());
  // Corrupted: one fixed message, whatever the defect.
  for (size_t i : {size_t{0}, size_t{100}, ciphertext.size() - 1}) {
    std::string bad = ciphertext;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    d.set_ciphertext(bad);
    absl::StatusOr<SecretBytes> r = keys_->Decrypt(kOwner, d);
    EXPECT_TRUE(IsError(r, Code::kInvalidArgument));
    EXPECT_EQ(r.status().message(), "ciphertext does not decrypt with this key")
        << i;
  }
  d.set_ciphertext(ciphertext.substr(0, 100));
  EXPECT_EQ(keys_->Decrypt(kOwner, d).status().message(),
            "ciphertext does not decrypt with this key");
  d.set_ciphertext(std::string(1025, 'c'));
  EXPECT_TRUE(IsError(keys_->Decrypt(kOwner, d), Code::kInvalidArgument,
                      {"ciphertext is longer than 1024 bytes"}));
  d.set_ciphertext(ciphertext);
  d.set_version(2);
  EXPECT_TRUE(IsError(keys_->Decrypt(kOwner, d), Code::kNotFound,
                      {"has no version 2"}));
  d.set_version(0);
  d.set_algorithm(v1::DECRYPT_ALGORITHM_UNSPECIFIED);
  EXPECT_TRUE(IsError(keys_->Decrypt(kOwner, d), Code::kInvalidArgument,
                      {"state the decryption algorithm"}));
  d.set_algorithm(v1::DECRYPT_ALGORITHM_RSA_OAEP_SHA256);
  EXPECT_TRUE(IsError(keys_->Decrypt(kOther, d), Code::kPermissionDenied,
                      {"may not decrypt with key 'rsa'"}));
  // Only RSA keys decrypt (the grant is impossible on others).
  Create(kOwner, "ec", v1::KEY_ALGORITHM_EC_P256);
  d.set_name("ec");
  EXPECT_TRUE(IsError(keys_->Decrypt(kOwner, d), Code::kPermissionDenied));
}

// ---------------------------------------------------------------------------
// Concurrency

TEST_F(KeydManagerTest, SigningWhileRotatingNamesTheVersionThatSigned) {
  Create(kOwner, "busy", v1::KEY_ALGORITHM_EC_P256);
  const auto alg = v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256;
  struct Result {
    std::string message;
    std::string signature;
    uint32_t version;
  };
  constexpr int kSigners = 4;
  constexpr int kRotations = 20;
  std::atomic<bool> rotating_done{false};
  std::atomic<int> failures{0};
  std::atomic<int> started{0};
  std::vector<std::vector<Result>> results(kSigners);
  std::vector<std::thread> threads;
  for (int t = 0; t < kSigners; ++t) {
    threads.emplace_back([&, t] {
      // Keeps signing until the rotations are over, and ten more times
      // after (with the last version, then).
      int after = 0;
      for (int i = 0; !rotating_done.load() || after++ < 10; ++i) {
        std::string m = absl::StrCat("signer ", t, " message ", i);
        absl::StatusOr<v1::SignResponse> r =
            keys_->Sign(kOwner, SignMessage("busy", alg, m));
        if (!r.ok()) {
          ++failures;
          continue;
        }
        results[static_cast<size_t>(t)].push_back(
            {m, r->signature(), r->version()});
        if (i == 0) ++started;
      }
    });
  }
  std::thread rotator([&] {
    // Every signer is under way first.
    while (started.load() < kSigners && failures.load() == 0) {
      std::this_thread::yield();
    }
    for (int i = 0; i < kRotations; ++i) {
      if (!keys_->RotateKey(kOwner, "busy").ok()) ++failures;
    }
    rotating_done = true;
  });
  rotator.join();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);

  absl::StatusOr<v1::KeyInfo> info = keys_->GetKey(kOwner, "busy");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->versions_size(), kRotations + 1);
  EXPECT_EQ(CurrentOf(*info), static_cast<uint32_t>(kRotations + 1));
  std::map<uint32_t, std::string> ders;
  std::set<uint32_t> seen;
  size_t total = 0;
  for (const std::vector<Result>& rs : results) {
    uint32_t last = 0;
    for (const Result& r : rs) {
      // One signer's versions never go backwards.
      EXPECT_GE(r.version, last);
      last = r.version;
      if (ders.count(r.version) == 0) {
        ders[r.version] = PublicDer(kOwner, "busy", r.version);
      }
      EXPECT_TRUE(OpenSslVerifies(ders[r.version], alg, r.message, r.signature))
          << r.message << " v" << r.version;
      seen.insert(r.version);
      ++total;
    }
  }
  EXPECT_GE(total, static_cast<size_t>(kSigners * 10));
  // Signed with the first version and with the last one at least.
  EXPECT_EQ(seen.count(1u), 1u);
  EXPECT_EQ(seen.count(static_cast<uint32_t>(kRotations + 1)), 1u);
}

// ---------------------------------------------------------------------------
// Persistence

TEST_F(KeydManagerTest, KeysSurviveReopening) {
  const auto ec_alg = v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256;
  const Caller reader{"svc/reader", false};
  Create(kOwner, "ec", v1::KEY_ALGORITHM_EC_P256,
         Policy({{"svc/owner",
                  {v1::KEY_OPERATION_SIGN, v1::KEY_OPERATION_VERIFY,
                   v1::KEY_OPERATION_PUBLIC_KEY, v1::KEY_OPERATION_MANAGE}},
                 {"svc/reader", {v1::KEY_OPERATION_VERIFY}}}));
  Create(kOwner, "ed", v1::KEY_ALGORITHM_ED25519);
  Create(kOwner, "aes", v1::KEY_ALGORITHM_AES_256);
  Create(kOwner, "deleted", v1::KEY_ALGORITHM_ED25519);
  std::string ec_v1_der = PublicDer(kOwner, "ec");
  std::string ec_v1_sig =
      MustSign(kOwner, SignMessage("ec", ec_alg, "v1")).signature();
  ASSERT_TRUE(keys_->RotateKey(kOwner, "ec").ok());
  ASSERT_TRUE(keys_->RotateKey(kOwner, "ec").ok());
  ASSERT_TRUE(keys_->RetireKeyVersion(kOwner, "ec", 2).ok());
  std::string ec_v3_der = PublicDer(kOwner, "ec");
  std::string ed_der = PublicDer(kOwner, "ed");
  std::string ed_sig =
      MustSign(kOwner, SignMessage("ed", v1::SIGNATURE_ALGORITHM_ED25519, "ed"))
          .signature();
  std::string blob = MustSeal(kOwner, SealRequest("aes", "sealed", "ctx"));
  ASSERT_TRUE(keys_->DeleteKey(kOwner, "deleted").ok());
  ASSERT_TRUE(keys_->SetCaCertificatePem("-----CA PEM-----").ok());
  v1::ListKeysResponse before = *keys_->ListKeys(kPerson);

  // A new policy for a well-known key ships with the binary: it wins at
  // the next start, and is then stored.
  std::vector<WellKnownKey> changed = test::CompiledKeys();
  for (WellKnownKey& k : changed) {
    if (k.name == "token-signing") {
      k.policy =
          Policy({{"svc/authd",
                   {v1::KEY_OPERATION_SIGN, v1::KEY_OPERATION_PUBLIC_KEY}}});
    }
  }
  Reopen(changed);
  v1::ListKeysResponse after = *keys_->ListKeys(kPerson);
  ASSERT_EQ(after.keys_size(), before.keys_size());
  for (int i = 0; i < after.keys_size(); ++i) {
    SCOPED_TRACE(after.keys(i).name());
    if (after.keys(i).name() == "token-signing") continue;
    EXPECT_EQ(after.keys(i).SerializeAsString(),
              before.keys(i).SerializeAsString());
  }
  EXPECT_THAT(NamesOf(after), ::testing::Not(::testing::Contains("deleted")));
  absl::StatusOr<v1::KeyInfo> ec = keys_->GetKey(kOwner, "ec");
  ASSERT_TRUE(ec.ok());
  EXPECT_THAT(VersionsOf(*ec), ElementsAre(1u, 3u));
  EXPECT_EQ(CurrentOf(*ec), 3u);
  EXPECT_EQ(PublicDer(kOwner, "ec", 1), ec_v1_der);
  EXPECT_EQ(PublicDer(kOwner, "ec"), ec_v3_der);
  EXPECT_EQ(PublicDer(kOwner, "ed"), ed_der);
  // Old signatures verify; the reopened keys sign what the old public keys
  // verify; old blobs unseal.
  EXPECT_TRUE(
      KeydVerifies(reader, VerifyMessage("ec", 1, ec_alg, "v1", ec_v1_sig)));
  EXPECT_TRUE(KeydVerifies(
      kOwner,
      VerifyMessage("ed", 0, v1::SIGNATURE_ALGORITHM_ED25519, "ed", ed_sig)));
  v1::SignResponse again = MustSign(kOwner, SignMessage("ec", ec_alg, "again"));
  EXPECT_EQ(again.version(), 3u);
  EXPECT_TRUE(OpenSslVerifies(ec_v3_der, ec_alg, "again", again.signature()));
  std::string ed_again =
      MustSign(kOwner, SignMessage("ed", v1::SIGNATURE_ALGORITHM_ED25519, "x"))
          .signature();
  EXPECT_TRUE(
      OpenSslVerifies(ed_der, v1::SIGNATURE_ALGORITHM_ED25519, "x", ed_again));
  absl::StatusOr<SecretBytes> opened =
      keys_->Unseal(kOwner, UnsealRequest("aes", blob, "ctx"));
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->view(), "sealed");
  EXPECT_TRUE(IsError(keys_->GetKey(kOwner, "deleted"), Code::kNotFound));
  EXPECT_EQ(keys_->CaCertificatePem(), "-----CA PEM-----");
  // The explicit grants came back as they were.
  EXPECT_TRUE(IsError(keys_->Sign(reader, SignMessage("ec", ec_alg, "m")),
                      Code::kPermissionDenied));
  // Versions keep counting from where they were.
  absl::StatusOr<v1::KeyInfo> rotated = keys_->RotateKey(kOwner, "ec");
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(CurrentOf(*rotated), 4u);

  // The changed policy was stored: reopened without any declaration, the
  // key keeps it.
  Reopen({});
  absl::StatusOr<v1::KeyInfo> ts = keys_->GetKey(kPerson, "token-signing");
  ASSERT_TRUE(ts.ok());
  ASSERT_EQ(ts->policy().grants_size(), 1);
  EXPECT_EQ(ts->policy().grants(0).caller(), "svc/authd");
  EXPECT_TRUE(ts->well_known());
  EXPECT_TRUE(IsError(keys_->GetPublicKey({"svc/cloudd", false},
                                          PublicKeyRequest("token-signing")),
                      Code::kPermissionDenied));
  EXPECT_TRUE(keys_
                  ->GetPublicKey({"svc/authd", false},
                                 PublicKeyRequest("token-signing"))
                  .ok());
}

TEST_F(KeydManagerTest, OpenRefusesAnotherDeviceOrAMissingStore) {
  Create(kOwner, "k", v1::KEY_ALGORITHM_ED25519);
  keys_.reset();
  EXPECT_TRUE(IsError(test::OpenManager(files_, &sink_, test::CompiledKeys(),
                                        true, "other-device"),
                      Code::kFailedPrecondition,
                      {"belongs to device 'test-device'",
                       "the configuration names 'other-device'"}));
  ASSERT_EQ(unlink(files_.store.c_str()), 0);
  EXPECT_TRUE(IsError(test::OpenManager(files_, &sink_, test::CompiledKeys(),
                                        /*create_store=*/false),
                      Code::kFailedPrecondition,
                      {"does not exist", "provision the device first"}));
  // Nothing was created by the refused open.
  EXPECT_NE(access(files_.store.c_str(), F_OK), 0);
}

// ---------------------------------------------------------------------------
// Well-known keys

std::string WellKnownReader(const std::string& name) {
  if (name == "token-signing") return "svc/authd";
  if (name == "event-checkpoint") return "svc/eventd";
  return "svc/supervisord";
}

TEST_F(KeydManagerTest, WellKnownKeysAreCreatedOnceAtOpen) {
  std::vector<WellKnownKey> declared = test::CompiledKeys();
  ASSERT_EQ(declared.size(), 5u);
  std::vector<audit::SecurityEvent> created = sink_.WithAction("key.created");
  ASSERT_EQ(created.size(), 4u);
  std::vector<std::string> created_names;
  for (const audit::SecurityEvent& e : created) {
    EXPECT_EQ(e.actor, "svc/keyd");
    EXPECT_EQ(test::Attribute(e, "well_known"), "true");
    created_names.push_back(test::Attribute(e, "key"));
  }
  EXPECT_THAT(created_names,
              UnorderedElementsAre("device-ca", "device-identity",
                                   "token-signing", "event-checkpoint"));
  std::map<std::string, std::string> ders;
  for (const WellKnownKey& k : declared) {
    SCOPED_TRACE(k.name);
    absl::StatusOr<v1::KeyInfo> info = keys_->GetKey(kPerson, k.name);
    if (k.imported) {
      // Waits for an operator.
      EXPECT_TRUE(IsError(info, Code::kNotFound));
      continue;
    }
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_TRUE(info->well_known());
    EXPECT_FALSE(info->public_only());
    EXPECT_EQ(info->creator(), "svc/keyd");
    EXPECT_EQ(info->algorithm(), k.algorithm);
    EXPECT_EQ(info->policy().SerializeAsString(), k.policy.SerializeAsString());
    EXPECT_THAT(VersionsOf(*info), ElementsAre(1u));
    ders[k.name] = PublicDer({WellKnownReader(k.name), false}, k.name);
    EXPECT_FALSE(ders[k.name].empty());
  }
  std::string store_bytes = rustiq::testing::ReadAll(files_.store);
  ASSERT_FALSE(store_bytes.empty());

  // Reopened: nothing is re-created, nothing is even re-written.
  size_t events = sink_.size();
  Reopen(test::CompiledKeys());
  EXPECT_EQ(sink_.size(), events);
  EXPECT_EQ(rustiq::testing::ReadAll(files_.store), store_bytes);
  for (const auto& [name, der] : ders) {
    EXPECT_EQ(PublicDer({WellKnownReader(name), false}, name), der) << name;
  }
}

TEST_F(KeydManagerTest, MissingWellKnownKeysAreAddedToAnExistingStore) {
  // A store that has none of them yet.
  keys_.reset();
  ASSERT_EQ(unlink(files_.store.c_str()), 0);
  Reopen({});
  Create(kOwner, "mine", v1::KEY_ALGORITHM_ED25519);
  std::string mine = PublicDer(kOwner, "mine");
  EXPECT_THAT(NamesOf(*keys_->ListKeys(kPerson)), ElementsAre("mine"));
  size_t created = sink_.WithAction("key.created").size();

  Reopen(test::CompiledKeys());
  EXPECT_THAT(NamesOf(*keys_->ListKeys(kPerson)),
              UnorderedElementsAre("mine", "device-ca", "device-identity",
                                   "token-signing", "event-checkpoint"));
  EXPECT_EQ(sink_.WithAction("key.created").size(), created + 4);
  EXPECT_EQ(PublicDer(kOwner, "mine"), mine);
  std::string ca_der = PublicDer({"svc/supervisord", false}, "device-ca");

  // Declared later still: created at the next open, the others kept.
  WellKnownKey extra;
  extra.name = "late-key";
  extra.algorithm = v1::KEY_ALGORITHM_ED25519;
  extra.policy = Policy({{"svc/late", {v1::KEY_OPERATION_SIGN}}});
  std::vector<WellKnownKey> declared = test::CompiledKeys();
  declared.push_back(extra);
  Reopen(declared);
  absl::StatusOr<v1::KeyInfo> info = keys_->GetKey(kPerson, "late-key");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->well_known());
  EXPECT_EQ(info->creator(), "svc/keyd");
  EXPECT_EQ(PublicDer({"svc/supervisord", false}, "device-ca"), ca_der);
  EXPECT_EQ(PublicDer(kOwner, "mine"), mine);
  EXPECT_TRUE(
      keys_
          ->Sign({"svc/late", false},
                 SignMessage("late-key", v1::SIGNATURE_ALGORITHM_ED25519, "m"))
          .ok());
}

// ---------------------------------------------------------------------------
// Listing

TEST_F(KeydManagerTest, ListKeysShowsEachCallerWhatConcernsIt) {
  Create({"svc/authd", false}, "authd-own", v1::KEY_ALGORITHM_ED25519);
  Create(kOwner, "for-cloudd", v1::KEY_ALGORITHM_EC_P256,
         Policy({{"svc/cloudd", {v1::KEY_OPERATION_PUBLIC_KEY}}}));
  // Created by svc/owner for others only: its creator still sees it.
  Create(kOwner, "given-away", v1::KEY_ALGORITHM_ED25519,
         Policy({{"svc/x", {v1::KEY_OPERATION_SIGN}}}));
  const std::vector<std::string> all = {
      "authd-own",  "device-ca",  "device-identity", "event-checkpoint",
      "for-cloudd", "given-away", "token-signing"};
  EXPECT_THAT(NamesOf(*keys_->ListKeys(kPerson)),
              UnorderedElementsAreArray(all));
  EXPECT_THAT(NamesOf(*keys_->ListKeys({"svc/supervisord", false})),
              UnorderedElementsAreArray(all));
  EXPECT_THAT(NamesOf(*keys_->ListKeys({"svc/cloudd", false})),
              UnorderedElementsAre("device-identity", "token-signing",
                                   "event-checkpoint", "for-cloudd"));
  EXPECT_THAT(
      NamesOf(*keys_->ListKeys({"svc/authd", false})),
      UnorderedElementsAre("authd-own", "token-signing", "event-checkpoint"));
  EXPECT_THAT(NamesOf(*keys_->ListKeys(kOwner)),
              UnorderedElementsAre("token-signing", "event-checkpoint",
                                   "for-cloudd", "given-away"));
  // A client that is not a person sees what client/* is granted.
  EXPECT_THAT(NamesOf(*keys_->ListKeys({"client/rustiqctl", false})),
              UnorderedElementsAre("event-checkpoint"));
  EXPECT_THAT(NamesOf(*keys_->ListKeys({"client/a/b", false})), ElementsAre());
}

// ---------------------------------------------------------------------------
// Imported public keys

v1::ImportPublicKeyRequest ImportRequest(const std::string& name,
                                         const std::string& pem) {
  v1::ImportPublicKeyRequest r;
  r.set_name(name);
  r.set_pem(pem);
  return r;
}

TEST_F(KeydManagerTest, ImportedUpdateAnchorGetsTheDeclaredPolicy) {
  absl::StatusOr<pki::EvpPkeyPtr> vendor = pki::GenerateP256Key();
  ASSERT_TRUE(vendor.ok());
  std::string pem = test::PublicPemOf(vendor->get());
  v1::ImportPublicKeyRequest r = ImportRequest("update-anchor", pem);
  // A policy in the request does not override the declared one.
  *r.mutable_policy() = Policy({{"svc/evil", {v1::KEY_OPERATION_VERIFY}}});
  absl::StatusOr<v1::KeyInfo> info = keys_->ImportPublicKey(kPerson, r);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->public_only());
  EXPECT_TRUE(info->well_known());
  EXPECT_EQ(info->algorithm(), v1::KEY_ALGORITHM_EC_P256);
  EXPECT_EQ(info->creator(), "client/rustiqctl");
  EXPECT_THAT(VersionsOf(*info), ElementsAre(1u));
  for (const WellKnownKey& k : test::CompiledKeys()) {
    if (k.name == "update-anchor") {
      EXPECT_EQ(info->policy().SerializeAsString(),
                k.policy.SerializeAsString());
    }
  }
  audit::SecurityEvent e = sink_.events().back();
  EXPECT_EQ(e.action, "key.imported");
  EXPECT_EQ(test::Attribute(e, "key"), "update-anchor");

  const Caller updated{"svc/updated", false};
  const std::string manifest = "update manifest";
  std::string sig = test::OpenSslSign(vendor->get(), manifest);
  const auto alg = v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256;
  EXPECT_TRUE(KeydVerifies(
      updated, VerifyMessage("update-anchor", 0, alg, manifest, sig)));
  EXPECT_FALSE(KeydVerifies(
      updated, VerifyMessage("update-anchor", 0, alg, manifest + "!", sig)));
  EXPECT_EQ(PublicDer(updated, "update-anchor"),
            test::PublicDerOf(vendor->get()));
  EXPECT_TRUE(IsError(
      keys_->Verify({"svc/evil", false},
                    VerifyMessage("update-anchor", 0, alg, manifest, sig)),
      Code::kPermissionDenied));
  // Public only: no signing, no rotation, no deletion of the declared key.
  EXPECT_TRUE(
      IsError(keys_->Sign(updated, SignMessage("update-anchor", alg, "m")),
              Code::kPermissionDenied));
  EXPECT_TRUE(
      IsError(keys_->Sign(kPerson, SignMessage("update-anchor", alg, "m")),
              Code::kPermissionDenied));
  EXPECT_TRUE(IsError(keys_->RotateKey(kPerson, "update-anchor"),
                      Code::kFailedPrecondition,
                      {"'update-anchor' is an imported public key"}));
  EXPECT_TRUE(IsError(keys_->DeleteKey(kPerson, "update-anchor"),
                      Code::kFailedPrecondition, {"cannot be deleted"}));
  EXPECT_TRUE(IsError(keys_->InternalKey("update-anchor"),
                      Code::kFailedPrecondition, {"public only"}));
  // Once only.
  EXPECT_TRUE(IsError(keys_->ImportPublicKey(kPerson, r), Code::kAlreadyExists,
                      {"'update-anchor' already exists"}));
  // It survives a restart, public only.
  Reopen(test::CompiledKeys());
  info = keys_->GetKey(kPerson, "update-anchor");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->public_only());
  EXPECT_TRUE(info->well_known());
  EXPECT_TRUE(KeydVerifies(
      updated, VerifyMessage("update-anchor", 0, alg, manifest, sig)));
}

TEST_F(KeydManagerTest, ImportRefusesWhatDoesNotFit) {
  pki::EvpPkeyPtr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  pki::EvpPkeyPtr p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  pki::EvpPkeyPtr rsa2048(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  ASSERT_NE(ed, nullptr);
  ASSERT_NE(p384, nullptr);
  ASSERT_NE(rsa2048, nullptr);
  std::string ed_pem = test::PublicPemOf(ed.get());
  // The declared algorithm of update-anchor is EC P-256.
  EXPECT_TRUE(IsError(
      keys_->ImportPublicKey(kPerson, ImportRequest("update-anchor", ed_pem)),
      Code::kInvalidArgument,
      {"'update-anchor' is declared in policies/keyd/keys.toml as an "
       "imported KEY_ALGORITHM_EC_P256 key"}));
  // A generated well-known key cannot be imported over.
  EXPECT_TRUE(IsError(
      keys_->ImportPublicKey(kPerson, ImportRequest("device-ca", ed_pem)),
      Code::kAlreadyExists));
  for (const std::string& garbage :
       {std::string(), std::string("not a key"),
        std::string(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
        ed_pem.substr(0, ed_pem.size() / 2)}) {
    EXPECT_TRUE(IsError(
        keys_->ImportPublicKey(kPerson, ImportRequest("vendor", garbage)),
        Code::kInvalidArgument, {"not a PEM public key"}));
  }
  absl::StatusOr<std::string> private_pem = pki::PrivateKeyToPem(ed.get());
  ASSERT_TRUE(private_pem.ok());
  EXPECT_TRUE(IsError(
      keys_->ImportPublicKey(kPerson, ImportRequest("vendor", *private_pem)),
      Code::kInvalidArgument, {"not a PEM public key"}));
  for (EVP_PKEY* k : {p384.get(), rsa2048.get()}) {
    EXPECT_TRUE(IsError(
        keys_->ImportPublicKey(kPerson,
                               ImportRequest("vendor", test::PublicPemOf(k))),
        Code::kInvalidArgument, {"must be EC P-256, Ed25519 or RSA-3072"}));
  }
  EXPECT_TRUE(
      IsError(keys_->ImportPublicKey(kPerson, ImportRequest("Vendor", ed_pem)),
              Code::kInvalidArgument, {"1-64 characters"}));
  // A public key cannot be granted sign.
  v1::ImportPublicKeyRequest r = ImportRequest("vendor", ed_pem);
  *r.mutable_policy() = Policy({{"svc/x", {v1::KEY_OPERATION_SIGN}}});
  EXPECT_TRUE(IsError(
      keys_->ImportPublicKey(kPerson, r), Code::kInvalidArgument,
      {"operation sign is not possible", "verify, public-key, manage are"}));
  EXPECT_TRUE(IsError(keys_->GetKey(kPerson, "vendor"), Code::kNotFound));

  // An undeclared name: the importer alone, verify/public-key/manage.
  absl::StatusOr<v1::KeyInfo> info =
      keys_->ImportPublicKey(kPerson, ImportRequest("vendor", ed_pem));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->algorithm(), v1::KEY_ALGORITHM_ED25519);
  EXPECT_FALSE(info->well_known());
  ASSERT_EQ(info->policy().grants_size(), 1);
  EXPECT_EQ(info->policy().grants(0).caller(), "client/rustiqctl");
  EXPECT_EQ(OpsOf(info->policy().grants(0)),
            (std::set<v1::KeyOperation>{v1::KEY_OPERATION_VERIFY,
                                        v1::KEY_OPERATION_PUBLIC_KEY,
                                        v1::KEY_OPERATION_MANAGE}));
  std::string sig = test::OpenSslSign(ed.get(), "m");
  EXPECT_TRUE(KeydVerifies(
      kPerson,
      VerifyMessage("vendor", 0, v1::SIGNATURE_ALGORITHM_ED25519, "m", sig)));
  EXPECT_TRUE(IsError(
      keys_->Sign(kPerson,
                  SignMessage("vendor", v1::SIGNATURE_ALGORITHM_ED25519, "m")),
      Code::kPermissionDenied));
  EXPECT_TRUE(IsError(keys_->RotateKey(kPerson, "vendor"),
                      Code::kFailedPrecondition, {"imported public key"}));
  EXPECT_TRUE(
      IsError(keys_->ImportPublicKey(kPerson, ImportRequest("vendor", ed_pem)),
              Code::kAlreadyExists));
  // An imported key that is not declared may be deleted.
  EXPECT_TRUE(keys_->DeleteKey(kPerson, "vendor").ok());
  EXPECT_TRUE(IsError(keys_->GetKey(kPerson, "vendor"), Code::kNotFound));
}

// ---------------------------------------------------------------------------
// Random bytes and zeroize

TEST_F(KeydManagerTest, RandomBytesWithinBounds) {
  EXPECT_TRUE(IsError(keys_->RandomBytes(0), Code::kInvalidArgument,
                      {"length must be 1-1024, got 0"}));
  EXPECT_TRUE(
      IsError(keys_->RandomBytes(1025), Code::kInvalidArgument, {"got 1025"}));
  absl::StatusOr<std::string> a = keys_->RandomBytes(1024);
  absl::StatusOr<std::string> b = keys_->RandomBytes(32);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->size(), 1024u);
  EXPECT_EQ(b->size(), 32u);
  EXPECT_NE(a->substr(0, 32), *b);
}

TEST_F(KeydManagerTest, ZeroizeRecordsThenDestroysEverything) {
  Create(kOwner, "ec", v1::KEY_ALGORITHM_EC_P256);
  Create(kOwner, "box", v1::KEY_ALGORITHM_AES_256);
  std::string blob = MustSeal(kOwner, SealRequest("box", "p", ""));
  const Caller supervisor{"svc/supervisord", false};

  v1::ZeroizeRequest wrong;
  wrong.set_confirm("destroy all keys!");
  EXPECT_TRUE(IsError(keys_->Zeroize(supervisor, wrong, files_.master_key),
                      Code::kInvalidArgument,
                      {"set confirm to \"destroy all keys\""}));
  v1::ZeroizeRequest long_reason;
  long_reason.set_confirm(kZeroizeConfirmation);
  long_reason.set_reason(std::string(257, 'r'));
  EXPECT_TRUE(
      IsError(keys_->Zeroize(supervisor, long_reason, files_.master_key),
              Code::kInvalidArgument, {"reason is longer than 256"}));
  // Refused requests change nothing.
  EXPECT_FALSE(keys_->zeroized());
  EXPECT_TRUE(
      keys_
          ->Sign(
              kOwner,
              SignMessage("ec", v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256, "m"))
          .ok());
  EXPECT_EQ(access(files_.store.c_str(), F_OK), 0);
  EXPECT_TRUE(sink_.WithAction("keys.zeroize").empty());

  // The event is recorded while everything still exists.
  bool recorded_before = false;
  sink_.OnRecord([&](const audit::SecurityEvent& e) {
    if (e.action == "keys.zeroize" && e.outcome == audit::Outcome::kSuccess) {
      recorded_before = access(files_.store.c_str(), F_OK) == 0 &&
                        access(files_.master_key.c_str(), F_OK) == 0;
    }
  });
  // And keyd waits for the log to store it (Flush) before destroying:
  // an event merely queued would be lost with a crash during the zeroize.
  bool flushed_before = false;
  size_t recorded_at_flush = 0;
  sink_.OnFlush([&](size_t recorded) {
    if (recorded_at_flush != 0) return;  // the first wait after the record
    recorded_at_flush = recorded;
    flushed_before = access(files_.store.c_str(), F_OK) == 0 &&
                     access(files_.master_key.c_str(), F_OK) == 0;
  });
  size_t events = sink_.size();
  v1::ZeroizeRequest request;
  request.set_confirm(kZeroizeConfirmation);
  request.set_reason("case opened");
  absl::StatusOr<uint32_t> destroyed =
      keys_->Zeroize(supervisor, request, files_.master_key);
  sink_.OnRecord(nullptr);
  sink_.OnFlush(nullptr);
  ASSERT_TRUE(destroyed.ok()) << destroyed.status();
  EXPECT_EQ(*destroyed, 6u);  // four well-known keys and two created
  EXPECT_TRUE(recorded_before);
  EXPECT_TRUE(flushed_before);
  // The wait came after the zeroize record, so it covers it.
  ASSERT_GT(recorded_at_flush, events);
  EXPECT_EQ(sink_.events()[recorded_at_flush - 1].action, "keys.zeroize");
  std::vector<audit::SecurityEvent> all = sink_.events();
  ASSERT_GT(all.size(), events);
  // The key uses counted so far are recorded first, then the zeroize.
  size_t at = events;
  while (at < all.size() && all[at].action == "key.used") ++at;
  ASSERT_LT(at, all.size());
  const audit::SecurityEvent& e = all[at];
  EXPECT_EQ(e.category, "key");
  EXPECT_EQ(e.action, "keys.zeroize");
  EXPECT_EQ(e.outcome, audit::Outcome::kSuccess);
  EXPECT_EQ(e.actor, "svc/supervisord");
  EXPECT_EQ(test::Attribute(e, "reason"), "case opened");
  EXPECT_EQ(test::Attribute(e, "keys"), "6");

  EXPECT_TRUE(keys_->zeroized());
  EXPECT_NE(access(files_.store.c_str(), F_OK), 0);
  EXPECT_NE(access(files_.master_key.c_str(), F_OK), 0);

  auto zeroized = [](const absl::Status& s) {
    return IsError(s, Code::kFailedPrecondition,
                   {"keyd was zeroized", "re-provision the device"});
  };
  const auto ec_alg = v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256;
  EXPECT_TRUE(zeroized(keys_->GetKey(kPerson, "ec").status()));
  EXPECT_TRUE(zeroized(keys_->ListKeys(kPerson).status()));
  v1::CreateKeyRequest create;
  create.set_name("new");
  create.set_algorithm(v1::KEY_ALGORITHM_ED25519);
  EXPECT_TRUE(zeroized(keys_->CreateKey(kOwner, create).status()));
  absl::StatusOr<pki::EvpPkeyPtr> p256 = pki::GenerateP256Key();
  ASSERT_TRUE(p256.ok());
  EXPECT_TRUE(
      zeroized(keys_
                   ->ImportPublicKey(
                       kPerson, ImportRequest("update-anchor",
                                              test::PublicPemOf(p256->get())))
                   .status()));
  EXPECT_TRUE(
      zeroized(keys_->Sign(kOwner, SignMessage("ec", ec_alg, "m")).status()));
  EXPECT_TRUE(
      zeroized(keys_->Verify(kOwner, VerifyMessage("ec", 0, ec_alg, "m", "s"))
                   .status()));
  EXPECT_TRUE(
      zeroized(keys_->GetPublicKey(kOwner, PublicKeyRequest("ec")).status()));
  EXPECT_TRUE(
      zeroized(keys_->Seal(kOwner, SealRequest("box", "p", "")).status()));
  EXPECT_TRUE(
      zeroized(keys_->Unseal(kOwner, UnsealRequest("box", blob, "")).status()));
  v1::DecryptRequest d;
  d.set_name("ec");
  d.set_algorithm(v1::DECRYPT_ALGORITHM_RSA_OAEP_SHA256);
  EXPECT_TRUE(zeroized(keys_->Decrypt(kOwner, d).status()));
  EXPECT_TRUE(zeroized(keys_->RotateKey(kPerson, "ec").status()));
  EXPECT_TRUE(zeroized(keys_->RetireKeyVersion(kPerson, "ec", 1).status()));
  EXPECT_TRUE(zeroized(keys_->DeleteKey(kPerson, "ec")));
  EXPECT_TRUE(zeroized(keys_->InternalKey("device-ca").status()));
  EXPECT_TRUE(zeroized(keys_->SetCaCertificatePem("pem")));
  EXPECT_TRUE(zeroized(keys_->RandomBytes(16).status()));
  EXPECT_TRUE(zeroized(
      keys_->Zeroize(supervisor, request, files_.master_key).status()));
  EXPECT_EQ(keys_->CaCertificatePem(), "");
  // Nothing was written back by any of it.
  EXPECT_NE(access(files_.store.c_str(), F_OK), 0);

  // The device cannot come back from its files.
  keys_.reset();
  EXPECT_TRUE(IsError(LoadMasterKey(files_.master_key), Code::kNotFound,
                      {"does not exist"}));
  EXPECT_TRUE(IsError(
      KeyManager::Open(NewSoftBackend(),
                       std::make_unique<KeyStoreFile>(
                           files_.store, SecretBytes(std::string(32, 'k'))),
                       test::CompiledKeys(), test::kDeviceId, &sink_,
                       /*create_store=*/false),
      Code::kFailedPrecondition, {"does not exist"}));
}

}  // namespace
}  // namespace rustiq::keyd
