#include "services/keyd/pkcs11/pkcs11_backend.h"

#include <openssl/rand.h>

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "services/keyd/pkcs11/key_generation.h"
#include "services/keyd/pkcs11/key_handle.h"
#include "services/keyd/pkcs11/object_search.h"
#include "services/keyd/pkcs11/pkcs11_key.h"
#include "services/keyd/pkcs11/pkcs11_module.h"
#include "services/keyd/pkcs11/pkcs11_status.h"
#include "services/keyd/pkcs11/pkcs11_token.h"

namespace rustiq::keyd {
namespace {

using pkcs11::SessionLease;

class Pkcs11Backend : public KeyBackend {
 public:
  explicit Pkcs11Backend(std::shared_ptr<pkcs11::Pkcs11Token> token)
      : token_(std::move(token)) {}

  const char* name() const override { return "pkcs11"; }

  absl::StatusOr<SecretBytes> Generate(Algorithm algorithm,
                                       absl::string_view label) override {
    std::string object_id(pkcs11::kObjectIdBytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(object_id.data()),
                   static_cast<int>(object_id.size())) != 1) {
      return absl::InternalError("no random bytes for a key id");
    }
    absl::StatusOr<SessionLease> session = token_->LeaseSession();
    if (!session.ok()) return session.status();
    absl::Status generated = pkcs11::GenerateOnToken(
        token_->functions(), *session, algorithm, object_id, label);
    if (!generated.ok()) return generated;
    session->ReturnToPool();
    return pkcs11::EncodeKeyHandle(algorithm, object_id);
  }

  absl::StatusOr<std::unique_ptr<BackendKey>> Open(
      Algorithm algorithm, const SecretBytes& handle) override {
    absl::StatusOr<pkcs11::TokenKeyRef> ref =
        pkcs11::DecodeKeyHandle(handle, algorithm);
    if (!ref.ok()) return ref.status();
    return pkcs11::Pkcs11Key::Open(token_, *ref);
  }

  // Idempotent: a key already gone is not an error, so a store that crashed
  // between destroying and forgetting can simply retry.
  absl::Status Destroy(Algorithm algorithm,
                       const SecretBytes& handle) override {
    absl::StatusOr<pkcs11::TokenKeyRef> ref =
        pkcs11::DecodeKeyHandle(handle, algorithm);
    if (!ref.ok()) return ref.status();
    std::vector<CK_ATTRIBUTE> templ = {
        {CKA_ID, ref->object_id.data(), ref->object_id.size()}};
    return DestroyMatching(std::move(templ), /*label_prefix_only=*/false);
  }

  absl::Status DestroyAll() override {
    return DestroyMatching({}, /*label_prefix_only=*/true);
  }

 private:
  // Destroys every object matching `templ`; with `label_prefix_only`, only
  // those labelled "rustiq:...". Keeps going past a failure, so one stuck
  // object does not shield the rest, and reports the first.
  absl::Status DestroyMatching(std::vector<CK_ATTRIBUTE> templ,
                               bool label_prefix_only) {
    CK_FUNCTION_LIST* p11 = token_->functions();
    absl::StatusOr<SessionLease> session = token_->LeaseSession();
    if (!session.ok()) return session.status();
    absl::StatusOr<std::vector<CK_OBJECT_HANDLE>> objects =
        pkcs11::FindObjects(p11, *session, std::move(templ));
    if (!objects.ok()) return objects.status();
    absl::Status first_error;
    for (CK_OBJECT_HANDLE object : *objects) {
      if (label_prefix_only) {
        absl::StatusOr<std::string> label =
            pkcs11::ReadAttribute(p11, *session, object, CKA_LABEL);
        if (!label.ok() || !absl::StartsWith(*label, pkcs11::kLabelPrefix)) {
          continue;
        }
      }
      CK_RV rv = p11->C_DestroyObject(session->handle(), object);
      if (rv != CKR_OK && rv != CKR_OBJECT_HANDLE_INVALID) {
        first_error.Update(pkcs11::Pkcs11Error("C_DestroyObject", rv));
      }
    }
    session->ReturnToPool();
    return first_error;
  }

  const std::shared_ptr<pkcs11::Pkcs11Token> token_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<KeyBackend>> NewPkcs11Backend(
    const Pkcs11Options& options) {
  absl::StatusOr<std::shared_ptr<pkcs11::Pkcs11Module>> module =
      pkcs11::Pkcs11Module::Load(options.module_path);
  if (!module.ok()) return module.status();
  absl::StatusOr<std::shared_ptr<pkcs11::Pkcs11Token>> token =
      pkcs11::Pkcs11Token::Open(*std::move(module), options.token_label,
                                options.pin);
  if (!token.ok()) return token.status();
  return std::unique_ptr<KeyBackend>(new Pkcs11Backend(*std::move(token)));
}

}  // namespace rustiq::keyd
