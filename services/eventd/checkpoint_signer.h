// Who signs the log's tree heads. In rustiq-eventd that is keyd, with the
// well-known "event-checkpoint" key (Ed25519): eventd never holds it.
#ifndef RUSTIQ_SERVICES_EVENTD_CHECKPOINT_SIGNER_H_
#define RUSTIQ_SERVICES_EVENTD_CHECKPOINT_SIGNER_H_

#include <grpcpp/channel.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::eventd {

struct CheckpointSignature {
  std::string signature;  // 64 bytes, Ed25519 over the note body
  uint32_t key_version = 0;
  std::string public_key;  // 32 bytes, raw Ed25519, of that version
};

class CheckpointSigner {
 public:
  virtual ~CheckpointSigner() = default;
  // Signs the checkpoint body (a C2SP signed note's text).
  virtual absl::StatusOr<CheckpointSignature> Sign(absl::string_view body) = 0;
};

// Signs through keyd's Keys/Sign with the "event-checkpoint" key, as the
// channel's identity (svc/eventd), and fetches the public key of each key
// version it meets once.
class KeydCheckpointSigner final : public CheckpointSigner {
 public:
  explicit KeydCheckpointSigner(std::shared_ptr<grpc::Channel> keyd);
  absl::StatusOr<CheckpointSignature> Sign(absl::string_view body) override;

 private:
  std::shared_ptr<grpc::Channel> keyd_;
  std::mutex mu_;
  uint32_t cached_version_ = 0;  // guarded by mu_
  std::string cached_key_;       // guarded by mu_
};

inline constexpr char kCheckpointKeyName[] = "event-checkpoint";

}  // namespace rustiq::eventd

#endif  // RUSTIQ_SERVICES_EVENTD_CHECKPOINT_SIGNER_H_
