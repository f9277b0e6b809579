// keyd's policy building blocks: operations per algorithm, key names, grants,
// keys.toml (the compiled file, and every defect refused naming its line),
// the sealed-blob format and the public-key helpers.
#include <openssl/evp.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/keyd/backend.h"
#include "services/keyd/key_policy.h"
#include "services/keyd/public_keys.h"
#include "services/keyd/seal_format.h"
#include "tests/unit/keyd_test_util.h"

namespace rustiq::keyd {
namespace {

using test::IsError;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Code = absl::StatusCode;
using Ops = std::set<v1::KeyOperation>;

constexpr char kOrigin[] = "keys.toml";

const char* Verdict(const absl::StatusOr<bool>& r) {
  if (!r.ok()) return "error";
  return *r ? "valid" : "invalid";
}

Ops OpsOf(const v1::KeyGrant& grant) {
  Ops ops;
  for (int op : grant.operations())
    ops.insert(static_cast<v1::KeyOperation>(op));
  return ops;
}

v1::KeyPolicy OneGrant(const std::string& caller, const Ops& ops) {
  v1::KeyPolicy policy;
  v1::KeyGrant* g = policy.add_grants();
  g->set_caller(caller);
  for (v1::KeyOperation op : ops) g->add_operations(op);
  return policy;
}

// ---------------------------------------------------------------------------
// Operations, names, grants

TEST(KeydPolicyTest, OperationsFollowTheAlgorithm) {
  EXPECT_EQ(OperationsFor(v1::KEY_ALGORITHM_EC_P256, false),
            (Ops{v1::KEY_OPERATION_SIGN, v1::KEY_OPERATION_VERIFY,
                 v1::KEY_OPERATION_PUBLIC_KEY, v1::KEY_OPERATION_MANAGE}));
  EXPECT_EQ(OperationsFor(v1::KEY_ALGORITHM_ED25519, false),
            OperationsFor(v1::KEY_ALGORITHM_EC_P256, false));
  EXPECT_EQ(OperationsFor(v1::KEY_ALGORITHM_RSA_3072, false),
            (Ops{v1::KEY_OPERATION_SIGN, v1::KEY_OPERATION_VERIFY,
                 v1::KEY_OPERATION_DECRYPT, v1::KEY_OPERATION_PUBLIC_KEY,
                 v1::KEY_OPERATION_MANAGE}));
  EXPECT_EQ(OperationsFor(v1::KEY_ALGORITHM_AES_256, false),
            (Ops{v1::KEY_OPERATION_SEAL, v1::KEY_OPERATION_UNSEAL,
                 v1::KEY_OPERATION_MANAGE}));
  for (v1::KeyAlgorithm a :
       {v1::KEY_ALGORITHM_EC_P256, v1::KEY_ALGORITHM_ED25519,
        v1::KEY_ALGORITHM_RSA_3072}) {
    EXPECT_EQ(OperationsFor(a, true),
              (Ops{v1::KEY_OPERATION_VERIFY, v1::KEY_OPERATION_PUBLIC_KEY,
                   v1::KEY_OPERATION_MANAGE}));
  }
  EXPECT_TRUE(OperationsFor(v1::KEY_ALGORITHM_UNSPECIFIED, false).empty());
}

TEST(KeydPolicyTest, OperationNamesRoundTrip) {
  const std::pair<v1::KeyOperation, const char*> names[] = {
      {v1::KEY_OPERATION_SIGN, "sign"},
      {v1::KEY_OPERATION_VERIFY, "verify"},
      {v1::KEY_OPERATION_DECRYPT, "decrypt"},
      {v1::KEY_OPERATION_SEAL, "seal"},
      {v1::KEY_OPERATION_UNSEAL, "unseal"},
      {v1::KEY_OPERATION_PUBLIC_KEY, "public-key"},
      {v1::KEY_OPERATION_MANAGE, "manage"}};
  for (const auto& [op, name] : names) {
    EXPECT_STREQ(OperationName(op), name);
    v1::KeyOperation parsed = v1::KEY_OPERATION_UNSPECIFIED;
    EXPECT_TRUE(ParseOperation(name, &parsed));
    EXPECT_EQ(parsed, op);
  }
  v1::KeyOperation op = v1::KEY_OPERATION_SIGN;
  for (const char* bad : {"", "Sign", "public_key", "unknown", "sign "}) {
    EXPECT_FALSE(ParseOperation(bad, &op)) << bad;
  }
  EXPECT_EQ(op, v1::KEY_OPERATION_SIGN);
  EXPECT_STREQ(OperationName(v1::KEY_OPERATION_UNSPECIFIED), "unknown");
}

TEST(KeydPolicyTest, KeyNames) {
  for (const std::string& good :
       {std::string("a"), std::string("0"), std::string("device-ca"),
        std::string("a.b_c-d"), std::string("9lives"), std::string(64, 'z')}) {
    EXPECT_TRUE(CheckKeyName(good).ok()) << good;
  }
  for (const std::string& bad :
       {std::string(), std::string(65, 'z'), std::string("A"),
        std::string("aB"), std::string("a/b"), std::string("a\0", 2),
        std::string("\0a", 2), std::string(".a"), std::string("-a"),
        std::string("_a"), std::string("a b"), std::string("a:b"),
        std::string("\xc3\xa9")}) {
    EXPECT_TRUE(IsError(CheckKeyName(bad), Code::kInvalidArgument,
                        {"1-64 characters of a-z 0-9 . _ -"}))
        << bad;
  }
}

TEST(KeydPolicyTest, GrantsMatchPatternsAndOperations) {
  v1::KeyPolicy policy;
  v1::KeyGrant* a = policy.add_grants();
  a->set_caller("svc/authd");
  a->add_operations(v1::KEY_OPERATION_SIGN);
  v1::KeyGrant* any = policy.add_grants();
  any->set_caller("svc/*");
  any->add_operations(v1::KEY_OPERATION_VERIFY);
  any->add_operations(v1::KEY_OPERATION_PUBLIC_KEY);
  absl::StatusOr<KeyGrants> grants =
      KeyGrants::Parse(policy, v1::KEY_ALGORITHM_ED25519, false);
  ASSERT_TRUE(grants.ok()) << grants.status();
  EXPECT_TRUE(grants->Allows("svc/authd", v1::KEY_OPERATION_SIGN));
  EXPECT_TRUE(grants->Allows("svc/authd", v1::KEY_OPERATION_VERIFY));
  EXPECT_FALSE(grants->Allows("svc/authd", v1::KEY_OPERATION_MANAGE));
  EXPECT_FALSE(grants->Allows("svc/cloudd", v1::KEY_OPERATION_SIGN));
  EXPECT_TRUE(grants->Allows("svc/cloudd", v1::KEY_OPERATION_PUBLIC_KEY));
  // "*" is exactly one segment.
  EXPECT_FALSE(grants->Allows("svc/cloudd/x", v1::KEY_OPERATION_VERIFY));
  EXPECT_FALSE(grants->Allows("svc", v1::KEY_OPERATION_VERIFY));
  EXPECT_FALSE(grants->Allows("svc/", v1::KEY_OPERATION_VERIFY));
  EXPECT_FALSE(grants->Allows("client/authd", v1::KEY_OPERATION_VERIFY));
  EXPECT_FALSE(grants->Allows("svc/authdx", v1::KEY_OPERATION_SIGN));
  EXPECT_TRUE(grants->Mentions("svc/cloudd"));
  EXPECT_FALSE(grants->Mentions("client/rustiqctl"));
  EXPECT_FALSE(grants->Mentions(""));

  // An empty policy grants nothing to anyone.
  absl::StatusOr<KeyGrants> none =
      KeyGrants::Parse(v1::KeyPolicy(), v1::KEY_ALGORITHM_ED25519, false);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->Allows("svc/authd", v1::KEY_OPERATION_SIGN));
  EXPECT_FALSE(none->Mentions("svc/authd"));
}

TEST(KeydPolicyTest, GrantsRefuseBadPatternsAndImpossibleOperations) {
  for (const char* pattern : {"", "*", "*/x", "svc/a*", "svc//a", "/svc/a",
                              "svc/a/", "svc/A", "svc/a b"}) {
    EXPECT_TRUE(
        IsError(KeyGrants::Parse(OneGrant(pattern, {v1::KEY_OPERATION_SIGN}),
                                 v1::KEY_ALGORITHM_EC_P256, false),
                Code::kInvalidArgument, {"grant 1: bad caller pattern"}))
        << pattern;
  }
  EXPECT_TRUE(IsError(
      KeyGrants::Parse(OneGrant("svc/a", {}), v1::KEY_ALGORITHM_EC_P256, false),
      Code::kInvalidArgument, {"grant 1 (svc/a) lists no operations"}));
  EXPECT_TRUE(IsError(
      KeyGrants::Parse(OneGrant("svc/a", {v1::KEY_OPERATION_SIGN}),
                       v1::KEY_ALGORITHM_EC_P256, /*public_only=*/true),
      Code::kInvalidArgument,
      {"operation sign is not possible", "verify, public-key, manage are"}));
  EXPECT_TRUE(
      IsError(KeyGrants::Parse(OneGrant("svc/a", {v1::KEY_OPERATION_DECRYPT}),
                               v1::KEY_ALGORITHM_EC_P256, false),
              Code::kInvalidArgument, {"operation decrypt is not possible"}));
  EXPECT_TRUE(KeyGrants::Parse(OneGrant("svc/a", {v1::KEY_OPERATION_DECRYPT}),
                               v1::KEY_ALGORITHM_RSA_3072, false)
                  .ok());
  EXPECT_TRUE(
      IsError(KeyGrants::Parse(OneGrant("svc/a", {v1::KEY_OPERATION_SIGN}),
                               v1::KEY_ALGORITHM_UNSPECIFIED, false),
              Code::kInvalidArgument, {"operation sign is not possible"}));
}

TEST(KeydPolicyTest, CreatorOnlyGrantsEveryPossibleOperation) {
  for (v1::KeyAlgorithm a :
       {v1::KEY_ALGORITHM_EC_P256, v1::KEY_ALGORITHM_ED25519,
        v1::KEY_ALGORITHM_RSA_3072, v1::KEY_ALGORITHM_AES_256}) {
    for (bool public_only : {false, true}) {
      if (public_only && a == v1::KEY_ALGORITHM_AES_256) continue;
      v1::KeyPolicy p = CreatorOnly("svc/owner", a, public_only);
      ASSERT_EQ(p.grants_size(), 1);
      EXPECT_EQ(p.grants(0).caller(), "svc/owner");
      EXPECT_EQ(OpsOf(p.grants(0)), OperationsFor(a, public_only));
      EXPECT_TRUE(KeyGrants::Parse(p, a, public_only).ok());
    }
  }
}

TEST(KeydPolicyTest, AlgorithmsConvert) {
  for (Algorithm a : {Algorithm::kEcP256, Algorithm::kEd25519,
                      Algorithm::kRsa3072, Algorithm::kAes256}) {
    Algorithm back = Algorithm::kAes256;
    EXPECT_TRUE(FromProto(ToProto(a), &back));
    EXPECT_EQ(back, a);
    Algorithm parsed = Algorithm::kAes256;
    EXPECT_TRUE(ParseAlgorithm(AlgorithmName(a), &parsed));
    EXPECT_EQ(parsed, a);
  }
  Algorithm out = Algorithm::kEd25519;
  EXPECT_FALSE(FromProto(v1::KEY_ALGORITHM_UNSPECIFIED, &out));
  EXPECT_FALSE(FromProto(static_cast<v1::KeyAlgorithm>(9), &out));
  EXPECT_FALSE(ParseAlgorithm("ec-p384", &out));
  EXPECT_FALSE(ParseAlgorithm("EC-P256", &out));
  EXPECT_EQ(out, Algorithm::kEd25519);
}

// ---------------------------------------------------------------------------
// keys.toml

TEST(KeydWellKnownKeysTest, TheCompiledFileParses) {
  absl::StatusOr<std::vector<WellKnownKey>> keys =
      ParseWellKnownKeys(CompiledWellKnownKeys(), "policies/keyd/keys.toml");
  ASSERT_TRUE(keys.ok()) << keys.status();
  std::vector<std::string> names;
  for (const WellKnownKey& k : *keys) names.push_back(k.name);
  EXPECT_THAT(names,
              ElementsAre("device-ca", "device-identity", "token-signing",
                          "event-checkpoint", "update-anchor"));
  const WellKnownKey& ca = (*keys)[0];
  EXPECT_EQ(ca.algorithm, v1::KEY_ALGORITHM_EC_P256);
  EXPECT_FALSE(ca.imported);
  ASSERT_EQ(ca.policy.grants_size(), 1);
  EXPECT_EQ(ca.policy.grants(0).caller(), "svc/supervisord");
  EXPECT_EQ(OpsOf(ca.policy.grants(0)), Ops{v1::KEY_OPERATION_PUBLIC_KEY});

  const WellKnownKey& identity = (*keys)[1];
  EXPECT_EQ(identity.algorithm, v1::KEY_ALGORITHM_EC_P256);
  ASSERT_EQ(identity.policy.grants_size(), 2);
  EXPECT_EQ(identity.policy.grants(0).caller(), "svc/cloudd");
  EXPECT_EQ(OpsOf(identity.policy.grants(0)),
            (Ops{v1::KEY_OPERATION_SIGN, v1::KEY_OPERATION_PUBLIC_KEY}));

  const WellKnownKey& tokens = (*keys)[2];
  EXPECT_EQ(tokens.algorithm, v1::KEY_ALGORITHM_ED25519);
  ASSERT_EQ(tokens.policy.grants_size(), 2);
  EXPECT_EQ(tokens.policy.grants(0).caller(), "svc/authd");
  EXPECT_EQ(tokens.policy.grants(1).caller(), "svc/*");
  EXPECT_EQ(OpsOf(tokens.policy.grants(1)),
            (Ops{v1::KEY_OPERATION_PUBLIC_KEY, v1::KEY_OPERATION_VERIFY}));

  const WellKnownKey& checkpoint = (*keys)[3];
  EXPECT_EQ(checkpoint.algorithm, v1::KEY_ALGORITHM_ED25519);
  ASSERT_EQ(checkpoint.policy.grants_size(), 3);
  EXPECT_EQ(checkpoint.policy.grants(2).caller(), "client/*");

  const WellKnownKey& anchor = (*keys)[4];
  EXPECT_EQ(anchor.algorithm, v1::KEY_ALGORITHM_EC_P256);
  EXPECT_TRUE(anchor.imported);
  ASSERT_EQ(anchor.policy.grants_size(), 1);
  EXPECT_EQ(anchor.policy.grants(0).caller(), "svc/updated");
  EXPECT_EQ(OpsOf(anchor.policy.grants(0)),
            (Ops{v1::KEY_OPERATION_VERIFY, v1::KEY_OPERATION_PUBLIC_KEY}));
  for (const WellKnownKey& k : *keys) {
    EXPECT_TRUE(KeyGrants::Parse(k.policy, k.algorithm, k.imported).ok())
        << k.name;
  }
}

TEST(KeydWellKnownKeysTest, AnEmptyFileDeclaresNothing) {
  absl::StatusOr<std::vector<WellKnownKey>> keys =
      ParseWellKnownKeys("# nothing yet\n", kOrigin);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_TRUE(keys->empty());
}

TEST(KeydWellKnownKeysTest, AGoodFileWithEveryField) {
  absl::StatusOr<std::vector<WellKnownKey>> keys = ParseWellKnownKeys(
      R"([[key]]
name = "vault"
algorithm = "aes-256"
why = "sealing"
grant = [ { caller = "svc/a", operations = ["seal", "unseal"] } ]

[[key]]
name = "anchor"
algorithm = "rsa-3072"
imported = true
grant = [
  { caller = "svc/b", operations = ["verify"] },
  { operations = ["public-key"], caller = "client/*" },
]
)",
      kOrigin);
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].name, "vault");
  EXPECT_EQ((*keys)[0].algorithm, v1::KEY_ALGORITHM_AES_256);
  EXPECT_FALSE((*keys)[0].imported);
  EXPECT_EQ(OpsOf((*keys)[0].policy.grants(0)),
            (Ops{v1::KEY_OPERATION_SEAL, v1::KEY_OPERATION_UNSEAL}));
  EXPECT_EQ((*keys)[1].algorithm, v1::KEY_ALGORITHM_RSA_3072);
  EXPECT_TRUE((*keys)[1].imported);
  ASSERT_EQ((*keys)[1].policy.grants_size(), 2);
  EXPECT_EQ((*keys)[1].policy.grants(1).caller(), "client/*");
}

