// Device provisioning end to end on a temporary state directory.
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/identity/spiffe_id.h"
#include "common/pki/file_ca_issuer.h"
#include "common/pki/identity_files.h"
#include "common/pki/openssl_util.h"
#include "common/pki/provisioner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace rustiq::pki {
namespace {

using ::rustiq::testing::ReadAll;
using ::rustiq::testing::TempDir;

namespace fs = std::filesystem;
using ::testing::HasSubstr;

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// Checks that the identity on disk chains to `bundle_pem`, names exactly
// `uri` and that its key matches its certificate.
void ExpectValidIdentity(const IdentityPaths& paths, const std::string& uri,
                         const std::string& bundle_pem) {
  absl::StatusOr<X509Ptr> cert = CertificateFromPem(ReadAll(paths.cert_path));
  absl::StatusOr<EvpPkeyPtr> key = PrivateKeyFromPem(ReadAll(paths.key_path));
  ASSERT_TRUE(cert.ok()) << paths.cert_path << ": " << cert.status();
  ASSERT_TRUE(key.ok()) << paths.key_path << ": " << key.status();
  EXPECT_EQ(UriSans(cert->get()), std::vector<std::string>{uri});
  EXPECT_EQ(X509_check_private_key(cert->get(), key->get()), 1);
  EXPECT_TRUE(IsP256Key(key->get()));

  X509Ptr ca = *CertificateFromPem(bundle_pem);
  X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.get());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), cert->get(), nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  EXPECT_EQ(X509_verify_cert(ctx.get()), 1)
      << uri << ": "
      << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
}

ProvisionRequest RequestFor(const std::string& state_dir,
                            std::string trust_domain = "dev-1") {
  ProvisionRequest request;
  request.state_dir = state_dir;
  request.trust_domain = std::move(trust_domain);
  request.services = {"keyd", "eventd", "supervisord"};
  request.clients = {"rustiqctl"};
  return request;
}

TEST(ProvisionDevice, WritesCaBundleAndEveryIdentity) {
  TempDir state;
  absl::StatusOr<ProvisionResult> result =
      ProvisionDevice(RequestFor(state.path()));
  ASSERT_TRUE(result.ok()) << result.status();

  EXPECT_TRUE(result->ca_created);
  EXPECT_EQ(result->ca_paths.key_path, DeviceCaPathsFor(state.path()).key_path);
  EXPECT_EQ(ModeOf(result->ca_paths.dir), 0700u);
  EXPECT_EQ(ModeOf(result->ca_paths.key_path), 0600u);
  EXPECT_EQ(ModeOf(result->ca_paths.cert_path), 0644u);

  EXPECT_EQ(result->trust_bundle_path, TrustBundlePath(state.path()));
  EXPECT_EQ(ModeOf(result->trust_bundle_path), 0644u);
  EXPECT_EQ(ModeOf(state.path() + "/trust"), 0755u);
  const std::string bundle = ReadAll(result->trust_bundle_path);
  EXPECT_EQ(bundle, ReadAll(result->ca_paths.cert_path));

  ASSERT_EQ(result->identities.size(), 4u);
  const std::vector<std::string> uris = {
      "spiffe://dev-1/svc/keyd", "spiffe://dev-1/svc/eventd",
      "spiffe://dev-1/svc/supervisord", "spiffe://dev-1/client/rustiqctl"};
  for (size_t i = 0; i < uris.size(); ++i) {
    const ProvisionedIdentity& written = result->identities[i];
    EXPECT_EQ(written.id.ToUri(), uris[i]);
    EXPECT_EQ(ModeOf(written.paths.dir), 0700u);
    ExpectValidIdentity(written.paths, uris[i], bundle);
  }
  EXPECT_EQ(result->identities[3].paths.dir,
            ForClient(state.path(), "rustiqctl").dir);
}

TEST(ProvisionDevice, SecondRunReusesCaAndReissuesIdentities) {
  TempDir state;
  ASSERT_TRUE(ProvisionDevice(RequestFor(state.path())).ok());
  const DeviceCaPaths ca = DeviceCaPathsFor(state.path());
  const IdentityPaths keyd = ForService(state.path(), "keyd");
  const std::string ca_cert = ReadAll(ca.cert_path);
  const std::string ca_key = ReadAll(ca.key_path);
  const std::string keyd_cert = ReadAll(keyd.cert_path);
  const std::string keyd_key = ReadAll(keyd.key_path);

  absl::StatusOr<ProvisionResult> again =
      ProvisionDevice(RequestFor(state.path()));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->ca_created);
  EXPECT_EQ(ReadAll(ca.cert_path), ca_cert);
  EXPECT_EQ(ReadAll(ca.key_path), ca_key);
  EXPECT_NE(ReadAll(keyd.cert_path), keyd_cert);
  EXPECT_NE(ReadAll(keyd.key_path), keyd_key);
  ExpectValidIdentity(keyd, "spiffe://dev-1/svc/keyd", ca_cert);
}

