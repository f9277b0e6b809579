// The on-disk layout: paths, modes, the atomic identity swap and file reads.
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "common/identity/spiffe_id.h"
#include "common/pki/certificate_authority.h"
#include "common/pki/identity_files.h"
#include "common/pki/openssl_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/file_checks.h"
#include "tests/support/temp_dir.h"

namespace rustiq::pki {
namespace {

using ::rustiq::testing::Entries;
using ::rustiq::testing::ModeOf;
using ::rustiq::testing::ReadAll;
using ::rustiq::testing::ScopedUmask;
using ::rustiq::testing::TempDir;

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Pair {
  std::string key_pem;
  std::string cert_pem;
};

class IdentityFilesTest : public ::testing::Test {
 protected:
  IdentityFilesTest()
      : ca_(*CertificateAuthority::Create("dev-1", absl::Hours(24))) {}

  Pair NewPair(absl::string_view uri = "spiffe://dev-1/svc/keyd") {
    absl::StatusOr<EvpPkeyPtr> key = GenerateP256Key();
    EXPECT_TRUE(key.ok()) << key.status();
    LeafSpec spec;
    spec.uri_sans = {std::string(uri)};
    spec.not_before = absl::Now() - absl::Minutes(5);
    spec.not_after = absl::Now() + absl::Hours(1);
    absl::StatusOr<std::string> cert = ca_.IssueLeaf(key->get(), spec);
    EXPECT_TRUE(cert.ok()) << cert.status();
    return Pair{*PrivateKeyToPem(key->get()), *cert};
  }

  TempDir tmp_;
  CertificateAuthority ca_;
};

TEST(IdentityPaths, FollowTheLayout) {
  IdentityPaths svc = ForService("/var/lib/rustiq", "keyd");
  EXPECT_EQ(svc.dir, "/var/lib/rustiq/keyd/identity");
  EXPECT_EQ(svc.key_path, "/var/lib/rustiq/keyd/identity/current/key.pem");
  EXPECT_EQ(svc.cert_path, "/var/lib/rustiq/keyd/identity/current/cert.pem");

  IdentityPaths client = ForClient("/var/lib/rustiq/", "rustiqctl");
  EXPECT_EQ(client.dir, "/var/lib/rustiq/clients/rustiqctl/identity");
  EXPECT_EQ(client.key_path,
            "/var/lib/rustiq/clients/rustiqctl/identity/current/key.pem");
  EXPECT_EQ(client.cert_path,
            "/var/lib/rustiq/clients/rustiqctl/identity/current/cert.pem");

  EXPECT_EQ(TrustBundlePath("/var/lib/rustiq"),
            "/var/lib/rustiq/trust/bundle.pem");
  DeviceCaPaths ca = DeviceCaPathsFor("/var/lib/rustiq");
  EXPECT_EQ(ca.dir, "/var/lib/rustiq/keyd/device-ca");
  EXPECT_EQ(ca.key_path, "/var/lib/rustiq/keyd/device-ca/key.pem");
  EXPECT_EQ(ca.cert_path, "/var/lib/rustiq/keyd/device-ca/cert.pem");
}

TEST(IdentityPaths, ForSpiffeIdMapsServicesAndClients) {
  absl::StatusOr<IdentityPaths> svc =
      IdentityPathsFor("/s", *identity::SpiffeId::ForService("d", "keyd"));
  ASSERT_TRUE(svc.ok()) << svc.status();
  EXPECT_EQ(svc->dir, "/s/keyd/identity");
  absl::StatusOr<IdentityPaths> client =
      IdentityPathsFor("/s", *identity::SpiffeId::ForClient("d", "app"));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(client->dir, "/s/clients/app/identity");
}

TEST(IdentityPaths, ForSpiffeIdRefusesWhatHasNoPlaceOnDisk) {
  for (absl::string_view uri :
       {"spiffe://d/client/a/b", "spiffe://d/svc/clients",
        "spiffe://d/svc/trust", "spiffe://d/svc/keyd/extra"}) {
    absl::StatusOr<identity::SpiffeId> id = identity::SpiffeId::Parse(uri);
    ASSERT_TRUE(id.ok()) << uri << ": " << id.status();
    absl::StatusOr<IdentityPaths> paths = IdentityPathsFor("/s", *id);
    EXPECT_FALSE(paths.ok()) << uri;
    EXPECT_THAT(paths.status().message(), HasSubstr(uri));
  }
}

TEST_F(IdentityFilesTest, WriteIdentitySetsModesWhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{077}}) {
    ScopedUmask umask_for_test(mask);
    TempDir state;
    IdentityPaths paths = ForService(state.path(), "keyd");
    Pair pair = NewPair();
    ASSERT_TRUE(WriteIdentity(paths, pair.key_pem, pair.cert_pem).ok());

    const std::string generation =
        paths.dir + "/" + fs::read_symlink(paths.dir + "/current").string();
    EXPECT_EQ(ModeOf(paths.dir), 0700u) << "umask " << mask;
    EXPECT_EQ(ModeOf(generation), 0700u) << "umask " << mask;
    EXPECT_EQ(ModeOf(generation + "/key.pem"), 0600u) << "umask " << mask;
    EXPECT_EQ(ModeOf(generation + "/cert.pem"), 0644u) << "umask " << mask;
    EXPECT_EQ(ModeOf(state / "keyd"), 0755u) << "umask " << mask;
    EXPECT_EQ(ReadAll(paths.key_path), pair.key_pem);
    EXPECT_EQ(ReadAll(paths.cert_path), pair.cert_pem);
  }
}

