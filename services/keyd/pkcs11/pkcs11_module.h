// A PKCS#11 module (a shared library) loaded with dlopen and initialised with
// C_Initialize for OS locking.
//
// A module may be initialised only once per process, while several backends
// (a test opening two, say) may name the same library. So loaded modules are
// shared: Load returns the module already loaded when the same library is
// open (compared by dlopen handle, which also catches two paths to one file),
// and the last owner calls C_Finalize and dlclose.
#ifndef RUSTIQ_SERVICES_KEYD_PKCS11_PKCS11_MODULE_H_
#define RUSTIQ_SERVICES_KEYD_PKCS11_PKCS11_MODULE_H_

#include <p11-kit/pkcs11.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace rustiq::keyd::pkcs11 {

class Pkcs11Module {
 public:
  // Thread-safe.
  static absl::StatusOr<std::shared_ptr<Pkcs11Module>> Load(
      const std::string& path);

  // C_Finalize (unless someone else in the process initialised the module
  // first) and dlclose.
  ~Pkcs11Module();
  Pkcs11Module(const Pkcs11Module&) = delete;
  Pkcs11Module& operator=(const Pkcs11Module&) = delete;

  // The module's functions; valid for the module's lifetime.
  CK_FUNCTION_LIST* functions() const { return functions_; }
  const std::string& path() const { return path_; }

 private:
  Pkcs11Module(std::string path, void* library, CK_FUNCTION_LIST* functions,
               bool finalize)
      : path_(std::move(path)),
        library_(library),
        functions_(functions),
        finalize_(finalize) {}

  const std::string path_;
  void* const library_;  // from dlopen; owned
  CK_FUNCTION_LIST* const functions_;
  const bool finalize_;
};

}  // namespace rustiq::keyd::pkcs11

#endif  // RUSTIQ_SERVICES_KEYD_PKCS11_PKCS11_MODULE_H_