TEST(ProvisionDevice, OtherTrustDomainAgainstExistingCaFailsNamingBoth) {
  TempDir state;
  ASSERT_TRUE(ProvisionDevice(RequestFor(state.path(), "dev-1")).ok());
  absl::StatusOr<ProvisionResult> other =
      ProvisionDevice(RequestFor(state.path(), "dev-2"));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(other.status().message(), HasSubstr("\"dev-1\""));
  EXPECT_THAT(other.status().message(), HasSubstr("\"dev-2\""));
  EXPECT_THAT(other.status().message(),
              HasSubstr(DeviceCaPathsFor(state.path()).cert_path));
}

TEST(ProvisionDevice, WithoutReuseReplacesTheCa) {
  TempDir state;
  ASSERT_TRUE(ProvisionDevice(RequestFor(state.path(), "dev-1")).ok());
  const std::string old_ca = ReadAll(DeviceCaPathsFor(state.path()).cert_path);
  ProvisionRequest request = RequestFor(state.path(), "dev-2");
  request.reuse_existing_ca = false;
  absl::StatusOr<ProvisionResult> result = ProvisionDevice(request);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->ca_created);
  const std::string bundle = ReadAll(result->trust_bundle_path);
  EXPECT_NE(bundle, old_ca);
  ExpectValidIdentity(ForService(state.path(), "keyd"),
                      "spiffe://dev-2/svc/keyd", bundle);
}

TEST(ProvisionDevice, RefusesHalfPresentCa) {
  TempDir state;
  ASSERT_TRUE(ProvisionDevice(RequestFor(state.path())).ok());
  const DeviceCaPaths ca = DeviceCaPathsFor(state.path());
  fs::remove(ca.cert_path);
  absl::StatusOr<ProvisionResult> result =
      ProvisionDevice(RequestFor(state.path()));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("incomplete"));
  EXPECT_THAT(result.status().message(), HasSubstr(ca.cert_path));
  EXPECT_TRUE(fs::exists(ca.key_path)) << "the existing key must be kept";
}

TEST(ProvisionDevice, ValidatesTheWholeRequestBeforeWriting) {
  TempDir state;
  const std::string root = state.path() + "/state";
  std::vector<ProvisionRequest> bad;
  bad.push_back(RequestFor(root));
  bad.back().services.push_back("Bad Name");
  bad.push_back(RequestFor(root));
  bad.back().clients.push_back("rustiqctl");  // twice
  bad.push_back(RequestFor(root, "Not A Domain"));
  bad.push_back(RequestFor(root));
  bad.back().services.push_back("clients");  // collides with the layout
  bad.push_back(RequestFor(root));
  bad.back().identity_lifetime = absl::Hours(24 * 365);
  bad.push_back(RequestFor(root));
  bad.back().identity_lifetime = absl::ZeroDuration();
  bad.push_back(RequestFor(""));
  for (const ProvisionRequest& request : bad) {
    absl::StatusOr<ProvisionResult> result = ProvisionDevice(request);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
        << result.status();
    EXPECT_FALSE(fs::exists(root)) << result.status();
  }
}

TEST(IssueIdentity, WritesAnExtraClientFromTheProvisionedCa) {
  TempDir state;
  ASSERT_TRUE(ProvisionDevice(RequestFor(state.path())).ok());
  absl::StatusOr<std::unique_ptr<FileCaIssuer>> issuer =
      FileCaIssuer::Load(DeviceCaPathsFor(state.path()));
  ASSERT_TRUE(issuer.ok()) << issuer.status();
  const identity::SpiffeId id =
      *identity::SpiffeId::ForClient("dev-1", "app-1");

  absl::StatusOr<IdentityPaths> paths =
      IssueIdentity(**issuer, state.path(), id, absl::Hours(1));
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->dir, ForClient(state.path(), "app-1").dir);
  ExpectValidIdentity(*paths, "spiffe://dev-1/client/app-1",
                      ReadAll(TrustBundlePath(state.path())));
}

TEST(IssueIdentity, PassesOnTheIssuersRefusalAndWritesNothing) {
  TempDir state;
  ASSERT_TRUE(ProvisionDevice(RequestFor(state.path())).ok());
  std::unique_ptr<FileCaIssuer> issuer =
      *FileCaIssuer::Load(DeviceCaPathsFor(state.path()));
  const identity::SpiffeId foreign =
      *identity::SpiffeId::ForClient("dev-9", "app-1");
  absl::StatusOr<IdentityPaths> paths =
      IssueIdentity(*issuer, state.path(), foreign, absl::Hours(1));
  EXPECT_EQ(paths.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(ForClient(state.path(), "app-1").dir));

  const identity::SpiffeId deep =
      *identity::SpiffeId::Parse("spiffe://dev-1/client/app/extra");
  EXPECT_FALSE(IssueIdentity(*issuer, state.path(), deep, absl::Hours(1)).ok());
}

}  // namespace
}  // namespace rustiq::pki
