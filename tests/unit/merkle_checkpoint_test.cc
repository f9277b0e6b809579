// Tests of common/merkle's C2SP checkpoints (c2sp.org/tlog-checkpoint) and
// signed notes (c2sp.org/signed-note). The official vectors are those of Go's
// reference implementation, golang.org/x/mod/sumdb/note (note_test.go): the
// "PeterNeumann" and "EnochRoot" keys, their key IDs and signed notes; and
// the example checkpoint of the tlog-checkpoint specification.
#include <openssl/evp.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/merkle/checkpoint.h"
#include "common/merkle/compact_range.h"
#include "common/merkle/hash.h"
#include "common/merkle/note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rustiq::merkle {
namespace {

using ::testing::HasSubstr;

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// From golang.org/x/mod/sumdb/note/note_test.go.
constexpr absl::string_view kPeterVkey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr absl::string_view kPeterSkeyBase64 =  // after "PRIVATE+KEY+...+"
    "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr absl::string_view kEnochVkey =
    "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
constexpr absl::string_view kGoText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr absl::string_view kPeterSig =
    "\xE2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngot"
    "pRZb6KE6RyyBwJnAM=\n";
constexpr absl::string_view kEnochSig =
    "\xE2\x80\x94 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwn"
    "WLox33WWd1RvMc+QQ=\n";

// From c2sp.org/tlog-checkpoint (its public key is not published).
constexpr absl::string_view kSpecCheckpoint =
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\xE2\x80\x94 example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nT"
    "o+zyWE+xeMcTOAYQ8=\n";

std::string GoNote() { return absl::StrCat(kGoText, "\n", kPeterSig); }

PkeyPtr PublicKeyOf(const Ed25519PublicKey& raw) {
  return PkeyPtr(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                             raw.data(), raw.size()));
}

PkeyPtr PublicKeyFromVkey(absl::string_view vkey) {
  absl::StatusOr<Ed25519VerifierKey> key = ParseEd25519VerifierKey(vkey);
  EXPECT_TRUE(key.ok()) << key.status();
  if (!key.ok()) return nullptr;
  return PublicKeyOf(key->public_key);
}

PkeyPtr PeterPrivateKey() {
  absl::StatusOr<std::string> typed_seed = Base64DecodeStrict(kPeterSkeyBase64);
  EXPECT_TRUE(typed_seed.ok());
  EXPECT_EQ(typed_seed->size(), 33u);
  EXPECT_EQ((*typed_seed)[0], '\x01');  // the Ed25519 signature type
  return PkeyPtr(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(typed_seed->data() + 1), 32));
}

PkeyPtr NewEd25519Key() {
  return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
}

// What keyd does for eventd: a raw Ed25519 signature over the message.
std::string Sign(EVP_PKEY* key, absl::string_view message) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  EXPECT_EQ(EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr,
                                  key, nullptr),
            1);
  std::string signature(64, '\0');
  size_t length = signature.size();
  EXPECT_EQ(EVP_DigestSign(
                ctx.get(), reinterpret_cast<unsigned char*>(signature.data()),
                &length, reinterpret_cast<const unsigned char*>(message.data()),
                message.size()),
            1);
  signature.resize(length);
  return signature;
}

Hash SomeRoot() {
  CompactRange range;
  for (int i = 0; i < 13; ++i) range.Append(LeafHash(absl::StrCat("e", i)));
  return range.Root();
}

// ---------------------------------------------------------------------------
// Checkpoint bodies.

