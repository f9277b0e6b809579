#include "services/keyd/key_store.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/pki/identity_files.h"
#include "common/pki/openssl_util.h"

namespace rustiq::keyd {
namespace {

constexpr char kMagic[] = "RQKS";
constexpr size_t kMagicBytes = 4;
constexpr char kFormat = 1;
constexpr size_t kHeaderBytes = kMagicBytes + 1;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
// A store of a few hundred keys is well under this; anything larger is not
// ours.
constexpr size_t kMaxStoreBytes = 16 * 1024 * 1024;

using CipherCtxPtr =
    std::unique_ptr<EVP_CIPHER_CTX,
                    pki::OpenSslDeleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;

absl::Status Lost(absl::string_view path, absl::string_view what) {
  return absl::DataLossError(
      absl::StrCat("key store ", path, " ", what,
                   "; nothing in it was loaded. Restore it from a backup made "
                   "with its master key, or re-provision the device"));
}

absl::Status Errno(absl::string_view what, absl::string_view path) {
  return absl::InternalError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<SecretBytes> ReadPrivateFile(absl::string_view path,
                                            absl::string_view what,
                                            size_t max_bytes) {
  std::string p(path);
  int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat(what, " ", path, " does not exist"));
    }
    return Errno(absl::StrCat("cannot open ", what), path);
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    close(fd);
    return Errno(absl::StrCat("cannot stat ", what), path);
  }
  if (!S_ISREG(st.st_mode) || (st.st_mode & 0077) != 0) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        what, " ", path,
        " must be a regular file readable by its owner alone (chmod 0400)"));
  }
  if (st.st_size <= 0 || static_cast<size_t>(st.st_size) > max_bytes) {
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, " must hold 1-", max_bytes,
                     " bytes, it holds ", st.st_size));
  }
  SecretBytes data(static_cast<size_t>(st.st_size));
  ssize_t n = read(fd, data.data(), data.size());
  close(fd);
  if (n != static_cast<ssize_t>(data.size())) {
    return Errno(absl::StrCat("cannot read ", what), path);
  }
  return data;
}

absl::StatusOr<SecretBytes> LoadMasterKey(absl::string_view path) {
  absl::StatusOr<SecretBytes> key =
      ReadPrivateFile(path, "master key", kMasterKeyBytes);
  if (absl::IsNotFound(key.status())) {
    return absl::NotFoundError(absl::StrCat(
        "master key ", path,
        " does not exist: provision the device ('rustiqctl provision "
        "device') or pass the key as the systemd credential "
        "'keyd-master-key'"));
  }
  if (key.ok() && key->size() != kMasterKeyBytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("master key ", path, " must hold exactly ",
                     kMasterKeyBytes, " bytes, it holds ", key->size()));
  }
  return key;
}

absl::Status CreateMasterKey(absl::string_view path) {
  std::string p(path);
  SecretBytes key(kMasterKeyBytes);
  if (RAND_priv_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    return absl::InternalError("no random bytes for the master key");
  }
  int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                0400);
  if (fd < 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(
          absl::StrCat("cannot create master key ", path,
                       ": it already exists (a key is never overwritten)"));
    }
    return Errno("cannot create master key", path);
  }
  bool ok =
      write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) &&
      fsync(fd) == 0;
  close(fd);
  if (!ok) {
    unlink(p.c_str());
    return Errno("cannot write master key", path);
  }
  return absl::OkStatus();
}

void CleanseHandles(store::StoreContents* contents) {
  for (store::StoredKey& key : *contents->mutable_keys()) {
    for (store::StoredVersion& v : *key.mutable_versions()) {
      std::string* h = v.mutable_handle();
      OPENSSL_cleanse(h->data(), h->size());
    }
  }
}

