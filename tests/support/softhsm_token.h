// A fresh SoftHSM2 token for tests of the PKCS#11 backend: its own token
// directory and softhsm2.conf under a temporary directory, SOFTHSM2_CONF
// pointing there for this process (SoftHSM reads it at C_Initialize), and
// one token initialised with known SO and user PINs.
//
// Create it before any PKCS#11 backend of the process loads SoftHSM. The
// previous SOFTHSM2_CONF is restored and the directory removed when it goes.
#ifndef RUSTIQ_TESTS_SUPPORT_SOFTHSM_TOKEN_H_
#define RUSTIQ_TESTS_SUPPORT_SOFTHSM_TOKEN_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "tests/support/temp_dir.h"

namespace rustiq::testing {

class SoftHsmToken {
 public:
  static constexpr char kModulePath[] = "/usr/lib/softhsm/libsofthsm2.so";
  static constexpr char kUtilPath[] = "softhsm2-util";  // found on PATH

  // FailedPrecondition when SoftHSM2 is not installed (scripts/setup-deps
  // installs it), Internal when softhsm2-util fails (its output included).
  static absl::StatusOr<std::unique_ptr<SoftHsmToken>> Create(
      const std::string& label = "rustiq-test");

  ~SoftHsmToken();
  SoftHsmToken(const SoftHsmToken&) = delete;
  SoftHsmToken& operator=(const SoftHsmToken&) = delete;

  const std::string& module_path() const { return module_path_; }
  const std::string& label() const { return label_; }
  const std::string& user_pin() const { return user_pin_; }
  const std::string& so_pin() const { return so_pin_; }
  const std::string& conf_path() const { return conf_path_; }
  // The token directory SoftHSM writes (keyd's pkcs11_state_dir).
  std::string token_dir() const { return dir_.path() + "/tokens"; }

 private:
  explicit SoftHsmToken(std::string label);

  TempDir dir_{"rustiq-softhsm"};
  const std::string module_path_ = kModulePath;
  const std::string label_;
  const std::string user_pin_ = "rustiq-user-pin";
  const std::string so_pin_ = "rustiq-so-pin";
  std::string conf_path_;
  std::optional<std::string> previous_conf_;
};

}  // namespace rustiq::testing

#endif  // RUSTIQ_TESTS_SUPPORT_SOFTHSM_TOKEN_H_