TEST_F(IdentityFilesTest, WriteIdentitySwapsCurrentAndDropsOldGeneration) {
  IdentityPaths paths = ForClient(tmp_.path(), "rustiqctl");
  Pair first = NewPair("spiffe://dev-1/client/rustiqctl");
  ASSERT_TRUE(WriteIdentity(paths, first.key_pem, first.cert_pem).ok());
  const fs::path first_gen = fs::read_symlink(paths.dir + "/current");
  EXPECT_THAT(first_gen.string(), StartsWith("gen-"));
  EXPECT_TRUE(first_gen.is_relative());

  Pair second = NewPair("spiffe://dev-1/client/rustiqctl");
  ASSERT_TRUE(WriteIdentity(paths, second.key_pem, second.cert_pem).ok());
  const fs::path second_gen = fs::read_symlink(paths.dir + "/current");
  EXPECT_NE(second_gen, first_gen);
  EXPECT_FALSE(fs::exists(paths.dir + "/" + first_gen.string()));
  EXPECT_EQ(Entries(paths.dir),
            (std::vector<std::string>{"current", second_gen.string()}));

  // What a reader sees under current is the newest pair, and it matches.
  std::string key_pem = ReadAll(paths.key_path);
  std::string cert_pem = ReadAll(paths.cert_path);
  EXPECT_EQ(key_pem, second.key_pem);
  EXPECT_EQ(cert_pem, second.cert_pem);
  absl::StatusOr<EvpPkeyPtr> key = PrivateKeyFromPem(key_pem);
  absl::StatusOr<X509Ptr> cert = CertificateFromPem(cert_pem);
  ASSERT_TRUE(key.ok() && cert.ok());
  EXPECT_EQ(X509_check_private_key(cert->get(), key->get()), 1);
}

TEST_F(IdentityFilesTest, WriteIdentityCleansUpAfterAnInterruptedWrite) {
  IdentityPaths paths = ForService(tmp_.path(), "eventd");
  Pair pair = NewPair();
  ASSERT_TRUE(WriteIdentity(paths, pair.key_pem, pair.cert_pem).ok());
  // Leftovers of a writer that crashed half-way.
  fs::create_directory(paths.dir + "/gen-stale");
  std::ofstream(paths.dir + "/gen-stale/key.pem") << "x";
  ASSERT_EQ(symlink("gen-stale", (paths.dir + "/.current-stale").c_str()), 0);

  Pair next = NewPair();
  ASSERT_TRUE(WriteIdentity(paths, next.key_pem, next.cert_pem).ok());
  std::vector<std::string> entries = Entries(paths.dir);
  ASSERT_EQ(entries.size(), 2u) << ::testing::PrintToString(entries);
  EXPECT_EQ(entries[0], "current");
  EXPECT_EQ(ReadAll(paths.cert_path), next.cert_pem);
}

TEST_F(IdentityFilesTest, WriteIdentityRefusesMismatchedPairAndWritesNothing) {
  IdentityPaths paths = ForService(tmp_.path(), "keyd");
  Pair a = NewPair();
  Pair b = NewPair();
  absl::Status s = WriteIdentity(paths, a.key_pem, b.cert_pem);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(paths.dir));
  EXPECT_THAT(s.message(), HasSubstr("does not match"));
  EXPECT_FALSE(fs::exists(paths.dir));

  s = WriteIdentity(paths, "garbage", a.cert_pem);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("key"));
}

TEST_F(IdentityFilesTest, WriteIdentityRefusesHandBuiltPaths) {
  IdentityPaths paths = ForService(tmp_.path(), "keyd");
  paths.key_path = tmp_ / "elsewhere.pem";
  Pair pair = NewPair();
  absl::Status s = WriteIdentity(paths, pair.key_pem, pair.cert_pem);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(IdentityFilesTest, WriteIdentityFailsClearlyWhenCurrentIsADirectory) {
  IdentityPaths paths = ForService(tmp_.path(), "keyd");
  fs::create_directories(paths.dir + "/current/sub");
  Pair pair = NewPair();
  absl::Status s = WriteIdentity(paths, pair.key_pem, pair.cert_pem);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(paths.dir + "/current"));
  // The failed generation is not left behind.
  EXPECT_EQ(Entries(paths.dir), std::vector<std::string>{"current"});
}