struct BadToml {
  const char* what;
  const char* text;
  std::vector<absl::string_view> says;
};

TEST(KeydWellKnownKeysTest, DefectsAreRefusedNamingTheLine) {
  const BadToml cases[] = {
      BadToml{"unknown top-level table",
              "[[key]]\nname = \"a\"\nalgorithm = \"ed25519\"\n\n"
              "[keys]\nx = 1\n",
              {"keys.toml:5: unknown key 'keys'", "only [[key]] tables"}},
      BadToml{"unknown top-level value",
              "version = 2\n[[key]]\nname = \"a\"\nalgorithm = \"ed25519\"\n",
              {"keys.toml:1: unknown key 'version'"}},
      BadToml{"a single [key] table",
              "# one\n[key]\nname = \"a\"\nalgorithm = \"ed25519\"\n",
              {"keys.toml:2:", "[[key]]"}},
      BadToml{"key as a string",
              "\n\nkey = \"device-ca\"\n",
              {"keys.toml:3:", "[[key]]"}},
      BadToml{"key as an array of strings",
              "key = [\"device-ca\"]\n",
              {"keys.toml:1:", "[[key]] tables"}},
      BadToml{"unknown field",
              "[[key]]\nname = \"a\"\nalgorithm = \"ed25519\"\n"
              "colour = \"red\"\n",
              {"keys.toml:4: unknown or mistyped key 'colour'"}},
      BadToml{"mistyped field",
              "[[key]]\nname = \"a\"\nalgorithm = \"ed25519\"\n"
              "imported = \"yes\"\n",
              {"keys.toml:4: unknown or mistyped key 'imported'"}},
      BadToml{"duplicate name",
              "[[key]]\nname = \"a\"\nalgorithm = \"ed25519\"\n\n"
              "[[key]]\nname = \"a\"\nalgorithm = \"ec-p256\"\n",
              {"keys.toml:5:", "key a is declared twice"}},
      BadToml{"bad algorithm",
              "[[key]]\nname = \"a\"\nalgorithm = \"ed25519\"\n\n"
              "[[key]]\nname = \"b\"\nalgorithm = \"ec-p384\"\n",
              {"keys.toml:5:",
               "key b: algorithm must be ec-p256, ed25519, "
               "rsa-3072 or aes-256"}},
      BadToml{"missing algorithm",
              "[[key]]\nname = \"a\"\n",
              {"keys.toml:1:", "algorithm must be"}},
      BadToml{"missing name",
              "[[key]]\nalgorithm = \"ed25519\"\n",
              {"keys.toml:1:", "1-64 characters"}},
      BadToml{"bad name",
              "[[key]]\nname = \"Device\"\nalgorithm = \"ed25519\"\n",
              {"keys.toml:1:", "1-64 characters"}},
      BadToml{"unknown operation",
              "[[key]]\nname = \"a\"\nalgorithm = \"ed25519\"\ngrant = [\n"
              "  { caller = \"svc/a\", operations = [\"sign\"] },\n"
              "  { caller = \"svc/b\", operations = [\n    \"launch\"] },\n]\n",
              {"keys.toml:7:", "unknown operation"}},
      BadToml{"operation as a number",
              "[[key]]\nname = \"a\"\nalgorithm = \"ed25519\"\n"
              "grant = [ { caller = \"svc/a\", operations = [1] } ]\n",
              {"keys.toml:4:", "unknown operation"}},
      BadToml{"operation impossible for the algorithm",
              "\n[[key]]\nname = \"a\"\nalgorithm = \"ec-p256\"\n"
              "grant = [ { caller = \"svc/a\", operations = [\"seal\"] } ]\n",
              {"keys.toml:2:", "key a:", "operation seal is not possible"}},
      BadToml{
          "sign on an imported key",
          "[[key]]\nname = \"a\"\nalgorithm = \"ec-p256\"\nimported = true\n"
          "grant = [ { caller = \"svc/a\", operations = [\"sign\"] } ]\n",
          {"keys.toml:1:", "operation sign is not possible"}},
      BadToml{
          "an imported aes-256 key",
          "[[key]]\nname = \"a\"\nalgorithm = \"aes-256\"\nimported = true\n",
          {"keys.toml:1:", "key a:", "imported"}},
      BadToml{"bad caller pattern",
              "[[key]]\nname = \"a\"\nalgorithm = \"ed25519\"\n"
              "grant = [ { caller = \"svc/a*\", operations = [\"sign\"] } ]\n",
              {"keys.toml:1:", "bad caller pattern"}},
      BadToml{"grant with an extra field",
              "[[key]]\nname = \"a\"\nalgorithm = \"ed25519\"\ngrant = [\n"
              "  { caller = \"svc/a\", operations = [\"sign\"], why = \"x\" "
              "},\n]\n",
              {"keys.toml:5:", "a grant is { caller"}},
      BadToml{"grant without caller",
              "[[key]]\nname = \"a\"\nalgorithm = \"ed25519\"\n"
              "grant = [ { operations = [\"sign\"] } ]\n",
              {"keys.toml:4:", "a grant is"}},
      BadToml{"grant that is not a table",
              "[[key]]\nname = \"a\"\nalgorithm = \"ed25519\"\n"
              "grant = [ \"svc/a\" ]\n",
              {"keys.toml:4:", "a grant is"}},
      BadToml{"grant with no operations",
              "[[key]]\nname = \"a\"\nalgorithm = \"ed25519\"\n"
              "grant = [ { caller = \"svc/a\", operations = [] } ]\n",
              {"keys.toml:1:", "lists no operations"}},
      BadToml{"syntax error",
              "[[key]]\nname = \"a\"\nalgorithm = ed25519\n",
              {"keys.toml:3:"}}};
  for (const BadToml& c : cases) {
    SCOPED_TRACE(c.what);
    absl::StatusOr<std::vector<WellKnownKey>> keys =
        ParseWellKnownKeys(c.text, kOrigin);
    EXPECT_TRUE(IsError(keys, Code::kInvalidArgument, c.says));
  }
}