TEST(MerkleCheckpoint, BodyIsOriginSizeAndBase64Root) {
  const Hash root = SomeRoot();
  EXPECT_EQ(CheckpointBody("example.com/log42", 13, root),
            absl::StrCat("example.com/log42\n13\n", Base64Encode(AsBytes(root)),
                         "\n"));
  EXPECT_EQ(CheckpointBody("o", 0, EmptyRoot()),
            "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
}

TEST(MerkleCheckpoint, ParsesTheSpecificationExample) {
  absl::StatusOr<SignedNote> note = ParseSignedNote(kSpecCheckpoint);
  ASSERT_TRUE(note.ok()) << note.status();
  ASSERT_EQ(note->signatures.size(), 1u);
  EXPECT_EQ(note->signatures[0].key_name, "example.com/behind-the-sofa");
  EXPECT_EQ(note->signatures[0].signature.size(), 64u);
  EXPECT_EQ(FormatSignedNote(*note), kSpecCheckpoint);
  absl::StatusOr<Checkpoint> checkpoint = ParseCheckpointBody(note->text);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(checkpoint->origin, "example.com/behind-the-sofa");
  EXPECT_EQ(checkpoint->size, 20852163u);
  EXPECT_EQ(Base64Encode(AsBytes(checkpoint->root)),
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
  EXPECT_TRUE(checkpoint->extensions.empty());
  EXPECT_EQ(CheckpointBody(*checkpoint), note->text);
}

TEST(MerkleCheckpoint, RoundTripsEverySizeShapeAndExtensionLines) {
  const Hash root = SomeRoot();
  for (uint64_t size : {uint64_t{0}, uint64_t{1}, uint64_t{10},
                        std::numeric_limits<uint64_t>::max()}) {
    const std::string body = CheckpointBody("example.com/log", size, root);
    absl::StatusOr<Checkpoint> parsed = ParseCheckpointBody(body);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, (Checkpoint{"example.com/log", size, root, {}}));
  }
  const Checkpoint with_extensions{
      "origin with spaces \xC3\xA9", 7, root, {"ext one", "\xE2\x80\x94 x"}};
  const std::string body = CheckpointBody(with_extensions);
  EXPECT_THAT(body, HasSubstr("\next one\n\xE2\x80\x94 x\n"));
  absl::StatusOr<Checkpoint> parsed = ParseCheckpointBody(body);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, with_extensions);
}

TEST(MerkleCheckpoint, RefusesMalformedBodiesSayingWhy) {
  const std::string root = Base64Encode(AsBytes(SomeRoot()));
  const std::string root_31 = Base64Encode(std::string(31, 'x'));
  const std::string root_33 = Base64Encode(std::string(33, 'x'));
  // 32 zero bytes are 43 'A's and '='; a 'B' last sets a spare bit.
  const std::string non_canonical = std::string(42, 'A') + "B=";
  ASSERT_TRUE(Base64DecodeStrict(std::string(43, 'A') + "=").ok());
  const std::string root_with_plus = Base64Encode(AsBytes(EmptyRoot()));
  ASSERT_NE(root_with_plus.find('+'), std::string::npos);
  struct Case {
    std::string body;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"", "does not end with a newline"},
      {absl::StrCat("o\n1\n", root), "does not end with a newline"},
      {"o\n1\n", "has 2 lines; it needs at least 3"},
      {"o\n", "has 1 line; it needs at least 3"},
      {absl::StrCat("\n1\n", root, "\n"), "origin (line 1) is empty"},
      {absl::StrCat("o\n01\n", root, "\n"), "\"01\" has a leading zero"},
      {absl::StrCat("o\n00\n", root, "\n"), "\"00\" has a leading zero"},
      {absl::StrCat("o\n+1\n", root, "\n"), "\"+1\" is not a decimal number"},
      {absl::StrCat("o\n-1\n", root, "\n"), "\"-1\" is not a decimal number"},
      {absl::StrCat("o\n 1\n", root, "\n"), "\" 1\" is not a decimal number"},
      {absl::StrCat("o\n1 \n", root, "\n"), "\"1 \" is not a decimal number"},
      {absl::StrCat("o\n0x1\n", root, "\n"), "is not a decimal number"},
      {absl::StrCat("o\n1e3\n", root, "\n"), "is not a decimal number"},
      {absl::StrCat("o\n\n", root, "\n"), "tree size (line 2) \"\" is empty"},
      {absl::StrCat("o\n18446744073709551616\n", root, "\n"),
       "does not fit in 64 bits"},
      {absl::StrCat("o\n99999999999999999999\n", root, "\n"),
       "does not fit in 64 bits"},
      {absl::StrCat("o\n1\n", root_31, "\n"), "decodes to 31 bytes"},
      {absl::StrCat("o\n1\n", root_33, "\n"), "decodes to 33 bytes"},
      {absl::StrCat("o\n1\n", root.substr(0, 43), "\n"), "not a multiple of 4"},
      {absl::StrCat("o\n1\n", non_canonical, "\n"), "not canonical base64"},
      {absl::StrCat("o\n1\n", root, " \n"), "not a multiple of 4"},
      {absl::StrCat("o\n1\n", ToHex(SomeRoot()), "\n"), "decodes to 48 bytes"},
      {absl::StrCat("o\n1\n", absl::StrReplaceAll(root_with_plus, {{"+", "-"}}),
                    "\n"),
       "root hash (line 3)"},
      {"o\n1\n\n", "root hash (line 3) \"\" decodes to 0 bytes"},
      {absl::StrCat("o\n1\n", root, "\n\n"), "extension line 4 is empty"},
      {absl::StrCat("o\n1\n", root, "\next\n\n"), "extension line 5 is empty"},
      {absl::StrCat("o\r\n1\r\n", root, "\r\n"), "control character"},
      {absl::StrCat("o\t\n1\n", root, "\n"), "control character \"\\t\""},
      {absl::StrCat("o\xff\n1\n", root, "\n"), "not valid UTF-8 at byte 1"},
      {absl::StrCat("o\xC0\xAF\n1\n", root, "\n"), "not valid UTF-8"},
      {absl::StrCat("o\xED\xA0\x80\n1\n", root, "\n"), "not valid UTF-8"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Checkpoint> parsed = ParseCheckpointBody(c.body);
    ASSERT_FALSE(parsed.ok()) << c.body;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(c.message))
        << c.body;
  }
  // The largest size is fine.
  EXPECT_TRUE(
      ParseCheckpointBody(absl::StrCat("o\n18446744073709551615\n", root, "\n"))
          .ok());
}

