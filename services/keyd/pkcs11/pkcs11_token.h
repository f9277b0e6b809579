// One logged-in token of a PKCS#11 module, and the sessions operations run
// in.
//
// PKCS#11 lets only one operation at a time run in a session, so each
// operation leases a session of its own from a small pool (opened on demand;
// a new session of an application already logged in is logged in too). One
// session stays open for the token's lifetime to hold the login: a token
// logs the application out when its last session closes.
#ifndef RUSTIQ_SERVICES_KEYD_PKCS11_PKCS11_TOKEN_H_
#define RUSTIQ_SERVICES_KEYD_PKCS11_PKCS11_TOKEN_H_

#include <p11-kit/pkcs11.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/keyd/pkcs11/pkcs11_module.h"
#include "services/keyd/secret_bytes.h"

namespace rustiq::keyd::pkcs11 {

class Pkcs11Token;

// A session leased to one thread for one operation. By default it is closed
// when the lease ends, because a failed call may leave an operation active
// in it; call ReturnToPool() once the operation has completed cleanly.
class SessionLease {
 public:
  SessionLease(SessionLease&& other) noexcept;
  SessionLease& operator=(SessionLease&&) = delete;
  SessionLease(const SessionLease&) = delete;
  SessionLease& operator=(const SessionLease&) = delete;
  ~SessionLease();

  CK_SESSION_HANDLE handle() const { return handle_; }
  void ReturnToPool() { reusable_ = true; }

 private:
  friend class Pkcs11Token;
  SessionLease(Pkcs11Token* token, CK_SESSION_HANDLE handle)
      : token_(token), handle_(handle) {}

  Pkcs11Token* token_;  // not owned; outlives the lease
  CK_SESSION_HANDLE handle_;
  bool reusable_ = false;
};

// Thread-safe.
class Pkcs11Token {
 public:
  // Finds the slot whose token has `label`, opens a read/write session and
  // logs in as the user. The PIN is used for C_Login only, not kept.
  static absl::StatusOr<std::shared_ptr<Pkcs11Token>> Open(
      std::shared_ptr<Pkcs11Module> module, absl::string_view label,
      const SecretBytes& pin);

  ~Pkcs11Token();  // closes every session (which logs out)
  Pkcs11Token(const Pkcs11Token&) = delete;
  Pkcs11Token& operator=(const Pkcs11Token&) = delete;

  CK_FUNCTION_LIST* functions() const { return module_->functions(); }
  const std::string& label() const { return label_; }

  // A read/write session of the logged-in user.
  absl::StatusOr<SessionLease> LeaseSession();

  // False once the token has refused RSA-OAEP with SHA-256 parameters (see
  // Pkcs11Key::Decrypt); remembered so the refusal is asked only once.
  bool oaep_sha256_supported() const {
    return oaep_sha256_supported_.load(std::memory_order_relaxed);
  }
  void set_oaep_sha256_unsupported() {
    oaep_sha256_supported_.store(false, std::memory_order_relaxed);
  }

 private:
  friend class SessionLease;
  Pkcs11Token(std::shared_ptr<Pkcs11Module> module, CK_SLOT_ID slot,
              std::string label, CK_SESSION_HANDLE login_session)
      : module_(std::move(module)),
        slot_(slot),
        label_(std::move(label)),
        login_session_(login_session) {}

  void Release(CK_SESSION_HANDLE handle, bool reusable);

  // Idle sessions kept for reuse; more than this are closed.
  static constexpr size_t kMaxIdleSessions = 8;

  const std::shared_ptr<Pkcs11Module> module_;
  const CK_SLOT_ID slot_;
  const std::string label_;
  const CK_SESSION_HANDLE login_session_;
  std::atomic<bool> oaep_sha256_supported_{true};
  absl::Mutex mu_;
  std::vector<CK_SESSION_HANDLE> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rustiq::keyd::pkcs11

#endif  // RUSTIQ_SERVICES_KEYD_PKCS11_PKCS11_TOKEN_H_
