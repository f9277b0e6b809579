// rustiqctl certs: the device CA's trust bundle (from rustiq-keyd) and the
// CLI's own mTLS identity: what it is, until when, and its renewal.
//
//   rustiqctl certs bundle
//   rustiqctl [--as NAME] certs show
//   rustiqctl [--as NAME] certs renew
//
// Renewal works as a daemon's (common/rpc/identity_renewer.h): a fresh P-256
// key, a CSR naming the CLI's own ID, Certificates/IssueCertificate over the
// current mTLS session (which proves the CLI holds its current identity), and
// an atomic swap of key and certificate (pki::WriteIdentity).
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/daemon_call.h"
#include "cli/text.h"
#include "common/pki/csr.h"
#include "common/pki/identity_files.h"
#include "common/pki/openssl_util.h"
#include "rustiq/v1/keys.grpc.pb.h"

namespace rustiq::cli {
namespace {

constexpr absl::string_view kDaemon = "keyd";
constexpr size_t kMaxCertBytes = 64 * 1024;

using Stub = v1::Certificates::Stub;

// What `certs show` and `certs renew` say about a certificate.
struct CertFacts {
  std::vector<std::string> uri_sans;
  std::string serial;  // upper-case hex
  absl::Time not_before;
  absl::Time not_after;
};

absl::StatusOr<absl::Time> AsTime(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return absl::DataLossError("certificate validity does not parse");
  }
  return absl::FromTM(tm, absl::UTCTimeZone());
}

absl::StatusOr<CertFacts> FactsOf(absl::string_view pem) {
  absl::StatusOr<pki::X509Ptr> cert = pki::CertificateFromPem(pem);
  if (!cert.ok()) return cert.status();
  CertFacts facts;
  facts.uri_sans = pki::UriSans(cert->get());
  pki::BignumPtr serial(
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert->get()), nullptr));
  if (serial != nullptr) {
    char* hex = BN_bn2hex(serial.get());
    if (hex != nullptr) {
      facts.serial = hex;
      OPENSSL_free(hex);
    }
  }
  absl::StatusOr<absl::Time> from = AsTime(X509_get0_notBefore(cert->get()));
  if (!from.ok()) return from.status();
  absl::StatusOr<absl::Time> until = AsTime(X509_get0_notAfter(cert->get()));
  if (!until.ok()) return until.status();
  facts.not_before = *from;
  facts.not_after = *until;
  return facts;
}

// "5d 3h 12m", "3h 12m", "12m 5s".
std::string DurationText(absl::Duration d) {
  int64_t s = absl::ToInt64Seconds(d);
  int64_t days = s / 86400, hours = s % 86400 / 3600, minutes = s % 3600 / 60;
  if (days > 0) return absl::StrCat(days, "d ", hours, "h ", minutes, "m");
  if (hours > 0) return absl::StrCat(hours, "h ", minutes, "m");
  return absl::StrCat(minutes, "m ", s % 60, "s");
}

std::string SansText(const CertFacts& facts) {
  return facts.uri_sans.empty() ? "(no URI SAN)"
                                : absl::StrJoin(facts.uri_sans, ", ");
}

int Bundle(const GlobalOptions& global) {
  Output out(global.json);
  v1::GetTrustBundleResponse bundle;
  if (int rc = CallDaemon(global, out, kDaemon, &Stub::GetTrustBundle,
                          v1::GetTrustBundleRequest(), &bundle);
      rc != kExitOk) {
    return rc;
  }
  std::string pem = bundle.pem();
  while (!pem.empty() && pem.back() == '\n') pem.pop_back();
  out.Result(pem, {{"pem", bundle.pem()}});
  return kExitOk;
}