TEST(MerkleCheckpoint, ValidatesOrigins) {
  EXPECT_TRUE(ValidateOrigin("example.com/log42").ok());
  EXPECT_TRUE(ValidateOrigin("dev-1 event log \xE2\x9C\x93").ok());
  EXPECT_THAT(std::string(ValidateOrigin("").message()),
              HasSubstr("origin is empty"));
  EXPECT_THAT(std::string(ValidateOrigin("a\nb").message()),
              HasSubstr("has a newline"));
  EXPECT_THAT(std::string(ValidateOrigin("a\x01").message()),
              HasSubstr("control character"));
  EXPECT_THAT(std::string(ValidateOrigin("a\xff").message()),
              HasSubstr("not valid UTF-8"));
}

// ---------------------------------------------------------------------------
// Key IDs and verifier keys.

TEST(MerkleNote, KeyIdsMatchTheGoReferenceVectors) {
  for (const auto& [vkey, name, id] :
       std::vector<std::tuple<absl::string_view, const char*, uint32_t>>{
           {kPeterVkey, "PeterNeumann", 0xc74f20a3},
           {kEnochVkey, "EnochRoot", 0xaf0cfe78}}) {
    absl::StatusOr<Ed25519VerifierKey> key = ParseEd25519VerifierKey(vkey);
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(key->key_name, name);
    EXPECT_EQ(key->key_id, id);
    // Derived from first principles, not just read back from the vkey.
    EXPECT_EQ(Ed25519NoteKeyId(name, key->public_key), id);
    EXPECT_EQ(FormatEd25519VerifierKey(name, key->public_key), vkey);
    PkeyPtr pkey = PublicKeyOf(key->public_key);
    ASSERT_NE(pkey, nullptr);
    absl::StatusOr<uint32_t> from_pkey = Ed25519NoteKeyIdOf(name, pkey.get());
    ASSERT_TRUE(from_pkey.ok()) << from_pkey.status();
    EXPECT_EQ(*from_pkey, id);
  }
  // The private key of the vector has the same key ID.
  PkeyPtr peter = PeterPrivateKey();
  ASSERT_NE(peter, nullptr);
  EXPECT_EQ(*Ed25519NoteKeyIdOf("PeterNeumann", peter.get()), 0xc74f20a3u);
  // The key ID depends on the name.
  const Ed25519PublicKey public_key =
      ParseEd25519VerifierKey(kPeterVkey)->public_key;
  EXPECT_NE(Ed25519NoteKeyId("PeterNeumanN", public_key), 0xc74f20a3u);
}

