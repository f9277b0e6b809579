#include "common/auth/token_issuer.h"

#include "absl/strings/str_cat.h"
#include "common/auth/paseto.h"
#include "common/auth/token_claims.h"

namespace rustiq::auth {

absl::StatusOr<std::string> IssueToken(const rpc::TokenClaims& claims,
                                       absl::string_view device_id,
                                       uint32_t key_version,
                                       const TokenSignFunction& sign) {
  if (key_version == 0) {
    return absl::InvalidArgumentError(
        "cannot issue a token: name the token-signing key version that signs "
        "(0 means 'current' to keyd, and a footer must name a real one)");
  }
  absl::StatusOr<std::string> m = EncodePayload(claims, device_id);
  if (!m.ok()) return m.status();
  std::string footer = KeyIdFooter(key_version);
  absl::StatusOr<std::string> sig =
      sign(paseto::SigningInput(*m, footer, ImplicitAssertion(device_id)));
  if (!sig.ok()) return sig.status();
  if (sig->size() != paseto::kEd25519SignatureBytes) {
    return absl::InternalError(absl::StrCat(
        "the token signer returned ", sig->size(),
        " bytes, not a 64-byte Ed25519 signature (is token-signing an "
        "Ed25519 key?)"));
  }
  absl::StatusOr<std::string> token = paseto::Assemble(*m, *sig, footer);
  if (!token.ok()) return token.status();
  if (token->size() > kMaxTokenBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot issue a token: it would be ", token->size(),
        " bytes, over the ", kMaxTokenBytes,
        " every daemon accepts (fewer or shorter roles and permissions)"));
  }
  return token;
}

TokenSignFunction LocalEd25519Signer(EVP_PKEY* private_key) {
  return [private_key](absl::string_view input) {
    return paseto::SignEd25519(private_key, input);
  };
}

}  // namespace rustiq::auth
