#include "common/auth/keyd_token_key_source.h"

#include <grpcpp/client_context.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth/token_claims.h"

namespace rustiq::auth {
namespace {

// Versions come from footers anyone can write; keep at most this many
// "keyd does not have it" answers.
constexpr size_t kMaxUnknownVersions = 64;

absl::Status Unavailable(absl::string_view why) {
  return absl::UnavailableError(absl::StrCat(
      "cannot fetch the token-signing public key from keyd: ", why));
}

}  // namespace

KeydTokenKeySource::KeydTokenKeySource(std::shared_ptr<grpc::Channel> keyd)
    : KeydTokenKeySource(std::move(keyd), Options()) {}

KeydTokenKeySource::KeydTokenKeySource(std::shared_ptr<grpc::Channel> keyd,
                                       Options options)
    : stub_(v1::Keys::NewStub(std::move(keyd))), options_(std::move(options)) {}

absl::StatusOr<SharedPublicKey> KeydTokenKeySource::Key(uint32_t version) {
  if (version == 0) {
    return absl::UnauthenticatedError(
        "token names version 0 of the token-signing key, which no key has");
  }
  absl::StatusOr<SharedPublicKey> known = Remembered(version, options_.now());
  if (!known.ok() || *known != nullptr) return known;
  {
    absl::MutexLock lock(&bg_mu_);
    if (background_) {
      if (wanted_.size() < kMaxUnknownVersions) wanted_.insert(version);
      return absl::UnavailableError(absl::StrCat(
          "version ", version,
          " of the token-signing key is being fetched from keyd; retry in a "
          "moment"));
    }
  }
  // One fetch at a time; whoever waited here finds the answer remembered.
  absl::MutexLock fetching(&fetch_mu_);
  known = Remembered(version, options_.now());
  if (!known.ok() || *known != nullptr) return known;
  absl::StatusOr<SharedPublicKey> got = Fetch(version);
  Remember(version, got, options_.now());
  return got;
}

absl::StatusOr<SharedPublicKey> KeydTokenKeySource::Remembered(uint32_t version,
                                                               absl::Time now) {
  absl::ReaderMutexLock lock(&mu_);
  if (auto it = keys_.find(version); it != keys_.end()) return it->second;
  if (auto it = unknown_versions_.find(version);
      it != unknown_versions_.end() && now < it->second.until) {
    return it->second.status;
  }
  if (!unreachable_.status.ok() && now < unreachable_.until) {
    return unreachable_.status;
  }
  return SharedPublicKey();
}

void KeydTokenKeySource::Remember(uint32_t version,
                                  const absl::StatusOr<SharedPublicKey>& got,
                                  absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (got.ok()) {
    keys_[version] = *got;
    unknown_versions_.erase(version);
    unreachable_ = {absl::OkStatus(), absl::InfinitePast()};
    return;
  }
  Failure failure{got.status(), now + options_.retry_after};
  if (!absl::IsUnauthenticated(got.status())) {
    unreachable_ = std::move(failure);
    return;
  }
  if (unknown_versions_.size() >= kMaxUnknownVersions) {
    absl::erase_if(unknown_versions_, [now](const auto& entry) {
      return now >= entry.second.until;
    });
    if (unknown_versions_.size() >= kMaxUnknownVersions) {
      unknown_versions_.clear();
    }
  }
  unknown_versions_[version] = std::move(failure);
}

KeydTokenKeySource::~KeydTokenKeySource() { StopBackground(); }

void KeydTokenKeySource::StartBackground() {
  absl::MutexLock lock(&bg_mu_);
  if (background_) return;
  background_ = true;
  stopping_ = false;
  worker_ = std::thread([this] { RunBackground(); });
}

void KeydTokenKeySource::StopBackground() {
  {
    absl::MutexLock lock(&bg_mu_);
    if (!background_) return;
    stopping_ = true;
  }
  if (worker_.joinable()) worker_.join();
  absl::MutexLock lock(&bg_mu_);
  background_ = false;
}

void KeydTokenKeySource::RunBackground() {
  absl::Time next_refresh = absl::InfinitePast();
  while (true) {
    std::vector<uint32_t> wanted;
    {
      absl::MutexLock lock(&bg_mu_);
      auto ready = [this,
                    &next_refresh]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(bg_mu_) {
        return stopping_ || !wanted_.empty() || absl::Now() >= next_refresh;
      };
      bg_mu_.AwaitWithDeadline(absl::Condition(&ready),
                               std::max(next_refresh, absl::Now()));
      if (stopping_) return;
      wanted.assign(wanted_.begin(), wanted_.end());
      wanted_.clear();
    }
    if (absl::Now() >= next_refresh) {
      uint32_t current = 0;
      absl::StatusOr<SharedPublicKey> got = Fetch(0, &current);
      if (got.ok()) Remember(current, got, options_.now());
      next_refresh = absl::Now() +
                     (got.ok() ? options_.refresh_every : options_.retry_after);
    }
    for (uint32_t version : wanted) {
      absl::StatusOr<SharedPublicKey> known =
          Remembered(version, options_.now());
      if (known.ok() && *known != nullptr) continue;
      Remember(version, Fetch(version), options_.now());
    }
  }
}

absl::StatusOr<SharedPublicKey> KeydTokenKeySource::Fetch(
    uint32_t version, uint32_t* got_version) {
  v1::GetPublicKeyRequest request;
  request.set_name(std::string(kTokenKeyName));
  request.set_version(version);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
  v1::PublicKey response;
  grpc::Status s = stub_->GetPublicKey(&context, request, &response);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
    return absl::UnauthenticatedError(absl::StrCat(
        "token names version ", version,
        " of the token-signing key, which keyd does not have (retired or "
        "never made): log in again (keyd: ",
        s.error_message(), ")"));
  }
  if (!s.ok()) {
    return Unavailable(absl::StrCat(
        absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code())),
        ": ", s.error_message()));
  }
  if (got_version != nullptr) *got_version = response.version();
  if (version != 0 && response.version() != version) {
    return Unavailable(absl::StrCat("asked for version ", version,
                                    ", keyd answered with version ",
                                    response.version()));
  }
  if (response.algorithm() != v1::KEY_ALGORITHM_ED25519) {
    return Unavailable(absl::StrCat(
        "the key is ", v1::KeyAlgorithm_Name(response.algorithm()),
        ", not KEY_ALGORITHM_ED25519 (check policies/keyd/keys.toml)"));
  }
  const std::string& der = response.der();
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  SharedPublicKey key =
      ShareKey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (key == nullptr ||
      p != reinterpret_cast<const unsigned char*>(der.data()) + der.size() ||
      EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519) {
    ERR_clear_error();
    return Unavailable(
        "keyd's answer is not an Ed25519 SubjectPublicKeyInfo (DER)");
  }
  return key;
}

}  // namespace rustiq::auth