TEST(MerkleNote, RefusesMalformedVerifierKeys) {
  struct Case {
    std::string vkey;
    const char* message;
  };
  const std::string peter(kPeterVkey);
  for (const Case& c : std::vector<Case>{
           {"PeterNeumann", "is malformed (no '+' after the name)"},
           {"+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "key name is empty"},
           {"PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
            "LDE4izWy10TW",
            "says key ID c74f20a4 but its name and public key give c74f20a3"},
           {"PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
            "LDE4izWy10TW",
            "not 8 lowercase hex digits"},
           {"PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "no 8 hex digits and '+' after the name"},
           // Go's "unknown algorithm" and "wrong length" manglings.
           {"PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
            "LDE4izWy10TW",
            "not an Ed25519 key"},
           {"PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
            "LDE4izWy10TWBADKEY==",
            "not canonical base64"},
           {peter.substr(0, peter.size() - 1), "not a multiple of 4"},
           {"Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
            "LDE4izWy10TW",
            "has a space, '+' or control character"},
       }) {
    absl::StatusOr<Ed25519VerifierKey> key = ParseEd25519VerifierKey(c.vkey);
    ASSERT_FALSE(key.ok()) << c.vkey;
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(key.status().message()), HasSubstr(c.message))
        << c.vkey;
  }
}

// ---------------------------------------------------------------------------
// Signed notes.

// Ed25519 is deterministic, so signing the Go vector's text with its key must
// give its note byte for byte.
TEST(MerkleNote, SignsExactlyLikeTheGoReference) {
  PkeyPtr peter = PeterPrivateKey();
  ASSERT_NE(peter, nullptr);
  const std::string signature = Sign(peter.get(), kGoText);
  EXPECT_EQ(FormatSignedNote(kGoText, "PeterNeumann", 0xc74f20a3, signature),
            GoNote());
}

TEST(MerkleNote, VerifiesTheGoReferenceNotes) {
  PkeyPtr peter = PublicKeyFromVkey(kPeterVkey);
  PkeyPtr enoch = PublicKeyFromVkey(kEnochVkey);
  const std::string both = absl::StrCat(kGoText, "\n", kPeterSig, kEnochSig);
  absl::StatusOr<SignedNote> note = ParseSignedNote(both);
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_EQ(note->text, kGoText);
  ASSERT_EQ(note->signatures.size(), 2u);
  EXPECT_EQ(note->signatures[0].key_name, "PeterNeumann");
  EXPECT_EQ(note->signatures[0].key_id, 0xc74f20a3u);
  EXPECT_EQ(note->signatures[1].key_name, "EnochRoot");
  EXPECT_EQ(note->signatures[1].key_id, 0xaf0cfe78u);
  EXPECT_EQ(FormatSignedNote(*note), both);
  // Each key finds its own signature and ignores the other.
  absl::Status s = VerifySignedNote(*note, "PeterNeumann", peter.get());
  EXPECT_TRUE(s.ok()) << s;
  s = VerifySignedNote(*note, "EnochRoot", enoch.get());
  EXPECT_TRUE(s.ok()) << s;
}

TEST(MerkleNote, RefusesTamperedNotesAndOtherKeys) {
  PkeyPtr peter = PublicKeyFromVkey(kPeterVkey);
  PkeyPtr enoch = PublicKeyFromVkey(kEnochVkey);

  // The text changed by one letter.
  absl::StatusOr<SignedNote> note = ParseSignedNote(
      absl::StrReplaceAll(GoNote(), {{"cryptography", "cryptographY"}}));
  ASSERT_TRUE(note.ok());
  absl::Status s = VerifySignedNote(*note, "PeterNeumann", peter.get());
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("signature by key \"PeterNeumann\" (key ID c74f20a3) "
                        "does not verify"));

  // Every byte of the signature matters.
  note = ParseSignedNote(GoNote());
  ASSERT_TRUE(note.ok());
  for (size_t i = 0; i < 64; ++i) {
    SignedNote spoiled = *note;
    spoiled.signatures[0].signature[i] ^= 0x10;
    EXPECT_EQ(VerifySignedNote(spoiled, "PeterNeumann", peter.get()).code(),
              absl::StatusCode::kDataLoss)
        << "byte " << i;
  }
  // So does the blank line: it is not part of the signed text.
  SignedNote with_blank = *note;
  with_blank.text += "\n";
  EXPECT_FALSE(VerifySignedNote(with_blank, "PeterNeumann", peter.get()).ok());

  // A signature of the wrong length by the right key.
  SignedNote truncated = *note;
  truncated.signatures[0].signature.resize(63);
  s = VerifySignedNote(truncated, "PeterNeumann", peter.get());
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("is 63 bytes; an Ed25519 signature is 64"));

  // Another key: not signed by it (its key ID differs).
  s = VerifySignedNote(*note, "EnochRoot", enoch.get());
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("no signature by key \"EnochRoot\" (key ID af0cfe78); "
                        "it is signed by key \"PeterNeumann\" (key ID "
                        "c74f20a3)"));
  PkeyPtr impostor = NewEd25519Key();
  EXPECT_EQ(VerifySignedNote(*note, "PeterNeumann", impostor.get()).code(),
            absl::StatusCode::kNotFound);
  // The right key under another name.
  EXPECT_EQ(VerifySignedNote(*note, "PeterNeumann2", peter.get()).code(),
            absl::StatusCode::kNotFound);

  // A valid signature does not excuse a bad one by the same key.
  SignedNote twice = *note;
  twice.signatures.push_back(note->signatures[0]);
  twice.signatures.back().signature[0] ^= 1;
  EXPECT_EQ(VerifySignedNote(twice, "PeterNeumann", peter.get()).code(),
            absl::StatusCode::kDataLoss);
  // But a bad signature by an unknown key is ignored.
  SignedNote with_unknown = *note;
  with_unknown.signatures.insert(
      with_unknown.signatures.begin(),
      NoteSignature{"PeterNeumann", 0x12345678, std::string(64, 'x')});
  EXPECT_TRUE(VerifySignedNote(with_unknown, "PeterNeumann", peter.get()).ok());

  // Not an Ed25519 key, or none.
  PkeyPtr ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  s = VerifySignedNote(*note, "PeterNeumann", ec.get());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("is a EC key"));
  EXPECT_EQ(VerifySignedNote(*note, "PeterNeumann", nullptr).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MerkleNote, SignedCheckpointRoundTripsWithAFreshKey) {
  PkeyPtr key = NewEd25519Key();
  ASSERT_NE(key, nullptr);
  const std::string origin = "dev-1.rustiq.example/events";
  absl::StatusOr<uint32_t> key_id = Ed25519NoteKeyIdOf(origin, key.get());
  ASSERT_TRUE(key_id.ok()) << key_id.status();
  const Hash root = SomeRoot();
  const std::string body = CheckpointBody(origin, 13, root);
  const std::string signed_note =
      FormatSignedNote(body, origin, *key_id, Sign(key.get(), body));
  EXPECT_THAT(signed_note, testing::StartsWith(absl::StrCat(
                               body, "\n\xE2\x80\x94 ", origin, " ")));

  absl::StatusOr<Checkpoint> opened =
      OpenSignedCheckpoint(signed_note, origin, key.get());
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, (Checkpoint{origin, 13, root, {}}));

  absl::StatusOr<SignedNote> parsed = ParseSignedNote(signed_note);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->text, body);
  EXPECT_EQ(FormatSignedNote(*parsed), signed_note);

  // A tampered size or root, and another key, are refused.
  const std::string bigger =
      absl::StrReplaceAll(signed_note, {{"\n13\n", "\n14\n"}});
  EXPECT_EQ(OpenSignedCheckpoint(bigger, origin, key.get()).status().code(),
            absl::StatusCode::kDataLoss);
  std::string other_root = signed_note;
  other_root[origin.size() + 4] ^= 1;  // a character of the base64 root
  EXPECT_FALSE(OpenSignedCheckpoint(other_root, origin, key.get()).ok());
  PkeyPtr other = NewEd25519Key();
  EXPECT_EQ(
      OpenSignedCheckpoint(signed_note, origin, other.get()).status().code(),
      absl::StatusCode::kNotFound);

  // A second signer (a witness, say) does not disturb the first.
  PkeyPtr witness = NewEd25519Key();
  SignedNote cosigned = *parsed;
  cosigned.signatures.push_back(NoteSignature{
      "witness.example", *Ed25519NoteKeyIdOf("witness.example", witness.get()),
      Sign(witness.get(), body)});
  const std::string cosigned_text = FormatSignedNote(cosigned);
  EXPECT_TRUE(OpenSignedCheckpoint(cosigned_text, origin, key.get()).ok());
  EXPECT_TRUE(
      OpenSignedCheckpoint(cosigned_text, "witness.example", witness.get())
          .ok());

  // A note whose signed text is not a checkpoint.
  const std::string not_checkpoint =
      FormatSignedNote("hello\n", origin, *key_id, Sign(key.get(), "hello\n"));
  absl::Status s =
      OpenSignedCheckpoint(not_checkpoint, origin, key.get()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("checkpoint body has 1 line"));
}