// ---------------------------------------------------------------------------
// The sealed-blob format

TEST(KeydSealFormatTest, AadBindsEveryFieldUnambiguously) {
  std::string aad = SealAad("k", 2, "svc/a", "c");
  EXPECT_EQ(aad, std::string("rustiq-seal-v1"
                             "\0\0\0\x01k"
                             "\0\0\0\x02"
                             "\0\0\0\x05svc/a"
                             "\0\0\0\x01"
                             "c",
                             14 + 5 + 4 + 9 + 5));
  // Moving bytes between fields changes the AAD.
  EXPECT_NE(SealAad("ab", 1, "c", ""), SealAad("a", 1, "bc", ""));
  EXPECT_NE(SealAad("a", 1, "b", "c"), SealAad("a", 1, "bc", ""));
  EXPECT_NE(SealAad("a", 1, "b", ""), SealAad("a", 2, "b", ""));
  EXPECT_NE(SealAad("a", 1, "b", ""),
            SealAad("a", 1, "b", std::string(1, '\0')));
}

TEST(KeydSealFormatTest, BlobsRoundTrip) {
  std::string sealed(kGcmNonceBytes + 3 + kGcmTagBytes, 's');
  std::string blob = EncodeSealedBlob(0x01020304, sealed);
  EXPECT_EQ(blob.substr(0, 5), std::string("\x01\x01\x02\x03\x04", 5));
  EXPECT_EQ(blob.substr(5), sealed);
  absl::StatusOr<SealedBlob> decoded = DecodeSealedBlob(blob);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->version, 0x01020304u);
  EXPECT_EQ(decoded->sealed, sealed);
  // The smallest blob: an empty plaintext.
  std::string smallest = EncodeSealedBlob(
      0xffffffffu, std::string(kGcmNonceBytes + kGcmTagBytes, 't'));
  decoded = DecodeSealedBlob(smallest);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->version, 0xffffffffu);

  EXPECT_TRUE(IsError(DecodeSealedBlob(smallest.substr(0, smallest.size() - 1)),
                      Code::kInvalidArgument,
                      {"not a sealed blob made by keyd"}));
  EXPECT_TRUE(IsError(DecodeSealedBlob(""), Code::kInvalidArgument));
  std::string other_format = blob;
  other_format[0] = '\x02';
  EXPECT_TRUE(IsError(DecodeSealedBlob(other_format), Code::kInvalidArgument,
                      {"unknown format"}));
}