int Show(const GlobalOptions& global) {
  Output out(global.json);
  absl::StatusOr<config::StackConfig> cfg = global.LoadConfig();
  if (!cfg.ok()) return out.Fail(cfg.status());
  absl::StatusOr<identity::SpiffeId> id = CliIdentity(global, *cfg);
  if (!id.ok()) return out.Fail(id.status());
  absl::StatusOr<pki::IdentityPaths> paths =
      pki::IdentityPathsFor(cfg->paths.state_dir, *id);
  if (!paths.ok()) return out.Fail(paths.status());
  absl::StatusOr<std::string> pem =
      pki::ReadSmallFile(paths->cert_path, kMaxCertBytes);
  if (!pem.ok()) {
    // Missing: this identity was never provisioned (exit code 6).
    return out.Fail(absl::Status(pem.status().code(),
                                 absl::StrCat(pem.status().message(),
                                              " (provision it with 'rustiqctl "
                                              "provision identity ",
                                              id->path(), "')")));
  }
  absl::StatusOr<CertFacts> facts = FactsOf(*pem);
  if (!facts.ok()) {
    return out.Fail(absl::FailedPreconditionError(
        absl::StrCat(paths->cert_path, ": ", facts.status().message())));
  }
  absl::Time now = absl::Now();
  absl::Duration left = facts->not_after - now;
  bool expired = left <= absl::ZeroDuration();
  std::string left_text =
      expired ? absl::StrCat("expired ", DurationText(-left), " ago")
      : now < facts->not_before ? "not valid yet"
                                : DurationText(left);
  out.Result(
      absl::StrCat("identity:   ", SansText(*facts),    //
                   "\ncert:       ", paths->cert_path,  //
                   "\nserial:     ", facts->serial,     //
                   "\nnot before: ", TimeText(facts->not_before),
                   "\nnot after:  ", TimeText(facts->not_after),
                   "\ntime left:  ", left_text),
      {{"id", facts->uri_sans.size() == 1 ? facts->uri_sans[0] : ""},
       {"uri_sans", facts->uri_sans},
       {"cert", paths->cert_path},
       {"serial", facts->serial},
       {"not_before", TimeText(facts->not_before)},
       {"not_after", TimeText(facts->not_after)},
       {"not_before_unix_seconds", absl::ToUnixSeconds(facts->not_before)},
       {"not_after_unix_seconds", absl::ToUnixSeconds(facts->not_after)},
       {"seconds_left", expired ? 0 : absl::ToInt64Seconds(left)},
       {"expired", expired}});
  return kExitOk;
}

int Renew(const GlobalOptions& global) {
  Output out(global.json);
  absl::StatusOr<DaemonConnection> conn = ConnectToDaemon(global, kDaemon);
  if (!conn.ok()) return out.Fail(conn.status());
  absl::StatusOr<pki::IdentityPaths> paths =
      pki::IdentityPathsFor(conn->config.paths.state_dir, conn->id);
  if (!paths.ok()) return out.Fail(paths.status());

  absl::StatusOr<pki::EvpPkeyPtr> key = pki::GenerateP256Key();
  if (!key.ok()) return out.Fail(key.status());
  absl::StatusOr<std::string> csr = pki::MakeCsr(key->get(), conn->id);
  if (!csr.ok()) return out.Fail(csr.status());
  v1::IssueCertificateRequest req;
  req.set_csr_pem(*csr);  // lifetime 0: keyd's configured default
  v1::IssueCertificateResponse issued;
  grpc::Status s =
      Invoke(global, conn->channel, &Stub::IssueCertificate, req, &issued);
  if (!s.ok()) return FailCall(out, kDaemon, s);
  absl::StatusOr<CertFacts> facts = FactsOf(issued.certificate_pem());
  if (!facts.ok()) {
    return out.Fail(absl::InternalError(
        absl::StrCat("keyd issued a certificate that does not parse: ",
                     facts.status().message())));
  }

  absl::StatusOr<std::string> key_pem = pki::PrivateKeyToPem(key->get());
  if (!key_pem.ok()) return out.Fail(key_pem.status());
  // Refuses a certificate that does not match the key; readers never see a
  // key of one generation with the certificate of another.
  absl::Status written =
      pki::WriteIdentity(*paths, *key_pem, issued.certificate_pem());
  OPENSSL_cleanse(key_pem->data(), key_pem->size());
  if (!written.ok()) return out.Fail(written);

  out.Result(absl::StrCat("renewed ", conn->id.ToUri(), ": valid until ",
                          TimeText(facts->not_after), " (",
                          DurationText(facts->not_after - absl::Now()),
                          "), serial ", facts->serial),
             {{"id", conn->id.ToUri()},
              {"cert", paths->cert_path},
              {"serial", facts->serial},
              {"not_before", TimeText(facts->not_before)},
              {"not_after", TimeText(facts->not_after)},
              {"not_after_unix_seconds", issued.not_after_unix_seconds()}});
  return kExitOk;
}

}  // namespace

void AddCertsCommand(CLI::App& app, const GlobalOptions& global,
                     Action* action) {
  CLI::App* cmd = app.add_subcommand(
      "certs", "The device's trust bundle and the CLI's own certificate");
  cmd->require_subcommand(1);
  // Global options may follow the subcommand ("certs show --as alice").
  cmd->fallthrough();

  CLI::App* bundle = cmd->add_subcommand(
      "bundle", "Print the trust bundle (the device CA certificates, PEM)");
  bundle->callback(
      [&global, action] { *action = [&global] { return Bundle(global); }; });

  CLI::App* show = cmd->add_subcommand(
      "show",
      "The CLI's current certificate (--as NAME: client/NAME's): ID, "
      "validity, time left");
  show->callback(
      [&global, action] { *action = [&global] { return Show(global); }; });

  CLI::App* renew = cmd->add_subcommand(
      "renew",
      "Renew the CLI's own identity through keyd (new key, new "
      "certificate, swapped in atomically)");
  renew->callback(
      [&global, action] { *action = [&global] { return Renew(global); }; });
}

}  // namespace rustiq::cli
