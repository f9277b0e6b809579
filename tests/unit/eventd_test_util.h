// Shared by eventd's unit tests: an in-process Ed25519 checkpoint signer
// (standing in for keyd), event inputs, and a log on a temporary file.
#ifndef RUSTIQ_TESTS_UNIT_EVENTD_TEST_UTIL_H_
#define RUSTIQ_TESTS_UNIT_EVENTD_TEST_UTIL_H_

#include <openssl/evp.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/pki/openssl_util.h"
#include "gtest/gtest.h"
#include "services/eventd/checkpoint_signer.h"
#include "services/eventd/event_log.h"
#include "services/eventd/event_store.h"
#include "tests/support/temp_dir.h"

namespace rustiq::eventd::testing {

inline constexpr char kDevice[] = "test-device";

// Signs like keyd's event-checkpoint key, with a key of its own. `fail`
// makes it fail as an unreachable keyd would.
class LocalSigner final : public CheckpointSigner {
 public:
  LocalSigner() : key_(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")) {}

  absl::StatusOr<CheckpointSignature> Sign(absl::string_view body) override {
    ++calls;
    if (fail) return absl::UnavailableError("keyd is not running");
    pki::OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free> del;
    std::unique_ptr<EVP_MD_CTX, decltype(del)> ctx(EVP_MD_CTX_new());
    size_t len = 64;
    CheckpointSignature out;
    out.signature.resize(64);
    if (EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr,
                              key_.get(), nullptr) != 1 ||
        EVP_DigestSign(
            ctx.get(), reinterpret_cast<unsigned char*>(out.signature.data()),
            &len, reinterpret_cast<const unsigned char*>(body.data()),
            body.size()) != 1) {
      return absl::InternalError("sign failed");
    }
    out.key_version = 1;
    out.public_key.resize(32);
    size_t pub_len = 32;
    EVP_PKEY_get_raw_public_key(
        key_.get(), reinterpret_cast<unsigned char*>(out.public_key.data()),
        &pub_len);
    return out;
  }

  EVP_PKEY* key() const { return key_.get(); }
  std::atomic<bool> fail{false};
  std::atomic<int> calls{0};

 private:
  pki::EvpPkeyPtr key_;
};

inline v1::EventInput Input(
    absl::string_view action,
    v1::EventCategory category = v1::EVENT_CATEGORY_KEY,
    v1::EventOutcome outcome = v1::EVENT_OUTCOME_SUCCESS) {
  v1::EventInput in;
  in.set_action(std::string(action));
  in.set_category(category);
  in.set_outcome(outcome);
  in.set_severity(outcome == v1::EVENT_OUTCOME_SUCCESS
                      ? v1::EVENT_SEVERITY_INFO
                      : v1::EVENT_SEVERITY_WARNING);
  return in;
}

inline std::string DbPath(const rustiq::testing::TempDir& dir) {
  return dir / "events.db";
}

inline std::unique_ptr<EventStore> OpenStore(const std::string& path) {
  absl::StatusOr<std::unique_ptr<EventStore>> store =
      EventStore::Open(path, kDevice);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

inline EventLogOptions Options() {
  EventLogOptions o;
  o.device_id = kDevice;
  o.boot_id = "00000000-0000-0000-0000-000000000000";
  o.sign_every_events = 1000000;  // tests sign explicitly unless they say
  o.sign_every = absl::Hours(1);
  o.prune_every = absl::Hours(24);
  return o;
}

}  // namespace rustiq::eventd::testing

#endif  // RUSTIQ_TESTS_UNIT_EVENTD_TEST_UTIL_H_