TEST_F(IdentityFilesTest, WriteIdentityChownsToOwner) {
  // Unprivileged, a process can only "give" files to itself.
  const bool root = geteuid() == 0;
  FileOwner owner{root ? uid_t{65534} : getuid(),
                  root ? gid_t{65534} : getgid()};
  IdentityPaths paths = ForService(tmp_.path(), "keyd");
  Pair pair = NewPair();
  ASSERT_TRUE(WriteIdentity(paths, pair.key_pem, pair.cert_pem, owner).ok());
  const std::string generation =
      paths.dir + "/" + fs::read_symlink(paths.dir + "/current").string();
  for (const std::string& p :
       {paths.dir, generation, generation + "/key.pem",
        generation + "/cert.pem", paths.dir + "/current"}) {
    struct stat st {};
    ASSERT_EQ(lstat(p.c_str(), &st), 0) << p;
    EXPECT_EQ(st.st_uid, *owner.uid) << p;
    EXPECT_EQ(st.st_gid, *owner.gid) << p;
  }
}

TEST(WriteFileAtomically, ReplacesContentAndModeLeavingNoTemporaryFile) {
  ScopedUmask umask_for_test(077);
  TempDir tmp;
  const std::string path = tmp / "bundle.pem";
  ASSERT_TRUE(WriteFileAtomically(path, "first", 0600).ok());
  EXPECT_EQ(ReadAll(path), "first");
  EXPECT_EQ(ModeOf(path), 0600u);
  ASSERT_TRUE(WriteFileAtomically(path, "second", 0644).ok());
  EXPECT_EQ(ReadAll(path), "second");
  EXPECT_EQ(ModeOf(path), 0644u);
  EXPECT_EQ(Entries(tmp.path()), std::vector<std::string>{"bundle.pem"});
}

TEST(WriteFileAtomically, FailsNamingThePathWhenTheDirectoryIsMissing) {
  TempDir tmp;
  const std::string path = tmp / "missing/bundle.pem";
  absl::Status s = WriteFileAtomically(path, "x", 0644);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr(path));
}

TEST(MakeDirectories, CreatesMissingDirectoriesWithExactMode) {
  ScopedUmask umask_for_test(022);
  TempDir tmp;
  fs::create_directory(tmp / "existing");
  fs::permissions(tmp / "existing", fs::perms(0751));
  ASSERT_TRUE(MakeDirectories(tmp / "existing/a/b", 0770).ok());
  EXPECT_EQ(ModeOf(tmp / "existing"), 0751u);  // left alone
  EXPECT_EQ(ModeOf(tmp / "existing/a"), 0770u);
  EXPECT_EQ(ModeOf(tmp / "existing/a/b"), 0770u);
  EXPECT_TRUE(MakeDirectories(tmp / "existing/a/b/", 0770).ok());
}

TEST(MakeDirectories, FailsWhenAComponentIsAFile) {
  TempDir tmp;
  std::ofstream(tmp / "file") << "x";
  absl::Status s = MakeDirectories(tmp / "file/sub", 0755);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr(tmp / "file"));
}

TEST(EnsureDirectory, ResetsModeOfExistingDirectoryAndRefusesSymlink) {
  TempDir tmp;
  fs::create_directory(tmp / "dir");
  fs::permissions(tmp / "dir", fs::perms(0777));
  ASSERT_TRUE(EnsureDirectory(tmp / "dir", 0700).ok());
  EXPECT_EQ(ModeOf(tmp / "dir"), 0700u);

  fs::create_directory_symlink(tmp / "dir", tmp / "link");
  absl::Status s = EnsureDirectory(tmp / "link", 0700);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr(tmp / "link"));
}

TEST(ReadSmallFile, ReadsFilesUpToTheLimit) {
  TempDir tmp;
  std::ofstream(tmp / "f") << "hello";
  std::ofstream empty_file(tmp / "empty");
  EXPECT_EQ(ReadSmallFile(tmp / "f", 5).value(), "hello");
  EXPECT_EQ(ReadSmallFile(tmp / "f", 1024).value(), "hello");
  EXPECT_EQ(ReadSmallFile(tmp / "empty", 0).value(), "");
}

TEST(ReadSmallFile, MissingFileIsNotFoundNamingThePath) {
  TempDir tmp;
  absl::StatusOr<std::string> r = ReadSmallFile(tmp / "nope.pem", 10);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr(tmp / "nope.pem"));
}

TEST(ReadSmallFile, TooLargeFileIsRefusedWithBothSizes) {
  TempDir tmp;
  std::ofstream(tmp / "big") << std::string(100, 'x');
  absl::StatusOr<std::string> r = ReadSmallFile(tmp / "big", 99);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr(tmp / "big"));
  EXPECT_THAT(r.status().message(), HasSubstr("100 bytes"));
  EXPECT_THAT(r.status().message(), HasSubstr("99 bytes"));
}

TEST(ReadSmallFile, DirectoryIsNotARegularFile) {
  TempDir tmp;
  absl::StatusOr<std::string> r = ReadSmallFile(tmp.path(), 10);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("not a regular file"));
}

}  // namespace
}  // namespace rustiq::pki
