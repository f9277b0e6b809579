// A RemoteSigner for a key held by rustiq-keyd: the public half comes from
// Keys/GetPublicKey, every signature is one Keys/Sign call.
#ifndef RUSTIQ_COMMON_KEYCLIENT_KEYD_SIGNER_H_
#define RUSTIQ_COMMON_KEYCLIENT_KEYD_SIGNER_H_

#include <grpcpp/channel.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/keyclient/remote_signer.h"
#include "rustiq/v1/keys.grpc.pb.h"

namespace rustiq::keyclient {

// Thread-safe (a gRPC stub and constants).
//
// One signer stands for one version of the key: the version that was current
// when it was created. When keyd rotates the key, this signer's public key is
// stale: keyd signs with the new version, SignDigest refuses the result
// (FAILED_PRECONDITION, "key rotated"), and a remote key (MakeRemoteKey)
// would refuse it anyway, as it checks every signature against its public
// half. The owner (cloudd) makes a new KeydSigner, a new remote key and gets
// a certificate for it on reconnect and after a rotation.
//
// Do not sign from a thread that gRPC itself runs callbacks on: SignDigest is
// a blocking call on `keyd_channel`.
class KeydSigner : public RemoteSigner {
 public:
  static constexpr absl::Duration kDefaultRpcTimeout = absl::Seconds(5);

  // Fetches the current version of `key_name`'s public key from keyd over
  // `keyd_channel` (a channel to keyd with this process's identity, e.g.
  // rpc::ChannelFactory::ForDaemon("keyd")). The key must be EC P-256.
  // `rpc_timeout` is the deadline of each call, this one and every Sign.
  static absl::StatusOr<std::shared_ptr<KeydSigner>> Create(
      std::shared_ptr<grpc::Channel> keyd_channel, std::string key_name,
      absl::Duration rpc_timeout = kDefaultRpcTimeout);

  const std::string& public_key_der() const override { return der_; }

  // Keys/Sign with SIGNATURE_ALGORITHM_ECDSA_P256_SHA256 and `digest`. Errors
  // keep keyd's status code and name keyd and the key.
  absl::StatusOr<std::string> SignDigest(absl::string_view digest) override;

  const std::string& key_name() const { return key_name_; }
  // The key version whose public half this signer holds.
  uint32_t key_version() const { return version_; }

 private:
  KeydSigner(std::unique_ptr<v1::Keys::StubInterface> stub,
             std::string key_name, uint32_t version, std::string der,
             absl::Duration rpc_timeout);

  const std::unique_ptr<v1::Keys::StubInterface> stub_;
  const std::string key_name_;
  const uint32_t version_;
  const std::string der_;
  const absl::Duration rpc_timeout_;
};

}  // namespace rustiq::keyclient

#endif  // RUSTIQ_COMMON_KEYCLIENT_KEYD_SIGNER_H_