// ---------------------------------------------------------------------------
// Public keys

TEST(KeydPublicKeysTest, ParsesTheSupportedKindsOnly) {
  absl::StatusOr<pki::EvpPkeyPtr> ec = pki::GenerateP256Key();
  ASSERT_TRUE(ec.ok());
  pki::EvpPkeyPtr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ASSERT_NE(ed, nullptr);
  absl::StatusOr<ParsedPublicKey> parsed =
      ParsePublicKeyPem(test::PublicPemOf(ec->get()));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->algorithm, Algorithm::kEcP256);
  EXPECT_EQ(parsed->der, test::PublicDerOf(ec->get()));
  parsed = ParsePublicKeyPem(test::PublicPemOf(ed.get()));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->algorithm, Algorithm::kEd25519);
  EXPECT_EQ(parsed->der, test::PublicDerOf(ed.get()));
  // PEM and DER convert both ways.
  absl::StatusOr<std::string> pem = PublicKeyPem(parsed->der);
  ASSERT_TRUE(pem.ok());
  EXPECT_EQ(*pem, test::PublicPemOf(ed.get()));

  pki::EvpPkeyPtr x25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  pki::EvpPkeyPtr p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  pki::EvpPkeyPtr rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  for (EVP_PKEY* k : {x25519.get(), p384.get(), rsa.get()}) {
    ASSERT_NE(k, nullptr);
    EXPECT_TRUE(IsError(ParsePublicKeyPem(test::PublicPemOf(k)),
                        Code::kInvalidArgument,
                        {"must be EC P-256, Ed25519 or RSA-3072"}));
  }
  EXPECT_TRUE(IsError(ParsePublicKeyPem("garbage"), Code::kInvalidArgument,
                      {"not a PEM public key"}));
  EXPECT_TRUE(IsError(PublicKeyPem("not der"), Code::kDataLoss,
                      {"stored public key does not parse"}));
}

