#include "common/pki/csr.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"

namespace rustiq::pki {
namespace {

using X509ReqPtr =
    std::unique_ptr<X509_REQ, OpenSslDeleter<X509_REQ, X509_REQ_free>>;
using ExtensionStackPtr =
    std::unique_ptr<STACK_OF(X509_EXTENSION),
                    decltype([](STACK_OF(X509_EXTENSION) * s) {
                      sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
                    })>;

}  // namespace

absl::StatusOr<std::string> MakeCsr(const EVP_PKEY* key,
                                    const identity::SpiffeId& id) {
  X509ReqPtr req(X509_REQ_new());
  if (req == nullptr || X509_REQ_set_version(req.get(), 0) != 1 ||
      X509_REQ_set_pubkey(req.get(), const_cast<EVP_PKEY*>(key)) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot build a CSR: ", OpenSslErrors()));
  }
  GeneralNamesPtr names(GENERAL_NAMES_new());
  GeneralNamePtr name(GENERAL_NAME_new());
  ASN1_IA5STRING* uri = ASN1_IA5STRING_new();
  std::string text = id.ToUri();
  if (names == nullptr || name == nullptr || uri == nullptr ||
      ASN1_STRING_set(uri, text.data(), static_cast<int>(text.size())) != 1) {
    ASN1_IA5STRING_free(uri);
    return absl::InternalError("cannot build the CSR's URI SAN");
  }
  GENERAL_NAME_set0_value(name.get(), GEN_URI, uri);
  sk_GENERAL_NAME_push(names.get(), name.release());
  ExtensionStackPtr exts(sk_X509_EXTENSION_new_null());
  X509_EXTENSION* san =
      X509V3_EXT_i2d(NID_subject_alt_name, /*crit=*/0, names.get());
  if (exts == nullptr || san == nullptr) {
    X509_EXTENSION_free(san);
    return absl::InternalError("cannot encode the CSR's SAN");
  }
  sk_X509_EXTENSION_push(exts.get(), san);
  if (X509_REQ_add_extensions(req.get(), exts.get()) != 1 ||
      X509_REQ_sign(req.get(), const_cast<EVP_PKEY*>(key), EVP_sha256()) <= 0) {
    return absl::InternalError(
        absl::StrCat("cannot sign the CSR: ", OpenSslErrors()));
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) {
    return absl::InternalError("cannot write the CSR as PEM");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

absl::StatusOr<ParsedCsr> ParseCsr(absl::string_view pem) {
  if (pem.size() > kMaxCsrPemBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("CSR is larger than ", kMaxCsrPemBytes, " bytes"));
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (req == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "not a PEM certificate request (expected -----BEGIN CERTIFICATE "
        "REQUEST-----)");
  }
  ParsedCsr out;
  out.public_key.reset(X509_REQ_get_pubkey(req.get()));
  if (out.public_key == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("CSR carries no usable public key");
  }
  if (X509_REQ_verify(req.get(), out.public_key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "CSR signature does not verify: it was not made with the key it "
        "carries");
  }
  ExtensionStackPtr exts(X509_REQ_get_extensions(req.get()));
  ERR_clear_error();
  int san_count = 0;
  for (int i = 0; exts != nullptr && i < sk_X509_EXTENSION_num(exts.get());
       ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts.get(), i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) {
      continue;
    }
    ++san_count;
    GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
    if (names == nullptr) {
      ERR_clear_error();
      return absl::InvalidArgumentError("CSR subjectAltName does not parse");
    }
    for (int j = 0; j < sk_GENERAL_NAME_num(names.get()); ++j) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), j);
      if (gn->type != GEN_URI) {
        return absl::InvalidArgumentError(
            "CSR subjectAltName may hold only the requester's URI");
      }
      const ASN1_IA5STRING* uri = gn->d.uniformResourceIdentifier;
      out.uri_sans.emplace_back(
          reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
          static_cast<size_t>(ASN1_STRING_length(uri)));
    }
  }
  if (san_count > 1) {
    return absl::InvalidArgumentError(
        "CSR carries more than one subjectAltName extension");
  }
  return out;
}

}  // namespace rustiq::pki
