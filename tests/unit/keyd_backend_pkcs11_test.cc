// What only the pkcs11 backend has, beyond the shared conformance suite
// (keyd_backend_test.cc): login and token-selection errors, the attributes
// its objects carry on the token, its handle format, and DestroyAll sparing
// objects that are not rustiq's. Every test gets a fresh SoftHSM2 token.
#include <p11-kit/pkcs11.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/keyd/backend.h"
#include "services/keyd/pkcs11/pkcs11_backend.h"
#include "services/keyd/pkcs11/pkcs11_module.h"
#include "tests/support/softhsm_token.h"

namespace rustiq::keyd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A session of its own on the test token, for looking at objects the way
// another PKCS#11 application would. Needs a live backend: the application
// is logged in while the backend holds its session.
class TokenInspector {
 public:
  explicit TokenInspector(const std::string& module_path) {
    absl::StatusOr<std::shared_ptr<pkcs11::Pkcs11Module>> module =
        pkcs11::Pkcs11Module::Load(module_path);
    EXPECT_TRUE(module.ok()) << module.status();
    if (!module.ok()) return;
    module_ = *std::move(module);
    CK_FUNCTION_LIST* p11 = module_->functions();
    CK_SLOT_ID slots[8];
    CK_ULONG count = 8;
    EXPECT_EQ(p11->C_GetSlotList(CK_TRUE, slots, &count), CKR_OK);
    EXPECT_GE(count, 1u);
    EXPECT_EQ(p11->C_OpenSession(slots[0], CKF_SERIAL_SESSION, nullptr, nullptr,
                                 &session_),
              CKR_OK);
  }
  ~TokenInspector() {
    if (module_ != nullptr) module_->functions()->C_CloseSession(session_);
  }

  CK_FUNCTION_LIST* p11() const { return module_->functions(); }
  CK_SESSION_HANDLE session() const { return session_; }

  // Every object whose label is `label`.
  std::vector<CK_OBJECT_HANDLE> FindByLabel(const std::string& label) const {
    std::string value = label;
    CK_ATTRIBUTE templ = {CKA_LABEL, value.data(), value.size()};
    std::vector<CK_OBJECT_HANDLE> found;
    if (p11()->C_FindObjectsInit(session_, &templ, 1) != CKR_OK) return found;
    CK_OBJECT_HANDLE batch[16];
    CK_ULONG count = 0;
    while (p11()->C_FindObjects(session_, batch, 16, &count) == CKR_OK &&
           count > 0) {
      found.insert(found.end(), batch, batch + count);
    }
    p11()->C_FindObjectsFinal(session_);
    return found;
  }

  // The CK_BBOOL attribute `type`, or -1 when it cannot be read.
  int Bool(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) const {
    CK_BBOOL value = CK_FALSE;
    CK_ATTRIBUTE attribute = {type, &value, sizeof(value)};
    if (p11()->C_GetAttributeValue(session_, object, &attribute, 1) != CKR_OK) {
      return -1;
    }
    return value == CK_TRUE ? 1 : 0;
  }

  // C_GetAttributeValue's result for the length of `type`.
  CK_RV Probe(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type,
              CK_ULONG* length) const {
    CK_ATTRIBUTE attribute = {type, nullptr, 0};
    CK_RV rv = p11()->C_GetAttributeValue(session_, object, &attribute, 1);
    *length = attribute.ulValueLen;
    return rv;
  }

  CK_OBJECT_CLASS Class(CK_OBJECT_HANDLE object) const {
    CK_OBJECT_CLASS value = CKO_VENDOR_DEFINED;
    CK_ATTRIBUTE attribute = {CKA_CLASS, &value, sizeof(value)};
    p11()->C_GetAttributeValue(session_, object, &attribute, 1);
    return value;
  }

 private:
  std::shared_ptr<pkcs11::Pkcs11Module> module_;
  CK_SESSION_HANDLE session_ = CK_INVALID_HANDLE;
};

class Pkcs11BackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::SoftHsmToken>> token =
        testing::SoftHsmToken::Create();
    ASSERT_TRUE(token.ok()) << token.status();
    token_ = *std::move(token);
  }

  Pkcs11Options Options(const std::string& pin) const {
    Pkcs11Options options;
    options.module_path = token_->module_path();
    options.token_label = token_->label();
    options.pin = SecretBytes(pin);
    return options;
  }

  std::unique_ptr<KeyBackend> Backend() {
    absl::StatusOr<std::unique_ptr<KeyBackend>> backend =
        NewPkcs11Backend(Options(token_->user_pin()));
    EXPECT_TRUE(backend.ok()) << backend.status();
    return backend.ok() ? *std::move(backend) : nullptr;
  }

  std::unique_ptr<testing::SoftHsmToken> token_;
};