absl::StatusOr<store::StoreContents> KeyStoreFile::Load() const {
  absl::StatusOr<std::string> file = pki::ReadSmallFile(path_, kMaxStoreBytes);
  if (!file.ok()) {
    if (absl::IsNotFound(file.status())) return file.status();
    return Lost(path_,
                absl::StrCat("cannot be read (", file.status().message(), ")"));
  }
  if (file->size() < kHeaderBytes + kNonceBytes + kTagBytes) {
    return Lost(path_, absl::StrCat("is truncated (", file->size(), " bytes)"));
  }
  if (file->compare(0, kMagicBytes, kMagic) != 0) {
    return Lost(path_, "is not a rustiq key store (bad magic)");
  }
  if ((*file)[kMagicBytes] != kFormat) {
    return Lost(path_, absl::StrCat("has unsupported format ",
                                    static_cast<int>((*file)[kMagicBytes])));
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(file->data());
  const unsigned char* nonce = bytes + kHeaderBytes;
  const unsigned char* ct = nonce + kNonceBytes;
  size_t ct_len = file->size() - kHeaderBytes - kNonceBytes - kTagBytes;
  std::string tag = file->substr(file->size() - kTagBytes);
  SecretBytes plain(ct_len);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int final_len = 0;
  bool ok =
      ctx != nullptr &&
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         master_key_.data(), nonce) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes, kHeaderBytes) == 1 &&
      EVP_DecryptUpdate(ctx.get(), plain.data(), &len, ct,
                        static_cast<int>(ct_len)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes,
                          tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), plain.data() + len, &final_len) == 1;
  if (!ok) {
    ERR_clear_error();
    return Lost(path_,
                "fails authentication: it was altered or truncated, or it "
                "was written under another master key");
  }
  store::StoreContents contents;
  if (!contents.ParseFromArray(plain.data(), static_cast<int>(plain.size()))) {
    return Lost(path_, "decrypts but does not parse");
  }
  return contents;
}

pki::AtomicWriteResult KeyStoreFile::Save(
    store::StoreContents* contents) const {
  contents->set_generation(contents->generation() + 1);
  SecretBytes plain(contents->ByteSizeLong());
  if (!contents->SerializeToArray(plain.data(),
                                  static_cast<int>(plain.size()))) {
    return {absl::InternalError("cannot serialise the key store")};
  }
  std::string out(kHeaderBytes + kNonceBytes + plain.size() + kTagBytes, '\0');
  std::memcpy(out.data(), kMagic, kMagicBytes);
  out[kMagicBytes] = kFormat;
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  unsigned char* nonce = bytes + kHeaderBytes;
  unsigned char* ct = nonce + kNonceBytes;
  if (RAND_bytes(nonce, kNonceBytes) != 1) {
    return {absl::InternalError("no random nonce for the key store")};
  }
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int final_len = 0;
  bool ok =
      ctx != nullptr &&
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         master_key_.data(), nonce) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes, kHeaderBytes) == 1 &&
      EVP_EncryptUpdate(ctx.get(), ct, &len, plain.data(),
                        static_cast<int>(plain.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), ct + len, &final_len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          ct + plain.size()) == 1;
  if (!ok) {
    return {absl::InternalError(
        absl::StrCat("cannot encrypt the key store: ", pki::OpenSslErrors()))};
  }
  return pki::WriteFileAtomicallyReporting(path_, out, 0600);
}

absl::Status KeyStoreFile::Destroy() const {
  int fd = open(path_.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return Errno("cannot open key store", path_);
  }
  struct stat st {};
  if (fstat(fd, &st) == 0 && st.st_size > 0) {
    std::string noise(static_cast<size_t>(st.st_size), '\0');
    RAND_bytes(reinterpret_cast<unsigned char*>(noise.data()),
               static_cast<int>(noise.size()));
    (void)!write(fd, noise.data(), noise.size());
    fsync(fd);
  }
  close(fd);
  if (unlink(path_.c_str()) != 0 && errno != ENOENT) {
    return Errno("cannot remove key store", path_);
  }
  return absl::OkStatus();
}

}  // namespace rustiq::keyd