TEST(KeydPublicKeysTest, VerifiesSignaturesMadeByOpenSsl) {
  absl::StatusOr<pki::EvpPkeyPtr> ec = pki::GenerateP256Key();
  ASSERT_TRUE(ec.ok());
  pki::EvpPkeyPtr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ASSERT_NE(ed, nullptr);
  const std::string m = "message";
  std::string ec_sig = test::OpenSslSign(ec->get(), m);
  std::string ed_sig = test::OpenSslSign(ed.get(), m);
  std::string ec_der = test::PublicDerOf(ec->get());
  std::string ed_der = test::PublicDerOf(ed.get());

  EXPECT_STREQ(
      Verdict(VerifySignature(ec_der, SignatureScheme::kEcdsaP256Sha256,
                              test::Sha256(m), ec_sig)),
      "valid");
  EXPECT_STREQ(
      Verdict(VerifySignature(ec_der, SignatureScheme::kEcdsaP256Sha256,
                              test::Sha256(m + "x"), ec_sig)),
      "invalid");
  EXPECT_STREQ(
      Verdict(VerifySignature(ed_der, SignatureScheme::kEd25519, m, ed_sig)),
      "valid");
  EXPECT_STREQ(Verdict(VerifySignature(ed_der, SignatureScheme::kEd25519,
                                       m + "x", ed_sig)),
               "invalid");
  // The other key's signature, or none.
  EXPECT_STREQ(
      Verdict(VerifySignature(ed_der, SignatureScheme::kEd25519, m, "")),
      "invalid");
  EXPECT_STREQ(
      Verdict(VerifySignature(ec_der, SignatureScheme::kEcdsaP256Sha256,
                              test::Sha256(m), ed_sig)),
      "invalid");
  EXPECT_TRUE(
      IsError(VerifySignature("bad", SignatureScheme::kEd25519, m, ed_sig),
              Code::kDataLoss));
}

}  // namespace
}  // namespace rustiq::keyd
