#include "services/keyd/pkcs11/pkcs11_token.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging/escape.h"
#include "services/keyd/pkcs11/pkcs11_status.h"

namespace rustiq::keyd::pkcs11 {
namespace {

// CK_TOKEN_INFO.label is 32 bytes padded with blanks, not NUL-terminated.
std::string TokenLabel(const CK_TOKEN_INFO& info) {
  absl::string_view label(reinterpret_cast<const char*>(info.label),
                          sizeof(info.label));
  while (!label.empty() && (label.back() == ' ' || label.back() == '\0')) {
    label.remove_suffix(1);
  }
  return std::string(label);
}

std::string Quoted(absl::string_view text) {
  return absl::StrCat("\"", log::EscapeUntrusted(text, 64), "\"");
}

absl::StatusOr<CK_SLOT_ID> FindSlot(CK_FUNCTION_LIST* p11,
                                    absl::string_view label,
                                    absl::string_view module_path) {
  CK_ULONG count = 0;
  CK_RV rv = p11->C_GetSlotList(CK_TRUE, nullptr, &count);
  if (rv != CKR_OK) return Pkcs11Error("C_GetSlotList", rv);
  std::vector<CK_SLOT_ID> slots(count);
  if (count > 0) {
    rv = p11->C_GetSlotList(CK_TRUE, slots.data(), &count);
    if (rv != CKR_OK) return Pkcs11Error("C_GetSlotList", rv);
    slots.resize(count);
  }
  std::vector<std::string> seen;
  std::vector<CK_SLOT_ID> matches;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info;
    rv = p11->C_GetTokenInfo(slot, &info);
    if (rv != CKR_OK) continue;  // a token pulled out meanwhile
    std::string found = TokenLabel(info);
    if (found == label) matches.push_back(slot);
    seen.push_back(Quoted(found));
  }
  if (matches.size() == 1) return matches.front();
  if (matches.size() > 1) {
    // Keys on the wrong one of two look-alike tokens would be lost later.
    return absl::FailedPreconditionError(absl::StrCat(
        matches.size(), " tokens are labelled ", Quoted(label),
        " in PKCS#11 module ", log::EscapeUntrusted(module_path, 200)));
  }
  return absl::NotFoundError(absl::StrCat(
      "no token labelled ", Quoted(label), " in PKCS#11 module ",
      log::EscapeUntrusted(module_path, 200),
      "; tokens found: ", seen.empty() ? "none" : absl::StrJoin(seen, ", ")));
}

}  // namespace

absl::StatusOr<std::shared_ptr<Pkcs11Token>> Pkcs11Token::Open(
    std::shared_ptr<Pkcs11Module> module, absl::string_view label,
    const SecretBytes& pin) {
  CK_FUNCTION_LIST* p11 = module->functions();
  absl::StatusOr<CK_SLOT_ID> slot = FindSlot(p11, label, module->path());
  if (!slot.ok()) return slot.status();
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  CK_RV rv = p11->C_OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
                                nullptr, nullptr, &session);
  if (rv != CKR_OK) return Pkcs11Error("C_OpenSession", rv);
  // C_Login takes a non-const pointer; hand it a private copy of the PIN
  // rather than cast away the caller's const.
  SecretBytes pin_copy = pin.Copy();
  rv = p11->C_Login(session, CKU_USER, pin_copy.data(), pin_copy.size());
  if (rv == CKR_USER_ALREADY_LOGGED_IN) {
    // Someone else in this process is logged in to the token, so the token
    // did not check this PIN: refuse rather than accept any PIN.
    p11->C_CloseSession(session);
    return absl::FailedPreconditionError(absl::StrCat(
        "C_Login: CKR_USER_ALREADY_LOGGED_IN: token ", Quoted(label),
        " is already in use in this process; use one backend per token"));
  }
  if (rv != CKR_OK) {
    p11->C_CloseSession(session);
    return Pkcs11Error("C_Login", rv);
  }
  return std::shared_ptr<Pkcs11Token>(
      new Pkcs11Token(std::move(module), *slot, std::string(label), session));
}

Pkcs11Token::~Pkcs11Token() {
  CK_FUNCTION_LIST* p11 = functions();
  absl::MutexLock lock(&mu_);
  for (CK_SESSION_HANDLE session : idle_) p11->C_CloseSession(session);
  idle_.clear();
  p11->C_Logout(login_session_);
  p11->C_CloseSession(login_session_);
}

absl::StatusOr<SessionLease> Pkcs11Token::LeaseSession() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      CK_SESSION_HANDLE session = idle_.back();
      idle_.pop_back();
      return SessionLease(this, session);
    }
  }
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  CK_RV rv = functions()->C_OpenSession(
      slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &session);
  if (rv != CKR_OK) return Pkcs11Error("C_OpenSession", rv);
  return SessionLease(this, session);
}

void Pkcs11Token::Release(CK_SESSION_HANDLE session, bool reusable) {
  if (reusable) {
    absl::MutexLock lock(&mu_);
    if (idle_.size() < kMaxIdleSessions) {
      idle_.push_back(session);
      return;
    }
  }
  functions()->C_CloseSession(session);
}

SessionLease::SessionLease(SessionLease&& other) noexcept
    : token_(std::exchange(other.token_, nullptr)),
      handle_(std::exchange(other.handle_, CK_INVALID_HANDLE)),
      reusable_(other.reusable_) {}

SessionLease::~SessionLease() {
  if (token_ != nullptr) token_->Release(handle_, reusable_);
}

}  // namespace rustiq::keyd::pkcs11