TEST(MerkleNote, TextMayContainBlankLines) {
  PkeyPtr key = NewEd25519Key();
  const std::string text = "first\n\nthird\n\n\nsixth\n";
  const uint32_t key_id = *Ed25519NoteKeyIdOf("k", key.get());
  const std::string note =
      FormatSignedNote(text, "k", key_id, Sign(key.get(), text));
  absl::StatusOr<SignedNote> parsed = ParseSignedNote(note);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->text, text);
  EXPECT_TRUE(VerifySignedNote(*parsed, "k", key.get()).ok());
}

TEST(MerkleNote, RefusesMalformedNotesSayingWhy) {
  const std::string text(kGoText);
  const std::string peter_sig(kPeterSig);
  const std::string sig_b64 = peter_sig.substr(peter_sig.find("x08go"));
  struct Case {
    std::string note;
    const char* message;
  };
  std::vector<Case> cases = {
      // Go's own malformed notes (note_test.go, TestOpen).
      {text, "no blank line between its text and its signatures"},
      {text + "\n", "no signature lines after its last blank line"},
      {text + "\n" + peter_sig.substr(0, peter_sig.size() - 1),
       "does not end with a newline"},
      {"\x01" + text + "\n" + peter_sig, "control character \"\\x01\""},
      {"\xff" + text + "\n" + peter_sig, "not valid UTF-8 at byte 0"},
      {text + "\n" + "\xE2\x80\x94 Bad Name " +
           sig_b64.substr(0, sig_b64.size() - 1),
       "does not end with a newline"},
      {text + "\n" + "\xE2\x80\x94 Bad Name " + sig_b64,
       "signed note line 4: signature of \"Bad\" is not base64"},
      {text + "\n" + peter_sig + "Unexpected line.\n",
       "line 5 \"Unexpected line.\" is not a signature line"},
      // More.
      {text + "\n-- PeterNeumann " + sig_b64, "is not a signature line"},
      {text + "\n\xE2\x80\x94PeterNeumann " + sig_b64,
       "is not a signature line"},
      {text + "\n\xE2\x80\x94  " + sig_b64, "note key name is empty"},
      {text + "\n\xE2\x80\x94 Peter+Neumann " + sig_b64,
       "has a space, '+' or control character at byte 5"},
      {text + "\n\xE2\x80\x94 Peter\xC2\xA0Neumann " + sig_b64,
       "has a space, '+' or control character at byte 5"},
      {text + "\n\xE2\x80\x94 Peter\xE3\x80\x80Neumann " + sig_b64,
       "has a space, '+' or control character"},
      {text + "\n\xE2\x80\x94 PeterNeumann\n", "has no space between"},
      {text + "\n\xE2\x80\x94 PeterNeumann AAAAAA==\n",
       "is 4 bytes; it needs a 4-byte key ID and at least one byte"},
      {text + "\n\xE2\x80\x94 PeterNeumann \n", "is 0 bytes"},
      {text + "\n\xE2\x80\x94 PeterNeumann AAAAAAB=\n", "not canonical base64"},
      {text + "\n\xE2\x80\x94 PeterNeumann " + sig_b64.substr(0, 20) + " " +
           sig_b64.substr(21),
       "character 20 (' ') is not in the standard alphabet"},
      {text + "\n" + peter_sig + "\n", "no signature lines after"},
      {"\n" + peter_sig, "no blank line"},
      {"", "does not end with a newline"},
      {text + "\r\n" + peter_sig, "control character \"\\r\""},
  };
  std::string many = text + "\n";
  for (size_t i = 0; i <= kMaxNoteSignatures; ++i) many += peter_sig;
  cases.push_back({many, "more than 100 signatures"});
  for (const Case& c : cases) {
    absl::StatusOr<SignedNote> note = ParseSignedNote(c.note);
    ASSERT_FALSE(note.ok()) << c.note;
    EXPECT_EQ(note.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(note.status().message()), HasSubstr(c.message))
        << c.note;
  }
  // 100 signatures are fine (the spec asks for at least 16).
  std::string hundred = text + "\n";
  for (size_t i = 0; i < kMaxNoteSignatures; ++i) hundred += peter_sig;
  absl::StatusOr<SignedNote> note = ParseSignedNote(hundred);
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_EQ(note->signatures.size(), kMaxNoteSignatures);
  EXPECT_TRUE(VerifySignedNote(*note, "PeterNeumann",
                               PublicKeyFromVkey(kPeterVkey).get())
                  .ok());
}

TEST(MerkleNote, ValidatesKeyNames) {
  EXPECT_TRUE(ValidateNoteKeyName("example.com/log42").ok());
  EXPECT_TRUE(ValidateNoteKeyName("\xC3\xA9v\xC3\xA9nements").ok());
  for (absl::string_view bad :
       {absl::string_view(""), absl::string_view("a b"),
        absl::string_view("a+b"), absl::string_view("a\tb"),
        absl::string_view("a\nb"),
        absl::string_view("a\xE2\x80\x83"
                          "b"),
        absl::string_view("a\xff")}) {
    EXPECT_EQ(ValidateNoteKeyName(bad).code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace rustiq::merkle
