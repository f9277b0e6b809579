#include "services/keyd/pkcs11/pkcs11_module.h"

#include <dlfcn.h>

#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/logging/escape.h"
#include "services/keyd/pkcs11/pkcs11_status.h"

namespace rustiq::keyd::pkcs11 {
namespace {

// Loaded modules by dlopen handle. Held while a module is created or
// finalised, so C_Initialize and C_Finalize of one library never overlap.
absl::Mutex registry_mu(absl::kConstInit);
std::map<void*, std::weak_ptr<Pkcs11Module>>& Registry()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(registry_mu) {
  static auto* registry = new std::map<void*, std::weak_ptr<Pkcs11Module>>();
  return *registry;
}

std::string DlError() {
  const char* error = dlerror();
  return error != nullptr ? log::EscapeUntrusted(error, 200) : "unknown error";
}

}  // namespace

absl::StatusOr<std::shared_ptr<Pkcs11Module>> Pkcs11Module::Load(
    const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError("no PKCS#11 module path configured");
  }
  // RTLD_LOCAL: the module's symbols (C_Sign, ...) must not satisfy anyone
  // else's references.
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot load PKCS#11 module ",
                     log::EscapeUntrusted(path, 200), ": ", DlError()));
  }
  absl::MutexLock lock(&registry_mu);
  auto& registry = Registry();
  // An expired entry is a module whose last owner is finalising it right now:
  // wait until it is gone rather than initialise the library under its feet.
  auto settled = [&registry, library]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    auto it = registry.find(library);
    return it == registry.end() || !it->second.expired();
  };
  for (;;) {
    registry_mu.Await(absl::Condition(&settled));
    auto it = registry.find(library);
    if (it == registry.end()) break;
    if (std::shared_ptr<Pkcs11Module> loaded = it->second.lock()) {
      dlclose(library);  // the loaded module keeps its own reference
      return loaded;
    }
    // Its last owner let go just now: wait for the finaliser again.
  }
  auto get_function_list = reinterpret_cast<CK_C_GetFunctionList>(
      dlsym(library, "C_GetFunctionList"));
  if (get_function_list == nullptr) {
    dlclose(library);
    return absl::FailedPreconditionError(
        absl::StrCat(log::EscapeUntrusted(path, 200),
                     " is not a PKCS#11 module (no C_GetFunctionList)"));
  }
  CK_FUNCTION_LIST* functions = nullptr;
  CK_RV rv = get_function_list(&functions);
  if (rv != CKR_OK || functions == nullptr) {
    dlclose(library);
    return Pkcs11Error("C_GetFunctionList",
                       rv == CKR_OK ? CKR_GENERAL_ERROR : rv);
  }
  // The daemon is multi-threaded: let the module use the OS's mutexes.
  CK_C_INITIALIZE_ARGS args = {};
  args.flags = CKF_OS_LOCKING_OK;
  rv = functions->C_Initialize(&args);
  // Already initialised by someone outside this registry (another library in
  // the process): use it, but leave finalising to them.
  bool finalize = true;
  if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    finalize = false;
  } else if (rv != CKR_OK) {
    dlclose(library);
    return Pkcs11Error("C_Initialize", rv);
  }
  std::shared_ptr<Pkcs11Module> module(
      new Pkcs11Module(path, library, functions, finalize));
  registry[library] = module;
  return module;
}

Pkcs11Module::~Pkcs11Module() {
  absl::MutexLock lock(&registry_mu);
  auto& registry = Registry();
  if (auto it = registry.find(library_);
      it != registry.end() && it->second.expired()) {
    registry.erase(it);
  }
  if (finalize_) functions_->C_Finalize(nullptr);
  dlclose(library_);
}

}  // namespace rustiq::keyd::pkcs11