TEST_F(Pkcs11BackendTest, WrongPinIsPermissionDeniedAndNotEchoed) {
  absl::StatusOr<std::unique_ptr<KeyBackend>> backend =
      NewPkcs11Backend(Options("not-the-pin-4711"));
  ASSERT_EQ(backend.status().code(), absl::StatusCode::kPermissionDenied)
      << backend.status();
  std::string message(backend.status().message());
  EXPECT_THAT(message, HasSubstr("C_Login"));
  EXPECT_THAT(message, HasSubstr("CKR_PIN_INCORRECT"));
  EXPECT_THAT(message, Not(HasSubstr("4711")));
}

TEST_F(Pkcs11BackendTest, UnknownLabelNamesItAndTheLabelsFound) {
  Pkcs11Options options = Options(token_->user_pin());
  options.token_label = "no-such-token";
  absl::StatusOr<std::unique_ptr<KeyBackend>> backend =
      NewPkcs11Backend(options);
  ASSERT_EQ(backend.status().code(), absl::StatusCode::kNotFound)
      << backend.status();
  EXPECT_THAT(backend.status().message(), HasSubstr("\"no-such-token\""));
  EXPECT_THAT(backend.status().message(), HasSubstr("\"rustiq-test\""));
}

TEST_F(Pkcs11BackendTest, MissingModuleIsFailedPrecondition) {
  Pkcs11Options options = Options(token_->user_pin());
  options.module_path = "/nonexistent/libpkcs11.so";
  EXPECT_EQ(NewPkcs11Backend(options).status().code(),
            absl::StatusCode::kFailedPrecondition);
  options.module_path = "";
  EXPECT_EQ(NewPkcs11Backend(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A second backend on a logged-in token would be let in without its PIN
// being checked.
TEST_F(Pkcs11BackendTest, SecondBackendOnTheSameTokenIsRefused) {
  std::unique_ptr<KeyBackend> first = Backend();
  ASSERT_NE(first, nullptr);
  absl::StatusOr<std::unique_ptr<KeyBackend>> second =
      NewPkcs11Backend(Options("any-pin-at-all"));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition)
      << second.status();
  // The refusal left the first one logged in.
  EXPECT_TRUE(first->Generate(Algorithm::kEcP256, "still-works").ok());
}

TEST_F(Pkcs11BackendTest, KeysAreSensitiveNonExtractableTokenObjects) {
  std::unique_ptr<KeyBackend> backend = Backend();
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(backend->Generate(Algorithm::kEcP256, "ec.v1").ok());
  ASSERT_TRUE(backend->Generate(Algorithm::kEd25519, "ed.v1").ok());
  ASSERT_TRUE(backend->Generate(Algorithm::kAes256, "aes.v1").ok());
  TokenInspector inspector(token_->module_path());
  for (const char* label : {"rustiq:ec.v1", "rustiq:ed.v1", "rustiq:aes.v1"}) {
    SCOPED_TRACE(label);
    std::vector<CK_OBJECT_HANDLE> objects = inspector.FindByLabel(label);
    // A key pair, or the one secret key.
    ASSERT_EQ(objects.size(), std::string(label) == "rustiq:aes.v1" ? 1u : 2u);
    CK_ULONG id_length = 0;
    for (CK_OBJECT_HANDLE object : objects) {
      EXPECT_EQ(inspector.Bool(object, CKA_TOKEN), 1);
      EXPECT_EQ(inspector.Bool(object, CKA_PRIVATE), 1);
      EXPECT_EQ(inspector.Probe(object, CKA_ID, &id_length), CKR_OK);
      EXPECT_EQ(id_length, 16u);
      CK_OBJECT_CLASS object_class = inspector.Class(object);
      if (object_class == CKO_PUBLIC_KEY) continue;
      EXPECT_EQ(inspector.Bool(object, CKA_SENSITIVE), 1);
      EXPECT_EQ(inspector.Bool(object, CKA_EXTRACTABLE), 0);
      EXPECT_EQ(inspector.Bool(object, CKA_NEVER_EXTRACTABLE), 1);
      // The material itself (CKA_VALUE: the AES key, the EC and EdDSA
      // private scalar) cannot be read.
      CK_ULONG length = 0;
      EXPECT_EQ(inspector.Probe(object, CKA_VALUE, &length),
                CKR_ATTRIBUTE_SENSITIVE);
    }
  }
}

TEST_F(Pkcs11BackendTest, HandleNamesItsAlgorithmAndVersion) {
  std::unique_ptr<KeyBackend> backend = Backend();
  ASSERT_NE(backend, nullptr);
  absl::StatusOr<SecretBytes> handle =
      backend->Generate(Algorithm::kEcP256, "ec.v1");
  ASSERT_TRUE(handle.ok()) << handle.status();
  EXPECT_EQ(handle->size(), 21u);
  EXPECT_EQ(backend->Open(Algorithm::kEd25519, *handle).status().code(),
            absl::StatusCode::kDataLoss);
  std::string other_version = handle->ToString();
  other_version[3] = 2;
  EXPECT_EQ(backend->Open(Algorithm::kEcP256, SecretBytes(other_version))
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
  // A well-formed handle naming objects that were never made.
  std::string unknown_id = handle->ToString();
  unknown_id[10] = static_cast<char>(unknown_id[10] ^ 0xff);
  EXPECT_EQ(backend->Open(Algorithm::kEcP256, SecretBytes(unknown_id))
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
  EXPECT_TRUE(backend->Open(Algorithm::kEcP256, *handle).ok());
}

TEST_F(Pkcs11BackendTest, DestroyAllSparesObjectsThatAreNotRustiqs) {
  std::unique_ptr<KeyBackend> backend = Backend();
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(backend->Generate(Algorithm::kAes256, "aes.v1").ok());
  TokenInspector inspector(token_->module_path());
  // Another application's data object on the same token.
  CK_OBJECT_CLASS data_class = CKO_DATA;
  CK_BBOOL yes = CK_TRUE;
  std::string label = "someone-else";
  std::string value = "not ours";
  CK_ATTRIBUTE templ[] = {
      {CKA_CLASS, &data_class, sizeof(data_class)},
      {CKA_TOKEN, &yes, sizeof(yes)},
      {CKA_LABEL, label.data(), label.size()},
      {CKA_VALUE, value.data(), value.size()},
  };
  CK_OBJECT_HANDLE other = CK_INVALID_HANDLE;
  // Read-only inspector session: token objects need a read/write one.
  CK_SLOT_ID slots[8];
  CK_ULONG count = 8;
  ASSERT_EQ(inspector.p11()->C_GetSlotList(CK_TRUE, slots, &count), CKR_OK);
  CK_SESSION_HANDLE rw = CK_INVALID_HANDLE;
  ASSERT_EQ(
      inspector.p11()->C_OpenSession(
          slots[0], CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &rw),
      CKR_OK);
  ASSERT_EQ(inspector.p11()->C_CreateObject(rw, templ, 4, &other), CKR_OK);
  inspector.p11()->C_CloseSession(rw);

  ASSERT_TRUE(backend->DestroyAll().ok());
  EXPECT_TRUE(inspector.FindByLabel("rustiq:aes.v1").empty());
  EXPECT_EQ(inspector.FindByLabel("someone-else").size(), 1u);
}

// Keys hold the token open: KeyManager may drop the backend first at
// shutdown.
TEST_F(Pkcs11BackendTest, OpenKeysOutliveTheBackend) {
  std::unique_ptr<KeyBackend> backend = Backend();
  ASSERT_NE(backend, nullptr);
  absl::StatusOr<SecretBytes> handle =
      backend->Generate(Algorithm::kAes256, "aes.v1");
  ASSERT_TRUE(handle.ok()) << handle.status();
  absl::StatusOr<std::unique_ptr<BackendKey>> key =
      backend->Open(Algorithm::kAes256, *handle);
  ASSERT_TRUE(key.ok()) << key.status();
  backend.reset();
  absl::StatusOr<std::string> sealed = (*key)->SealGcm("still here", "");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  absl::StatusOr<SecretBytes> opened = (*key)->UnsealGcm(*sealed, "");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->view(), "still here");
}

}  // namespace
}  // namespace rustiq::keyd
